import type { NodeId } from '../../crdt/dot.js';
import { VersionVector, type VersionVectorJSON, isNodeId } from '../../crdt/index.js';
import { MODEL_ID_PATTERN } from '../../domain/index.js';

/**
 * Sync protocol 4 adds epidemic broadcast (Plumtree): lazy announcements and the two messages
 * that move a link between the eager tree and the lazy links. Only peers that agreed on protocol
 * 4 send or receive them.
 */
export const BROADCAST_PROTOCOL = 4;

/**
 * Sync protocol 6 keeps a broadcast tree per writer (per source, Plumtree's per-sender trees):
 * `graft`, `prune` and an ack's prune name the writers (`roots`) whose trees they change. Between
 * peers before protocol 6 every writer's changes share one tree, and `roots` are not sent.
 */
export const SOURCE_TREES_PROTOCOL = 6;

/** At most this many roots in one `graft`, `prune` or ack (a node keeps fewer trees than this). */
export const MAX_MESSAGE_ROOTS = 256;

/** Whether an agreed protocol keeps a tree per writer. */
export const keepsSourceTrees = (protocol: number | null): boolean => protocol !== null && protocol >= SOURCE_TREES_PROTOCOL;

/**
 * "I hold these": the entries of the sender's claimable version that changed since it last told
 * the receiver its version on this connection (never a whole vector of every node's counter).
 * Together with everything the sender claimed before on the connection, it is exactly the
 * sender's claimable version, so `digest` (sent where the sender holds exactly that) lets the
 * receiver tell whether their states are equal.
 */
export interface IHaveMessage {
  readonly t: 'ihave';
  readonly model: string;
  readonly have: VersionVectorJSON;
  readonly digest?: string;
}

/**
 * "Send me what you announced, and from now on push eagerly": the link joins the broadcast tree.
 * `have` is what the sender holds beyond what it told before, so the receiver sends only the rest.
 */
export interface GraftMessage {
  readonly t: 'graft';
  readonly model: string;
  readonly have: VersionVectorJSON;
  /** Protocol 6: the writers whose trees the link joins (absent: the shared tree). */
  readonly roots?: readonly NodeId[];
}

/** "Your push reached me by another path first": the link becomes lazy both ways. */
export interface PruneMessage {
  readonly t: 'prune';
  /** Protocol 6: the writers whose trees lose the link (absent: the shared tree). */
  readonly roots?: readonly NodeId[];
}

/** The broadcast messages of protocol 4. */
export type BroadcastMessage = IHaveMessage | GraftMessage | PruneMessage;

/** The `t` of every broadcast message. */
export const BROADCAST_TYPES: ReadonlySet<string> = new Set(['ihave', 'graft', 'prune']);

/** True for a message handled by the broadcast layer. */
export function isBroadcastMessage(message: { readonly t: string }): message is BroadcastMessage {
  return BROADCAST_TYPES.has(message.t);
}

/** Validates a decoded JSON object whose `t` is in `BROADCAST_TYPES`; never throws. */
export function decodeBroadcastMessage(raw: Record<string, unknown>): BroadcastMessage | { readonly error: string } {
  const roots = decodeRoots(raw.roots);
  if (roots !== undefined && 'error' in roots) return { error: `${String(raw.t)}: ${roots.error}` };
  const named = roots ? { roots: roots.roots } : {};
  if (raw.t === 'prune') return { t: 'prune', ...named };
  const { model } = raw;
  if (typeof model !== 'string' || !MODEL_ID_PATTERN.test(model)) return { error: `${String(raw.t)}: bad model id` };
  let have: VersionVectorJSON;
  try {
    have = VersionVector.fromJSON(raw.have).toJSON();
  } catch (error) {
    return { error: `${String(raw.t)}: have: ${(error as Error).message}` };
  }
  if (raw.t === 'graft') return { t: 'graft', model, have, ...named };
  if (raw.digest !== undefined && !(typeof raw.digest === 'string' && /^[0-9a-f]{16}$/.test(raw.digest))) return { error: 'ihave: bad digest' };
  return { t: 'ihave', model, have, ...(raw.digest === undefined ? {} : { digest: raw.digest as string }) };
}

/** Validates the `roots` of a `graft`, `prune` or ack (undefined where absent); never throws. */
export function decodeRoots(raw: unknown): { readonly roots: readonly NodeId[] } | { readonly error: string } | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_MESSAGE_ROOTS || !raw.every(isNodeId))
    return { error: `roots must be a list of 1 to ${MAX_MESSAGE_ROOTS} node ids` };
  return { roots: raw };
}
