import type { NodeId } from '../crdt/dot.js';
import { MemoryConnection, type MemoryConnectionHooks } from './memory-connection.js';
import type { MemoryDiscovery } from './memory-discovery.js';
import type { MemoryTransport } from './memory-transport.js';

/** Options of `MemoryNetwork`. */
export interface MemoryNetworkOptions {
  /** `Transport.kind` of its transports and the `via` its discoveries report. Default `memory`. */
  readonly kind?: string;
}

interface Waiter {
  readonly resolve: (connection: MemoryConnection) => void;
  readonly reject: (error: Error) => void;
}

/** The one link between two nodes, shared by both, so simultaneous connects cannot make two. */
interface Link {
  readonly key: string;
  state: 'opening' | 'open';
  readonly waiters: Map<NodeId, Waiter[]>;
  readonly ends: Map<NodeId, MemoryConnection>;
}

/**
 * An in-process network: `MemoryTransport`s and `MemoryDiscovery`s registered by node id, for the
 * project's tests and for users' own. It can cut links (`disconnect`, `partition`) and `heal`
 * them, and counts what it delivered. Partitions affect transports only; discovery and signaling
 * keep working, the way a signaling server often stays reachable while peer links break.
 */
export class MemoryNetwork {
  readonly kind: string;
  private readonly transports = new Map<NodeId, MemoryTransport>();
  private readonly rooms = new Map<string, Map<NodeId, MemoryDiscovery>>();
  private readonly links = new Map<string, Link>();
  private readonly blockedPairs = new Set<string>();
  private readonly groupOf = new Map<NodeId, number>();
  private deliveredMessages = 0;
  private deliveredBytes = 0;

  constructor(options: MemoryNetworkOptions = {}) {
    this.kind = options.kind ?? 'memory';
  }

  /** Messages and bytes delivered over connections so far. */
  get stats(): { readonly messages: number; readonly bytes: number } {
    return { messages: this.deliveredMessages, bytes: this.deliveredBytes };
  }

  /** True unless a `disconnect` or `partition` separates `a` and `b`. */
  canReach(a: NodeId, b: NodeId): boolean {
    if (this.blockedPairs.has(pairKey(a, b))) return false;
    const groupA = this.groupOf.get(a);
    const groupB = this.groupOf.get(b);
    return groupA === undefined || groupB === undefined || groupA === groupB;
  }

  /** Cuts the link between `a` and `b` (both ends close) and refuses new ones until `heal`. */
  disconnect(a: NodeId, b: NodeId): void {
    this.blockedPairs.add(pairKey(a, b));
    this.severUnreachable(`network disconnected ${a} from ${b}`);
  }

  /**
   * Splits the network: nodes in different groups cannot reach each other until `heal`. Nodes in
   * no group reach everyone. Links across groups are cut.
   */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    this.groupOf.clear();
    groups.forEach((group, index) => group.forEach((node) => this.groupOf.set(node, index)));
    this.severUnreachable('network partition');
  }

  /** Undoes every `disconnect` and `partition`; links reopen when someone connects again. */
  heal(): void {
    this.blockedPairs.clear();
    this.groupOf.clear();
  }

  /** Closes every transport and stops every discovery of this network. */
  close(): void {
    for (const transport of [...this.transports.values()]) transport.close();
    for (const room of [...this.rooms.values()]) for (const discovery of [...room.values()]) void discovery.stop();
  }

  /** @internal */
  attachTransport(transport: MemoryTransport): void {
    if (this.transports.has(transport.localId)) {
      throw new Error(`a memory transport for ${transport.localId} already exists on this network`);
    }
    this.transports.set(transport.localId, transport);
  }

  /** @internal */
  detachTransport(transport: MemoryTransport): void {
    if (this.transports.get(transport.localId) === transport) this.transports.delete(transport.localId);
  }

  /** @internal Opens, or joins the opening of, the link between `from` and `to`. */
  openLink(from: MemoryTransport, to: NodeId): Promise<MemoryConnection> {
    const key = pairKey(from.localId, to);
    const existing = this.links.get(key);
    if (existing?.state === 'open') {
      const end = existing.ends.get(from.localId);
      if (end) return Promise.resolve(end);
    }
    return new Promise((resolve, reject) => {
      if (existing) {
        addWaiter(existing, from.localId, { resolve, reject });
        return;
      }
      const link: Link = { key, state: 'opening', waiters: new Map(), ends: new Map() };
      addWaiter(link, from.localId, { resolve, reject });
      this.links.set(key, link);
      queueMicrotask(() => this.establish(link, from.localId, to));
    });
  }

  /** @internal Started discoveries of `room`. */
  roomMembers(room: string): Map<NodeId, MemoryDiscovery> {
    let members = this.rooms.get(room);
    if (!members) {
      members = new Map();
      this.rooms.set(room, members);
    }
    return members;
  }

  private establish(link: Link, a: NodeId, b: NodeId): void {
    const transportA = this.transports.get(a);
    const transportB = this.transports.get(b);
    const refusal = !transportA
      ? `${a} has no transport`
      : !transportB
        ? `${b} is unknown on this network`
        : !this.canReach(a, b)
          ? `${b} is unreachable (network partition)`
          : (transportA.refusal(true) ?? transportB.refusal(link.waiters.has(b), a));
    if (refusal !== undefined || !transportA || !transportB) {
      this.links.delete(link.key);
      for (const waiters of link.waiters.values()) for (const waiter of waiters) waiter.reject(new Error(refusal));
      return;
    }
    const hooks = (owner: MemoryTransport): MemoryConnectionHooks => ({
      maxMessageBytes: owner.maxMessageBytes,
      delivered: (bytes) => {
        this.deliveredMessages++;
        this.deliveredBytes += bytes;
      },
      closed: (connection) => {
        owner.forget(connection);
        if (this.links.get(link.key) === link) this.links.delete(link.key);
      },
    });
    const [endA, endB] = MemoryConnection.pair(
      { node: a, logger: transportA.logger, hooks: hooks(transportA) },
      { node: b, logger: transportB.logger, hooks: hooks(transportB) },
      this.kind,
    );
    link.state = 'open';
    link.ends.set(a, endA);
    link.ends.set(b, endB);
    for (const [node, transport, end] of [[a, transportA, endA], [b, transportB, endB]] as const) {
      const waiters = link.waiters.get(node) ?? [];
      transport.adopt(end, waiters.length === 0);
      for (const waiter of waiters) waiter.resolve(end);
    }
    link.waiters.clear();
  }

  private severUnreachable(reason: string): void {
    for (const link of [...this.links.values()]) {
      if (link.state !== 'open') continue;
      const [a, b] = [...link.ends.keys()] as [NodeId, NodeId];
      if (this.canReach(a, b)) continue;
      this.links.delete(link.key);
      for (const end of link.ends.values()) end.sever(reason);
    }
  }
}

const pairKey = (a: NodeId, b: NodeId): string => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

function addWaiter(link: Link, node: NodeId, waiter: Waiter): void {
  const waiters = link.waiters.get(node);
  if (waiters) waiters.push(waiter);
  else link.waiters.set(node, [waiter]);
}
