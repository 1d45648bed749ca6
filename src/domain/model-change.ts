import type { RemovalMark } from '../crdt/aw-set.js';
import type { Dot, NodeId, Timestamp } from '../crdt/dot.js';

/**
 * The wire format of changes. Changes travel between peers and may come from a hostile peer, so
 * the format is versioned and every field is validated on arrival (see `decodeChangeBatch`).
 */
export const CHANGE_FORMAT = 1;

/** Attribute values as stored and sent. Dates travel as ISO strings; references as target oids. */
export type AttributeValue = string | number | boolean | null;

/** One write to an attribute register: the value, when it was written, and its unique dot. */
export interface AttributeWrite {
  readonly value: AttributeValue;
  readonly ts: Timestamp;
  readonly dot: Dot;
}

/** A version vector in its compact JSON form: `node → max` or `node → [max, ...seqs past max]`. */
export type VersionVectorJSON = Record<string, number | number[]>;

/**
 * The whole state of one attribute register. Usually one write; more while concurrent writes are
 * unresolved, and then the last writer wins for display and the others are conflicts.
 */
export interface AttributeChange {
  readonly kind: 'attribute';
  readonly entityType: string;
  readonly oid: string;
  readonly attribute: string;
  readonly writes: readonly AttributeWrite[];
}

/** One child added to a child relation (an add-wins set of child oids). */
export interface ChildAddChange {
  readonly kind: 'child-add';
  readonly entityType: string;
  readonly oid: string;
  readonly relation: string;
  readonly child: string;
  readonly dot: Dot;
}

/**
 * The whole state of one child relation: each child with the dots that added it. Sent instead of
 * `child-add` when the relation lost children since the receiver's version: joined with the
 * batch's version as causal context, it removes what the sender removed without any tombstones.
 */
export interface ChildrenChange {
  readonly kind: 'children';
  readonly entityType: string;
  readonly oid: string;
  readonly relation: string;
  readonly items: ReadonlyArray<readonly [child: string, dots: readonly Dot[]]>;
  /**
   * The latest removal dot of each node in this relation. Removals leave nothing else in state,
   * so these marks are how every replica (also one relaying the change, or one reloaded from
   * storage) knows the relation lost children since some version and must send it whole. Each
   * mark names the add dots its node removed from the relation (`RemovalMark.removed`): the
   * evidence, in signed rooms, that lets a replica drop those adds and nothing else.
   */
  readonly removals?: readonly RemovalMark[];
}

/** The seed's `ModelChange`: one piece of a model's state, as sent between peers. */
export type ModelChange = AttributeChange | ChildAddChange | ChildrenChange;

/**
 * A delta: every change the receiver lacks relative to `since`, and the sender's version (its
 * causal context). The receiver may adopt `version` only if it already holds everything in
 * `since`; otherwise it applies what it can and asks for a full exchange.
 */
export interface ChangeBatch {
  readonly format: typeof CHANGE_FORMAT;
  readonly modelId: string;
  readonly since: VersionVectorJSON;
  readonly version: VersionVectorJSON;
  readonly changes: readonly ModelChange[];
  /**
   * Set on every part but the last when a large delta is sent in parts: the receiver joins with
   * `version` as context (safe, since each change carries a whole register or relation) but
   * adopts `version` only with the last part, so a connection lost midway loses nothing.
   */
  readonly partial?: boolean;
}

/** The stored and transferable state of one entity. */
export interface EntityState {
  readonly entityType: string;
  readonly oid: string;
  readonly attributes: Readonly<Record<string, readonly AttributeWrite[]>>;
  readonly children: Readonly<Record<string, ReadonlyArray<readonly [child: string, dots: readonly Dot[]]>>>;
  /** Per child relation that lost children, its removal marks (see `ChildrenChange.removals`). */
  readonly removals?: Readonly<Record<string, readonly RemovalMark[]>>;
}

/** The seed's `ModelSnapshot`: the whole model with its version vector. */
export interface ModelSnapshot {
  readonly format: typeof CHANGE_FORMAT;
  readonly modelId: string;
  readonly version: VersionVectorJSON;
  readonly entities: readonly EntityState[];
}

/** A concurrent overwrite that lost under last-writer-wins, kept so the application can show it. */
export interface Conflict {
  readonly entityType: string;
  readonly oid: string;
  readonly attribute: string;
  /** The value the model shows (the last writer by hybrid clock, then node id). */
  readonly winner: AttributeWrite;
  /** Concurrent writes that lost; each names its writer (`dot.node`) and time (`ts`). */
  readonly losers: readonly AttributeWrite[];
  /**
   * Only on `$deleted` conflicts of a deleted entity: edits made concurrently with the delete (their
   * timestamps are after it). They are kept inside the entity; restoring it brings them back.
   */
  readonly concurrentEdits?: ReadonlyArray<{ readonly attribute: string; readonly write: AttributeWrite }>;
}

/** Why one incoming change was refused. A rejected change never alters state. */
export interface RejectedChange {
  readonly change: unknown;
  readonly reason: string;
}

/** The seed's `ApplyChangesResult`. */
export interface ApplyChangesResult {
  /** Changes that altered state. */
  readonly applied: number;
  /** Changes already known (duplicates, or superseded by what this replica holds). */
  readonly ignored: number;
  readonly rejected: readonly RejectedChange[];
  /** Conflicts that exist after the merge on the registers this batch touched. */
  readonly conflicts: readonly Conflict[];
  /**
   * False when the batch assumed state this replica does not have (`since` not covered): the
   * changes were applied but the sender's version was not adopted, so a full exchange is needed.
   */
  readonly complete: boolean;
}

/** The seed's `ConflictResolution`: what was decided and the new writes that carry the decision. */
export interface ConflictResolution {
  readonly resolved: ReadonlyArray<{ readonly oid: string; readonly attribute: string; readonly value: AttributeValue }>;
  readonly changes: readonly ModelChange[];
}

/** What a model reports after every local edit or merge. */
/**
 * The ordinary operation that takes back one local operation: undo in a view is an edit like any
 * other, so it syncs to every peer. `update` holds the values shown before (null for none).
 */
export type LocalUndo =
  | { readonly kind: 'delete'; readonly oid: string; /** The operation created the entity (else restored it). */ readonly created?: true }
  | { readonly kind: 'restore'; readonly oid: string }
  | { readonly kind: 'update'; readonly oid: string; readonly values: Readonly<Record<string, AttributeValue>> }
  | { readonly kind: 'add-child' | 'remove-child'; readonly oid: string; readonly relation: string; readonly child: string };

export interface ModelChangedDetail {
  readonly modelId: string;
  readonly origin: 'local' | 'remote';
  /** The changes made (local) or applied (remote). */
  readonly changes: readonly ModelChange[];
  /** Author of local changes. */
  readonly nodeId?: NodeId;
  /**
   * Local changes: the dots they dropped from state (the overwritten winners, the removed
   * children's adds). Until these changes are stored, a context claiming those dots must not
   * leave the device: after a crash the dropped writes are back and nothing supersedes them.
   */
  readonly superseded?: readonly Dot[];
  /**
   * Local changes of an ordinary operation (`create`, `update`, `delete`, `restore`, `addChild`,
   * `removeChild`): the operation taking them back. Absent for writes of managed attributes and
   * for conflict resolutions, which no ordinary operation takes back.
   */
  readonly undo?: LocalUndo;
}
