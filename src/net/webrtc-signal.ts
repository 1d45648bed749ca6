import { isRecord, isStringUpTo, isToken } from './wire-guards.js';

/** A WebRTC signal that passed the checks: an SDP offer or answer, or one ICE candidate. */
export type RtcSignalData =
  | { readonly type: 'offer' | 'answer'; readonly sdp: string }
  | {
      readonly type: 'candidate';
      readonly candidate: { readonly candidate: string; readonly sdpMLineIndex: number | null; readonly sdpMid: string | null };
    };

/** What WebRTC transports say to each other over the signaling channel. */
export type RtcEnvelope =
  /** From the higher node id: "please make me an offer" (the lower id always offers). */
  | { readonly kind: 'request' }
  | { readonly kind: 'signal'; readonly session: string; readonly data: RtcSignalData }
  /** A session ended or was refused; without `session` it refuses a `request`. */
  | { readonly kind: 'close'; readonly session: string | undefined; readonly reason: string };

const TAG = 'rtc';
const VERSION = 1;
/** Under the signaling server's 64 KiB frame limit, with room for the envelope. */
const MAX_SDP_CHARS = 60_000;
const MAX_CANDIDATE_CHARS = 4096;
const MAX_REASON_CHARS = 200;

/** The signaling payload carrying `envelope`. */
export function encodeRtcEnvelope(envelope: RtcEnvelope): Record<string, unknown> {
  return { t: TAG, v: VERSION, ...envelope };
}

/**
 * Checks a signaling payload from an untrusted peer and rebuilds it from the checked fields only,
 * so the peer connection never sees anything else. Returns the envelope or why it was refused.
 */
export function decodeRtcEnvelope(raw: unknown): RtcEnvelope | string {
  if (!isRecord(raw) || raw.t !== TAG) return 'not a WebRTC signal';
  if (raw.v !== VERSION) return `unknown WebRTC signal version ${String(raw.v)}`;
  switch (raw.kind) {
    case 'request':
      return { kind: 'request' };
    case 'close':
      if (raw.session !== undefined && !isToken(raw.session)) return 'close with an invalid session id';
      return {
        kind: 'close',
        session: raw.session,
        reason: isStringUpTo(raw.reason, MAX_REASON_CHARS) ? raw.reason : 'no reason given',
      };
    case 'signal': {
      if (!isToken(raw.session)) return 'signal with an invalid session id';
      const data = decodeSignalData(raw.data);
      return typeof data === 'string' ? data : { kind: 'signal', session: raw.session, data };
    }
    default:
      return `unknown WebRTC signal kind ${JSON.stringify(raw.kind)?.slice(0, 40)}`;
  }
}

function decodeSignalData(raw: unknown): RtcSignalData | string {
  if (!isRecord(raw)) return 'signal data is not an object';
  if (raw.type === 'offer' || raw.type === 'answer') {
    return typeof raw.sdp === 'string' && raw.sdp.length > 0 && raw.sdp.length <= MAX_SDP_CHARS
      ? { type: raw.type, sdp: raw.sdp }
      : `${raw.type} without a valid SDP`;
  }
  if (raw.type === 'candidate') {
    const candidate = raw.candidate;
    if (!isRecord(candidate) || !isStringUpTo(candidate.candidate, MAX_CANDIDATE_CHARS)) return 'candidate without a valid candidate line';
    const index = candidate.sdpMLineIndex ?? null;
    const mid = candidate.sdpMid ?? null;
    if (index !== null && !(Number.isInteger(index) && (index as number) >= 0 && (index as number) <= 0xffff)) {
      return 'candidate with an invalid sdpMLineIndex';
    }
    if (mid !== null && !isStringUpTo(mid, 256)) return 'candidate with an invalid sdpMid';
    if (index === null && mid === null) return 'candidate with neither sdpMid nor sdpMLineIndex';
    return { type: 'candidate', candidate: { candidate: candidate.candidate, sdpMLineIndex: index as number | null, sdpMid: mid } };
  }
  // Renegotiation and transceiver requests are for media, which this transport never uses.
  return `unsupported signal type ${JSON.stringify(raw.type)?.slice(0, 40)}`;
}
