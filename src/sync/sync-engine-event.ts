import type { NodeId } from '../crdt/dot.js';
import type { VersionVector } from '../crdt/index.js';
import type { ApplyChangesResult } from '../domain/model-change.js';

/** Traffic counters, per peer and in `SyncResult`. */
export interface SyncCounters {
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  changesSent: number;
  changesReceived: number;
  changesApplied: number;
  changesRejected: number;
}

/** Fresh zeroed counters. */
export const emptyCounters = (): SyncCounters => ({
  messagesSent: 0,
  messagesReceived: 0,
  bytesSent: 0,
  bytesReceived: 0,
  changesSent: 0,
  changesReceived: 0,
  changesApplied: 0,
  changesRejected: 0,
});

/**
 * The seed's `SyncResult`: what one `synchronize` call exchanged (engine-wide counters over the
 * call, so traffic of other models in that time is included) and whether it converged.
 */
export interface SyncResult extends SyncCounters {
  readonly modelId: string;
  /** Connected peers holding the model. */
  readonly peers: number;
  /** Of those, how many ended with exactly our version. */
  readonly inSyncPeers: number;
  readonly durationMs: number;
}

/** What the engine knows about one peer and one model. */
export interface PeerModelStatus {
  readonly modelId: string;
  /** True when the peer's last reported version equals ours: neither side lacks anything. */
  readonly inSync: boolean;
  /** Every version the peer reported (or that its deltas proved); null before the first. */
  readonly confirmed: VersionVector | null;
  /** Deltas sent and not yet acknowledged. */
  readonly unacked: number;
}

/** What the engine knows about one connected peer. */
export interface PeerStatus {
  readonly peerId: NodeId;
  readonly via: string;
  /** False until the peer's hello arrived. */
  readonly ready: boolean;
  /** The display name the peer chose, or null. Untrusted text: render it as text only. */
  readonly name: string | null;
  /** The models both sides hold. */
  readonly models: readonly PeerModelStatus[];
  readonly counters: Readonly<SyncCounters>;
  /** Refused frames and rejected changes so far. */
  readonly offences: number;
}

/** Events the engine reports. */
export type SyncEngineEvent =
  | { readonly type: 'peer-ready'; readonly peerId: NodeId }
  | { readonly type: 'peer-info'; readonly peerId: NodeId; readonly name: string | null }
  | { readonly type: 'peer-removed'; readonly peerId: NodeId; readonly reason: string }
  | { readonly type: 'peer-sync-state'; readonly peerId: NodeId; readonly modelId: string; readonly inSync: boolean }
  | {
      readonly type: 'sync-progress';
      readonly peerId: NodeId;
      readonly modelId: string;
      readonly part: number;
      readonly parts: number;
      /** Entities this part changed (what people would call items). */
      readonly items: number;
    }
  | {
      readonly type: 'changes-applied';
      readonly peerId: NodeId;
      readonly modelId: string;
      readonly result: ApplyChangesResult;
    }
  | { readonly type: 'peer-offence'; readonly peerId: NodeId; readonly reason: string }
  /**
   * `author` signed two different operations as `author:seq`; `peerId` relayed the copy this node
   * does not hold, and is not blamed for it. That copy was not taken (docs/security.md).
   */
  | { readonly type: 'equivocation'; readonly peerId: NodeId; readonly modelId: string; readonly author: NodeId; readonly seq: number }
  /** The peer holds the same version as this node but another state (digests differ): a repair starts. */
  | { readonly type: 'state-mismatch'; readonly peerId: NodeId; readonly modelId: string }
  /** Entities of the peer were joined to repair a mismatch; `entities` how many changed anything. */
  | { readonly type: 'state-repaired'; readonly peerId: NodeId; readonly modelId: string; readonly entities: number };
