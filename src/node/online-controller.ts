import type { NodeId } from '../crdt/dot.js';
import type { ConnectionManager } from '../net/connection-manager.js';
import type { PeerDiscovery } from '../net/peer-discovery.js';
import type { PeerAddress, Transport } from '../net/transport.js';
import type { RoomOverlay } from '../overlay/room-overlay.js';

/** What `OnlineController` switches on and off; the node passes its parts. */
export interface OnlineControllerOptions {
  readonly nodeId: NodeId;
  readonly connections: Pick<ConnectionManager, 'connectToPeer' | 'keepConnected' | 'release' | 'pause' | 'resume'>;
  readonly overlay: Pick<RoomOverlay, 'start' | 'stop' | 'learn'> | undefined;
  readonly discoveries: readonly PeerDiscovery[];
  /** The transports, most preferred first. */
  readonly transports: readonly Transport[];
  /** Transport kinds that reach any room member through relayed signaling. */
  readonly relayedTransports: readonly string[];
  /** Whether the node runs: while it is stopped, going offline or online only changes the state. */
  readonly running: () => boolean;
  /** Called after every change the status shows. */
  readonly changed: () => void;
}

/**
 * Whether the node is online, and what that switches: offline (the user's choice or the
 * browser's) leaves the overlay, pauses the connections (closing every one) and stops discovery;
 * online undoes it. Also keeps the peers the discoveries reported, on which transports, so going
 * back online and the overlay's connections reach them again.
 */
export class OnlineController {
  private workOffline = false;
  private browserOnline = true;
  private discoveriesRunning = false;
  /** Transport kinds each peer was discovered on. */
  private readonly discoveredVia = new Map<NodeId, Set<string>>();

  constructor(private readonly options: OnlineControllerOptions) {}

  /** False while the browser is offline or the user chose to work offline. */
  get online(): boolean {
    return this.browserOnline && !this.workOffline;
  }

  /** Whether the discoveries run (the signaling server is left while they do not). */
  get discovering(): boolean {
    return this.discoveriesRunning;
  }

  /** Every peer a discovery reported and did not report gone. */
  contacts(): NodeId[] {
    return [...this.discoveredVia.keys()];
  }

  /**
   * Goes offline when the browser reports `offline`, and back on `online`, from the browser's
   * state now; returns what stops following it.
   */
  followBrowser(): () => void {
    this.browserOnline = navigator.onLine !== false;
    const offline = (): void => void this.setBrowserOnline(false);
    const online = (): void => void this.setBrowserOnline(true);
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', online);
    };
  }

  /** Works offline on purpose (true) or goes back online (false). */
  async setWorkOffline(offline: boolean): Promise<void> {
    if (this.workOffline === offline) return;
    const wasOnline = this.online;
    this.workOffline = offline;
    await this.apply(wasOnline);
  }

  /** Starts finding peers (each discovery once), then reaches the peers they already know. */
  async startDiscoveries(): Promise<void> {
    if (this.discoveriesRunning) return;
    this.discoveriesRunning = true;
    const { discoveries } = this.options;
    // One discovery failing to start (say, no signaling server) must not keep the others from working.
    await Promise.all(discoveries.map((discovery) => discovery.start().catch((error: unknown) => console.warn('[node] discovery failed to start', error))));
    // Peers reported before we subscribed, or while a discovery restarted.
    for (const discovery of discoveries) {
      const peers = await discovery.discoverPeers().catch(() => []);
      for (const address of peers) this.peerFound(address);
    }
  }

  /** Stops every discovery (leaving the signaling server). */
  async stopDiscoveries(): Promise<void> {
    if (!this.discoveriesRunning) return;
    this.discoveriesRunning = false;
    await Promise.all(this.options.discoveries.map((discovery) => discovery.stop().catch(() => undefined)));
  }

  /**
   * A peer discovery reports: with the overlay, a member to know of (the overlay decides whether to
   * connect); without it, a peer to keep connected.
   */
  peerFound(address: PeerAddress): void {
    const { nodeId, overlay, connections } = this.options;
    if (address.nodeId === nodeId) return;
    let vias = this.discoveredVia.get(address.nodeId);
    if (!vias) this.discoveredVia.set(address.nodeId, (vias = new Set()));
    vias.add(address.via);
    if (!this.online) return;
    if (overlay) overlay.learn(address.nodeId);
    else connections.keepConnected(address);
  }

  /** A peer discovery reports `address` gone: its connection over that transport is released. */
  peerLost(address: PeerAddress): void {
    const vias = this.discoveredVia.get(address.nodeId);
    vias?.delete(address.via);
    if (vias?.size === 0) this.discoveredVia.delete(address.nodeId);
    this.options.connections.release(address.nodeId, address.via);
  }

  /**
   * Opens a connection the overlay asked for: over the transports the peer was discovered on, then
   * those that reach any member through relayed signaling, in the order of preference.
   */
  async connectForOverlay(peer: NodeId): Promise<boolean> {
    const vias = new Set([...(this.discoveredVia.get(peer) ?? []), ...this.options.relayedTransports]);
    for (const transport of this.options.transports) {
      if (!vias.has(transport.kind)) continue;
      if (await this.options.connections.connectToPeer({ nodeId: peer, via: transport.kind })) return true;
    }
    return false;
  }

  private async setBrowserOnline(online: boolean): Promise<void> {
    if (this.browserOnline === online) return;
    const wasOnline = this.online;
    this.browserOnline = online;
    await this.apply(wasOnline);
  }

  private async apply(wasOnline: boolean): Promise<void> {
    const { online } = this;
    const { overlay, connections } = this.options;
    if (online !== wasOnline && this.options.running()) {
      if (online) {
        connections.resume();
        overlay?.start();
        for (const peer of this.discoveredVia.keys()) overlay?.learn(peer);
        await this.startDiscoveries();
      } else {
        // Leaving the overlay first: its neighbors hear it, and it does not try to replace them.
        overlay?.stop();
        connections.pause();
        await this.stopDiscoveries();
      }
    }
    this.options.changed();
  }
}
