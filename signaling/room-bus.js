/**
 * The room bus: where the signaling hub keeps room membership and sends what crosses it, so that
 * several server instances can share rooms. `InProcessRoomBus` holds everything in this process
 * (the default); `RedisRoomBus` shares it between instances through Redis. Both pass
 * test/signaling/room-bus-contract.js. The hub owns the WebSockets; a bus only knows peer ids and the
 * inbox each joined peer gave it.
 *
 * Guarantees every implementation keeps:
 * - A peer id is held by at most one member of a room, across all instances; a room holds at most
 *   `maxPeersPerRoom` members.
 * - A member's inbox receives, in order, exactly what happened in its room after its join took
 *   effect: never its own `peer-joined`, never an event already reflected in its join's `peers`.
 * - Nothing reaches a member's inbox once its `leave` has been called.
 * - A member whose instance stops without leaving is removed after a while (the Redis bus: its
 *   presence expires) and the room is told `peer-left`.
 */

/** Why a join was refused; the hub answers with the error code of the same name. */
export const JoinRefusal = Object.freeze({ peerIdTaken: 'peer-id-taken', roomFull: 'room-full' });

/**
 * What the bus delivers to one member. `evicted`: the bus lost this member (its presence lapsed
 * while Redis was unreachable, for instance); the hub closes the connection so the client joins again.
 * @typedef {{ type: 'peer-joined', peer: string }
 *   | { type: 'peer-left', peer: string, reason: string }
 *   | { type: 'signal', from: string, data: unknown }
 *   | { type: 'evicted', reason: string }} MemberEvent
 */

/** @typedef {(event: MemberEvent) => void} MemberInbox */

/** @typedef {{ peers: string[] } | { refused: 'peer-id-taken' | 'room-full' }} JoinResult */

/**
 * @typedef {object} RoomBus
 * @property {() => Promise<void>} ready Resolves once the bus can serve (connected, subscribed); rejects if it cannot.
 * @property {(room: string, peer: string, inbox: MemberInbox) => Promise<JoinResult>} join Adds `peer` to `room`; `peers` are the others there.
 * @property {(room: string, peer: string, reason: string) => Promise<void>} leave Removes a member this bus added; the others get `peer-left` with `reason`.
 * @property {(room: string, from: string, to: string, data: unknown) => Promise<boolean>} signal Delivers to member `to`; false when no such member.
 * @property {(room: string) => Promise<string[]>} members The peer ids in `room` now.
 * @property {() => Promise<void>} close Removes this bus's remaining members and lets go of its resources.
 */

/** True when `result` is a refusal. @param {JoinResult} result @returns {result is { refused: 'peer-id-taken' | 'room-full' }} */
export function isJoinRefused(result) {
  return 'refused' in result;
}
