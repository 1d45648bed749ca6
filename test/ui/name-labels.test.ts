import { expect } from 'chai';
import '../../src/ui/index.js';
import { ElectionRoles } from '../../src/models/electoral/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, nodeOf, sync } from '../models/electoral/electoral-fixture.js';
import { find, findAll, mount, settle, submitForm, textOf, unmountAll } from './ui-test-helpers.js';
import { expectNone } from '../expectations.js';

const REGISTRATION = ['ednet-voter-registration'];

/** Every label's text in the element's shadow root. */
const labelsOf = (host: Element, path: readonly string[]) => findAll(host, path, 'label').map(textOf);

describe('one label per meaning of "name"', () => {
  afterEach(() => unmountAll());

  it('calls the voter roll’s name so, apart from the display name, when registering and when changing it', async () => {
    const clock = fakeClock();
    const alice = electoral(nodeOf('alice'), clock, ElectionRoles.enforced);
    const bob = electoral(nodeOf('bob'), clock, ElectionRoles.enforced);
    const election = alice.createElection({ title: 'Board' }).oid;
    sync(alice, bob);
    const view = await mount('ednet-elections-view', { model: bob });
    expect(labelsOf(view, REGISTRATION)).to.include('Name on the voter roll *');
    await submitForm(view, REGISTRATION, 'form', { name: 'Robert Smith', voterNumber: 'V-7' });
    await settle();
    expect(bob.myVoter()?.getAttribute('name')).to.equal('Robert Smith');
    expect(bob.myVoter()?.childOids('elections')).to.include(election);
    // Registered: the name can be changed, under the same words.
    expect(textOf(find(view, ...REGISTRATION, 'details summary'))).to.equal('Change my name on the voter roll');
    expect(labelsOf(view, REGISTRATION)).to.deep.equal(['Name on the voter roll *']);
    expectNone(labelsOf(view, REGISTRATION), (label) => /^Your (display )?name\b/.test(label), 'no label asking for the display name');
    await submitForm(view, REGISTRATION, 'details form', { name: 'Bob Smith' });
    expect(textOf(find(view, ...REGISTRATION, '[role="status"]'))).to.equal('Your name on the voter roll is now Bob Smith.');
  });
});
