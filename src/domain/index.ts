// The domain layer: the declared meta-model, `CRDTEntity`, the generic `DomainModel`, and the wire
// format with its decoders for untrusted input.
export * from './model-change.js';
export type { ApplyChangesOptions, SynchronizableDomainModel } from './synchronizable-domain-model.js';
export { type RemovalEvidence, evidencedContext } from './removal-evidence.js';
export {
  AttributeType,
  type AttributeDeclaration,
  type AttributeSchema,
  type ConceptDeclaration,
  type ConceptSchema,
  DEFAULT_MAX_STRING_LENGTH,
  DELETED,
  type DomainSchema,
  NAME_PATTERN,
  type RelationDeclaration,
  type RelationSchema,
  type SchemaDeclaration,
  defineSchema,
} from './domain-schema.js';
export { OID_PATTERN, type RuleViolation, ValidationError, isIsoDate, isOid, ruleViolation, typeProblem } from './attribute-rules.js';
export {
  DECODE_LIMITS,
  type DecodeError,
  type DecodeLimits,
  MODEL_ID_PATTERN,
  decodeChange,
  decodeChangeBatch,
  decodeEntityState,
  decodeSnapshot,
  isDecodeError,
  sliceDecodedBatch,
  wasDecoded,
  withDecodedVersions,
} from './change-decoder.js';
export { ITEMS_PER_SLICE, type WorkSlicer, workSlicer } from './work-slicer.js';
export { CRDTEntity } from './crdt-entity.js';
export { Entities } from './entities.js';
export { DomainModel } from './domain-model.js';
export type { AttributeValues, CreateOptions, DomainModelOptions } from './domain-model-options.js';
export type { ValidationIssue } from './model-rules.js';
export { DEVICE_ID_CHARS, OWNED_OID_CHARS, deviceOf, ownedOid, ownerOf } from './ownership.js';
export { mergeEntityStates } from './merge-entity-states.js';
export { type EntityAttributeChangedEvent, attributeChangedEvents, changedOids } from './model-events.js';
export { type ModelDigest, entityStateHash } from './state-digest.js';
