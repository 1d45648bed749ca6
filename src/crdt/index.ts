// The CRDT core: pure data types with injected time. Imports nothing from the rest of the project.
export {
  type CausalContext,
  type Dot,
  type NodeId,
  type Timestamp,
  NODE_ID_PATTERN,
  asNodeId,
  compareDots,
  dotKey,
  isNodeId,
  isSeq,
} from './dot.js';
export {
  ClockDriftError,
  DEFAULT_MAX_DRIFT_MS,
  HybridLogicalClock,
  type HybridLogicalClockOptions,
  compareTimestamps,
} from './hybrid-logical-clock.js';
export {
  InvalidVersionVectorError,
  Ordering,
  VERSION_VECTOR_LIMITS,
  VersionVector,
  type VersionVectorJSON,
  type VersionVectorLimits,
  mergeVersionVectors,
} from './version-vector.js';
export { LWWRegister, type RegisterJoin, type RegisterWrite, compareWrites, joinWrites, mergeRegisters } from './lww-register.js';
export { AWSet, type AWSetState, type RemovalMark, type SetJoin, containsDot, mergeSets } from './aw-set.js';
export { Hash64, hex64 } from './hash64.js';
export { BucketDigest, DIGEST_BUCKETS, EMPTY_BUCKET, bucketListProblem, bucketOf, differingBuckets } from './bucket-digest.js';
