import { nanoid } from 'nanoid';

/**
 * Characters of a device id: the leading part of every node id a device's tabs use in a room
 * (`DeviceIdentity.deviceId`, base64url of 192 bits of a hash of its public key). Repeated here,
 * not imported, because the domain layer sits below security; the two must stay equal.
 */
export const DEVICE_ID_CHARS = 32;

/** Random characters after the device id in an owned oid (nanoid's default: 126 bits). */
export const OWNED_OID_RANDOM_CHARS = 21;

/** Characters of an owned oid: device id plus random part (53, within `OID_PATTERN`'s 64). */
export const OWNED_OID_CHARS = DEVICE_ID_CHARS + OWNED_OID_RANDOM_CHARS;

const RANDOM_PART = new RegExp(`^[A-Za-z0-9_-]{${OWNED_OID_RANDOM_CHARS}}$`);

/**
 * The device a node id belongs to: its first `DEVICE_ID_CHARS` characters, which in a room session
 * are proven by the device's key (every tab of one device shares them). Undefined for shorter ids,
 * which no device key stands behind.
 */
export function deviceOf(node: string): string | undefined {
  return node.length >= DEVICE_ID_CHARS ? node.slice(0, DEVICE_ID_CHARS) : undefined;
}

/**
 * A new oid owned by `node`'s device: the device id followed by 21 random characters. Registers
 * keep only the last write, so who created an entity cannot be read back from merged state; an
 * oid never changes, so writing the owner into it lets every replica decide, from the change
 * alone and in any arrival order, whether an author may touch the entity.
 */
export function ownedOid(node: string, random: string = nanoid()): string {
  const device = deviceOf(node);
  if (device === undefined) throw new Error(`node id ${JSON.stringify(node)} has no device id (it needs ${DEVICE_ID_CHARS} characters or more)`);
  if (!RANDOM_PART.test(random)) throw new Error(`the random part of an owned oid must be ${OWNED_OID_RANDOM_CHARS} URL-safe characters`);
  return device + random;
}

/** The device owning an oid made by `ownedOid`; undefined for any other oid (nobody owns it). */
export function ownerOf(oid: string): string | undefined {
  return oid.length === OWNED_OID_CHARS ? oid.slice(0, DEVICE_ID_CHARS) : undefined;
}
