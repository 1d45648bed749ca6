// Who may join a room under which id (docs/protocol.md, `join`): the checks that keep one client
// from taking another's id or filling a room. Kept apart from the hub that routes frames.
import { ErrorCode } from '../src/protocol/signaling-protocol.js';
import { peerBelongsTo } from './device-proof.js';

/**
 * What the hub needs to know of a connection to admit it.
 * @typedef {{ deviceId: string | undefined, address: string }} Applicant
 */

/**
 * Decides a `join` of `peer` into a room whose members are `members` (peer id → connection):
 * admitted (`{}`), admitted in place of a stale connection of the same device (`{ replaces }`),
 * or refused with an error frame's code and message.
 * @template {Applicant} C
 * @param {{ connection: C, peer: string, room: string, members: Map<string, C> | undefined, requireDeviceProof: boolean, maxPeersPerRoom: number, maxPeersPerAddress: number }} request
 * @returns {{ replaces?: C } | { code: string, message: string }}
 */
export function admitJoin({ connection, peer, room, members, requireDeviceProof, maxPeersPerRoom, maxPeersPerAddress }) {
  const { deviceId } = connection;
  if (deviceId === undefined && requireDeviceProof) {
    return { code: ErrorCode.notAuthenticated, message: 'prove your device first: answer the welcome challenge with an auth frame' };
  }
  if (deviceId !== undefined && !peerBelongsTo(peer, deviceId)) {
    return { code: ErrorCode.notYourId, message: `peer id ${peer} does not belong to the device key this connection proved` };
  }
  const holder = members?.get(peer);
  if (holder !== undefined && holder !== connection) {
    // The same device proved itself again (it reloaded, or its old socket is not dead yet): the
    // id is its own, so the new connection takes it. Without proof, first come keeps it.
    if (deviceId !== undefined && holder.deviceId === deviceId) return { replaces: holder };
    return { code: ErrorCode.peerIdTaken, message: `peer ${peer} is already in room ${room} on another connection` };
  }
  if (members && members.size >= maxPeersPerRoom) {
    return { code: ErrorCode.roomFull, message: `room ${room} holds at most ${maxPeersPerRoom} peers` };
  }
  let fromAddress = 0;
  for (const member of members?.values() ?? []) if (member.address === connection.address) fromAddress++;
  if (fromAddress >= maxPeersPerAddress) {
    return { code: ErrorCode.tooManyFromAddress, message: `at most ${maxPeersPerAddress} peers of one room may connect from one address` };
  }
  return {};
}
