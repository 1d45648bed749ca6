import type { NodeId } from '../crdt/index.js';
import { compareWrites } from '../crdt/index.js';
import { DELETED } from './domain-schema.js';
import type { AttributeValue, ModelChangedDetail } from './model-change.js';

/** The seed's `EntityAttributeChangedEvent`: an attribute now shows a new value. */
export interface EntityAttributeChangedEvent {
  readonly entityId: string;
  readonly attributeName: string;
  readonly newValue: AttributeValue;
  /** Wall-clock ms of the winning write (its hybrid-clock time). */
  readonly timestamp: number;
  /** The node that wrote the winning value. */
  readonly nodeId: NodeId;
}

/** The oids of every entity a change notification touched. */
export function changedOids(detail: ModelChangedDetail): Set<string> {
  return new Set(detail.changes.map((change) => change.oid));
}

/** One `EntityAttributeChangedEvent` per attribute change in a notification (the shown value after it). */
export function attributeChangedEvents(detail: ModelChangedDetail): EntityAttributeChangedEvent[] {
  const events: EntityAttributeChangedEvent[] = [];
  for (const change of detail.changes) {
    if (change.kind !== 'attribute' || change.attribute === DELETED || !change.writes.length) continue;
    const winner = change.writes.reduce((best, write) => (compareWrites(write, best) > 0 ? write : best));
    events.push({ entityId: change.oid, attributeName: change.attribute, newValue: winner.value, timestamp: winner.ts.ms, nodeId: winner.dot.node });
  }
  return events;
}
