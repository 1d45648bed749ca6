import { type DomainSchema, OID_PATTERN, defineSchema } from '../../domain/index.js';
import { roomConcepts } from './room-schema.js';

/** Lifecycle of an election: draft (being prepared) → open (accepting ballots) → closed. */
export const ElectionStatus = { draft: 'draft', open: 'open', closed: 'closed' } as const;
export type ElectionStatus = (typeof ElectionStatus)[keyof typeof ElectionStatus];

/**
 * Who may do what. `enforced`: every entity belongs to the device whose id starts its oid, and only
 * that device writes it (the organiser its elections and candidates, a voter its registration, a
 * voter's device its ballots); the organiser approves voters. `open`: anyone may write anything,
 * for models without device identities.
 */
export const ElectionRoles = { enforced: 'enforced', open: 'open' } as const;
export type ElectionRoles = (typeof ElectionRoles)[keyof typeof ElectionRoles];

/** How a ballot reached the model. */
export const BallotChannel = { online: 'online', inPerson: 'in-person', postal: 'postal' } as const;
export type BallotChannel = (typeof BallotChannel)[keyof typeof BallotChannel];

/**
 * What a `VotingEvent` did: opened or closed voting (the organiser's and co-organisers' alike), or
 * published the private key of a round's sealed ballots after its close (`unseal`).
 */
export const VotingAction = { open: 'open', close: 'close', unseal: 'unseal' } as const;
export type VotingAction = (typeof VotingAction)[keyof typeof VotingAction];

/** Characters a voting event's causal context may take (about 2,000 nodes). */
export const MAX_CONTEXT_CHARS = 100_000;

const OID = OID_PATTERN.source;

/**
 * The seed's electoral model, declared with the meta-model. Managed attributes are written only by
 * `ElectoralSystemModel`'s operations. Voting opens and closes through `VotingEvent`s, the
 * organiser's and co-organisers' alike, each carrying the causal context of the device that made
 * it; a ballot names the opening it saw, so every replica decides from state alone, and from
 * causality rather than claimed times, whether it was cast while voting was open
 * (`voting-history.ts`). `castAt` is shown, never decisive.
 *
 * `CoOrganiser`, `Approval` and `VotingEvent` are how co-organisers act: each belongs to the device
 * that made it (like every entity), and counts only where the election's organiser granted that
 * device co-organisation (see `election-authority.ts`), decided on merged state alone.
 *
 * The room's own name and its members' names (`Room`, `Member`) are declared in `room-schema.ts`.
 */
export const electoralSchema: DomainSchema = defineSchema({
  concepts: {
    Election: {
      attributes: {
        title: { type: 'string', required: true, min: 1, max: 200 },
        description: { type: 'string', max: 5000 },
        opensAt: { type: 'date' },
        closesAt: { type: 'date' },
        status: { type: 'enum', values: Object.values(ElectionStatus), default: ElectionStatus.draft, managed: true },
        // Stamps of elections opened before voting events carried causal contexts; no longer decisive.
        openedAt: { type: 'date', managed: true, immutable: true },
        closedAt: { type: 'date', managed: true, immutable: true },
        // Sealed ballots (issue 13): choices are encrypted until the close; live results only without sealing.
        sealed: { type: 'boolean', immutable: true },
        liveResults: { type: 'boolean' },
      },
      // approvedVoters: the organiser's approval of voters who asked to vote (Voter.elections).
      children: { candidates: { concept: 'Candidate' }, approvedVoters: { concept: 'Voter' } },
    },
    Candidate: {
      attributes: {
        name: { type: 'string', required: true, min: 1, max: 200 },
        party: { type: 'string', max: 200 },
        statement: { type: 'string', max: 2000 },
        election: { type: 'reference', concept: 'Election', required: true, immutable: true },
      },
    },
    Voter: {
      attributes: {
        name: { type: 'string', required: true, min: 1, max: 200 },
        voterNumber: {
          type: 'string',
          required: true,
          unique: true,
          pattern: '^[A-Za-z0-9-]{1,32}$',
          format: 'up to 32 letters, digits and hyphens',
        },
        email: { type: 'string', max: 254, pattern: '^[^@\\s]+@[^@\\s]+$', format: 'an email address, like name@example.org' },
        district: { type: 'string', max: 100 },
        address: { type: 'string', max: 300 },
        birthDate: { type: 'date' },
      },
      children: { elections: { concept: 'Election' } },
    },
    Ballot: {
      attributes: {
        voter: { type: 'reference', concept: 'Voter', required: true, immutable: true },
        election: { type: 'reference', concept: 'Election', required: true, immutable: true },
        // Absent on a sealed ballot, whose choice is in `sealed` until the close.
        candidate: { type: 'reference', concept: 'Candidate', immutable: true },
        castAt: { type: 'date', required: true, managed: true, immutable: true },
        channel: { type: 'enum', values: Object.values(BallotChannel), default: BallotChannel.online, immutable: true },
        // The opening of voting this ballot's device had seen (a VotingEvent): the ballot lies causally after it.
        opening: { type: 'string', managed: true, immutable: true, pattern: OID, format: 'an entity id' },
        // The sealed choice (see ballot-sealing.ts), readable once the round's key is published.
        sealed: { type: 'string', managed: true, immutable: true, max: 1000 },
      },
    },
    // The organiser's grant: `device` may approve voters, add candidates and open and close voting.
    CoOrganiser: {
      attributes: {
        election: { type: 'reference', concept: 'Election', required: true, immutable: true },
        device: { type: 'string', required: true, immutable: true, pattern: '^[A-Za-z0-9_-]{32}$' },
      },
    },
    // A co-organiser's approval of a voter who asked to vote (the organiser's is `approvedVoters`).
    Approval: {
      attributes: {
        election: { type: 'reference', concept: 'Election', required: true, immutable: true },
        voter: { type: 'reference', concept: 'Voter', required: true, immutable: true },
      },
    },
    // The organiser or a co-organiser opening or closing voting, or publishing a round's key (see voting-history.ts).
    VotingEvent: {
      attributes: {
        election: { type: 'reference', concept: 'Election', required: true, immutable: true },
        action: { type: 'enum', values: Object.values(VotingAction), required: true, immutable: true },
        at: { type: 'date', required: true, managed: true, immutable: true },
        // The maker's version vector (compact JSON) when it made the event: what it had seen.
        context: { type: 'string', managed: true, immutable: true, max: MAX_CONTEXT_CHARS },
        // An opening's public key for sealed ballots (base64url, raw P-256).
        sealKey: { type: 'string', managed: true, immutable: true, max: 200 },
        // An unseal's published private key (base64url PKCS #8) and the opening whose key it is.
        key: { type: 'string', managed: true, immutable: true, max: 400 },
        opening: { type: 'string', managed: true, immutable: true, pattern: OID, format: 'an entity id' },
      },
    },
    ...roomConcepts,
  },
  maxStringLength: MAX_CONTEXT_CHARS,
});
