import type { ConceptDeclaration } from '../../domain/index.js';

/** Longest room name. */
export const MAX_ROOM_NAME_LENGTH = 100;
/** Longest room description. */
export const MAX_ROOM_DESCRIPTION_LENGTH = 1000;
/** Longest display name a member gives itself (peers see it next to everything it did). */
export const MAX_MEMBER_NAME_LENGTH = 64;

/**
 * The room itself and the people in it, declared apart from the elections so the two can grow
 * separately. Both follow the election roles: each entity belongs to the device whose id starts
 * its oid, and only that device writes it.
 *
 * - `Room`: the room's shared name and description. Its oid is the room id itself, which for
 *   rooms made since names are shared is an owned oid (the creating device's id and 21 random
 *   characters), so the creator alone can name the room and every replica knows which entity is
 *   the room's without asking anyone. Rooms with older (shorter) ids have no owner and so no
 *   shared name.
 * - `Member`: one per device (its oid is the device id and a fixed suffix, see `memberOid`), the
 *   display name this device gives itself. Kept in the room, so names stay after a device leaves.
 */
export const roomConcepts: Readonly<Record<string, ConceptDeclaration>> = {
  Room: {
    attributes: {
      name: { type: 'string', required: true, min: 1, max: MAX_ROOM_NAME_LENGTH },
      description: { type: 'string', max: MAX_ROOM_DESCRIPTION_LENGTH },
    },
  },
  Member: {
    attributes: {
      name: { type: 'string', required: true, min: 1, max: MAX_MEMBER_NAME_LENGTH },
    },
  },
};
