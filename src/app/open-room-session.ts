import { ownedOid } from '../domain/index.js';
import { ElectoralSystemModel, setMemberName } from '../models/electoral/index.js';
import { BroadcastChannelTransport } from '../net/broadcast-channel-transport.js';
import { LocalNetworkDiscovery } from '../net/local-network-discovery.js';
import { ServerBasedDiscovery, signalingUrl } from '../net/server-based-discovery.js';
import type { PeerDiscovery } from '../net/peer-discovery.js';
import type { Transport } from '../net/transport.js';
import { WebRtcTransport } from '../net/webrtc-transport.js';
import { EDNetP2PNode } from '../node/ednet-p2p-node.js';
import type { NodeStatus } from '../node/node-events.js';
import {
  DeviceIdentity,
  EncryptedSignalingChannel,
  OpenFailureKind,
  authenticateConnection,
  deriveRoomKeys,
  encryptedBroadcastChannel,
  generateRoomSecret,
} from '../security/index.js';
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
import { DisplayNameStore } from './display-name-store.js';
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
  /**
   * Also find and reach tabs of this browser over BroadcastChannel (no server needed). Default
   * true; tests turn it off to force WebRTC between pages of one browser.
   */
  readonly localTabs?: boolean;
  /** Stored as the user's display name; default the one kept in this browser. */
  readonly displayName?: string | null;
}

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Opens a room in this tab, in the order that loses nothing: storage first (problems reported,
 * never fatal), then this tab's node identity and sequence reservation, then the model loaded from
 * storage with its change certificates — and only then the network, so peers are sent deltas
 * against what this tab really holds.
 */
export async function openRoomSession(room: RoomRef, options: OpenRoomSessionOptions = {}): Promise<RoomSession> {
  if (!ROOM_ID.test(room.roomId)) throw new TypeError(`"${room.roomId}" is not a room id`);
  if (options.localTabs === false && options.signalingUrl === null) throw new Error('a room needs a signaling server or local tabs to reach peers');
  const storage = options.storage ?? new IndexedDbStorageAdapter({ roomId: room.roomId });
  const cleanups: Array<() => void> = [];
  try {
    // A bad secret fails here, before anything is stored or sent.
    const keys = await deriveRoomKeys(room.roomId, room.secret);
    const device = await DeviceIdentity.load();
    const identity = await NodeIdentity.claim(storage, {
      newNodeId: () => device.newNodeId(),
      canReuse: (nodeId) => device.ownsNodeId(nodeId),
    });
    cleanups.push(() => identity.release());
    const names = new DisplayNameStore();
    const model = new ElectoralSystemModel({ modelId: ELECTORAL_MODEL_ID, nodeId: identity.nodeId, firstSeq: identity.firstSeq });

    const topic = keys.topic;
    let node: EDNetP2PNode | undefined;
    const keyMismatch = (): void =>
      node?.setRoomKeyProblem('Wrong or missing room key: another device of this room uses a different link. Ask for a new link.');
    // Every tab-to-tab message is sealed with the room key; a tab of another key is reported.
    const BroadcastChannelImpl = encryptedBroadcastChannel(keys, {
      onRejected: (rejection) => {
        if (rejection.kind === OpenFailureKind.wrongKey || rejection.kind === OpenFailureKind.notSealed) keyMismatch();
      },
    });
    const url = options.signalingUrl === undefined ? defaultSignalingUrl() : options.signalingUrl;
    const server = url ? new ServerBasedDiscovery({ url, room: topic, nodeId: identity.nodeId }) : undefined;
    const localTabs = options.localTabs ?? true;
    const local = localTabs ? new LocalNetworkDiscovery({ room: topic, nodeId: identity.nodeId, BroadcastChannelImpl }) : undefined;
    const discoveries: PeerDiscovery[] = [local, server].filter((discovery) => discovery !== undefined);
    // Tabs of one browser talk over BroadcastChannel: it needs no server and is preferred.
    const transports: Transport[] = [];
    // Closed by `node.stop()` once started; here too if opening fails before that (closing twice is harmless).
    cleanups.push(() => {
      for (const transport of transports) transport.close();
    });
    if (localTabs) transports.push(new BroadcastChannelTransport({ localId: identity.nodeId, room: topic, BroadcastChannelImpl }));
    // Offers, answers and candidates are sealed end to end: the server can neither read nor swap them.
    const signaling = server ? new EncryptedSignalingChannel(server, identity.nodeId, keys) : undefined;
    if (signaling) {
      cleanups.push(signaling.onKeyMismatch(keyMismatch), () => signaling.close());
      transports.push(new WebRtcTransport({ localId: identity.nodeId, signaling, iceServers: options.iceServers ?? [] }));
    }
    node = new EDNetP2PNode({
      nodeId: identity.nodeId,
      transports,
      discoveries,
      signaling: server,
      displayName: options.displayName ?? names.read(),
      // A peer proves with its device key that its node id is its own before any sync message,
      // and every change carries its author's signature, checked before it is applied.
      authenticate: (connection) => authenticateConnection(connection, { identity: device, localId: identity.nodeId }),
      sync: { signer: device },
    });
    // The node is built but not started: nothing is sent or accepted yet. The model is loaded
    // with its certificates before it is registered, because registration signs again every own
    // item it finds without one, and other authors' items without one could never be passed on.
    const persistence = new ModelPersistence(model, storage, {
      identity,
      certificates: node.sync.certification!.store(ELECTORAL_MODEL_ID),
    });
    cleanups.push(() => persistence.close());
    await persistence.load();
    const metadata = await storage.readMetadata();
    const ackKey = acknowledgementKey(ELECTORAL_MODEL_ID, identity.nodeId);
    node.registerDomainModel(ELECTORAL_MODEL_ID, model, {
      persistence,
      acknowledgedOwnSeq: metadata.acknowledgedOwnSeq?.[ackKey] ?? 0,
    });
    // The device's name travels as an ordinary edit of the room (its Member entity), so it stays
    // when this device is gone; written only when the room holds another one.
    const name = options.displayName ?? names.read();
    if (name) setMemberName(model, name);
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
        // Other tabs keep their own entries in the same record: read it again just before writing.
        storage
          .readMetadata()
          .then((now) => storage.writeMetadata({ acknowledgedOwnSeq: { ...now.acknowledgedOwnSeq, [ackKey]: ack } }))
          .catch(() => undefined);
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
        names.write(node.displayName ?? '');
        setMemberName(model, node.displayName ?? '');
      },
      setWorkOffline(offline) {
        void node.setWorkOffline(offline);
      },
      exportRoom: async () => roomFileBlob(exportRoom(room.roomId, node.registry.all(), { certification: node.sync.certification })),
      // A file is untrusted: every item in it must carry its author's valid signature.
      importRoom: (file) => importRoom(file, node.registry, { roomId: room.roomId, certification: node.sync.certification }),
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

/**
 * A new room whose id names this device as its creator (an owned oid: the device id and 21 random
 * characters), so every member can tell who may rename it; with a fresh 256-bit secret.
 */
export async function createOwnedRoom(): Promise<RoomRef> {
  const device = await DeviceIdentity.load();
  return { roomId: ownedOid(device.deviceId), secret: generateRoomSecret() };
}
