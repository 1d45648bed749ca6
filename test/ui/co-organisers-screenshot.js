// Co-organisers in the real app, for the docs: Alice organises an election, picks Bruno's phone
// among the connected devices and makes it a co-organiser; the phone then approves a voter and
// opens voting from its own Elections tab. Both views are photographed.
//   node test/ui/co-organisers-screenshot.js [output directory, default docs/screenshots]
// Builds the app into a temporary directory and serves it on 127.0.0.1.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { waitUntil } from '../e2e/harness.js';
import { withTwoDeviceRoom } from './two-device-room.js';

const out = resolve(process.argv[2] ?? 'docs/screenshots');
await withTwoDeviceRoom('co-organisers', async ({ alice, bob }) => {
  // Alice sets the election up; Ines registers on Bruno's phone and asks to vote.
  await alice.evaluate(() => {
    const { model } = /** @type {any} */ (window).ednet;
    const election = model.createElection({ title: 'Student council 2024', description: 'One seat, first past the post.' }).oid;
    model.addCandidate(election, { name: 'Amara Okafor', party: 'Green Campus' });
    model.addCandidate(election, { name: 'Chen Wei' });
  });
  await waitUntil(bob, () => /** @type {any} */ (window).ednet.model.elections().count === 1);
  await bob.evaluate(() => {
    const { model } = /** @type {any} */ (window).ednet;
    model.registerForElection(model.registerVoter({ name: 'Ines Costa', voterNumber: 'V-102' }).oid, model.elections().first().oid);
  });

  // Through the UI: Alice picks the phone, the one other connected device.
  const coOrganisers = alice.locator('ednet-co-organisers');
  await coOrganisers.getByLabel('A person in this room').selectOption({ index: 1 });
  await coOrganisers.getByRole('button', { name: 'Add co-organiser' }).click();
  await coOrganisers.getByText('is now a co-organiser').waitFor();

  // The phone, now a co-organiser, approves Ines and opens voting; on a phone the election opens on its own view.
  const entry = bob.getByRole('button', { name: /Student council 2024/ }).first();
  if (await entry.isVisible()) await entry.click();
  await bob.locator('ednet-election-editor').getByText('You co-organise this election').waitFor();
  await bob.locator('ednet-voter-roll').getByRole('button', { name: /Approve/ }).click();
  await bob.locator('ednet-election-editor').getByRole('button', { name: 'Open voting' }).click();
  await alice.locator('ednet-election-editor').getByText('Voting open').waitFor();

  await mkdir(out, { recursive: true });
  await alice.evaluate(() => window.scrollTo(0, 0));
  await alice.screenshot({ path: join(out, 'co-organisers-desktop.png'), fullPage: true });
  await bob.evaluate(() => window.scrollTo(0, 0));
  await bob.locator('ednet-election-editor').screenshot({ path: join(out, 'co-organiser-phone.png') });
});
console.log(`screenshots in ${out}`);
