import type { NodeId, VersionVector } from '../crdt/index.js';
import type { EntityRecord } from './entity-record.js';

/** What an operation touched: an attribute register, a child added, or a child relation's removal. */
export const TouchKind = { attribute: 0, add: 1, removal: 2 } as const;
export type TouchKind = (typeof TouchKind)[keyof typeof TouchKind];

// One node's entries as parallel columns: the log holds an entry per live write, and an object
// per entry would be one more allocation per write joined and about 36 bytes more per entry.
interface NodeLog {
  seqs: number[];
  records: EntityRecord[];
  fields: string[];
  kinds: TouchKind[];
  children: Array<string | undefined>;
  sorted: boolean;
  /** The highest seq logged: a `since` covering it skips the node without sorting its log. */
  max: number;
}

/**
 * An index from each node's operations (by seq) to what they touched, so `getChangesSince` reads
 * only the operations a version lacks instead of scanning the model. Entries go stale when their
 * write is superseded; the model skips stale ones. When the log holds more than twice the entries
 * it had after the last check (plus slack), the model rebuilds it from its state if a quarter or
 * more of the entries are stale, which keeps it proportional to the live state at amortized
 * constant cost per operation.
 */
export class TouchLog {
  readonly #nodes = new Map<NodeId, NodeLog>();
  #size = 0;
  #limit = TouchLog.SLACK;
  static readonly SLACK = 4096;

  /** Number of entries held. */
  get size(): number {
    return this.#size;
  }

  /** True when the log has outgrown the state it indexes and should be rebuilt. */
  get overgrown(): boolean {
    return this.#size > this.#limit;
  }

  /** Logs one operation. Seqs may arrive out of order (remote dots); the log sorts lazily. */
  record(node: NodeId, seq: number, record: EntityRecord, field: string, kind: TouchKind, child?: string): void {
    let log = this.#nodes.get(node);
    if (!log) this.#nodes.set(node, (log = { seqs: [], records: [], fields: [], kinds: [], children: [], sorted: true, max: 0 }));
    const seqs = log.seqs;
    if (seqs.length && seqs[seqs.length - 1]! > seq) log.sorted = false;
    if (seq > log.max) log.max = seq;
    seqs.push(seq);
    log.records.push(record);
    log.fields.push(field);
    log.kinds.push(kind);
    log.children.push(child);
    this.#size++;
  }

  /**
   * Calls `visit` for every entry whose dot `since` does not cover, with the entry's columns as
   * arguments: a delta to a fresh peer visits every entry, and an object per entry would be as
   * many allocations as the model has writes.
   */
  forEachSince(
    since: VersionVector,
    visit: (node: NodeId, seq: number, record: EntityRecord, field: string, kind: TouchKind, child: string | undefined) => void,
  ): void {
    for (const [node, log] of this.#nodes) {
      // A room opened from storage logs in storage order; sorting waits until a delta needs it.
      if (since.get(node) >= log.max) continue;
      if (!log.sorted) sortBySeq(log);
      const { seqs, records, fields, kinds, children } = log;
      const gaps = since.extrasOf(node).length > 0;
      for (let i = firstAfter(seqs, since.get(node)); i < seqs.length; i++) {
        const seq = seqs[i]!;
        if (gaps && since.covers({ node, seq })) continue;
        visit(node, seq, records[i]!, fields[i]!, kinds[i]!, children[i]);
      }
    }
  }

  /** Empties the log before a rebuild. */
  clear(): void {
    this.#nodes.clear();
    this.#size = 0;
  }

  /** Call after a rebuild, or a check that found it mostly live: the next check comes once the log has doubled (plus slack). */
  settle(): void {
    this.#limit = 2 * this.#size + TouchLog.SLACK;
  }
}

/** Index of the first seq above `seq`. */
function firstAfter(seqs: readonly number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (seqs[mid]! <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorts a node's columns by seq (stable, so equal seqs keep their logging order). */
function sortBySeq(log: NodeLog): void {
  const order = log.seqs.map((_, i) => i).sort((a, b) => log.seqs[a]! - log.seqs[b]! || a - b);
  log.seqs = order.map((i) => log.seqs[i]!);
  log.records = order.map((i) => log.records[i]!);
  log.fields = order.map((i) => log.fields[i]!);
  log.kinds = order.map((i) => log.kinds[i]!);
  log.children = order.map((i) => log.children[i]);
  log.sorted = true;
}
