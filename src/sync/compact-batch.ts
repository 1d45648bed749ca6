import {
  type AttributeWrite,
  CHANGE_FORMAT,
  type ChangeBatch,
  DECODE_LIMITS,
  type DecodeError,
  type DecodeLimits,
  type ModelChange,
  decodeChangeBatch,
} from '../domain/index.js';
import type { Dot } from '../crdt/dot.js';
import type { RemovalMark } from '../crdt/aw-set.js';

/**
 * The compact wire form of a `ChangeBatch` (sync protocol 2), a JSON array:
 * `[modelId, partial, since, version, nodes, names, oids, runs]`. Each string of the changes (a
 * dot's node id; entity type, attribute or relation name; oid) is written once in its table and
 * referred to by index. `runs` groups consecutive changes of one entity:
 * `[typeIndex, oidIndex, ...changes]`. Dots are `nodeIndex, seq` with `seq` minus the previous
 * seq of the same node in the batch; a write's `ms` is minus the previous write's, and its `c`
 * too when `ms` is the same (everything starts at 0), so most numbers are small. The version
 * vectors keep their JSON form and name their nodes themselves: one corrupted table entry then
 * cannot rename a node in the dots and in the causal context alike, which would make foreign
 * writes look covered. The layout is specified in docs/protocol.md.
 */
export type PackedBatch = unknown[];

/** Change tuples start with their kind. */
const Kind = { attribute: 0, childAdd: 1, children: 2 } as const;

/** Entries of one string table, each string once. */
class Table {
  readonly list: string[] = [];
  readonly #index = new Map<string, number>();

  ref(value: string): number {
    let index = this.#index.get(value);
    if (index === undefined) {
      index = this.list.length;
      this.list.push(value);
      this.#index.set(value, index);
    }
    return index;
  }
}

/** Packs a batch (our own, already valid) into its compact wire form. */
export function packBatch(batch: ChangeBatch): PackedBatch {
  const nodes = new Table();
  const names = new Table();
  const oids = new Table();
  const lastSeq: number[] = [];
  let lastMs = 0;
  let lastC = 0;
  const dot = (out: unknown[], { node, seq }: Dot) => {
    const index = nodes.ref(node);
    out.push(index, seq - (lastSeq[index] ?? 0));
    lastSeq[index] = seq;
  };
  const write = (out: unknown[], { value, ts, dot: d }: AttributeWrite) => {
    const msDelta = ts.ms - lastMs;
    out.push(value, msDelta, msDelta === 0 ? ts.c - lastC : ts.c);
    lastMs = ts.ms;
    lastC = ts.c;
    dot(out, d);
  };
  const runs: unknown[][] = [];
  let run: unknown[] | undefined;
  let runType: string | undefined;
  let runOid: string | undefined;
  for (const change of batch.changes) {
    if (!run || change.entityType !== runType || change.oid !== runOid) {
      run = [names.ref(change.entityType), oids.ref(change.oid)];
      runs.push(run);
      runType = change.entityType;
      runOid = change.oid;
    }
    run.push(packChange(change, names, oids, write, dot));
  }
  return [batch.modelId, batch.partial ? 1 : 0, batch.since, batch.version, nodes.list, names.list, oids.list, runs];
}

function packChange(
  change: ModelChange,
  names: Table,
  oids: Table,
  write: (out: unknown[], write: AttributeWrite) => void,
  dot: (out: unknown[], dot: Dot) => void,
): unknown[] {
  switch (change.kind) {
    case 'attribute': {
      const out: unknown[] = [Kind.attribute, names.ref(change.attribute)];
      for (const w of change.writes) write(out, w);
      return out;
    }
    case 'child-add': {
      const out: unknown[] = [Kind.childAdd, names.ref(change.relation), oids.ref(change.child)];
      dot(out, change.dot);
      return out;
    }
    case 'children': {
      const items = change.items.map(([child, dots]) => {
        const item: unknown[] = [oids.ref(child)];
        for (const d of dots) dot(item, d);
        return item;
      });
      const removals: unknown[] = [];
      for (const d of change.removals ?? []) dot(removals, d);
      const packed = [Kind.children, names.ref(change.relation), items, removals];
      // What each mark removed, one entry per mark (0 for a legacy mark); absent if all are legacy.
      if (!change.removals?.some((mark) => mark.removed)) return packed;
      const lists = change.removals.map((mark) => {
        if (!mark.removed) return 0;
        const list: unknown[] = [];
        for (const d of mark.removed) dot(list, d);
        return list;
      });
      return [...packed, lists];
    }
  }
}

/** Most strings a packed batch's name table may hold (entity types, attribute and relation names). */
const MAX_NAMES = 65_536;

class Malformed extends Error {}

/**
 * Unpacks a compact batch from untrusted (already `JSON.parse`d) input into the plain
 * `ChangeBatch` JSON shape, without validating what only the domain can (names, ids, values,
 * versions): run `decodeChangeBatch` on the result, or use `decodePackedBatch`. Never throws:
 * every index is bounds-checked, every tuple's type and size checked and every count capped.
 */
export function unpackBatch(packed: unknown, limits: DecodeLimits = DECODE_LIMITS): { readonly batch: unknown } | DecodeError {
  try {
    return { batch: new Unpacker(limits).batch(packed) };
  } catch (error) {
    if (error instanceof Malformed) return { error: `packed batch: ${error.message}` };
    return { error: `packed batch: could not unpack: ${String(error)}` };
  }
}

/** Unpacks a compact batch and validates it with `decodeChangeBatch`, the one place batches are validated. */
export function decodePackedBatch(packed: unknown, limits: DecodeLimits = DECODE_LIMITS): ChangeBatch | DecodeError {
  const unpacked = unpackBatch(packed, limits);
  return 'error' in unpacked ? unpacked : decodeChangeBatch(unpacked.batch, limits);
}

/** One unpacking: the tables and the running ms and seqs, in the order `packBatch` wrote them. */
class Unpacker {
  private nodes: readonly string[] = [];
  private names: readonly string[] = [];
  private oids: readonly string[] = [];
  private lastSeq: number[] = [];
  private lastMs = 0;
  private lastC = 0;
  private changeCount = 0;

  constructor(private readonly limits: DecodeLimits) {}

  batch(packed: unknown): Record<string, unknown> {
    const [modelId, partial, since, version, nodes, names, oids, runs] = tuple(packed, 'batch', 8, 8);
    if (partial !== 0 && partial !== 1) throw new Malformed('partial must be 0 or 1');
    this.nodes = strings(nodes, 'nodes', this.limits.version.maxNodes);
    this.names = strings(names, 'names', MAX_NAMES);
    this.oids = strings(oids, 'oids', this.limits.maxEntities);
    this.lastSeq = new Array<number>(this.nodes.length).fill(0);
    const batch: Record<string, unknown> = {
      format: CHANGE_FORMAT,
      modelId,
      since,
      version,
      changes: this.runs(runs),
    };
    if (partial === 1) batch.partial = true;
    return batch;
  }

  private runs(json: unknown): ModelChange[] {
    const runs = tuple(json, 'runs', 0, this.limits.maxChanges);
    const changes: ModelChange[] = [];
    for (let r = 0; r < runs.length; r++) {
      const run = tuple(runs[r], `runs[${r}]`, 3, 2 + this.limits.maxChanges);
      this.changeCount += run.length - 2;
      if (this.changeCount > this.limits.maxChanges) throw new Malformed(`more than ${this.limits.maxChanges} changes`);
      const entityType = at(this.names, run[0], `runs[${r}][0]: entity type`);
      const oid = at(this.oids, run[1], `runs[${r}][1]: oid`);
      for (let c = 2; c < run.length; c++) {
        try {
          changes.push(this.change(run[c], entityType, oid));
        } catch (error) {
          throw error instanceof Malformed ? new Malformed(`runs[${r}][${c}]: ${error.message}`) : error;
        }
      }
    }
    return changes;
  }

  private change(json: unknown, entityType: string, oid: string): ModelChange {
    const change = tuple(json, 'change', 2, 2 + 5 * this.limits.maxWrites);
    switch (change[0]) {
      case Kind.attribute: {
        if (change.length < 7 || (change.length - 2) % 5 !== 0)
          throw new Malformed(`an attribute change has 2 + 5 × writes items, not ${change.length}`);
        const attribute = at(this.names, change[1], 'attribute');
        const writes: AttributeWrite[] = [];
        for (let i = 2; i < change.length; i += 5) {
          const msDelta = integer(change[i + 1], 'ms');
          const ms = this.lastMs + msDelta;
          const c = (msDelta === 0 ? this.lastC : 0) + integer(change[i + 2], 'c');
          if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(c)) throw new Malformed('timestamp out of range');
          this.lastMs = ms;
          this.lastC = c;
          writes.push({ value: change[i] as AttributeWrite['value'], ts: { ms, c }, dot: this.dot(change, i + 3) });
        }
        return { kind: 'attribute', entityType, oid, attribute, writes };
      }
      case Kind.childAdd: {
        if (change.length !== 5) throw new Malformed(`a child-add change has 5 items, not ${change.length}`);
        const relation = at(this.names, change[1], 'relation');
        const child = at(this.oids, change[2], 'child');
        return { kind: 'child-add', entityType, oid, relation, child, dot: this.dot(change, 3) };
      }
      case Kind.children: {
        if (change.length !== 4 && change.length !== 5) throw new Malformed(`a children change has 4 or 5 items, not ${change.length}`);
        const relation = at(this.names, change[1], 'relation');
        const items = tuple(change[2], 'items', 0, this.limits.maxChildren).map((json, i) => {
          const item = tuple(json, `items[${i}]`, 3, 1 + 2 * this.limits.maxDots);
          if (item.length % 2 !== 1) throw new Malformed(`items[${i}]: expected a child and node, seq pairs`);
          const dots: Dot[] = [];
          for (let d = 1; d < item.length; d += 2) dots.push(this.dot(item, d));
          return [at(this.oids, item[0], `items[${i}][0]: child`), dots] as const;
        });
        const flat = tuple(change[3], 'removals', 0, 2 * this.limits.version.maxNodes);
        if (flat.length % 2 !== 0) throw new Malformed('removals: expected node, seq pairs');
        const removals: RemovalMark[] = [];
        for (let d = 0; d < flat.length; d += 2) removals.push(this.dot(flat, d));
        if (change.length === 5) this.removedLists(change[4], removals);
        return { kind: 'children', entityType, oid, relation, items, ...(removals.length ? { removals } : {}) };
      }
      default:
        throw new Malformed(`unknown change kind ${show(change[0])}`);
    }
  }

  // Sets, in place, what each of `marks` removed (`packChange` wrote one entry per mark: 0, or its
  // dots), at most `maxRemoved` each; `decodeChangeBatch` then checks them like any mark's.
  private removedLists(json: unknown, marks: RemovalMark[]): void {
    const lists = tuple(json, 'removed', marks.length, marks.length);
    for (let m = 0; m < marks.length; m++) {
      if (lists[m] === 0) continue;
      const flat = tuple(lists[m], `removed[${m}]`, 0, 2 * this.limits.maxRemoved);
      if (flat.length % 2 !== 0) throw new Malformed(`removed[${m}]: expected node, seq pairs`);
      const removed: Dot[] = [];
      for (let d = 0; d < flat.length; d += 2) removed.push(this.dot(flat, d));
      marks[m] = { ...marks[m]!, removed };
    }
  }

  /** The dot written at `list[i]` (node index) and `list[i + 1]` (seq delta). */
  private dot(list: readonly unknown[], i: number): Dot {
    const index = list[i];
    const node = at(this.nodes, index, `[${i}]: node`) as Dot['node'];
    const seq = this.lastSeq[index as number]! + integer(list[i + 1], `[${i + 1}]: seq`);
    if (!Number.isSafeInteger(seq)) throw new Malformed(`[${i + 1}]: seq out of range`);
    this.lastSeq[index as number] = seq;
    return { node, seq };
  }
}

function tuple(json: unknown, where: string, min: number, max: number): unknown[] {
  if (!Array.isArray(json)) throw new Malformed(`${where}: expected an array`);
  if (json.length < min || json.length > max) throw new Malformed(`${where}: expected ${min}–${max} items, got ${json.length}`);
  return json;
}

function strings(json: unknown, where: string, max: number): string[] {
  const list = tuple(json, where, 0, max);
  for (let i = 0; i < list.length; i++) if (typeof list[i] !== 'string') throw new Malformed(`${where}[${i}]: expected a string`);
  return list as string[];
}

function at(table: readonly string[], index: unknown, where: string): string {
  if (!Number.isSafeInteger(index) || (index as number) < 0 || (index as number) >= table.length)
    throw new Malformed(`${where}: index ${show(index)} is not in its table of ${table.length}`);
  return table[index as number]!;
}

function integer(json: unknown, where: string): number {
  if (!Number.isSafeInteger(json)) throw new Malformed(`${where}: expected an integer`);
  return json as number;
}

/** A short, safe description of a hostile value (`String` of a parsed object can throw). */
function show(json: unknown): string {
  return typeof json === 'number' ? String(json) : Array.isArray(json) ? 'an array' : json === null ? 'null' : `a ${typeof json}`;
}
