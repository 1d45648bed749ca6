import { type CRDTEntity, type DomainModel, OWNED_OID_CHARS, ValidationError, deviceOf, ownerOf } from '../../domain/index.js';
import { ElectionRoles } from './electoral-schema.js';
import type { ElectoralSystemModel } from './electoral-system-model.js';
import { MAX_MEMBER_NAME_LENGTH, MAX_ROOM_DESCRIPTION_LENGTH, MAX_ROOM_NAME_LENGTH } from './room-schema.js';

/**
 * The random part of every `Member` oid: fixed, so each device has exactly one member entity in a
 * room (every tab of the device writes the same one) and every replica can find it from the id.
 */
export const MEMBER_OID_SUFFIX = 'member000000000000000';

/** The room's shared name and description, as its creator wrote them. */
export interface RoomInfo {
  readonly name: string;
  readonly description: string;
  /** The device that created the room (the only one that may rename it). */
  readonly creator: string;
}

/** What `setRoomInfo` takes. */
export interface RoomInfoInput {
  readonly name: string;
  readonly description?: string;
}

/** The device that created the room: the one whose id starts the room id, if it is an owned oid. */
export function roomCreatorOf(roomId: string): string | undefined {
  return ownerOf(roomId);
}

/** The oid of a device's `Member` entity. */
export function memberOid(deviceId: string): string {
  return deviceId + MEMBER_OID_SUFFIX;
}

/** The room's shared name and description, if its creator gave one. */
export function roomInfoOf(model: ElectoralSystemModel, roomId: string): RoomInfo | undefined {
  const creator = roomCreatorOf(roomId);
  const room = model.get(roomId);
  if (creator === undefined || room?.concept !== 'Room') return undefined;
  return { name: String(room.getAttribute('name') ?? ''), description: String(room.getAttribute('description') ?? ''), creator };
}

/** True if this replica may name the room: its device created it (rooms with older ids have no shared name). */
export function canNameRoom(model: ElectoralSystemModel, roomId: string): boolean {
  const creator = roomCreatorOf(roomId);
  return creator !== undefined && (model.roles === ElectionRoles.open || creator === model.deviceId);
}

/**
 * The creator names the room (and describes it): an ordinary edit, synced and undone like any
 * other. Throws `ValidationError` for anyone else, or for a name that is empty or too long.
 */
export function setRoomInfo(model: ElectoralSystemModel, roomId: string, input: RoomInfoInput): CRDTEntity {
  if (!canNameRoom(model, roomId))
    throw new ValidationError(
      'Room',
      undefined,
      'owner',
      roomCreatorOf(roomId) === undefined ? 'this room was made before rooms had shared names' : 'only the device that created the room can rename it',
    );
  const values = { name: input.name.replace(/\s+/g, ' ').trim().slice(0, MAX_ROOM_NAME_LENGTH), description: (input.description ?? '').trim().slice(0, MAX_ROOM_DESCRIPTION_LENGTH) };
  const existing = model.get(roomId, { includeDeleted: true });
  if (!existing) return model.create('Room', values, { oid: roomId });
  if (existing.concept !== 'Room') throw new ValidationError('Room', undefined, 'exists', `${roomId} is a ${existing.concept}, not the room`);
  model.restore(roomId);
  model.update(roomId, values);
  return model.get(roomId)!;
}

/**
 * Display names of the room's members by device id: each device's own `Member` entity (other
 * entities of the concept are ignored, so a device cannot name itself twice). Names are peers'
 * text: render them as text only.
 */
export function memberNames(model: DomainModel): ReadonlyMap<string, string> {
  const names = new Map<string, string>();
  if (!model.schema.concepts.has('Member')) return names;
  for (const member of model.entities('Member')) {
    const device = ownerOf(member.oid);
    const name = member.getAttribute('name');
    if (device !== undefined && member.oid.length === OWNED_OID_CHARS && member.oid.endsWith(MEMBER_OID_SUFFIX) && typeof name === 'string' && name)
      names.set(device, name);
  }
  return names;
}

/**
 * Shares this device's display name with the room (an empty name removes it). Writes only when it
 * differs from what the room holds; returns whether it wrote. False without a device id (open
 * roles without device identities have no members).
 */
export function setMemberName(model: ElectoralSystemModel, name: string): boolean {
  const device = model.deviceId ?? deviceOf(model.nodeId);
  if (device === undefined || model.roles !== ElectionRoles.enforced) return false;
  const oid = memberOid(device);
  const clean = name.replace(/\s+/g, ' ').trim().slice(0, MAX_MEMBER_NAME_LENGTH);
  const existing = model.get(oid, { includeDeleted: true });
  if (!clean) return existing && !existing.isDeleted ? model.delete(oid) : false;
  if (!existing) {
    model.create('Member', { name: clean }, { oid });
    return true;
  }
  const restored = model.restore(oid);
  if (!restored && existing.getAttribute('name') === clean) return false;
  model.update(oid, { name: clean });
  return true;
}
