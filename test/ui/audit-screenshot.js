// The Audit tab of the real app, for the docs: two browsers in one room run an election through
// `/** @type {any} */ (window).ednet` (ordinary local edits), one ballot arrives after voting closed, and one peer sends
// a change it has no certificate for. Then the organiser's Audit tab is photographed.
//   node test/ui/audit-screenshot.js [output directory, default docs/screenshots]
// Builds the app into a temporary directory and serves it on 127.0.0.1.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { waitUntil } from '../e2e/harness.js';
import { withTwoDeviceRoom } from './two-device-room.js';

const out = resolve(process.argv[2] ?? 'docs/screenshots');
await withTwoDeviceRoom('audit', async ({ alice, bob }) => {
  // Alice organises, and votes herself; Bob's phone registers two voters.
  await alice.evaluate(() => {
    const { model } = /** @type {any} */ (window).ednet;
    const election = model.createElection({ title: 'Student council 2024', description: 'One seat, first past the post.' }).oid;
    model.addCandidate(election, { name: 'Amara Okafor', party: 'Green Campus' });
    model.addCandidate(election, { name: 'Chen Wei' });
    const self = model.registerVoter({ name: 'Amara Okafor', voterNumber: 'V-100' }).oid;
    model.registerForElection(self, election);
    model.approveVoter(election, self);
  });
  await waitUntil(bob, () => /** @type {any} */ (window).ednet.model.elections().count === 1 && /** @type {any} */ (window).ednet.model.candidates(/** @type {any} */ (window).ednet.model.elections().first().oid).count === 2);
  await bob.evaluate(() => {
    const { model } = /** @type {any} */ (window).ednet;
    const election = model.elections().first().oid;
    for (const [name, voterNumber] of [
      ['Bruno Keller', 'V-101'],
      ['Ines Costa', 'V-102'],
    ])
      model.registerForElection(model.registerVoter({ name, voterNumber }).oid, election);
  });
  await waitUntil(alice, () => /** @type {any} */ (window).ednet.model.pendingVoters(/** @type {any} */ (window).ednet.model.elections().first().oid).count === 2);
  await alice.evaluate(() => {
    const { model } = /** @type {any} */ (window).ednet;
    const election = model.elections().first().oid;
    for (const voter of model.pendingVoters(election)) model.approveVoter(election, voter.oid);
    model.openElection(election);
    model.castBallot({ voterId: model.myVoter().oid, electionId: election, candidateId: model.candidates(election).first().oid });
  });
  await waitUntil(bob, () => {
    const { model } = /** @type {any} */ (window).ednet;
    const election = model.elections().first();
    return model.statusOf(election.oid) === 'open' && model.pendingVoters(election.oid).count === 0;
  });
  await bob.evaluate(() => {
    const { model } = /** @type {any} */ (window).ednet;
    const election = model.elections().first().oid;
    const bruno = model.voterByNumber('V-101').oid;
    model.castBallot({ voterId: bruno, electionId: election, candidateId: model.candidates(election).toArray()[1].oid });
  });
  await waitUntil(alice, () => /** @type {any} */ (window).ednet.model.tally(/** @type {any} */ (window).ednet.model.elections().first().oid).counted === 2);

  // Ines votes on Bob's phone while it is offline, after Alice closed voting.
  await bob.evaluate(() => /** @type {any} */ (window).ednet.session.setWorkOffline(true));
  await alice.evaluate(() => /** @type {any} */ (window).ednet.model.closeElection(/** @type {any} */ (window).ednet.model.elections().first().oid));
  await new Promise((done) => setTimeout(done, 1500));
  await bob.evaluate(() => {
    const { model } = /** @type {any} */ (window).ednet;
    const election = model.elections().first().oid;
    model.castBallot({ voterId: model.voterByNumber('V-102').oid, electionId: election, candidateId: model.candidates(election).first().oid });
  });
  await bob.evaluate(() => /** @type {any} */ (window).ednet.session.setWorkOffline(false));
  await waitUntil(alice, () => /** @type {any} */ (window).ednet.model.tally(/** @type {any} */ (window).ednet.model.elections().first().oid).ballots.length === 3);

  // Bob's phone sends Alice a change under a node id it made up, with no certificate.
  await bob.evaluate(() => {
    const { node, model } = /** @type {any} */ (window).ednet;
    const forger = 'F'.repeat(32) + 'forged01';
    const election = model.elections().first().oid;
    const change = {
      kind: 'attribute',
      entityType: 'Election',
      oid: election,
      attribute: 'title',
      writes: [{ value: 'Forged title', ts: { ms: Date.now(), c: 0 }, dot: { node: forger, seq: 1 } }],
    };
    const batch = { format: 1, modelId: model.modelId, since: {}, version: { [forger]: 1 }, changes: [change] };
    const frame = { t: 'delta', seq: 1_000_000, part: 1, parts: 1, batch, certs: [] };
    for (const connection of node.connections.connections) void connection.send(new TextEncoder().encode(JSON.stringify(frame)));
  });
  await waitUntil(alice, () => /** @type {any} */ (window).ednet.node.refusals.length > 0);

  await alice.getByRole('tab', { name: 'Audit' }).click();
  await alice.locator('ednet-audit-view').getByText('valid signature').first().waitFor();
  // Own changes are signed a moment after they are made.
  while ((await alice.locator('ednet-audit-view').getByText('being signed').count()) > 0) await alice.waitForTimeout(100);
  await mkdir(out, { recursive: true });
  await alice.evaluate(() => window.scrollTo(0, 0));
  await alice.screenshot({ path: join(out, 'audit-view-desktop.png'), fullPage: true });
  await bob.getByRole('tab', { name: 'Audit' }).click();
  await bob.locator('ednet-audit-view').getByText('valid signature').first().waitFor();
  await bob.evaluate(() => window.scrollTo(0, 0));
  await bob.screenshot({ path: join(out, 'audit-view-phone.png') });
});
console.log(`screenshots in ${out}`);
