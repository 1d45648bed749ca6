/*
 * The two frames of the connection handshake, binary, so they cannot be taken for sync messages
 * (UTF-8 JSON, which never contains the byte 0xFF):
 *
 *   auth-hello  [0xFF][0x01][v=1][public key, 32][nonce, 32][node id, 1–64 ASCII bytes]
 *   auth-proof  [0xFF][0x02][v=1][Ed25519 signature, 64]
 */
import { type NodeId, asNodeId, isNodeId } from '../crdt/dot.js';
import { PUBLIC_KEY_BYTES } from './device-identity.js';
import { decodeAscii, encodeUtf8 } from '../util/utf8.js';

/** The only handshake version this build speaks. */
export const AUTH_VERSION = 1;
/** Bytes of the random nonce each side contributes to one handshake. */
export const AUTH_NONCE_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;
/** The first byte of every handshake frame: never part of UTF-8, so never the start of a sync frame. */
export const AUTH_FRAME_MARKER = 0xff;

const HELLO_KIND = 0x01;
const PROOF_KIND = 0x02;
const HEADER_BYTES = 3;
const MAX_NODE_ID_BYTES = 64;
const HELLO_FIXED_BYTES = HEADER_BYTES + PUBLIC_KEY_BYTES + AUTH_NONCE_BYTES;
/** The largest handshake frame; anything longer is refused before it is parsed. */
export const MAX_AUTH_FRAME_BYTES = HELLO_FIXED_BYTES + MAX_NODE_ID_BYTES;

/** "I am `node`, my key is `publicKey`, here is my fresh `nonce`." */
export interface AuthHello {
  readonly t: 'auth-hello';
  readonly v: typeof AUTH_VERSION;
  readonly node: NodeId;
  readonly publicKey: Uint8Array<ArrayBuffer>;
  readonly nonce: Uint8Array<ArrayBuffer>;
}

/** The signature over the handshake's transcript (see `authTranscript`). */
export interface AuthProof {
  readonly t: 'auth-proof';
  readonly v: typeof AUTH_VERSION;
  readonly signature: Uint8Array<ArrayBuffer>;
}

/** A handshake frame. */
export type AuthFrame = AuthHello | AuthProof;

/** Why a frame was refused. */
export interface AuthFrameError {
  readonly error: string;
}

const DOMAIN = encodeUtf8('ednet-p2p/auth/v1\u0000');

/** Serializes a handshake frame. Throws a `TypeError` for a malformed one (a programmer error). */
export function encodeAuthFrame(frame: AuthFrame): Uint8Array<ArrayBuffer> {
  if (frame.t === 'auth-hello') {
    if (!isNodeId(frame.node)) throw new TypeError(`auth-hello: ${JSON.stringify(frame.node)} is not a node id`);
    assertBytes(frame.publicKey, PUBLIC_KEY_BYTES, 'auth-hello: public key');
    assertBytes(frame.nonce, AUTH_NONCE_BYTES, 'auth-hello: nonce');
    const node = encodeUtf8(frame.node);
    const bytes = new Uint8Array(HELLO_FIXED_BYTES + node.byteLength);
    bytes.set([AUTH_FRAME_MARKER, HELLO_KIND, AUTH_VERSION]);
    bytes.set(frame.publicKey, HEADER_BYTES);
    bytes.set(frame.nonce, HEADER_BYTES + PUBLIC_KEY_BYTES);
    bytes.set(node, HELLO_FIXED_BYTES);
    return bytes;
  }
  assertBytes(frame.signature, SIGNATURE_BYTES, 'auth-proof: signature');
  const bytes = new Uint8Array(HEADER_BYTES + SIGNATURE_BYTES);
  bytes.set([AUTH_FRAME_MARKER, PROOF_KIND, AUTH_VERSION]);
  bytes.set(frame.signature, HEADER_BYTES);
  return bytes;
}

/** Parses and validates one handshake frame from a peer. Never throws; byte fields are copies. */
export function decodeAuthFrame(bytes: Uint8Array): AuthFrame | AuthFrameError {
  if (!(bytes instanceof Uint8Array)) return { error: 'frame is not bytes' };
  if (bytes.byteLength > MAX_AUTH_FRAME_BYTES) return { error: `frame of ${bytes.byteLength} bytes is too long for a handshake frame` };
  if (bytes.byteLength < HEADER_BYTES || bytes[0] !== AUTH_FRAME_MARKER) {
    return { error: bytes[0] === 0x7b ? 'the peer sent sync data without authenticating' : 'not a handshake frame' };
  }
  if (bytes[2] !== AUTH_VERSION) return { error: `handshake version ${bytes[2]} is not supported` };
  if (bytes[1] === HELLO_KIND) {
    const nodeBytes = bytes.byteLength - HELLO_FIXED_BYTES;
    if (nodeBytes < 1) return { error: 'auth-hello: too short' };
    const node = decodeAscii(bytes.subarray(HELLO_FIXED_BYTES));
    if (node === undefined || !isNodeId(node)) return { error: 'auth-hello: bad node id' };
    return {
      t: 'auth-hello',
      v: AUTH_VERSION,
      node: asNodeId(node),
      publicKey: bytes.slice(HEADER_BYTES, HEADER_BYTES + PUBLIC_KEY_BYTES),
      nonce: bytes.slice(HEADER_BYTES + PUBLIC_KEY_BYTES, HELLO_FIXED_BYTES),
    };
  }
  if (bytes[1] === PROOF_KIND) {
    if (bytes.byteLength !== HEADER_BYTES + SIGNATURE_BYTES) return { error: 'auth-proof: the signature must be 64 bytes' };
    return { t: 'auth-proof', v: AUTH_VERSION, signature: bytes.slice(HEADER_BYTES) };
  }
  return { error: `unknown handshake frame kind ${bytes[1]}` };
}

/** True for a decode failure. */
export function isAuthFrameError(value: AuthFrame | AuthFrameError): value is AuthFrameError {
  return 'error' in value;
}

/**
 * What each side signs: the domain label, both hellos ordered by node id (so both sides build the
 * same bytes), which of the two signs (so a proof reflected back to its signer, say by a peer
 * claiming another tab of the same device, does not verify) and the channel binding. Every
 * field has a fixed length or a length prefix, so no two transcripts share their bytes.
 */
export function authTranscript(a: AuthHello, b: AuthHello, signer: NodeId, channelBinding: Uint8Array = new Uint8Array(0)): Uint8Array<ArrayBuffer> {
  if (a.node === b.node) throw new TypeError('both sides of a handshake have the same node id');
  if (signer !== a.node && signer !== b.node) throw new TypeError('the signer is not a side of the handshake');
  const [low, high] = a.node < b.node ? [a, b] : [b, a];
  const parts: Uint8Array[] = [DOMAIN];
  for (const hello of [low, high]) {
    const node = encodeUtf8(hello.node);
    parts.push(Uint8Array.of(node.byteLength), node, hello.publicKey, hello.nonce);
  }
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, channelBinding.byteLength);
  parts.push(Uint8Array.of(signer === low.node ? 0 : 1), length, channelBinding);
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return bytes;
}

function assertBytes(value: unknown, length: number, what: string): void {
  if (!(value instanceof Uint8Array) || value.byteLength !== length) throw new TypeError(`${what} must be ${length} bytes`);
}
