import { type CRDTEntity, DEVICE_ID_CHARS, type Entities, ValidationError, deviceOf, ownerOf } from '../../domain/index.js';
import { coOrganisersOf } from './election-authority.js';
import { electionIn, enforcedOnly } from './election-guards.js';
import { ElectionRoles } from './electoral-schema.js';
import type { ElectoralSystemModel } from './electoral-system-model.js';

const DEVICE_ID = new RegExp(`^[A-Za-z0-9_-]{${DEVICE_ID_CHARS}}$`);

/**
 * The co-organiser facet of an `ElectoralSystemModel`: who organises an election (its creator's
 * device, and the devices it grants co-organisation with a `CoOrganiser`), and the grants
 * themselves. The model passes its calls on to it, and it calls back through the model, so a
 * subclass overriding a method of the model sees its own method used here too.
 */
export class CoOrganisers {
  constructor(private readonly model: ElectoralSystemModel) {}

  /** The device organising an election (the one whose id starts its oid, its creator); undefined with open roles. */
  organiserOf(electionId: string): string | undefined {
    return this.model.roles === ElectionRoles.enforced ? ownerOf(electionId) : undefined;
  }

  /**
   * True if `node` (default: this replica) is the election's organiser, its creator: the only one
   * who edits its title, description and dates, and grants and revokes co-organisers.
   */
  isOwner(electionId: string, node: string = this.model.nodeId): boolean {
    if (this.model.roles === ElectionRoles.open) return true;
    const organiser = ownerOf(electionId);
    return organiser !== undefined && organiser === deviceOf(node);
  }

  /**
   * True if `node` (default: this replica) may open and close the election, add candidates and
   * approve voters: its organiser or an effective co-organiser.
   */
  isOrganiser(electionId: string, node: string = this.model.nodeId): boolean {
    if (this.model.isOwner(electionId, node)) return true;
    const device = deviceOf(node);
    return device !== undefined && this.model.coOrganisersOf(electionId).includes(device);
  }

  /** Device ids of the election's effective co-organisers (granted by its organiser, not revoked), sorted. None with open roles. */
  coOrganisersOf(electionId: string): string[] {
    return coOrganisersOf(this.model, electionId, this.model.roles);
  }

  /**
   * The organiser grants `deviceId` (a 32-character device id, not its own) co-organisation of the
   * election: it may then approve voters, add candidates to a draft and open and close voting, not
   * edit the election itself. Returns the grant.
   */
  addCoOrganiser(electionId: string, deviceId: string): CRDTEntity {
    const election = electionIn(this.model, electionId);
    enforcedOnly(this.model, 'co-organisers');
    if (!this.model.isOwner(election.oid)) throw new ValidationError('CoOrganiser', undefined, 'organiser', 'only the organiser of this election can add co-organisers');
    if (!DEVICE_ID.test(deviceId))
      throw new ValidationError('CoOrganiser', 'device', 'pattern', `a device id is ${DEVICE_ID_CHARS} letters, digits, "-" or "_", not ${JSON.stringify(deviceId)}`);
    if (deviceId === ownerOf(election.oid))
      throw new ValidationError('CoOrganiser', 'device', 'organiser', 'the organiser cannot be its own co-organiser');
    if (this.model.coOrganisersOf(election.oid).includes(deviceId))
      throw new ValidationError('CoOrganiser', 'device', 'exists', `device ${deviceId} is a co-organiser of this election already`);
    return this.model.create('CoOrganiser', { election: election.oid, device: deviceId });
  }

  /** The organiser revokes a co-organiser: its grants are deleted. What it did stops counting. False if it was none. */
  removeCoOrganiser(electionId: string, deviceId: string): boolean {
    const election = electionIn(this.model, electionId);
    enforcedOnly(this.model, 'co-organisers');
    if (!this.model.isOwner(election.oid)) throw new ValidationError('CoOrganiser', undefined, 'organiser', 'only the organiser of this election can remove co-organisers');
    const grants = this.#ownGrants(election.oid).filter((grant) => grant.getAttribute('device') === deviceId);
    for (const grant of grants) this.model.delete(grant.oid);
    return grants.count > 0;
  }

  // Live grants the organiser made for the election, effective or not (a grant for itself is inert).
  #ownGrants(electionId: string): Entities {
    const organiser = ownerOf(electionId);
    return this.model.findBy('CoOrganiser', 'election', electionId).filter((grant) => ownerOf(grant.oid) === organiser);
  }
}
