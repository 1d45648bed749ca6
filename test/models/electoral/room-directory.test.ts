import { expect } from 'chai';
import { ownedOid } from '../../../src/domain/index.js';
import {
  ElectionRoles,
  type ElectoralSystemModel,
  canNameRoom,
  memberNames,
  memberOid,
  roomInfoOf,
  setMemberName,
  setRoomInfo,
} from '../../../src/models/electoral/index.js';
import { fakeClock } from '../../crdt/fake-clock.js';
import { electoral, nodeOf, sync } from './electoral-fixture.js';
import { Hostile, expectRule } from './roles-fixture.js';

const ALICE = nodeOf('alice');
const BOB = nodeOf('bob');
const DEVICE = (node: string) => node.slice(0, 32);

const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));

function pair(): [ElectoralSystemModel, ElectoralSystemModel] {
  return [electoral(ALICE, clock, ElectionRoles.enforced), electoral(BOB, clock, ElectionRoles.enforced)];
}

describe('Room and members', () => {
  it('the creator names the room; everyone else sees the name and cannot change it', () => {
    const [alice, bob] = pair();
    const roomId = ownedOid(ALICE);
    expect(canNameRoom(alice, roomId), 'the creator can name the room').to.equal(true);
    expect(canNameRoom(bob, roomId), 'another member can name the room').to.equal(false);
    setRoomInfo(alice, roomId, { name: '  Board   elections ', description: 'Spring vote' });
    sync(alice, bob);
    expect(roomInfoOf(bob, roomId)).to.deep.equal({ name: 'Board elections', description: 'Spring vote', creator: DEVICE(ALICE) });
    expectRule(() => setRoomInfo(bob, roomId, { name: 'Mine' }), 'owner', /only the device that created the room/);
    setRoomInfo(alice, roomId, { name: 'Board 2024' });
    sync(alice, bob);
    expect(roomInfoOf(bob, roomId)?.name).to.equal('Board 2024');
  });

  it('refuses a rename from another device arriving as a change', () => {
    const [alice] = pair();
    const roomId = ownedOid(ALICE);
    setRoomInfo(alice, roomId, { name: 'Board' });
    const mallory = new Hostile(nodeOf('mallory'));
    mallory.applyChanges(alice.getDelta(mallory.version));
    mallory.update(roomId, { name: 'Hijacked' });
    const result = alice.applyChanges(mallory.getDelta(alice.version));
    expect(result.rejected.length).to.be.greaterThan(0);
    expect(roomInfoOf(alice, roomId)?.name).to.equal('Board');
  });

  it('a room with an older id (no owner) has no shared name', () => {
    const [alice] = pair();
    expect(canNameRoom(alice, 'V1StGXR8_Z5jdHi6B-myT'), 'a room with an older id can be named').to.equal(false);
    expectRule(() => setRoomInfo(alice, 'V1StGXR8_Z5jdHi6B-myT', { name: 'Board' }), 'owner', /before rooms had shared names/);
    expect(roomInfoOf(alice, 'V1StGXR8_Z5jdHi6B-myT')).to.equal(undefined);
  });

  it('each device names itself once for all its tabs; names stay in the room and only the owner writes them', () => {
    const [alice, bob] = pair();
    const aliceTab2 = electoral(nodeOf('alice', 'tab00002'), clock, ElectionRoles.enforced);
    expect(setMemberName(alice, ' Alice '), 'setting a new name changes it').to.equal(true);
    expect(setMemberName(alice, 'Alice'), 'setting the same name (trimmed) changes it').to.equal(false);
    sync(alice, aliceTab2);
    clock.advance(1000);
    setMemberName(aliceTab2, 'Alice L.');
    setMemberName(bob, 'Bob');
    sync(aliceTab2, alice);
    sync(alice, bob);
    sync(bob, alice);
    expect(Object.fromEntries(memberNames(bob))).to.deep.equal({ [DEVICE(ALICE)]: 'Alice L.', [DEVICE(BOB)]: 'Bob' });
    expect(memberOid(DEVICE(ALICE))).to.have.length(53);
    // Another member entity of Bob's (not its fixed oid) names nobody.
    bob.create('Member', { name: 'Not Alice' });
    expect(memberNames(bob).size).to.equal(2);
    // An empty name removes it.
    setMemberName(bob, '');
    expect([...memberNames(bob).keys()], 'named devices').to.not.include(DEVICE(BOB));
    setMemberName(bob, 'Bob again');
    expect(memberNames(bob).get(DEVICE(BOB))).to.equal('Bob again');
  });

  it('without device ids (open roles) there are no members', () => {
    const model = electoral('alice');
    expect(setMemberName(model, 'Alice'), 'setMemberName without device ids changes a name').to.equal(false);
    expect(memberNames(model).size).to.equal(0);
  });
});
