import { JoinRefusal } from './room-bus.js';

/** @typedef {import('./room-bus.js').RoomBus} RoomBus */
/** @typedef {import('./room-bus.js').MemberInbox} MemberInbox */
/** @typedef {import('./room-bus.js').MemberEvent} MemberEvent */

/**
 * The default room bus: rooms live in this process, events are delivered synchronously in the
 * order they happen. One signaling instance only; `npm start` needs nothing else.
 * @implements {RoomBus}
 */
export class InProcessRoomBus {
  /** @param {{ maxPeersPerRoom: number }} options */
  constructor({ maxPeersPerRoom }) {
    this.maxPeersPerRoom = maxPeersPerRoom;
    /** @type {Map<string, Map<string, MemberInbox>>} room → peer → inbox */
    this.rooms = new Map();
  }

  ready() {
    return Promise.resolve();
  }

  /** @param {string} room @param {string} peer @param {MemberInbox} inbox */
  join(room, peer, inbox) {
    const members = this.rooms.get(room) ?? new Map();
    if (members.has(peer)) return Promise.resolve({ refused: JoinRefusal.peerIdTaken });
    if (members.size >= this.maxPeersPerRoom) return Promise.resolve({ refused: JoinRefusal.roomFull });
    const peers = [...members.keys()];
    members.set(peer, inbox);
    this.rooms.set(room, members);
    deliverAll(members, peer, { type: 'peer-joined', peer });
    return Promise.resolve({ peers });
  }

  /** @param {string} room @param {string} peer @param {string} reason */
  leave(room, peer, reason) {
    const members = this.rooms.get(room);
    if (members?.delete(peer)) {
      if (members.size === 0) this.rooms.delete(room);
      else deliverAll(members, peer, { type: 'peer-left', peer, reason });
    }
    return Promise.resolve();
  }

  /** @param {string} room @param {string} from @param {string} to @param {unknown} data */
  signal(room, from, to, data) {
    const inbox = this.rooms.get(room)?.get(to);
    inbox?.({ type: 'signal', from, data });
    return Promise.resolve(inbox !== undefined);
  }

  /** @param {string} room */
  members(room) {
    return Promise.resolve([...(this.rooms.get(room)?.keys() ?? [])]);
  }

  close() {
    this.rooms.clear();
    return Promise.resolve();
  }
}

/** @param {Map<string, MemberInbox>} members @param {string} except @param {MemberEvent} event */
function deliverAll(members, except, event) {
  // A copy: an inbox may make its member leave (a slow reader is dropped while being written to).
  for (const [peer, inbox] of [...members]) if (peer !== except) inbox(event);
}
