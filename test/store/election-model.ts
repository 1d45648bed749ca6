import { DomainModel, defineSchema } from '../../src/domain/index.js';

/** A small election-shaped schema for storage tests. */
export const electionSchema = defineSchema({
  concepts: {
    Election: {
      attributes: { title: { type: 'string', required: true } },
      children: { candidates: { concept: 'Candidate' } },
    },
    Candidate: {
      attributes: { name: { type: 'string', required: true }, votes: { type: 'integer', min: 0, default: 0 } },
    },
  },
});

/** A model of `electionSchema` for node `node` (alice, bob, carol), with ids `<node>-1`, `<node>-2`, …. */
export function election(node: string, options: { firstSeq?: number; modelId?: string } = {}): DomainModel {
  let n = 0;
  return new DomainModel({
    modelId: options.modelId ?? 'election',
    schema: electionSchema,
    nodeId: node,
    newId: () => `${node}-${++n}`,
    ...(options.firstSeq ? { firstSeq: options.firstSeq } : {}),
  });
}

/** Canonical text of a model's entities (not its version), for equality checks. */
export function entitiesOf(model: DomainModel): string {
  return JSON.stringify(model.getEntityStates());
}
