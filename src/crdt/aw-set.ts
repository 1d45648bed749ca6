import { type CausalContext, type Dot, type NodeId, compareDots } from './dot.js';

const NO_DOTS: readonly Dot[] = [];

/**
 * A removal mark: the dot of a node's latest removal from a set, with the add dots that node has
 * removed from the set so far (sorted, cumulative: each mark lists what the node's earlier marks
 * did). `removed` is absent on marks made before marks named what they removed (legacy marks).
 */
export interface RemovalMark extends Dot {
  readonly removed?: readonly Dot[];
}

/** A set's elements, each with the dots that added it, plus its removal marks: the serializable state. */
export interface AWSetState<T> {
  readonly items: Iterable<readonly [T, readonly Dot[]]>;
  readonly removals: readonly RemovalMark[];
}

/** What a join changed. */
export interface SetJoin<T> {
  /** Dots that arrived, with their elements. */
  readonly added: ReadonlyArray<readonly [T, Dot]>;
  /** Dots dropped because the other side had seen and removed them. */
  readonly removed: ReadonlyArray<readonly [T, Dot]>;
  /** Removal marks that are new or newer. */
  readonly marks: readonly RemovalMark[];
}

/**
 * An add-wins observed-remove set. Each element maps to the dots of the adds that put it there;
 * removing drops the dots this replica observed. The join keeps a dot if both sides hold it or the
 * other side never saw it, so an add concurrent with a remove survives (add wins), and no
 * tombstones are needed: the version vector remembers which dots were seen and removed.
 *
 * The set also keeps *removal marks*, the dot of the latest removal by each node. They play no
 * part in deciding membership here; they let a replica tell, from state alone, that the set lost
 * elements since some version, so the whole set must be sent (a removal leaves nothing else
 * behind). At most one mark per node, so they stay as few as a version vector's entries. Each
 * mark also names the add dots its node removed (`RemovalMark.removed`): where removals need
 * evidence (signed rooms), a held add leaves only on a mark that names it, so nobody can make a
 * replica drop a child its remover kept by sending the relation without it.
 */
export class AWSet<T> {
  readonly #items = new Map<T, readonly Dot[]>();
  readonly #marks = new Map<NodeId, RemovalMark>();

  /** A set holding `state` (as produced by `toState` or sent over the wire). */
  constructor(state?: AWSetState<T>) {
    if (!state) return;
    for (const [element, dots] of state.items) if (dots.length) this.#items.set(element, [...dots].sort(compareDots));
    for (const dot of state.removals) this.#mark(dot);
  }

  /** Number of elements. */
  get size(): number {
    return this.#items.size;
  }

  /** True if `element` is present. */
  has(element: T): boolean {
    return this.#items.has(element);
  }

  /** The elements, in insertion order. */
  values(): IterableIterator<T> {
    return this.#items.keys();
  }

  /** Each element with the dots that added it. */
  entries(): IterableIterator<[T, readonly Dot[]]> {
    return this.#items.entries();
  }

  /** The dots that added `element` (empty if absent). */
  dotsOf(element: T): readonly Dot[] {
    return this.#items.get(element) ?? NO_DOTS;
  }

  /** True if the add with this dot is held for `element`. */
  holds(element: T, dot: Dot): boolean {
    const dots = this.#items.get(element);
    return dots !== undefined && dots.some((d) => d.seq === dot.seq && d.node === dot.node);
  }

  /** The latest removal mark of each node, sorted by dot. */
  removals(): RemovalMark[] {
    return [...this.#marks.values()].sort(compareDots);
  }

  /** Number of removal marks (what `removals()` would list, without building it). */
  get markCount(): number {
    return this.#marks.size;
  }

  /** True if `dot` is a current removal mark. */
  hasMark(dot: Dot): boolean {
    return this.#marks.get(dot.node)?.seq === dot.seq;
  }

  /** A local add. The new dot replaces the observed ones, which the local context covers. */
  add(element: T, dot: Dot): void {
    this.#items.set(element, [dot]);
  }

  /** A local remove: drops the observed dots and returns them (empty if absent). */
  remove(element: T): readonly Dot[] {
    const dots = this.#items.get(element);
    if (!dots) return NO_DOTS;
    this.#items.delete(element);
    return dots;
  }

  /**
   * Records a local removal as this node's latest removal mark, naming the dots it `removed` and
   * every dot this node's earlier mark named (so the latest mark alone proves all its removals).
   */
  markRemoval(dot: Dot, removed: readonly Dot[]): void {
    const earlier = this.#marks.get(dot.node)?.removed ?? NO_DOTS;
    this.#mark({ node: dot.node, seq: dot.seq, removed: unionOfDots(earlier, removed) });
  }

  /**
   * Joins another replica's state in place (see `mergeSets`). `ownContext` must cover every dot
   * held here, `otherContext` every dot in `other`. Returns what changed, or null.
   */
  join(other: AWSetState<T>, ownContext: CausalContext, otherContext: CausalContext): SetJoin<T> | null {
    const added: Array<readonly [T, Dot]> = [];
    const removed: Array<readonly [T, Dot]> = [];
    const marks: Dot[] = [];
    const theirs = other.items instanceof Map ? (other.items as Map<T, readonly Dot[]>) : new Map(other.items);
    const fresh: Array<readonly [T, readonly Dot[]]> = [];
    for (const [element, dots] of theirs) {
      if (this.#items.has(element)) continue;
      const kept = dots.filter((dot) => !ownContext.covers(dot));
      // `slice` keeps an exact-size copy: `filter` grows its result with spare room the set would keep.
      if (kept.length) fresh.push([element, kept.sort(compareDots).slice()]);
    }
    for (const [element, dots] of this.#items) {
      const kept = joinDots(dots, ownContext, theirs.get(element) ?? NO_DOTS, otherContext);
      if (kept.length === dots.length && kept.every((dot, i) => dot === dots[i])) continue;
      for (const dot of dots) if (!kept.includes(dot)) removed.push([element, dot]);
      for (const dot of kept) if (!dots.includes(dot)) added.push([element, dot]);
      if (kept.length) this.#items.set(element, kept);
      else this.#items.delete(element);
    }
    for (const [element, kept] of fresh) {
      this.#items.set(element, kept);
      for (const dot of kept) added.push([element, dot]);
    }
    for (const dot of other.removals) if (this.#mark(dot)) marks.push(dot);
    return added.length || removed.length || marks.length ? { added, removed, marks } : null;
  }

  /**
   * Joins one remote add (a delta whose causal context is just its own dot): the dot joins the
   * element unless this replica already holds it or has seen it and removed it. True if added.
   */
  joinAdd(element: T, dot: Dot, ownContext: CausalContext): boolean {
    if (ownContext.covers(dot) || this.holds(element, dot)) return false;
    const dots = this.#items.get(element);
    this.#items.set(element, dots ? [...dots, dot].sort(compareDots) : [dot]);
    return true;
  }

  /** An independent copy. */
  clone(): AWSet<T> {
    return new AWSet(this.toState());
  }

  /** The serializable state, elements and dots in insertion order. */
  toState(): AWSetState<T> {
    return { items: [...this.#items].map(([element, dots]) => [element, [...dots]] as const), removals: this.removals() };
  }

  // Keeps the later mark per node. One dot is one signed item, so two marks with the same dot
  // differ only if one came without its list (legacy) or from an unsigned, broken peer: the union
  // of their lists keeps the join commutative and idempotent.
  #mark(mark: RemovalMark): boolean {
    const held = this.#marks.get(mark.node);
    if (held && held.seq > mark.seq) return false;
    if (held && held.seq === mark.seq) {
      if (!mark.removed || (held.removed && mark.removed.every((dot) => containsDot(held.removed!, dot)))) return false;
      this.#marks.set(mark.node, { node: mark.node, seq: mark.seq, removed: unionOfDots(held.removed ?? NO_DOTS, mark.removed) });
      return true;
    }
    this.#marks.set(mark.node, mark.removed ? { node: mark.node, seq: mark.seq, removed: [...mark.removed].sort(compareDots) } : { node: mark.node, seq: mark.seq });
    return true;
  }
}

/**
 * The pure join of two add-wins sets with their replicas' causal contexts, as a new set. Per
 * element, a dot survives if both sides hold it or one side holds it and the other never saw it;
 * removal marks join by maximum per node. Commutative, associative and idempotent.
 */
export function mergeSets<T>(a: AWSet<T>, contextA: CausalContext, b: AWSet<T>, contextB: CausalContext): AWSet<T> {
  const merged = a.clone();
  merged.join({ items: b.entries(), removals: b.removals() }, contextA, contextB);
  return merged;
}

/** True if the sorted `dots` hold `dot` (binary search: removal lists grow with every removal). */
export function containsDot(dots: readonly Dot[], dot: Dot): boolean {
  let low = 0;
  let high = dots.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const order = compareDots(dots[middle]!, dot);
    if (order === 0) return true;
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

// The sorted union of two dot lists, without duplicates.
function unionOfDots(a: readonly Dot[], b: readonly Dot[]): Dot[] {
  const all = [...a, ...b].sort(compareDots);
  return all.filter((dot, i) => i === 0 || compareDots(all[i - 1]!, dot) !== 0);
}

// Dots of one element after the join, in a canonical order so equal states compare equal.
function joinDots(a: readonly Dot[], contextA: CausalContext, b: readonly Dot[], contextB: CausalContext): readonly Dot[] {
  const kept: Dot[] = [];
  for (const dot of a) {
    if (b.some((d) => d.seq === dot.seq && d.node === dot.node) || !contextB.covers(dot)) kept.push(dot);
  }
  for (const dot of b) {
    if (!a.some((d) => d.seq === dot.seq && d.node === dot.node) && !contextA.covers(dot)) kept.push(dot);
  }
  return kept.sort(compareDots).slice();
}
