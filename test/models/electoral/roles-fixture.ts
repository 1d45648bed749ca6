import { expect } from 'chai';
import { type AttributeValues, type CRDTEntity, ValidationError, ownedOid } from '../../../src/domain/index.js';
import { ElectionRoles, ElectoralSystemModel } from '../../../src/models/electoral/index.js';

/** Expects `action` to throw a `ValidationError` for `rule` (and a message matching `message`). */
export function expectRule(action: () => unknown, rule: string, message?: RegExp): void {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).rule, (error as Error).message).to.equal(rule);
    if (message) expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a ValidationError (${rule})`);
}

/** A replica that keeps no rules: it writes whatever it likes, under its own (verified) node id. */
export class Hostile extends ElectoralSystemModel {
  constructor(nodeId: string, getNow?: () => number) {
    super({ modelId: 'election-2024', nodeId, getNow, roles: ElectionRoles.open });
  }

  protected override newOid(): string {
    return ownedOid(this.nodeId);
  }

  // Mallory's device keeps no rules: not even the locks of an open or closed election.
  override lockProblem(): string | undefined {
    return undefined;
  }

  /** Creates any entity, managed attributes included, under any oid. */
  forge(concept: string, values: AttributeValues, oid?: string): CRDTEntity {
    return this.createManaged(concept, values, { oid });
  }
}
