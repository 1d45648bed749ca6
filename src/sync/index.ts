// The sync layer: `SynchronizationEngine` keeps registered domain models in sync with peers over
// any `PeerConnection`, and the sync wire format it speaks (docs/protocol.md).
export {
  type ModelDurability,
  type RegisterModelOptions,
  SynchronizationEngine,
  type SyncLogger,
  type SynchronizationEngineOptions,
} from './synchronization-engine.js';
export type { PeerModelStatus, PeerStatus, SyncCounters, SyncEngineEvent, SyncResult } from './sync-engine-event.js';
export {
  MAX_DISPLAY_NAME_CHARS,
  PACK_MIN_CHANGES,
  SYNC_PROTOCOLS,
  compressesFrames,
  type AckMessage,
  type DeltaEncoding,
  type DeltaMessage,
  type ErrorMessage,
  type HelloMessage,
  type InfoMessage,
  type SyncDecodeError,
  type SyncMessage,
  type VersionMessage,
  decodeSyncMessage,
  deltaEncodingFor,
  encodeSyncMessage,
  isDecodeError,
} from './sync-message.js';
export { type PackedBatch, decodePackedBatch, packBatch, unpackBatch } from './compact-batch.js';
export { splitBatch } from './split-batch.js';
export { sendableChanges } from './sendable-changes.js';
export { COMPRESSED_FRAME_MARKER, COMPRESS_MIN_BYTES, compressFrame, decompressFrame, isCompressedFrame } from './frame-compression.js';
