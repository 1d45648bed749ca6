import { ElectoralSystemModel } from '../models/electoral/index.js';
import { BroadcastChannelTransport } from '../net/broadcast-channel-transport.js';
import { LocalNetworkDiscovery } from '../net/local-network-discovery.js';
import { ServerBasedDiscovery, signalingUrl } from '../net/server-based-discovery.js';
import { EDNetP2PNode } from '../node/ednet-p2p-node.js';
import type { NodeStatus } from '../node/node-events.js';
import {
  IndexedDbStorageAdapter,
  ModelPersistence,
  NodeIdentity,
  exportRoom,
  importRoom,
  requestPersistentStorage,
  roomFileBlob,
  type StorageAdapter,
} from '../store/index.js';
import type { RoomRef, RoomSession } from './room-session.js';

/** The id under which a room's election model is stored and synced. */
export const ELECTORAL_MODEL_ID = 'electoral';

/** Options of `openRoomSession`. */
export interface OpenRoomSessionOptions {
  /** The signaling server; default the one serving the app (`/signaling` on the same host). Null: none. */
  readonly signalingUrl?: string | null;
  /** STUN/TURN servers for devices on other networks. Default none (peers on one network). */
  readonly iceServers?: RTCIceServer[];
  /** The room's storage; default its IndexedDB database. */
  readonly storage?: StorageAdapter;
  /** Stored as the user's display name; default the one kept in this browser. */
  readonly displayName?: string | null;
}

const DISPLAY_NAME_KEY = 'ednet-p2p/display-name';
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Opens a room in this tab, in the order that loses nothing: storage first (problems reported,
 * never fatal), then this tab's node identity and sequence reservation, then the model loaded from
 * storage — and only then the network, so peers are sent deltas against what this tab really holds.
 */
export async function openRoomSession(room: RoomRef, options: OpenRoomSessionOptions = {}): Promise<RoomSession> {
  if (!ROOM_ID.test(room.roomId)) throw new TypeError(`"${room.roomId}" is not a room id`);
  const storage = options.storage ?? new IndexedDbStorageAdapter({ roomId: room.roomId });
  const cleanups: Array<() => void> = [];
  try {
    const identity = await NodeIdentity.claim(storage);
    cleanups.push(() => identity.release());
    const model = new ElectoralSystemModel({ modelId: ELECTORAL_MODEL_ID, nodeId: identity.nodeId, firstSeq: identity.firstSeq });
    const persistence = new ModelPersistence(model, storage, { identity });
    cleanups.push(() => persistence.close());
    await persistence.load();
    const metadata = await storage.readMetadata();
    const ackKey = acknowledgementKey(ELECTORAL_MODEL_ID, identity.nodeId);

    const topic = await roomTopic(room.roomId);
    const url = options.signalingUrl === undefined ? defaultSignalingUrl() : options.signalingUrl;
    const server = url ? new ServerBasedDiscovery({ url, room: topic, nodeId: identity.nodeId }) : undefined;
    const local = new LocalNetworkDiscovery({ room: topic, nodeId: identity.nodeId });
    // Tabs of one browser talk over BroadcastChannel: it needs no server and is preferred.
    const transports = [new BroadcastChannelTransport({ localId: identity.nodeId, room: topic })];
    const node = new EDNetP2PNode({
      nodeId: identity.nodeId,
      transports,
      discoveries: server ? [local, server] : [local],
      signaling: server,
      displayName: options.displayName ?? readDisplayName(),
    });
    node.registerDomainModel(ELECTORAL_MODEL_ID, model, {
      persistence,
      acknowledgedOwnSeq: metadata.acknowledgedOwnSeq?.[ackKey] ?? 0,
    });
    cleanups.push(storage.onProblem((problem) => node.setStorageError(problem.message)));
    node.setPersistence(persistenceState(metadata.persistenceGranted));
    void requestPersistentStorage(storage)
      .then((granted) => node.setPersistence(persistenceState(granted)))
      .catch(() => undefined);

    // Remember what peers confirmed, so a reload does not count those changes as unsent again.
    let savedAck = metadata.acknowledgedOwnSeq?.[ackKey] ?? 0;
    cleanups.push(
      node.events.on('status-changed', () => {
        const ack = node.acknowledgedOwnSeq(ELECTORAL_MODEL_ID);
        if (ack <= savedAck) return;
        savedAck = ack;
        storage.writeMetadata({ acknowledgedOwnSeq: { ...metadata.acknowledgedOwnSeq, [ackKey]: ack } }).catch(() => undefined);
      }),
    );
    await node.start();

    let closed = false;
    const session: RoomSession = {
      room,
      node,
      model,
      get status(): NodeStatus {
        return node.status;
      },
      onStatus: (listener) => node.events.on('status-changed', ({ status }) => listener(status)),
      setDisplayName(name) {
        node.setDisplayName(name);
        writeDisplayName(node.displayName);
      },
      setWorkOffline(offline) {
        void node.setWorkOffline(offline);
      },
      exportRoom: async () => roomFileBlob(exportRoom(room.roomId, node.registry.all())),
      importRoom: (file) => importRoom(file, node.registry, { roomId: room.roomId }),
      async close() {
        if (closed) return;
        closed = true;
        await persistence.whenSaved().catch(() => undefined);
        await node.stop();
        for (const cleanup of cleanups.reverse()) cleanup();
        storage.close();
      },
    };
    return session;
  } catch (error) {
    for (const cleanup of cleanups.reverse()) cleanup();
    storage.close();
    throw error;
  }
}

/**
 * The topic the signaling server and other tabs know the room by: a hash, so the server never
 * learns the room id. (Deriving it from the room secret as well is the security layer's job.)
 */
async function roomTopic(roomId: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`ednet-p2p/room/${roomId}`));
  return base64url(new Uint8Array(digest)).slice(0, 43);
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function defaultSignalingUrl(): string | null {
  return typeof location === 'undefined' || !/^https?:$/.test(location.protocol) ? null : signalingUrl(location);
}

function acknowledgementKey(modelId: string, nodeId: string): string {
  return `${modelId}@${nodeId}`;
}

function persistenceState(granted: boolean | 'unsupported' | undefined): NodeStatus['persistence'] {
  if (granted === undefined) return 'unknown';
  if (granted === 'unsupported') return 'unsupported';
  return granted ? 'granted' : 'denied';
}

function readDisplayName(): string | null {
  try {
    return localStorage.getItem(DISPLAY_NAME_KEY);
  } catch {
    return null; // Storage disabled: the name lasts for this session only.
  }
}

function writeDisplayName(name: string | null): void {
  try {
    if (name) localStorage.setItem(DISPLAY_NAME_KEY, name);
    else localStorage.removeItem(DISPLAY_NAME_KEY);
  } catch {
    // Storage disabled: see readDisplayName.
  }
}
