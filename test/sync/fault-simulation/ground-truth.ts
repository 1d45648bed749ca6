import type { Dot } from '../../../src/crdt/dot.js';
import type { EntityState } from '../../../src/domain/model-change.js';

/** `node:seq`, the key of one dot. */
export const dotKey = (dot: Dot): string => `${dot.node}:${dot.seq}`;

/**
 * The dots an entity holds, by register: `oid.attribute` for an attribute's writes,
 * `oid.relation[child]` for the dots that added a child. Removal marks are kept apart (a node's
 * later mark replaces its earlier one, so a mark's absence proves nothing).
 */
export function registersOf(state: EntityState): { registers: Map<string, Set<string>>; marks: Map<string, Set<string>> } {
  const registers = new Map<string, Set<string>>();
  const marks = new Map<string, Set<string>>();
  for (const [attribute, writes] of Object.entries(state.attributes))
    registers.set(`${state.oid}.${attribute}`, new Set(writes.map((write) => dotKey(write.dot))));
  for (const [relation, items] of Object.entries(state.children))
    for (const [child, dots] of items) registers.set(`${state.oid}.${relation}[${child}]`, new Set(dots.map(dotKey)));
  for (const [relation, dots] of Object.entries(state.removals ?? {})) marks.set(`${state.oid}.${relation}`, new Set(dots.map(dotKey)));
  return { registers, marks };
}

/** Every dot held in `states`, removal marks included. */
export function heldDots(states: readonly EntityState[]): Set<string> {
  const held = new Set<string>();
  for (const state of states) {
    const { registers, marks } = registersOf(state);
    for (const dots of registers.values()) for (const dot of dots) held.add(dot);
    for (const dots of marks.values()) for (const dot of dots) held.add(dot);
  }
  return held;
}

/** One local operation as it happened: what it wrote, and what it replaced or removed. */
export interface Operation {
  readonly index: number;
  readonly step: number;
  readonly node: string;
  readonly text: string;
  /** New dots, by register (write and child-add dots). */
  readonly wrote: Map<string, string>;
  /** Dots the operation's register or relation held before and no longer does, by register. */
  readonly replaced: Map<string, string>;
  /** Removal mark dots it made, by relation (`oid.relation`). */
  readonly marks: Map<string, string>;
}

/**
 * The simulation's record of every write: each local operation with the dots it wrote and the
 * dots it replaced (read from the writer's own state just before and after), which dots were ever
 * committed to some node's storage, held by a node other than their author, or counted as
 * acknowledged by their author's engine. It decides what the documented rules allow to vanish.
 */
export class GroundTruth {
  readonly operations: Operation[] = [];
  /** Dots written by two different operations: a sequence number used twice. */
  readonly reused: Array<{ dot: string; first: Operation; second: Operation }> = [];
  /** Dot → the operation that wrote it. */
  readonly writer = new Map<string, Operation>();
  /** Dot → operations that replaced or removed it. */
  readonly replacedBy = new Map<string, Operation[]>();
  /** Dots of every committed storage write, on any node. */
  readonly saved = new Set<string>();
  /** Dots a node other than their author held in memory at some point. */
  readonly heldByPeer = new Set<string>();
  /**
   * Node id → per incarnation (by its first seq), the highest own seq its engine counted as
   * acknowledged by a peer. Kept per incarnation: a restarted engine counts acknowledgements of
   * its own new seqs, which says nothing about the seqs an earlier incarnation wrote.
   */
  readonly acknowledged = new Map<string, Map<number, number>>();

  /** Records a local operation from the states of the entities it touched, before and after. */
  record(step: number, node: string, text: string, before: readonly EntityState[], after: readonly EntityState[]): Operation {
    const old = new Map<string, Set<string>>();
    const oldMarks = new Map<string, Set<string>>();
    for (const state of before) {
      const { registers, marks } = registersOf(state);
      for (const [key, dots] of registers) old.set(key, dots);
      for (const [key, dots] of marks) oldMarks.set(key, dots);
    }
    const operation: Operation = { index: this.operations.length, step, node, text, wrote: new Map(), replaced: new Map(), marks: new Map() };
    const seen = new Set<string>();
    for (const state of after) {
      const { registers, marks } = registersOf(state);
      for (const [key, dots] of registers) {
        seen.add(key);
        const previous = old.get(key) ?? new Set<string>();
        for (const dot of dots) if (!previous.has(dot)) operation.wrote.set(dot, key);
        for (const dot of previous) if (!dots.has(dot)) operation.replaced.set(dot, key);
      }
      for (const [key, dots] of marks) {
        const previous = oldMarks.get(key) ?? new Set<string>();
        for (const dot of dots) if (!previous.has(dot)) operation.marks.set(dot, key);
      }
    }
    for (const [key, dots] of old) if (!seen.has(key)) for (const dot of dots) operation.replaced.set(dot, key);
    this.operations.push(operation);
    for (const dot of [...operation.wrote.keys(), ...operation.marks.keys()]) {
      const first = this.writer.get(dot);
      // A dot used again is a fault only if its first use escaped (stored, or held by a peer):
      // one lost with a crash before either was never seen anywhere (durable before visible).
      if (first && (this.saved.has(dot) || this.heldByPeer.has(dot))) this.reused.push({ dot, first, second: operation });
      else this.writer.set(dot, operation);
    }
    for (const dot of operation.replaced.keys()) {
      const list = this.replacedBy.get(dot);
      if (list) list.push(operation);
      else this.replacedBy.set(dot, [operation]);
    }
    return operation;
  }

  noteSaved(states: readonly EntityState[]): void {
    for (const dot of heldDots(states)) this.saved.add(dot);
  }

  noteHeld(nodeId: string, states: readonly EntityState[]): void {
    for (const dot of heldDots(states)) if (!dot.startsWith(`${nodeId}:`)) this.heldByPeer.add(dot);
  }

  noteAcknowledged(nodeId: string, firstSeq: number, seq: number): void {
    let incarnations = this.acknowledged.get(nodeId);
    if (!incarnations) this.acknowledged.set(nodeId, (incarnations = new Map()));
    if (seq > (incarnations.get(firstSeq) ?? 0)) incarnations.set(firstSeq, seq);
  }

  /**
   * False if a later operation of the same node used `dot` again, which the truth accepts only when
   * `operation`'s use never escaped (neither stored nor held by a peer): a crash lost it with the
   * node, and whatever is saved, held or acknowledged under that dot afterwards is the new use.
   */
  ownsDot(operation: Operation, dot: string): boolean {
    return this.writer.get(dot) === operation;
  }

  /** Saved somewhere, or held by a peer while its author counted it acknowledged: it must not vanish. */
  mustSurvive(dot: string): boolean {
    if (this.saved.has(dot)) return true;
    if (!this.heldByPeer.has(dot)) return false;
    const at = dot.lastIndexOf(':');
    const seq = Number(dot.slice(at + 1));
    for (const [firstSeq, acknowledged] of this.acknowledged.get(dot.slice(0, at)) ?? [])
      if (firstSeq <= seq && seq <= acknowledged) return true;
    return false;
  }

  /** Whether a removal mark (or a later one of its node on the same relation) reached storage or a peer. */
  #removalTookHold(operation: Operation): boolean {
    for (const [mark, relation] of operation.marks) {
      if (!this.ownsDot(operation, mark)) continue;
      if (this.saved.has(mark) || this.heldByPeer.has(mark)) return true;
      const at = mark.lastIndexOf(':');
      const node = mark.slice(0, at);
      const seq = Number(mark.slice(at + 1));
      for (const later of this.operations)
        for (const [other, where] of later.marks)
          if (where === relation && other.startsWith(`${node}:`) && Number(other.slice(other.lastIndexOf(':') + 1)) > seq && this.ownsDot(later, other))
            if (this.saved.has(other) || this.heldByPeer.has(other)) return true;
    }
    return false;
  }

  /**
   * True if `dot` may be missing from the final state by the documented rules: an operation that
   * had seen it replaced it (LWW: a later write of the same register by a writer that held it) and
   * that operation's own write is present or itself legitimately replaced; or a child removal that
   * took hold removed it (add-wins: only adds the remover had seen are removed).
   */
  legitimatelyGone(dot: string, present: ReadonlySet<string>, visiting = new Set<string>()): boolean {
    if (visiting.has(dot)) return false;
    visiting.add(dot);
    for (const operation of this.replacedBy.get(dot) ?? []) {
      const register = operation.replaced.get(dot)!;
      const successors = [...operation.wrote].filter(([written, key]) => key === register && this.ownsDot(operation, written)).map(([written]) => written);
      if (successors.length === 0 && this.#removalTookHold(operation)) return true;
      for (const successor of successors) if (present.has(successor) || this.legitimatelyGone(successor, present, visiting)) return true;
    }
    return false;
  }

  /** Every dot `dot` replaced, directly or through a chain of replacements (its causal past in its register). */
  ancestors(dot: string): Set<string> {
    const result = new Set<string>();
    const stack = [dot];
    while (stack.length) {
      const current = stack.pop()!;
      const operation = this.writer.get(current);
      if (!operation) continue;
      const register = operation.wrote.get(current);
      for (const [old, key] of operation.replaced)
        if (key === register && !result.has(old)) {
          result.add(old);
          stack.push(old);
        }
    }
    return result;
  }
}
