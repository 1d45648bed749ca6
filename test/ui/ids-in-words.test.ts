import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/index.js';
import '../../src/ui/index.js';
import { ElectionRoles, setMemberName } from '../../src/models/electoral/index.js';
import { fieldErrorOf } from '../../src/ui/shared/error-message.js';
import { idsInWords } from '../../src/ui/shared/ids-in-words.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, nodeOf, sync } from '../models/electoral/electoral-fixture.js';
import { nodeStatus } from '../node-status.js';
import { find, mount, textOf, unmountAll } from './ui-test-helpers.js';

const LONG_ID = /[A-Za-z0-9_-]{20,}/;

/** Alice organises and has a room name; Bob votes; Mallory's device named nothing. */
function room() {
  const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
  const alice = electoral(nodeOf('alice'), clock, ElectionRoles.enforced);
  const bob = electoral(nodeOf('bob'), clock, ElectionRoles.enforced);
  setMemberName(alice, 'Alice');
  const election = alice.createElection({ title: 'Board' }).oid;
  sync(alice, bob);
  return { alice, bob, election };
}

describe('idsInWords', () => {
  it('turns a refusal the model wrote with ids into names and titles', () => {
    const { alice, bob, election } = room();
    let message = '';
    try {
      bob.update(election, { title: 'Mine' });
    } catch (error) {
      message = fieldErrorOf(error).message;
    }
    // The model's own text is for logs: ids of the election and of both devices.
    expect(message).to.match(LONG_ID);
    const words = idsInWords(bob, message);
    expect(words).to.not.match(LONG_ID);
    expect(words).to.equal('Only the organiser\'s device (device “Alice”) may change Election “Board”, not this device.');
    // On the organiser's device the other side is named too: by its voter's name once it registered.
    bob.registerVoter({ name: 'Bob B.', voterNumber: 'V-1' });
    sync(bob, alice);
    expect(idsInWords(alice, message)).to.contain('this device').and.to.contain('“Bob B.”');
  });

  it('names the tally\'s reasons, shortens ids it does not know, and leaves ordinary words alone', () => {
    const { alice, election } = room();
    const unknown = `${nodeOf('mallory').slice(0, 32)}abcdefghijklmnopqrstu`;
    expect(idsInWords(alice, `voter ${unknown} is not registered for this election`)).to.equal('voter mallory_… is not registered for this election');
    expect(idsInWords(alice, `device ${nodeOf('mallory').slice(0, 32)} may not`)).to.equal('device mallory_… may not');
    expect(idsInWords(alice, `node ${nodeOf('alice')} wrote ${election}`)).to.equal('this device wrote “Board”');
    expect(idsInWords(alice, 'a plain sentence, with no id at all')).to.equal('a plain sentence, with no id at all');
    expect(idsInWords(undefined, `as is ${election}`)).to.equal(`as is ${election}`);
  });

  it('names people and items in the status bar’s last refusal of a peer', async () => {
    const { alice, bob, election } = room();
    const reason = `1 change(s) rejected: only the organiser (device ${nodeOf('alice').slice(0, 32)}) may change Election ${election}`;
    const peer = { peerId: bob.nodeId as NodeId, displayName: 'Bob', via: 'webrtc' as const, inSync: true, refused: 1, lastRefusal: reason };
    try {
      const bar = await mount('ednet-status-bar', { status: nodeStatus({ peers: [peer] }), model: alice });
      expect(textOf(find(bar, '.refused'))).to.equal('1 message refused, last: 1 change(s) rejected: only the organiser (this device) may change Election “Board”');
    } finally {
      unmountAll();
    }
  });
});
