import type { NodeId } from '../crdt/dot.js';
import { Listeners } from '../util/listeners.js';
import { consoleLogger, type NetLogger } from '../net/logger.js';
import type { DiscoveryEvent, PeerDiscovery, SignalingChannel } from '../net/peer-discovery.js';

/** Where relayed signals go out; the room overlay is one. */
export interface SignalRelay {
  relaySignal(to: NodeId, data: unknown): boolean;
}

/**
 * Connection-setup signals over the overlay: `sendSignal` hands them to the attached relay (the
 * room overlay routes them over existing peer connections), and the overlay `deliver`s the ones
 * addressed to us. Created before the node (transports need their signaling channel when they are
 * built); the node attaches its overlay once it exists. Signals are opaque here: wrap this in an
 * `EncryptedSignalingChannel` (or wrap a `FallbackSignalingChannel` of it) so relaying members can
 * neither read nor alter them.
 */
export class RelayedSignaling implements SignalingChannel {
  private relay: SignalRelay | undefined;
  private readonly signals: Listeners<[NodeId, unknown]>;

  constructor(private readonly logger: NetLogger = consoleLogger) {
    this.signals = new Listeners(logger, 'relayed signal');
  }

  /** Sends through `relay` from now on (undefined: nowhere). */
  attach(relay: SignalRelay | undefined): void {
    this.relay = relay;
  }

  sendSignal(to: NodeId, data: unknown): void {
    if (!this.relay?.relaySignal(to, data)) this.logger.debug?.(`relayed signal to ${to} dropped: no overlay route`);
  }

  onSignal(listener: (from: NodeId, data: unknown) => void): () => void {
    return this.signals.add(listener);
  }

  /** A signal that reached us over the overlay. */
  deliver(from: NodeId, data: unknown): void {
    this.signals.emit(from, data);
  }
}

/** A signaling server client, as `FallbackSignalingChannel` needs it. */
export type ServerSignaling = SignalingChannel & Pick<PeerDiscovery, 'onEvent'>;

/**
 * Signals through the signaling server to peers it currently lists in the room, and through the
 * overlay to every other peer (the server is down, restarting, or never saw that peer). Receives
 * from both. A peer's signals keep one way while it stays listed, so their order holds.
 */
export class FallbackSignalingChannel implements SignalingChannel {
  private readonly listed = new Set<NodeId>();
  private readonly unsubscribe: Array<() => void>;
  private readonly signals: Listeners<[NodeId, unknown]>;

  constructor(
    private readonly server: ServerSignaling | undefined,
    private readonly overlay: SignalingChannel,
    logger: NetLogger = consoleLogger,
  ) {
    this.signals = new Listeners(logger, 'signal');
    const forward = (from: NodeId, data: unknown): void => this.signals.emit(from, data);
    this.unsubscribe = [overlay.onSignal(forward)];
    if (server) this.unsubscribe.push(server.onSignal(forward), server.onEvent((event) => this.onDiscovery(event)));
  }

  sendSignal(to: NodeId, data: unknown): void {
    if (this.server && this.listed.has(to)) this.server.sendSignal(to, data);
    else this.overlay.sendSignal(to, data);
  }

  onSignal(listener: (from: NodeId, data: unknown) => void): () => void {
    return this.signals.add(listener);
  }

  close(): void {
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    this.signals.clear();
  }

  private onDiscovery(event: DiscoveryEvent): void {
    if (event.type === 'peer-discovered') this.listed.add(event.peerAddress.nodeId);
    else this.listed.delete(event.peerAddress.nodeId);
  }
}
