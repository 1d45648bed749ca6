// Security: signed changes (certificates, their store and verification), room keys from the link's secret, sealed signaling and BroadcastChannel traffic, the
// device's signing key, peer connections authenticated with it, and the app's
// Content-Security-Policy. WebCrypto only.
export { ITEM_FORMAT, ITEM_HASH_BYTES, type ItemVisitor, forEachDot, forEachItem, hashItems, keepItems } from './change-items.js';
export {
  CERTIFICATE_SIGNATURE_BYTES,
  CERTIFICATE_VERSION,
  type CertificateError,
  type ChangeCertificate,
  ELIDED_CERTIFICATE_VERSION,
  type ElidedCertificate,
  MAX_CERTIFICATE_BYTES,
  MAX_CERTIFIED_ITEMS,
  certificateSignedBytes,
  decodeCertificate,
  decodeSentCertificate,
  encodeCertificate,
  encodeElidedCertificate,
  isCertificateError,
} from './change-certificate.js';
export { CertificateStore, listsHash } from './certificate-store.js';
export {
  type CertificationCounters,
  ChangeCertification,
  type ChangeSigner,
  type PreparedBatch,
  type VerifiedBatch,
} from './change-certification.js';
export {
  MAX_ROOM_SECRET_BYTES,
  MIN_ROOM_SECRET_BYTES,
  ROOM_SECRET_BYTES,
  RoomKeyError,
  type RoomKeys,
  type SealingKeys,
  deriveRoomKeys,
  generateRoomSecret,
  isRoomSecret,
} from './room-keys.js';
export {
  DEFAULT_MAX_SEALED_BYTES,
  IV_BYTES,
  type OpenFailure,
  OpenFailureKind,
  type Opened,
  SEALED_VERSION,
  type SealedBox,
  type SealedBytes,
  isOpenFailure,
  open,
  openBytes,
  seal,
  sealBytes,
} from './sealed-box.js';
export {
  EncryptedSignalingChannel,
  type EncryptedSignalingChannelOptions,
  type SignalRejection,
  type SignalRejectionKind,
} from './encrypted-signaling-channel.js';
export {
  type BroadcastRejection,
  EncryptedBroadcastChannel,
  type EncryptedBroadcastChannelOptions,
  encryptedBroadcastChannel,
} from './encrypted-broadcast-channel.js';
export { type BinaryJsonError, decodeBinaryJson, encodeBinaryJson } from './binary-json.js';
export { type DeviceKeyStore, MemoryDeviceKeyStore, type StoredDeviceKey } from './device-key-store.js';
export {
  DEVICE_ID_CHARS,
  DeviceIdentity,
  NODE_ID_SUFFIX_CHARS,
  PUBLIC_KEY_BYTES,
} from './device-identity.js';
export { SIGNALING_PROOF_LABEL, signalingProof } from './signaling-proof.js';
export {
  AUTH_FRAME_MARKER,
  AUTH_NONCE_BYTES,
  AUTH_VERSION,
  type AuthFrame,
  type AuthFrameError,
  type AuthHello,
  type AuthProof,
  MAX_AUTH_FRAME_BYTES,
  SIGNATURE_BYTES,
  authTranscript,
  decodeAuthFrame,
  encodeAuthFrame,
  isAuthFrameError,
} from './auth-frames.js';
export {
  type AuthenticateOptions,
  AuthenticatedConnection,
  AuthenticationError,
  AuthenticationFailureKind,
  DEFAULT_AUTH_TIMEOUT_MS,
  authenticateConnection,
} from './authenticated-connection.js';
export {
  CONTENT_SECURITY_POLICY,
  CONTENT_SECURITY_POLICY_DIRECTIVES,
  CONTENT_SECURITY_POLICY_HEADER,
  HEADER_ONLY_DIRECTIVES,
} from './content-security-policy.js';
