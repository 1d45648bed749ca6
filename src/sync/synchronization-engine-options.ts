import type { NodeId } from '../crdt/dot.js';
import type { WorkSlicer } from '../domain/work-slicer.js';
import type { ChangeSigner } from '../security/change-certification.js';
import type { EpidemicBroadcastOptions } from './broadcast/epidemic-broadcast.js';
import type { OffenderBanOptions } from './offender-bans.js';
import type { SyncLogger } from './sync-context.js';
import type { ModelDurability } from './synced-models.js';
import type { VerificationBudgetOptions } from './verification-budget.js';

/** Options of `SynchronizationEngine.registerModel`. */
export interface RegisterModelOptions {
  /**
   * The model's storage. With it, nothing leaves this node before it is stored: deltas carry only
   * stored changes, and hellos, versions and acks claim only what is stored, so an ack means the
   * peer has saved the change and a crash never leaves a peer with a change this node lost.
   * Without it, everything held in memory counts.
   */
  readonly durability?: ModelDurability;
}

/** Options of `SynchronizationEngine`. */
export interface SynchronizationEngineOptions {
  readonly nodeId: NodeId;
  /** How often versions are compared again with every peer once started; 0 turns it off. Default 30 s. */
  readonly antiEntropyIntervalMs?: number;
  /** Larger deltas travel in parts of this many changes, so progress shows and memory stays flat. Default 2,000. */
  readonly maxChangesPerMessage?: number;
  /** Frames larger than this are refused. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Bad frames or deltas with rejected changes tolerated from one peer before it is disconnected. Default 10. */
  readonly maxOffences?: number;
  /** The name this device shows to peers (sent in the hello; `setDisplayName` changes it). */
  readonly displayName?: string | null;
  readonly logger?: SyncLogger;
  /**
   * Signs this node's changes and requires every received item to carry its author's valid
   * certificate (docs/security.md, "Signed changes"). Without it nothing is signed or checked.
   */
  readonly signer?: ChangeSigner;
  /** How long peers disconnected for offences stay refused (doubling with every ban). */
  readonly bans?: OffenderBanOptions;
  /** How many certificate checks one peer may cause (per second and at once); see `VerificationBudget`. */
  readonly verification?: VerificationBudgetOptions;
  /** Epidemic broadcast of changes (Plumtree) among peers speaking protocol 4; see `EpidemicBroadcast`. */
  readonly broadcast?: EpidemicBroadcastOptions;
  /** How received deltas are cut up so no task holds the page long (`workSlicer()` by default; tests inject one). */
  readonly slicer?: WorkSlicer;
  /** When models' state digests are brought up to date between changes (`idleSlicer()` by default: in idle time; see `DigestKeeper`). */
  readonly digestSlicer?: WorkSlicer;
}
