import type { NodeId } from '../crdt/dot.js';
import { Listeners } from '../util/listeners.js';
import type { NetLogger } from './logger.js';
import type { DiscoveryEvent, PeerDiscovery, SignalingChannel } from './peer-discovery.js';
import type { PeerAddress } from './transport.js';

/**
 * What every discovery keeps the same way: the peers it knows in its room, the events saying
 * when one was found or lost (each once), and the listeners of events and relayed signals
 * (isolated, so a throwing listener breaks neither the others nor the discovery). Discoveries
 * differ only in how they hear of peers; they hold one of these and tell it.
 */
export class DiscoveryRoster {
  private readonly known = new Set<NodeId>();
  private readonly events: Listeners<[DiscoveryEvent]>;
  private readonly signals: Listeners<[NodeId, unknown]>;

  constructor(
    private readonly via: string,
    logger: NetLogger,
  ) {
    this.events = new Listeners(logger, 'discovery event');
    this.signals = new Listeners(logger, 'signal');
  }

  has(peer: NodeId): boolean {
    return this.known.has(peer);
  }

  /** The known peers' addresses (`discoverPeers`). */
  addresses(): PeerAddress[] {
    return [...this.known].map((nodeId) => this.address(nodeId));
  }

  /** A peer was heard of: reported once, until it is lost. */
  see(peer: NodeId): void {
    if (this.known.has(peer)) return;
    this.known.add(peer);
    this.events.emit({ type: 'peer-discovered', peerAddress: this.address(peer) });
  }

  /** A known peer went: reported with why. Unknown peers are ignored. */
  lose(peer: NodeId, reason: string): void {
    if (!this.known.delete(peer)) return;
    this.events.emit({ type: 'peer-disconnected', peerAddress: this.address(peer), reason });
  }

  loseAll(reason: string): void {
    for (const peer of [...this.known]) this.lose(peer, reason);
  }

  onEvent(listener: (event: DiscoveryEvent) => void): () => void {
    return this.events.add(listener);
  }

  onSignal(listener: (from: NodeId, data: unknown) => void): () => void {
    return this.signals.add(listener);
  }

  /** Hands a relayed signal to the listeners. */
  signal(from: NodeId, data: unknown): void {
    this.signals.emit(from, data);
  }

  private address(nodeId: NodeId): PeerAddress {
    return { nodeId, via: this.via };
  }
}

/**
 * The base of the discoveries: the roster's part of `PeerDiscovery` and `SignalingChannel` (known
 * peers, events, relayed signals), alike in all. A subclass says how it joins and leaves the room,
 * hears of peers (telling `roster`) and sends signals.
 */
export abstract class RosterDiscovery implements PeerDiscovery, SignalingChannel {
  protected readonly roster: DiscoveryRoster;

  constructor(
    /** The transport kind the peers it finds are reached by. */
    readonly via: string,
    protected readonly logger: NetLogger,
  ) {
    this.roster = new DiscoveryRoster(via, logger);
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  abstract sendSignal(to: NodeId, data: unknown): void;

  discoverPeers(): Promise<PeerAddress[]> {
    return Promise.resolve(this.roster.addresses());
  }

  onEvent(listener: (event: DiscoveryEvent) => void): () => void {
    return this.roster.onEvent(listener);
  }

  onSignal(listener: (from: NodeId, data: unknown) => void): () => void {
    return this.roster.onSignal(listener);
  }
}
