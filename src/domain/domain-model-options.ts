import type { DomainSchema, SchemaDeclaration } from './domain-schema.js';
import type { AttributeValue } from './model-change.js';

/** How to make a `DomainModel`. */
export interface DomainModelOptions {
  /** Which model this is; changes and snapshots of other models are refused. */
  readonly modelId: string;
  readonly schema: DomainSchema | SchemaDeclaration;
  /** This replica's node id: it signs every dot this model writes. */
  readonly nodeId: string;
  /** Wall clock (ms) for the hybrid logical clock. Default `Date.now`. */
  readonly getNow?: () => number;
  /** New entity ids. Default nanoid (21 URL-safe characters). */
  readonly newId?: () => string;
  /** Remote timestamps further ahead of the wall clock are refused. Default 5 minutes. */
  readonly maxDriftMs?: number;
  /**
   * The next own seq to use. Storage passes the end of what it reserved before a reload, so a
   * seq is never used twice. Default: one past the highest own seq in the version.
   */
  readonly firstSeq?: number;
  /** Cap on entities held; changes creating more are refused. Default 1,000,000. */
  readonly maxEntities?: number;
  /** Gets errors thrown by `onChange` listeners. Default: rethrown asynchronously, so they surface. */
  readonly onListenerError?: (error: unknown) => void;
}

/** Options of `create`. */
export interface CreateOptions {
  /** Use this oid instead of a generated one (it must be unused). */
  readonly oid?: string;
}

/** Attribute values of a `create` or `update`; undefined means "not given". */
export type AttributeValues = Readonly<Record<string, AttributeValue | undefined>>;
