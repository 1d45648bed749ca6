import { ownerOf } from '../../domain/index.js';
import { type OpenedChoice, exportPrivateKey, generateElectionKeyPair, keyMatches, openChoice } from './ballot-sealing.js';
import type { ElectoralSystemModel } from './electoral-system-model.js';
import type { UnsealedChoices } from './tally.js';

/**
 * Where a device keeps the private keys of the rounds it opened, by public key, until it
 * publishes them at the close. Never synced, never in a room file.
 */
export interface ElectionKeyStore {
  put(publicKey: string, privateKey: CryptoKey): Promise<void>;
  get(publicKey: string): Promise<CryptoKey | undefined>;
}

/** An `ElectionKeyStore` in memory, for tests and models without storage. */
export class MemoryElectionKeyStore implements ElectionKeyStore {
  readonly #keys = new Map<string, CryptoKey>();

  async put(publicKey: string, privateKey: CryptoKey): Promise<void> {
    this.#keys.set(publicKey, privateKey);
  }

  async get(publicKey: string): Promise<CryptoKey | undefined> {
    return this.#keys.get(publicKey);
  }
}

/**
 * Opens (or reopens) a sealed election: a new key pair for the round, the private key stored in
 * `keys` before the opening is written (so a crash can never leave a round nobody can unseal).
 */
export async function openSealedElection(model: ElectoralSystemModel, electionId: string, keys: ElectionKeyStore) {
  const pair = await generateElectionKeyPair();
  await keys.put(pair.publicKey, pair.privateKey);
  return model.openElection(electionId, { sealKey: pair.publicKey });
}

/**
 * Publishes the key of every closed round this device opened whose key it holds and has not yet
 * published: after its own close, or when it sees a co-organiser's. Returns how many it published.
 */
export async function publishHeldKeys(model: ElectoralSystemModel, keys: ElectionKeyStore): Promise<number> {
  let published = 0;
  for (const election of model.elections()) {
    for (const round of model.votingHistory(election.oid).rounds) {
      const opening = round.openings.find((o) => ownerOf(o.oid) === model.deviceId && o.getAttribute('sealKey') === round.sealKey);
      if (!round.close || !round.sealKey || !opening || round.publishedKeys.length) continue;
      const privateKey = await keys.get(round.sealKey);
      if (!privateKey) continue;
      const exported = await exportPrivateKey(privateKey);
      // Publishing took a task hop: another tab of this device may have published meanwhile.
      const now = model.votingHistory(election.oid).rounds.find((r) => r.openings.some((o) => o.oid === opening.oid));
      if (!now || now.publishedKeys.length) continue;
      model.publishRoundKey(election.oid, opening.oid, exported);
      published++;
    }
  }
  return published;
}

/**
 * Opens every sealed ballot of the election's closed rounds with the published key: every device
 * does this itself, and checks the key. A published key that is not the round's, or does not open
 * a ballot, is reported (`problems`, and the ballot's verdict), never silently counted.
 */
export async function unsealElection(model: ElectoralSystemModel, electionId: string): Promise<UnsealedChoices> {
  const choices = new Map<string, OpenedChoice>();
  const problems: string[] = [];
  const rounds = model.votingHistory(electionId).rounds;
  for (const [index, round] of rounds.entries()) {
    if (!round.close || !round.sealKey || !round.publishedKeys.length) continue;
    const matching: string[] = [];
    for (const key of round.publishedKeys) if (await keyMatches(key, round.sealKey)) matching.push(key);
    if (!matching.length) problems.push(`round ${index + 1}: the published key is not the key its ballots were sealed to, so none of them can be read`);
    if (round.publishedKeys.length > matching.length && matching.length) problems.push(`round ${index + 1}: a second, wrong key was published as well`);
    const key = matching[0] ?? round.publishedKeys[0]!;
    const openings = new Set(round.openings.map((o) => o.oid));
    for (const ballot of model.entities('Ballot', { includeDeleted: true })) {
      const opening = ballot.getAttribute('opening');
      const sealed = ballot.getAttribute('sealed');
      if (ballot.getAttribute('election') !== electionId || typeof opening !== 'string' || !openings.has(opening) || typeof sealed !== 'string') continue;
      const binding = { election: electionId, opening, voter: String(ballot.getAttribute('voter') ?? ''), ballot: ballot.oid };
      const opened = await openChoice(key, sealed, binding);
      choices.set(ballot.oid, opened);
      if ('error' in opened && matching.length) problems.push(`ballot ${ballot.oid}: ${opened.error}`);
    }
  }
  return { choices, problems };
}
