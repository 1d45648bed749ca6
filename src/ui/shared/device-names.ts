import { type DomainModel, deviceOf } from '../../domain/index.js';
import { memberNames } from '../../models/electoral/index.js';

/** A connected peer as far as naming goes: its node id and the name it gave on connecting, if any. */
export interface NamedPeer {
  readonly peerId: string;
  readonly displayName: string | null;
}

/**
 * The name a device goes by: the one it shares with the room (its `Member` entity, kept after it
 * disconnects), else the one a connected tab of it gave, else undefined. Peers' own words: render
 * them as text only.
 */
export function deviceDisplayName(model: DomainModel | undefined, peers: readonly NamedPeer[], deviceId: string | undefined): string | undefined {
  if (deviceId === undefined) return undefined;
  const shared = model ? memberNames(model).get(deviceId) : undefined;
  if (shared) return shared;
  return peers.find((peer) => deviceOf(peer.peerId) === deviceId && peer.displayName)?.displayName ?? undefined;
}
