import { expect } from 'chai';
import '../../src/ui/index.js';
import { ElectionRoles, setMemberName } from '../../src/models/electoral/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, enforcedReplicas, nodeOf, sync } from '../models/electoral/electoral-fixture.js';
import { axeViolations, button, find, findAll, mount, settle, submitForm, textOf, unmountAll } from './ui-test-helpers.js';

const EDITOR = ['ednet-election-editor'];
const CANDIDATES = ['ednet-candidate-list'];
const VOTERS = ['ednet-voter-roll'];
const CO = ['ednet-co-organisers'];
const MARKUP_NAME = '<b>Bob</b>';

const ALICE = nodeOf('alice');
const BOB = nodeOf('bob');
const CAROL = nodeOf('carol');
const buttonsOf = (host: Element, path: readonly string[]) => findAll(host, path, 'button').map((b) => textOf(b));

/** Alice organises a draft election with one candidate; Carol asked to vote in it. */
function room() {
  const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
  const [alice, bob, carol] = enforcedReplicas(clock, ALICE, BOB, CAROL);
  const election = alice!.createElection({ title: 'Board' }).oid;
  alice!.addCandidate(election, { name: 'Ann' });
  sync(alice!, carol!);
  const carolsVoter = carol!.registerVoter({ name: 'Carol', voterNumber: 'V-1' }).oid;
  carol!.registerForElection(carolsVoter, election);
  sync(carol!, alice!);
  return { alice: alice!, bob: bob!, carol: carol!, election };
}

describe('ednet-elections-view with co-organisers', () => {
  afterEach(() => unmountAll());

  it('the organiser picks a connected device or enters a device id, lists co-organisers and removes them; peer names stay text', async () => {
    const { alice } = room();
    const peers = [
      { peerId: BOB, displayName: MARKUP_NAME },
      { peerId: nodeOf('bob', 'tab00002'), displayName: MARKUP_NAME },
      { peerId: nodeOf('alice', 'tab00002'), displayName: 'Alice' },
    ];
    const view = await mount('ednet-elections-view', { model: alice, peers });
    const select = find<HTMLSelectElement>(view, ...CO, 'select[name="peer"]');
    // Bob's two tabs are one device; Alice's other tab is the organiser itself.
    expect([...select.options].map((option) => option.textContent!.trim())).to.deep.equal(['Choose a person', MARKUP_NAME]);
    await submitForm(view, CO, 'form', {});
    expect(textOf(find(view, ...CO))).to.contain('Choose a person or enter their device id.');
    await submitForm(view, CO, 'form', { device: 'too-short' });
    expect(textOf(find(view, ...CO, '#co-organiser-device-error'))).to.match(/A device id is 32 letters/);
    expect(alice.coOrganisersOf(alice.elections().first()!.oid)).to.deep.equal([]);

    await submitForm(view, CO, 'form', { peer: BOB.slice(0, 32), device: '' });
    expect(textOf(find(view, ...CO, 'ul'))).to.contain(`“${MARKUP_NAME}”`);
    expect(find(view, ...CO).shadowRoot!.querySelector('li b')).to.equal(null);
    expect(textOf(find(view, ...EDITOR))).to.contain(`You organise this election; co-organised by “${MARKUP_NAME}”.`);
    // Bob is a co-organiser now: no longer offered.
    expect(findAll(view, CO, 'select')).to.have.length(0);
    await submitForm(view, CO, 'form', { device: CAROL.slice(0, 32) });
    expect(textOf(find(view, ...CO, '[role="status"]'))).to.equal('device carol___… is now a co-organiser.');
    expect(textOf(find(view, ...CO, 'h3'))).to.contain('(2)');
    button(view, CO, 'Remove device carol___…').click();
    await settle();
    expect(textOf(find(view, ...CO, 'h3'))).to.contain('(1)');
    expect(alice.coOrganisersOf(alice.elections().first()!.oid)).to.deep.equal([BOB.slice(0, 32)]);
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('offers the people of the room by name, also while they are away; ids only to tell two of one name apart', async () => {
    const { alice, bob, carol, election } = room();
    setMemberName(bob, 'Bob');
    setMemberName(carol, 'Sam');
    const dave = electoral(nodeOf('dave'), fakeClock(), ElectionRoles.enforced);
    setMemberName(dave, 'Sam');
    for (const other of [bob, carol, dave]) sync(other, alice);
    // Nobody is connected: Bob, Carol and Dave left, their names stay.
    const view = await mount('ednet-elections-view', { model: alice, peers: [] });
    const select = find<HTMLSelectElement>(view, ...CO, 'select[name="peer"]');
    expect(textOf(find(view, ...CO, 'label[for="co-organiser-peer"]'))).to.equal('A person in this room');
    expect([...select.options].map((option) => option.textContent!.trim())).to.deep.equal([
      'Choose a person',
      'Bob · not connected now',
      'Sam (device carol___…) · not connected now',
      'Sam (device dave____…) · not connected now',
    ]);
    await submitForm(view, CO, 'form', { peer: BOB.slice(0, 32), device: '' });
    expect(alice.coOrganisersOf(election)).to.deep.equal([BOB.slice(0, 32)]);
    expect(textOf(find(view, ...CO, '[role="status"]'))).to.equal('“Bob” is now a co-organiser.');
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('a co-organiser approves, adds a candidate and opens voting, but does not edit the details; the organiser sees it all', async () => {
    const { alice, bob, carol, election } = room();
    alice.addCoOrganiser(election, BOB.slice(0, 32));
    sync(alice, bob);
    const view = await mount('ednet-elections-view', { model: bob, peers: [{ peerId: ALICE, displayName: 'Alice' }] });
    const editor = textOf(find(view, ...EDITOR));
    expect(editor).to.contain('Organised by “Alice”; co-organised by this device');
    expect(editor).to.contain('You co-organise this election: only the organiser can change its title, description and dates.');
    expect(findAll(view, EDITOR, 'form')).to.have.length(0);
    // Carol waits for approval: the co-organiser, who may approve, is told so and shown the way.
    expect(buttonsOf(view, EDITOR)).to.deep.equal(['Show voters', 'Open voting']);
    expect(buttonsOf(view, CO)).to.deep.equal([]);

    button(view, VOTERS, 'Approve').click();
    await settle();
    expect(textOf(find(view, ...VOTERS))).to.contain('(1 approved, 0 waiting)');
    await submitForm(view, CANDIDATES, 'form', { name: 'Bea' });
    // Bob withdraws his own candidate, not Alice's.
    expect(buttonsOf(view, CANDIDATES).filter((text) => text.startsWith('Remove'))).to.deep.equal(['Remove Bea']);
    button(view, EDITOR, 'Open voting').click();
    await settle();
    expect(textOf(find(view, ...EDITOR, '.badge'))).to.equal('Voting open');
    expect(buttonsOf(view, EDITOR)).to.deep.equal(['Close voting…']);

    sync(bob, alice);
    sync(bob, carol);
    const organiser = await mount('ednet-elections-view', { model: alice, peers: [{ peerId: BOB, displayName: 'Bob' }] });
    expect(textOf(find(organiser, ...EDITOR, '.badge'))).to.equal('Voting open');
    expect(textOf(find(organiser, ...CANDIDATES))).to.contain('Bea Added by co-organiser “Bob”');
    expect(textOf(find(organiser, ...VOTERS))).to.contain('(1 approved, 0 waiting)');
    expect(textOf(find(organiser, 'ednet-election-results'))).to.contain('0 ballots cast so far. Results show when voting closes.');
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('others see who organises and co-organises, and their own device id to give the organiser', async () => {
    const { alice, carol, election } = room();
    alice.addCoOrganiser(election, BOB.slice(0, 32));
    sync(alice, carol);
    const view = await mount('ednet-elections-view', { model: carol });
    expect(textOf(find(view, ...EDITOR))).to.contain('Organised by device alice___…; co-organised by device bob_____…');
    expect(textOf(find(view, ...CO))).to.contain(`give the organiser this device's id: ${CAROL.slice(0, 32)}`);
    expect(buttonsOf(view, CO)).to.deep.equal([]);
    expect(buttonsOf(view, EDITOR)).to.deep.equal([]);
    expect(await axeViolations(view)).to.deep.equal([]);
  });
});
