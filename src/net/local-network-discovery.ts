import type { NodeId } from '../crdt/dot.js';
import {
  defaultBroadcastChannel,
  watchPageLifecycle,
  type BroadcastChannelConstructor,
  type BroadcastChannelLike,
} from './broadcast-channel-like.js';
import { RosterDiscovery } from './discovery-roster.js';
import { consoleLogger, type NetLogger } from './logger.js';
import { PeerLiveness } from './peer-liveness.js';
import { assertNodeId, assertPositive, isNodeId, isRecord, isRoom } from './wire-guards.js';

/** Options of `LocalNetworkDiscovery`. */
export interface LocalNetworkDiscoveryOptions {
  readonly room: string;
  readonly nodeId: NodeId;
  /** Transport kind peers are reported reachable by. Default `broadcast`. */
  readonly via?: string;
  /** How often this tab says it is alive. A crashed tab is noticed after 2–4 of these. Default 5 s. */
  readonly heartbeatMs?: number;
  /** Signals larger than this (as JSON) are dropped, like the server would. Default 64 KiB. */
  readonly maxSignalBytes?: number;
  /** Say goodbye on `pagehide`/`freeze` and hello on return. Default: when in a window. */
  readonly watchPage?: boolean;
  readonly BroadcastChannelImpl?: BroadcastChannelConstructor;
  readonly logger?: NetLogger;
  readonly now?: () => number;
}

/** The messages tabs exchange on the room's discovery channel. */
type DiscoveryMessage =
  | { readonly t: 'hello' | 'alive' | 'bye'; readonly from: NodeId }
  | { readonly t: 'here' | 'probe'; readonly from: NodeId; readonly to: NodeId }
  | { readonly t: 'signal'; readonly from: NodeId; readonly to: NodeId; readonly data: unknown };

const PROTOCOL = 1;

/** The BroadcastChannel name of a room's discovery. */
export const discoveryChannelName = (room: string): string => `ednet-p2p/discovery/${room}`;

/**
 * The seed's `LocalNetworkDiscovery`, for the browser: tabs of the same origin in the same room
 * find each other over a BroadcastChannel (the browser's stand-in for mDNS). A tab announces itself
 * on start, answers announcements, says goodbye on stop and when the page goes away, and is
 * forgotten when it stops answering (tabs crash without goodbye). Also a `SignalingChannel`, so
 * WebRTC can be negotiated between tabs with no server. Every incoming message is checked; bad
 * ones are counted in `ignoredMessages` and otherwise ignored.
 */
export class LocalNetworkDiscovery extends RosterDiscovery {
  readonly room: string;
  readonly nodeId: NodeId;
  private readonly heartbeatMs: number;
  private readonly maxSignalBytes: number;
  private readonly watchPage: boolean;
  private readonly BroadcastChannelImpl: BroadcastChannelConstructor;
  private readonly liveness: PeerLiveness;
  private channel: BroadcastChannelLike | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private unwatchPage: (() => void) | undefined;
  private ignored = 0;
  private warnedDuplicate = false;

  constructor(options: LocalNetworkDiscoveryOptions) {
    assertNodeId(options.nodeId, 'LocalNetworkDiscovery');
    super(options.via ?? 'broadcast', options.logger ?? consoleLogger);
    if (!isRoom(options.room)) throw new TypeError(`LocalNetworkDiscovery: invalid room ${JSON.stringify(options.room)}`);
    this.room = options.room;
    this.nodeId = options.nodeId;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    assertPositive(this.heartbeatMs, 'LocalNetworkDiscovery heartbeatMs');
    this.maxSignalBytes = options.maxSignalBytes ?? 64 * 1024;
    this.watchPage = options.watchPage ?? typeof window !== 'undefined';
    this.BroadcastChannelImpl = options.BroadcastChannelImpl ?? defaultBroadcastChannel('LocalNetworkDiscovery');
    this.liveness = new PeerLiveness(2 * this.heartbeatMs, this.heartbeatMs / 2, options.now);
  }

  /** Incoming messages that were malformed, or came from a tab using this tab's own node id. */
  get ignoredMessages(): number {
    return this.ignored;
  }

  get isStarted(): boolean {
    return this.channel !== undefined;
  }

  start(): Promise<void> {
    if (this.channel) return Promise.resolve();
    const channel = new this.BroadcastChannelImpl(discoveryChannelName(this.room));
    channel.onmessage = (event) => this.handle(event.data);
    this.channel = channel;
    this.post({ t: 'hello', from: this.nodeId });
    this.heartbeat = setInterval(() => this.tick(), this.heartbeatMs);
    if (this.watchPage) {
      this.unwatchPage = watchPageLifecycle(
        () => this.post({ t: 'bye', from: this.nodeId }),
        () => this.post({ t: 'hello', from: this.nodeId }),
      );
    }
    return Promise.resolve();
  }

  stop(): Promise<void> {
    const channel = this.channel;
    if (!channel) return Promise.resolve();
    this.post({ t: 'bye', from: this.nodeId });
    this.channel = undefined;
    channel.onmessage = null;
    channel.close();
    clearInterval(this.heartbeat);
    this.unwatchPage?.();
    this.unwatchPage = undefined;
    this.liveness.clear();
    this.roster.loseAll('discovery stopped');
    return Promise.resolve();
  }

  sendSignal(to: NodeId, data: unknown): void {
    if (!this.channel) {
      this.logger.warn(`signal to ${to} dropped: local discovery is not started`);
      return;
    }
    const json = toJson(data, this.maxSignalBytes);
    if (typeof json !== 'string') {
      this.logger.warn(`signal to ${to} dropped: ${json.error}`);
      return;
    }
    this.post({ t: 'signal', from: this.nodeId, to, data: JSON.parse(json) });
  }

  private handle(raw: unknown): void {
    const message = decodeDiscoveryMessage(raw);
    if (typeof message === 'string') {
      this.ignore(message);
      return;
    }
    if (message.from === this.nodeId) {
      // BroadcastChannel never echoes to its sender: another tab uses this tab's id.
      if (!this.warnedDuplicate) this.logger.warn(`another tab of room ${this.room} uses this node id (${this.nodeId})`);
      this.warnedDuplicate = true;
      this.ignored++;
      return;
    }
    if ('to' in message && message.to !== this.nodeId) return;
    if (message.t === 'bye') {
      this.lose(message.from, 'left the room');
      return;
    }
    this.liveness.heard(message.from);
    this.roster.see(message.from);
    switch (message.t) {
      case 'hello':
        this.post({ t: 'here', from: this.nodeId, to: message.from });
        break;
      case 'probe':
        this.post({ t: 'alive', from: this.nodeId });
        break;
      case 'signal': {
        const json = toJson(message.data, this.maxSignalBytes);
        if (typeof json !== 'string') this.ignore(`signal from ${message.from}: ${json.error}`);
        else this.roster.signal(message.from, JSON.parse(json));
        break;
      }
      case 'here':
      case 'alive':
        break;
    }
  }

  private tick(): void {
    this.post({ t: 'alive', from: this.nodeId });
    const { probe, vanished } = this.liveness.tick();
    for (const peer of probe) this.post({ t: 'probe', from: this.nodeId, to: peer });
    for (const peer of vanished) this.lose(peer, 'stopped answering (tab closed or crashed)');
  }

  private lose(peer: NodeId, reason: string): void {
    this.liveness.forget(peer);
    this.roster.lose(peer, reason);
  }

  private post(message: DiscoveryMessage): void {
    try {
      this.channel?.postMessage({ v: PROTOCOL, ...message });
    } catch (error) {
      this.logger.warn('local discovery could not post a message', error);
    }
  }

  private ignore(reason: string): void {
    this.ignored++;
    this.logger.debug?.(`local discovery ignored a message: ${reason}`);
  }
}

/** Checks one incoming discovery message; returns it, or why it was refused. */
export function decodeDiscoveryMessage(raw: unknown): DiscoveryMessage | string {
  if (!isRecord(raw)) return 'not an object';
  if (raw.v !== PROTOCOL) return `unknown protocol version ${String(raw.v)}`;
  const { t, from, to } = raw;
  if (!isNodeId(from)) return 'missing or invalid sender';
  switch (t) {
    case 'hello':
    case 'alive':
    case 'bye':
      return { t, from };
    case 'here':
    case 'probe':
      return isNodeId(to) ? { t, from, to } : `${t} without a valid recipient`;
    case 'signal':
      if (!isNodeId(to)) return 'signal without a valid recipient';
      return 'data' in raw ? { t, from, to, data: raw.data } : 'signal without data';
    default:
      return `unknown message type ${JSON.stringify(t)?.slice(0, 40)}`;
  }
}

/** `data` as JSON text of at most `maxBytes` characters, or why it is not. */
function toJson(data: unknown, maxBytes: number): string | { error: string } {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch {
    return { error: 'not JSON' };
  }
  if (json === undefined) return { error: 'not JSON' };
  if (json.length > maxBytes) return { error: `${json.length} characters exceed the limit of ${maxBytes}` };
  return json;
}
