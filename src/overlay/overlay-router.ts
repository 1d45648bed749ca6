import type { NodeId } from '../crdt/dot.js';
import { MAX_OVERLAY_TTL, MAX_TRAIL, type RouteMessage } from './overlay-message.js';

/** Options of `OverlayRouter`. */
export interface OverlayRouterOptions {
  /** A learned route is used for this long. Default 5 min. */
  readonly routeTtlMs?: number;
  /** Routes remembered at most. Default 512. */
  readonly maxRoutes?: number;
  /** Message ids remembered to drop duplicates of a flood. Default 4,096. */
  readonly maxSeenIds?: number;
  /** Hops a flood may take when no route is known. Default 4. */
  readonly floodTtl?: number;
}

/** What to do with a routed message that arrived. */
export type RouteDecision =
  | { readonly kind: 'deliver' }
  | { readonly kind: 'forward'; readonly to: readonly NodeId[]; readonly message: RouteMessage }
  | { readonly kind: 'drop'; readonly reason: string };

/**
 * Routes overlay messages to members that are not neighbors, over neighbors: the way relayed
 * connection offers reach a member while the signaling server is down, and shuffle replies reach
 * the walk's origin. Every routed message lists the hops it took (`trail`), so every node on its
 * way learns a route back to each earlier hop (reverse-path learning, as in AODV); a message to a
 * member with no known route floods the neighbors with a small TTL, once per id. Pure: an injected
 * clock; the caller says who is connected.
 */
export class OverlayRouter {
  private readonly routes = new Map<NodeId, { readonly path: readonly NodeId[]; readonly at: number }>();
  private readonly seen = new Set<string>();
  private readonly routeTtlMs: number;
  private readonly maxRoutes: number;
  private readonly maxSeenIds: number;
  readonly floodTtl: number;

  constructor(
    readonly me: NodeId,
    private readonly now: () => number,
    options: OverlayRouterOptions = {},
  ) {
    this.routeTtlMs = options.routeTtlMs ?? 300_000;
    this.maxRoutes = options.maxRoutes ?? 512;
    this.maxSeenIds = options.maxSeenIds ?? 4_096;
    this.floodTtl = Math.min(options.floodTtl ?? 4, MAX_OVERLAY_TTL);
  }

  /**
   * Learns routes from a trail of hops (originator first) that ended here: to each node of it,
   * back through the hops after it.
   */
  learn(trail: readonly NodeId[]): void {
    const at = this.now();
    for (let i = 0; i < trail.length; i++) {
      const target = trail[i]!;
      if (target === this.me) continue;
      const path = trail.slice(i + 1).reverse();
      if (path.includes(this.me) || path.includes(target)) continue;
      const known = this.routes.get(target);
      // Keep the shorter of two fresh routes.
      if (known && at - known.at < this.routeTtlMs && known.path.length < path.length) continue;
      this.routes.delete(target);
      this.routes.set(target, { path, at });
      if (this.routes.size > this.maxRoutes) this.routes.delete(this.routes.keys().next().value!);
    }
  }

  /** The intermediate hops to `to` (empty: a neighbor, or unknown), or undefined when none is known. */
  routeTo(to: NodeId): readonly NodeId[] | undefined {
    const known = this.routes.get(to);
    if (!known) return undefined;
    if (this.now() - known.at >= this.routeTtlMs) {
      this.routes.delete(to);
      return undefined;
    }
    return known.path;
  }

  /** Forgets the route to `to` (it failed). */
  forget(to: NodeId): void {
    this.routes.delete(to);
  }

  /**
   * Where a new message of ours goes first: along a known route if its first hop is connected,
   * else directly, else a flood to every neighbor.
   */
  originate(message: RouteMessage, connected: (peer: NodeId) => boolean, neighbors: readonly NodeId[]): RouteDecision {
    this.remember(message.id);
    if (connected(message.to)) return { kind: 'forward', to: [message.to], message: { ...message, path: [] } };
    const path = this.routeTo(message.to);
    if (path && path.length > 0 && connected(path[0]!)) return { kind: 'forward', to: [path[0]!], message: { ...message, path: path.slice(1) } };
    const to = neighbors.filter((peer) => peer !== this.me);
    if (to.length === 0) return { kind: 'drop', reason: `no route to ${message.to} and no neighbor` };
    return { kind: 'forward', to, message: { ...message, ttl: Math.min(message.ttl, this.floodTtl), path: [] } };
  }

  /** Decides what to do with a routed message a neighbor (`from`) sent us. */
  receive(message: RouteMessage, from: NodeId, connected: (peer: NodeId) => boolean, neighbors: readonly NodeId[]): RouteDecision {
    if (this.seen.has(message.id)) return { kind: 'drop', reason: 'duplicate' };
    this.remember(message.id);
    const trail = message.trail[message.trail.length - 1] === from ? message.trail : [...message.trail, from];
    if (trail[0] !== message.from) return { kind: 'drop', reason: 'trail does not start at the sender' };
    this.learn(trail);
    if (message.to === this.me) return { kind: 'deliver' };
    if (trail.includes(this.me)) return { kind: 'drop', reason: 'loop' };
    if (trail.length >= MAX_TRAIL) return { kind: 'drop', reason: 'trail too long' };
    const onward = { ...message, trail: [...trail, this.me] };
    if (connected(message.to)) return { kind: 'forward', to: [message.to], message: { ...onward, path: [] } };
    const [next, ...rest] = message.path;
    if (next !== undefined && connected(next)) return { kind: 'forward', to: [next], message: { ...onward, path: rest } };
    const known = this.routeTo(message.to);
    if (known && known.length > 0 && connected(known[0]!)) return { kind: 'forward', to: [known[0]!], message: { ...onward, path: known.slice(1) } };
    if (message.ttl <= 0) return { kind: 'drop', reason: `no route to ${message.to}` };
    const to = neighbors.filter((peer) => peer !== from && !trail.includes(peer));
    if (to.length === 0) return { kind: 'drop', reason: `no route to ${message.to}` };
    return { kind: 'forward', to, message: { ...onward, ttl: message.ttl - 1, path: [] } };
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > this.maxSeenIds) this.seen.delete(this.seen.values().next().value!);
  }
}
