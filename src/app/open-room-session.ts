import type { NodeId } from '../crdt/index.js';
import { deviceOf, ownedOid, ownerOf, workSlicer } from '../domain/index.js';
import { type ElectionKeyStore, ElectoralSystemModel, setMemberName } from '../models/electoral/index.js';
import { BroadcastChannelTransport } from '../net/broadcast-channel-transport.js';
import { IceServerSource } from '../net/ice-server-source.js';
import { LocalNetworkDiscovery } from '../net/local-network-discovery.js';
import { ServerBasedDiscovery, signalingUrl } from '../net/server-based-discovery.js';
import type { PeerDiscovery } from '../net/peer-discovery.js';
import type { Transport } from '../net/transport.js';
import { EDNetP2PNode } from '../node/ednet-p2p-node.js';
import { FallbackSignalingChannel, RelayedSignaling } from '../overlay/index.js';
import type { NodeStatus } from '../node/node-events.js';
import {
  DeviceIdentity,
  EncryptedSignalingChannel,
  authenticateConnection,
  deriveRoomKeys,
  encryptedBroadcastChannel,
  signalingProof,
  generateRoomSecret,
} from '../security/index.js';
// From their modules, not the store's index: the index also names room-file.ts, which would then
// ship in this chunk instead of loading on first use.
import { IndexedDbDeviceKeyStore } from '../store/indexeddb-device-key-store.js';
import { IndexedDbElectionKeyStore } from '../store/indexeddb-election-key-store.js';
import { IndexedDbStorageAdapter } from '../store/indexeddb-storage-adapter.js';
import { ModelPersistence } from '../store/model-persistence.js';
import { NodeIdentity } from '../store/node-identity.js';
import { requestPersistentStorage } from '../store/persistent-storage.js';
import type { StorageAdapter } from '../store/storage-adapter.js';
import { useElectionKeyStore } from '../ui/elections/election-keys.js';
import { DeferredWebRtcTransport } from './deferred-webrtc-transport.js';
import { DisplayNameStore } from './display-name-store.js';
import { lazyModule } from './lazy-module.js';
import { ROOM_ID_PATTERN } from './room-link.js';
import type { RoomRef, RoomSession } from './room-session.js';


/** Room files (export and import) load on first use: most visits never make or read one. */
const loadRoomFile = lazyModule('Room export and import', () => import('../store/room-file.js'));

/** The id under which a room's election model is stored and synced. */
export const ELECTORAL_MODEL_ID = 'electoral';

/** How long acknowledgements of own edits gather before the latest is written to the room's metadata. */
const ACK_SAVE_DELAY_MS = 500;

/** Options of `openRoomSession`. */
export interface OpenRoomSessionOptions {
  /**
   * The signaling server; default the one serving the app (`/signaling` on the same host). Several
   * URLs: whichever answers is used (see `ServerBasedDiscoveryOptions.urls`). Null: none.
   */
  readonly signalingUrl?: string | readonly string[] | null;
  /**
   * STUN/TURN servers for devices on other networks. Default: those the app's server offers at
   * `/ice-servers` (none unless it is configured: peers on one network).
   */
  readonly iceServers?: RTCIceServer[];
  /** Where to ask for the ICE servers when `iceServers` is not given. Default `/ice-servers` of the page's origin; null: nowhere. */
  readonly iceServersUrl?: string | null;
  /** The room's storage; default its IndexedDB database. */
  readonly storage?: StorageAdapter;
  /**
   * Also find and reach tabs of this browser over BroadcastChannel (no server needed). Default
   * true; tests turn it off to force WebRTC between pages of one browser.
   */
  readonly localTabs?: boolean;
  /** Stored as the user's display name; default the one kept in this browser. */
  readonly displayName?: string | null;
  /** Where this device keeps the keys of sealed voting rounds it opens; default IndexedDB (one database per origin). */
  readonly electionKeys?: ElectionKeyStore;
  /**
   * Asked just before the network starts: true starts the room working offline, so nothing is
   * sent or received until `setWorkOffline(false)`. The choice belongs to the device (its tabs
   * share the room's storage): a tab opening online first would send what the others kept back.
   */
  readonly workOffline?: () => boolean;
}


/**
 * Opens a room in this tab, in the order that loses nothing: storage first (problems reported,
 * never fatal; damaged records are kept aside, not a reason to refuse the room), then this tab's node identity and sequence reservation, then the model loaded from
 * storage with its change certificates — and only then the network, so peers are sent deltas
 * against what this tab really holds.
 */
/**
 * Marks each step of opening a session on the performance timeline (`ednet:open:<step>`), so the
 * way into a room can be taken apart where it is slow (bench/join.bench.js reads them). A mark
 * costs microseconds; the timeline keeps at most a few per session.
 */
function openingMark(step: string): void {
  globalThis.performance?.mark?.(`ednet:open:${step}`);
}

export async function openRoomSession(room: RoomRef, options: OpenRoomSessionOptions = {}): Promise<RoomSession> {
  if (!ROOM_ID_PATTERN.test(room.roomId)) throw new TypeError(`"${room.roomId}" is not a room id`);
  if (options.localTabs === false && (options.signalingUrl === null || options.signalingUrl?.length === 0)) throw new Error('a room needs a signaling server or local tabs to reach peers');
  const storage = options.storage ?? new IndexedDbStorageAdapter({ roomId: room.roomId });
  useElectionKeyStore(options.electionKeys ?? new IndexedDbElectionKeyStore());
  const cleanups: Array<() => void> = [];
  // Fetched while storage loads; peer connections read whatever is current when they are made.
  const iceUrl = options.iceServers ? null : options.iceServersUrl === undefined ? defaultIceServersUrl() : options.iceServersUrl;
  const ice = iceUrl ? new IceServerSource({ url: iceUrl }) : undefined;
  const iceFetched = ice?.start();
  if (ice) cleanups.push(() => ice.stop());
  try {
    // A bad secret fails here, before anything is stored or sent.
    const keys = await deriveRoomKeys(room.roomId, room.secret);
    openingMark('keys');
    const device = await DeviceIdentity.load(new IndexedDbDeviceKeyStore());
    openingMark('device');
    const identity = await NodeIdentity.claim(storage, {
      newNodeId: () => device.newNodeId(),
      canReuse: (nodeId) => device.ownsNodeId(nodeId),
    });
    cleanups.push(() => identity.release());
    openingMark('identity');
    const names = new DisplayNameStore();
    // Own seqs continue after the highest one stored: an edit leaves this device only once stored
    // (see `ModelPersistence.claimableVersion`), so one lost in a crash was never seen elsewhere.
    const model = new ElectoralSystemModel({ modelId: ELECTORAL_MODEL_ID, nodeId: identity.nodeId });

    const topic = keys.topic;
    let node: EDNetP2PNode | undefined;
    // The topic comes from the key, so a message under it that the key does not open was sent by
    // someone who learned the topic (the server, or a device with a rotated-away key): a neutral
    // line in the Audit tab, never an alert on a member's screen. The device whose key is wrong
    // meets nobody and is told so where it waits (ednet-room-arrival).
    const keyMismatch = (from: NodeId): void => node?.noteOtherKey(from);
    // Every tab-to-tab message is sealed with the room key. The channel is named after the topic,
    // so a tab of another key is never on it; what fails to open there came from a script of this
    // origin, names no sender, and is only logged.
    const BroadcastChannelImpl = encryptedBroadcastChannel(keys);
    const url = options.signalingUrl === undefined ? defaultSignalingUrl() : options.signalingUrl;
    const urls = typeof url === 'string' ? (url ? [url] : []) : (url ?? []);
    const server =
      urls.length > 0 ? new ServerBasedDiscovery({ urls, room: topic, nodeId: identity.nodeId, proveDevice: signalingProof(device) }) : undefined;
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
    // Offers, answers and candidates are sealed end to end: neither the server nor the members
    // relaying them (when the server does not list the peer, or is down) can read or swap them.
    const relayed = new RelayedSignaling();
    if (server) {
      const fallback = new FallbackSignalingChannel(server, relayed);
      const signaling = new EncryptedSignalingChannel(fallback, identity.nodeId, keys);
      cleanups.push(signaling.onKeyMismatch((rejection) => keyMismatch(rejection.from)), () => signaling.close(), () => fallback.close());
      // Its code loads once another device is around (connected to, or signalling).
      const webrtc = new DeferredWebRtcTransport({
        localId: identity.nodeId,
        signaling,
        iceServers: options.iceServers ?? [],
        iceConfiguration: ice ? () => ice.current() : undefined,
      });
      cleanups.push(webrtc.onUnreachable(({ problem }) => node?.setConnectionProblem(`Could not reach a device of this room: ${problem}.`)));
      transports.push(webrtc);
    }
    node = new EDNetP2PNode({
      nodeId: identity.nodeId,
      transports,
      discoveries,
      signaling: server,
      relayedSignaling: relayed,
      // Tabs of this browser are reached over BroadcastChannel only when it lists them.
      relayedTransports: ['webrtc'],
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
    // The digest of what was loaded is needed by the first hello; hashing a large room at once
    // would hold the page, so it is brought up to date a slice per task now.
    const slicer = workSlicer();
    while (!model.refreshDigest(slicer.itemsPerSlice)) await slicer.pause();
    openingMark('loaded');
    const metadata = await storage.readMetadata();
    // Held before: created here (the room id names its creator), a peer met once, or others' data
    // stored (this device's own edits, such as its name, do not make it hold the room).
    let held =
      metadata.firstPeerAt !== undefined || ownerOf(room.roomId) === device.deviceId || [...model.version.nodes()].some((node) => deviceOf(node) !== device.deviceId);
    // Damaged records found so far (identity, metadata, the model's records) were worked around;
    // the node keeps them as state, so the status bar and Audit tab show them whenever they mount.
    node.reportStorageProblems(storage.problems);
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
    // Written at most once per ACK_SAVE_DELAY_MS, the latest figure: written on every ack, each
    // acknowledged edit cost two more transactions (one a durable commit) beside its own save. A
    // figure not yet written when the page goes only makes a reload count those changes as unsent.
    let savedAck = metadata.acknowledgedOwnSeq?.[ackKey] ?? 0;
    let ackTimer: ReturnType<typeof setTimeout> | undefined;
    const writeAck = (): void => {
      ackTimer = undefined;
      const ack = node.acknowledgedOwnSeq(ELECTORAL_MODEL_ID);
      if (ack <= savedAck) return;
      savedAck = ack;
      // Other tabs keep their own entries in the same record: read it again just before writing.
      storage
        .readMetadata()
        .then((now) => storage.writeMetadata({ acknowledgedOwnSeq: { ...now.acknowledgedOwnSeq, [ackKey]: ack } }))
        .catch(() => undefined);
    };
    cleanups.push(
      node.events.on('status-changed', () => {
        if (ackTimer === undefined && node.acknowledgedOwnSeq(ELECTORAL_MODEL_ID) > savedAck) ackTimer = setTimeout(writeAck, ACK_SAVE_DELAY_MS);
      }),
      () => clearTimeout(ackTimer),
    );
    if (!held) {
      const stopWatching = node.events.on('status-changed', ({ status }) => {
        if (held || status.peers.length === 0) return;
        held = true;
        stopWatching();
        storage.writeMetadata({ firstPeerAt: Date.now() }).catch(() => undefined);
      });
      cleanups.push(stopWatching);
    }
    openingMark('registered');
    await iceFetched;
    openingMark('ice');
    // From reading the metadata to the room's first render, the opening was one task of 100 ms
    // and more on a slow phone (registering, starting the network, rendering): a new task for
    // the network's start, and one for the caller's first render of the room.
    await slicer.pause();
    if (options.workOffline?.()) await node.setWorkOffline(true);
    await node.start();
    openingMark('started');
    await slicer.pause();

    let closed = false;
    const session: RoomSession = {
      room,
      node,
      model,
      get status(): NodeStatus {
        return node.status;
      },
      get held(): boolean {
        return held;
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
      // A room file leaves the device like a delta: only once what it holds is stored.
      exportRoom: async () => {
        const { exportRoom, roomFileBlob } = await loadRoomFile();
        await persistence.whenSaved();
        return roomFileBlob(exportRoom(room.roomId, node.registry.all(), { certification: node.sync.certification }));
      },
      // A file is untrusted: every item in it must carry its author's valid signature.
      importRoom: async (file) => (await loadRoomFile()).importRoom(file, node.registry, { roomId: room.roomId, certification: node.sync.certification }),
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

function defaultIceServersUrl(): string | null {
  return typeof location === 'undefined' || !/^https?:$/.test(location.protocol) ? null : new URL('/ice-servers', location.href).href;
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
  const device = await DeviceIdentity.load(new IndexedDbDeviceKeyStore());
  return { roomId: ownedOid(device.deviceId), secret: generateRoomSecret() };
}
