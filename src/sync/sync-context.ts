import type { NodeId } from '../crdt/dot.js';
import type { ChangeCertification } from '../security/change-certification.js';
import type { EpidemicBroadcast } from './broadcast/epidemic-broadcast.js';
import type { PeerLink } from './peer-link.js';
import type { SyncEngineEvent } from './sync-engine-event.js';
import type { SyncedModels } from './synced-models.js';

/** Where the engine reports input it refused. Never throws; the default writes to the console. */
export interface SyncLogger {
  warn(message: string, details?: unknown): void;
}

/**
 * What the engine's parts (scheduler, sender, inbound pipeline, handlers, state repair) share of
 * it. Each part takes only the members it uses (`Pick<SyncContext, ...>`), so what it depends on
 * is written in its constructor; the engine itself is never handed around.
 */
export interface SyncContext {
  readonly nodeId: NodeId;
  readonly models: SyncedModels;
  /** Certificates and their checks, when changes are signed. */
  readonly certification: ChangeCertification | undefined;
  /** Which links changes are pushed on and which they are announced on. */
  readonly broadcast: EpidemicBroadcast;
  readonly logger: SyncLogger;
  /** True while `peer` is the engine's link to its node: not closed, not replaced. */
  isCurrent(peer: PeerLink): boolean;
  /** Connected peers whose hello arrived. */
  readyPeers(): PeerLink[];
  /** Ready peers that hold `modelId`. */
  sharingPeers(modelId: string): PeerLink[];
  emit(event: SyncEngineEvent): void;
  /** Counts refused input from `peer`; past the limit the peer is banned and disconnected. */
  offence(peer: PeerLink, reason: string): void;
}
