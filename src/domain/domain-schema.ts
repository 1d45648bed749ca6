import { ruleViolation, typeProblem } from './attribute-rules.js';
import type { AttributeValue } from './model-change.js';

/** Attribute types of the meta-model. Dates are ISO strings on the wire; references are target oids. */
export const AttributeType = {
  string: 'string',
  number: 'number',
  integer: 'integer',
  boolean: 'boolean',
  date: 'date',
  enum: 'enum',
  reference: 'reference',
} as const;
export type AttributeType = (typeof AttributeType)[keyof typeof AttributeType];

/** Options every attribute may declare. */
interface AttributeOptions {
  /** A value must be present (not null) on create and update. */
  readonly required?: boolean;
  /** Used by `create` when no value is given. */
  readonly default?: AttributeValue;
  /** No two live entities of the concept share a value (checked on local edits). */
  readonly unique?: boolean;
  /** Once set (non-null), local edits may not change it. */
  readonly immutable?: boolean;
  /** Written only by the model's own operations (e.g. stamped times); `create`/`update` refuse it. */
  readonly managed?: boolean;
}

/** How one attribute is declared. `min`/`max` bound numbers, and the length of strings. */
export type AttributeDeclaration = AttributeOptions &
  (
    | {
        readonly type: 'string';
        readonly min?: number;
        readonly max?: number;
        readonly pattern?: RegExp | string;
        /** The pattern in words, for people ("letters, digits and hyphens"); shown instead of the pattern. */
        readonly format?: string;
      }
    | { readonly type: 'number' | 'integer'; readonly min?: number; readonly max?: number }
    | { readonly type: 'boolean' }
    | { readonly type: 'date' }
    | { readonly type: 'enum'; readonly values: readonly string[] }
    | { readonly type: 'reference'; readonly concept: string }
  );

/** A child relation: the parent holds an add-wins set of oids of `concept` entities. */
export interface RelationDeclaration {
  readonly concept: string;
}

/** How one concept (entity type) is declared. */
export interface ConceptDeclaration {
  readonly attributes: Readonly<Record<string, AttributeDeclaration>>;
  readonly children?: Readonly<Record<string, RelationDeclaration>>;
}

/** A whole declared model. */
export interface SchemaDeclaration {
  readonly concepts: Readonly<Record<string, ConceptDeclaration>>;
  /** Hard cap on every string value, local or remote. Default 10,000 characters. */
  readonly maxStringLength?: number;
}

/** A compiled attribute declaration. */
export interface AttributeSchema {
  readonly name: string;
  readonly concept: string;
  readonly type: AttributeType;
  readonly required: boolean;
  readonly default: AttributeValue | undefined;
  readonly unique: boolean;
  readonly immutable: boolean;
  readonly managed: boolean;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly pattern: RegExp | undefined;
  /** The pattern in words, if declared. */
  readonly format: string | undefined;
  readonly values: ReadonlySet<string> | undefined;
  /** Target concept of a reference. */
  readonly target: string | undefined;
  /** Kept in an index (unique attributes and references). */
  readonly indexed: boolean;
}

/** A compiled child relation. */
export interface RelationSchema {
  readonly name: string;
  readonly concept: string;
  readonly target: string;
}

/** A compiled concept. */
export interface ConceptSchema {
  readonly name: string;
  /** Declared attributes, in declaration order (the reserved `$deleted` is not among them). */
  readonly attributes: ReadonlyMap<string, AttributeSchema>;
  readonly children: ReadonlyMap<string, RelationSchema>;
}

/** A compiled model declaration: fast lookups for validation. */
export interface DomainSchema {
  readonly concepts: ReadonlyMap<string, ConceptSchema>;
  readonly maxStringLength: number;
}

/** The reserved register that marks an entity deleted (true) or live (false or absent). */
export const DELETED = '$deleted';

/** Concept, attribute and relation names: identifiers, `$` reserved for the model's own registers. */
export const NAME_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
const DECLARED_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Default cap on string values. */
export const DEFAULT_MAX_STRING_LENGTH = 10_000;

/** The compiled schema of the reserved `$deleted` register. */
export function deletedAttribute(concept: string): AttributeSchema {
  return {
    name: DELETED,
    concept,
    type: 'boolean',
    required: false,
    default: undefined,
    unique: false,
    immutable: false,
    managed: true,
    min: undefined,
    max: undefined,
    pattern: undefined,
    format: undefined,
    values: undefined,
    target: undefined,
    indexed: false,
  };
}

/**
 * Checks and compiles a model declaration. Throws (a programmer error) for bad names, references
 * or relations to undeclared concepts, and options that do not fit the type.
 */
export function defineSchema(declaration: SchemaDeclaration): DomainSchema {
  const maxStringLength = declaration.maxStringLength ?? DEFAULT_MAX_STRING_LENGTH;
  if (!Number.isSafeInteger(maxStringLength) || maxStringLength < 1) throw new Error('maxStringLength must be a positive integer');
  const declared = Object.keys(declaration.concepts);
  const concepts = new Map<string, ConceptSchema>();
  for (const [name, concept] of Object.entries(declaration.concepts)) {
    checkName(name, 'concept');
    const attributes = new Map<string, AttributeSchema>();
    for (const [attributeName, attribute] of Object.entries(concept.attributes)) {
      checkName(attributeName, `attribute of ${name}`);
      const compiled = compileAttribute(name, attributeName, attribute, declared);
      if (compiled.default !== undefined) {
        const problem = typeProblem(compiled, compiled.default, maxStringLength) ?? ruleViolation(compiled, compiled.default)?.detail;
        if (problem) throw new Error(`${name}.${attributeName}: default value: ${problem}`);
      }
      attributes.set(attributeName, compiled);
    }
    const children = new Map<string, RelationSchema>();
    for (const [relationName, relation] of Object.entries(concept.children ?? {})) {
      checkName(relationName, `relation of ${name}`);
      if (attributes.has(relationName)) throw new Error(`${name}.${relationName} is both an attribute and a relation`);
      if (!declared.includes(relation.concept)) throw new Error(`${name}.${relationName} relates to undeclared concept ${relation.concept}`);
      children.set(relationName, { name: relationName, concept: name, target: relation.concept });
    }
    concepts.set(name, { name, attributes, children });
  }
  return { concepts, maxStringLength };
}

function checkName(name: string, what: string): void {
  if (!DECLARED_NAME.test(name) || name === '__proto__') throw new Error(`${what} name ${JSON.stringify(name)} is not an identifier`);
}

function compileAttribute(concept: string, name: string, declaration: AttributeDeclaration, declared: readonly string[]): AttributeSchema {
  const where = `${concept}.${name}`;
  const type = declaration.type;
  if (!Object.values(AttributeType).includes(type)) throw new Error(`${where} has unknown type ${String(type)}`);
  const min = 'min' in declaration ? declaration.min : undefined;
  const max = 'max' in declaration ? declaration.max : undefined;
  if (min !== undefined && !Number.isFinite(min)) throw new Error(`${where}: min must be a finite number`);
  if (max !== undefined && !Number.isFinite(max)) throw new Error(`${where}: max must be a finite number`);
  const rawPattern = 'pattern' in declaration ? declaration.pattern : undefined;
  const pattern = rawPattern === undefined ? undefined : typeof rawPattern === 'string' ? new RegExp(rawPattern) : rawPattern;
  const format = 'format' in declaration ? declaration.format : undefined;
  if (format !== undefined && (pattern === undefined || typeof format !== 'string' || !format.trim())) throw new Error(`${where}: format describes a pattern in words`);
  const values = declaration.type === 'enum' ? new Set(declaration.values) : undefined;
  if (values && values.size === 0) throw new Error(`${where}: an enum needs values`);
  const target = declaration.type === 'reference' ? declaration.concept : undefined;
  if (target !== undefined && !declared.includes(target)) throw new Error(`${where} references undeclared concept ${target}`);
  const unique = declaration.unique ?? false;
  return {
    name,
    concept,
    type,
    required: declaration.required ?? false,
    default: declaration.default,
    unique,
    immutable: declaration.immutable ?? false,
    managed: declaration.managed ?? false,
    min,
    max,
    pattern,
    format,
    values,
    target,
    indexed: unique || type === 'reference',
  };
}
