import type { RtcSignalData } from './webrtc-signal.js';
import { encodeUtf8 } from '../util/utf8.js';

/** What `RtcDataPeer` reports; each listener list is called in order, errors are the caller's. */
interface RtcDataPeerEvents {
  /** An offer, answer or ICE candidate to hand to the other side's `signal`. */
  signal: (data: RtcSignalData) => void;
  /** The data channel is open: `channel` is ready to send. */
  connect: () => void;
  /** One message from the data channel. */
  data: (data: Uint8Array) => void;
  /** Why the peer connection ended, before `close`, when it ended for a reason. */
  error: (error: Error) => void;
  /** Once, when the peer connection ended for any reason (either side, failure, `destroy`). */
  close: () => void;
}

/** Options of `RtcDataPeer`. */
export interface RtcDataPeerOptions {
  /** The offering side: it creates the data channel and the offer. */
  readonly initiator: boolean;
  readonly config: RTCConfiguration;
  readonly channelConfig?: RTCDataChannelInit;
}

/** The data channel's label; the answering side accepts the first channel whatever its label. */
const CHANNEL_LABEL = 'ednet';

/**
 * One `RTCPeerConnection` with one data channel, negotiated through `signal` events and calls
 * (trickle ICE): the few things `WebRtcTransport` needs, written directly against the browser's
 * API. It replaces simple-peer, which wrapped the same calls in a Node stream with Node
 * polyfills (about 28 KB gzipped) and is no longer maintained.
 *
 * Candidates that arrive before the remote description are kept and added after it. `connect`
 * comes when the data channel opens, so a message can never arrive before it on the offering
 * side; on the answering side the channel may be open when announced, and `connect` follows at
 * once. The peer ends (`error` when there is a reason, then `close`, once) when the channel
 * closes, ICE fails, or `destroy` is called.
 */
export class RtcDataPeer {
  readonly pc: RTCPeerConnection;
  #channel: RTCDataChannel | null = null;
  readonly #listeners: { [K in keyof RtcDataPeerEvents]: Array<RtcDataPeerEvents[K]> } = { signal: [], connect: [], data: [], error: [], close: [] };
  readonly #pendingCandidates: RTCIceCandidateInit[] = [];
  #remoteDescribed = false;
  #connected = false;
  #destroyed = false;

  constructor(options: RtcDataPeerOptions) {
    this.pc = new RTCPeerConnection(options.config);
    this.pc.addEventListener('icecandidate', (event) => {
      const candidate = event.candidate;
      // A null candidate (or an empty one) only marks the end of gathering: the other side needs nothing.
      if (this.#destroyed || !candidate?.candidate) return;
      this.#emit('signal', { type: 'candidate', candidate: { candidate: candidate.candidate, sdpMLineIndex: candidate.sdpMLineIndex, sdpMid: candidate.sdpMid } });
    });
    this.pc.addEventListener('iceconnectionstatechange', () => {
      const state = this.pc.iceConnectionState;
      if (state === 'failed') this.destroy(new Error('ICE connection failed'));
      else if (state === 'closed') this.destroy(new Error('ICE connection closed'));
    });
    if (options.initiator) {
      this.#useChannel(this.pc.createDataChannel(CHANNEL_LABEL, options.channelConfig));
      void this.#describe(() => this.pc.createOffer());
    } else {
      this.pc.addEventListener('datachannel', (event) => {
        if (this.#channel) event.channel.close();
        else this.#useChannel(event.channel);
      });
    }
  }

  /** The data channel, once there is one (the answering side gets it from the offer). */
  get channel(): RTCDataChannel | null {
    return this.#channel;
  }

  on<K extends keyof RtcDataPeerEvents>(event: K, listener: RtcDataPeerEvents[K]): void {
    this.#listeners[event].push(listener);
  }

  /** Hands over a signal from the other side. Throws once the peer is destroyed. */
  signal(data: RtcSignalData): void {
    if (this.#destroyed) throw new Error('cannot signal after the peer connection closed');
    if (data.type === 'candidate') {
      if (this.#remoteDescribed) this.#addCandidate(data.candidate);
      else this.#pendingCandidates.push(data.candidate);
      return;
    }
    void this.#acceptDescription(data);
  }

  /** Closes the channel and the peer connection; `close` follows (once), after `error` if given. */
  destroy(error?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#pendingCandidates.length = 0;
    try {
      this.#channel?.close();
      this.pc.close();
    } catch {
      // Closing what is already closed: nothing left to do.
    }
    // Asynchronously, as simple-peer did: callers that destroy from a listener see `close` after
    // they returned.
    queueMicrotask(() => {
      if (error) this.#emit('error', error);
      this.#emit('close');
    });
  }

  async #acceptDescription(data: { readonly type: 'offer' | 'answer'; readonly sdp: string }): Promise<void> {
    try {
      await this.pc.setRemoteDescription({ type: data.type, sdp: data.sdp });
      if (this.#destroyed) return;
      this.#remoteDescribed = true;
      for (const candidate of this.#pendingCandidates.splice(0)) this.#addCandidate(candidate);
      if (data.type === 'offer') await this.#describe(() => this.pc.createAnswer());
    } catch (error) {
      this.destroy(new Error(`could not use the ${data.type}: ${(error as Error)?.message ?? String(error)}`));
    }
  }

  /** Creates and sets the local offer or answer, and signals it. */
  async #describe(create: () => Promise<RTCSessionDescriptionInit>): Promise<void> {
    try {
      const description = await create();
      if (this.#destroyed) return;
      await this.pc.setLocalDescription(description);
      if (this.#destroyed) return;
      const local = this.pc.localDescription ?? description;
      if (local.sdp && (local.type === 'offer' || local.type === 'answer')) this.#emit('signal', { type: local.type, sdp: local.sdp });
    } catch (error) {
      this.destroy(new Error(`could not create a description: ${(error as Error)?.message ?? String(error)}`));
    }
  }

  #addCandidate(candidate: RTCIceCandidateInit): void {
    // A candidate the browser cannot use (another network's, a malformed line) is not fatal: others may work.
    this.pc.addIceCandidate(candidate).catch(() => undefined);
  }

  #useChannel(channel: RTCDataChannel): void {
    this.#channel = channel;
    channel.binaryType = 'arraybuffer';
    channel.addEventListener('message', (event) => {
      if (this.#destroyed) return;
      const data = event.data as unknown;
      if (data instanceof ArrayBuffer) this.#emit('data', new Uint8Array(data));
      else if (typeof data === 'string') this.#emit('data', encodeUtf8(data));
    });
    channel.addEventListener('open', () => this.#opened());
    channel.addEventListener('close', () => this.destroy());
    channel.addEventListener('error', (event) => {
      const error = (event as RTCErrorEvent).error as Error | undefined;
      this.destroy(new Error(`data channel error: ${error?.message ?? 'unknown'}`));
    });
    // A channel announced by the other side may already be open, and then no `open` event comes.
    if (channel.readyState === 'open') queueMicrotask(() => this.#opened());
  }

  #opened(): void {
    if (this.#connected || this.#destroyed) return;
    this.#connected = true;
    this.#emit('connect');
  }

  #emit<K extends keyof RtcDataPeerEvents>(event: K, ...args: Parameters<RtcDataPeerEvents[K]>): void {
    for (const listener of [...this.#listeners[event]]) (listener as (...values: Parameters<RtcDataPeerEvents[K]>) => void)(...args);
  }
}
