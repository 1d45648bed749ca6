import { type NodeId, asNodeId } from '../../../src/crdt/dot.js';
import { DomainModel } from '../../../src/domain/domain-model.js';
import { VersionVector } from '../../../src/crdt/version-vector.js';
import type { EntityState } from '../../../src/domain/model-change.js';
import { ITEMS_PER_SLICE } from '../../../src/domain/work-slicer.js';
import { decodeSyncMessage, isDecodeError } from '../../../src/sync/sync-message.js';
import { MemoryStorageAdapter } from '../../../src/store/memory-storage-adapter.js';
import { ModelPersistence } from '../../../src/store/model-persistence.js';
import { NodeIdentity } from '../../../src/store/node-identity.js';
import { SynchronizationEngine } from '../../../src/sync/synchronization-engine.js';
import { nextMessageTurn } from '../../../src/util/message-turn.js';
import { librarySchema } from '../../domain/library-schema.js';
import { CrashableStorage } from './crashable-storage.js';
import { GroundTruth } from './ground-truth.js';
import { SeededRandom } from './random.js';
import { type SimConnection, SimNetwork } from './sim-network.js';
import { SimSigner } from './sim-signer.js';
import { SimSlicer } from './sim-slicer.js';
import { SimTimers } from './sim-timers.js';

const MODEL = 'library';
/** Clock skew of a node: within ±2 minutes, so two nodes differ by less than the 5 minute bound. */
const MAX_SKEW_MS = 2 * 60_000;
/** Saves never start by themselves (their timers are far away): the simulation triggers them. */
const NEVER_MS = 1_000_000_000;

/** What a seed throws at the system. */
export const FAULT_PROFILES = ['network', 'crash-after-save', 'crash-unsaved', 'storage-failures', 'mixed'] as const;
export type FaultProfile = (typeof FAULT_PROFILES)[number];

/** What is checked at the end of every seed. */
export const CHECKS = [
  /** The run reached a state with nothing in flight, nothing waiting to be saved, within the step bound. */
  'quiesced',
  /** Every replica holds the same entities. */
  'converged',
  /** Every replica holds the same version vector. */
  'versions-equal',
  /** No saved or acknowledged write is missing everywhere unless a write or removal that wins by the documented rule replaced it. */
  'durability',
  /** No register holds two writes of which one had replaced the other (a conflict that is not one). */
  'false-conflicts',
  /** A node says it is in sync with a peer only if both hold the same entities. */
  'honest-in-sync',
  /** Once everything is equal and quiet, every node says it is in sync with every peer. */
  'in-sync-liveness',
  /** Each node's storage, read back, holds what its memory holds. */
  'storage-matches-memory',
  /** No honest node counted an offence against another (all nodes here are honest). */
  'no-offences',
  /** No sequence number of a node is used for two different writes (e.g. by a restart below an unsaved reservation). */
  'seq-reuse',
  /**
   * A node's own changes leave it (in a delta, or covered by any version it sends: hello, version,
   * ack, a delta's context) only once its storage committed them: durable before visible (issue 12).
   */
  'durable-before-visible',
  /** Every hello, version and ack a node sends claims only what its storage had committed then, of any author. */
  'acks-cover-saved',
] as const;
export type CheckName = (typeof CHECKS)[number];

export interface SeedOptions {
  readonly seed: number;
  /** Fault steps before healing. Default 400. */
  readonly steps?: number;
  /** Default: chosen by the seed. */
  readonly profile?: FaultProfile;
  /** Default: chosen by the seed (about a third of seeds sign). */
  readonly signed?: boolean;
  /** 3–7; default chosen by the seed. */
  readonly nodes?: number;
  /** Items per slice of sliced work (receive, verify, save); default chosen by the seed (1–4, or the shipped 250). */
  readonly itemsPerSlice?: number;
  /** Trace lines kept for the failure report. Default 80. */
  readonly traceLines?: number;
}

export interface Failure {
  readonly check: CheckName;
  readonly detail: string;
}

export interface SeedResult {
  readonly seed: number;
  readonly profile: FaultProfile;
  readonly signed: boolean;
  readonly nodes: number;
  readonly itemsPerSlice: number;
  readonly failures: Failure[];
  /** The last steps, for a failure report. */
  readonly trace: string[];
  readonly stats: {
    operations: number;
    crashes: number;
    resets: number;
    partitions: number;
    delivered: number;
    steps: number;
    /** Pauses of sliced work the simulation ended (receive, verification, save reads). */
    slices: number;
    /** Save timers fired. */
    saveTimers: number;
    /** Epidemic broadcast timers fired (announcement rounds, grafts). */
    broadcastTimers: number;
  };
}

/**
 * The profile, signing, node count and slice size a seed uses unless told otherwise. Most seeds
 * cut work into slices of 1–4 items, so the sliced receive, verification and save paths pause
 * often (under the simulation's control); a quarter keep the shipped size, where they never do.
 */
export function seedSetup(seed: number): { profile: FaultProfile; signed: boolean; nodes: number; itemsPerSlice: number } {
  const random = new SeededRandom(seed ^ 0x5eed);
  const signed = random.chance(0.35);
  const nodes = random.int(3, 7);
  const itemsPerSlice = random.chance(0.25) ? ITEMS_PER_SLICE : random.int(1, 4);
  return { profile: FAULT_PROFILES[seed % FAULT_PROFILES.length]!, signed, nodes, itemsPerSlice };
}

/** One simulated device: its storage survives crashes; the rest is one incarnation of the tab. */
class SimNode {
  incarnation = 0;
  /** The first own seq of the current incarnation. */
  firstSeq = 1;
  alive = false;
  storage!: CrashableStorage;
  identity!: NodeIdentity;
  model!: DomainModel;
  engine!: SynchronizationEngine;
  persistence!: ModelPersistence;
  /** The persistence's save timers: the simulation fires them. */
  timers!: SimTimers;
  /** The epidemic broadcast's timers (announcement rounds, grafts): the simulation fires them too. */
  broadcastTimers!: SimTimers;
  /** Pauses of the engine's and the persistence's sliced work: the simulation ends them. */
  slicer!: SimSlicer;
  /** Pauses of certificate verification (counted apart: verification parked here is idle). */
  verifySlicer!: SimSlicer;
  offences: string[] = [];
  /** The version its storage holds (committed merges only). */
  storedVersion = new VersionVector();
  #ids = 0;

  constructor(
    readonly name: string,
    readonly id: NodeId,
    readonly room: MemoryStorageAdapter,
    readonly skewMs: number,
    readonly signer: SimSigner | undefined,
  ) {}

  newId(): string {
    return `${this.name}i${this.incarnation}x${++this.#ids}`;
  }

  /** Sliced work waiting for the simulation to go on. */
  get parked(): number {
    return this.slicer.parked + this.verifySlicer.parked;
  }

  /** Ends one pause of sliced work, picked by `random`. */
  resumeOne(random: SeededRandom): boolean {
    return random.int(1, this.parked) <= this.slicer.parked ? this.slicer.resumeOne(random) : this.verifySlicer.resumeOne(random);
  }

  /** Timers that may fire (saves, broadcast rounds and grafts). */
  get dueTimers(): number {
    return this.timers.due + this.broadcastTimers.due;
  }
}

/** Yields to the event loop once (not clamped like nested `setTimeout`). */
function macrotask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return nextMessageTurn();
}

/** Signature checks under way in any engine (counted by wrapping `certification.prepare`). */
let verifying = 0;

/** Runs one seed and checks the end state. Never throws for a failed check: it reports it. */
export async function runSeed(options: SeedOptions): Promise<SeedResult> {
  const setup = seedSetup(options.seed);
  const profile = options.profile ?? setup.profile;
  const signed = options.signed ?? setup.signed;
  const count = options.nodes ?? setup.nodes;
  const itemsPerSlice = options.itemsPerSlice ?? setup.itemsPerSlice;
  const steps = options.steps ?? 400;
  const random = new SeededRandom(options.seed);
  const truth = new GroundTruth();
  const network = new SimNetwork();
  const trace: string[] = [];
  const traceLines = options.traceLines ?? 80;
  const stats = { operations: 0, crashes: 0, resets: 0, partitions: 0, delivered: 0, steps: 0, slices: 0, saveTimers: 0, broadcastTimers: 0 };
  let step = 0;
  let clock = 1_700_000_000_000;
  let groups: Map<NodeId, number> | null = null;
  const connections = new Map<NodeId, Map<NodeId, SimConnection>>();
  const log = (line: string): void => {
    trace.push(`#${step} ${line}`);
    if (trace.length > traceLines) trace.shift();
  };

  const nodes: SimNode[] = [];
  for (let i = 0; i < count; i++) {
    const name = `n${i}`;
    const signer = signed ? await SimSigner.fromSeed(new SeededRandom(options.seed * 131 + i).bytes(32)) : undefined;
    const id = signer ? signer.nodeId(name) : asNodeId(name);
    nodes.push(new SimNode(name, id, new MemoryStorageAdapter(), random.int(-MAX_SKEW_MS, MAX_SKEW_MS), signer));
  }
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const short = (id: string): string => byId.get(id as NodeId)?.name ?? id;

  const idle = async (): Promise<void> => {
    for (let i = 0; i < 10_000; i++) {
      await (i < 100 ? macrotask() : new Promise((resolve) => setTimeout(resolve, 1)));
      if (SimSigner.signing === 0 && verifying === 0) return;
    }
    throw new Error(`signing (${SimSigner.signing}) or verification (${verifying}) never finished`);
  };

  // Runs `promise` to the end, committing the node's storage writes it waits for.
  const drive = async <T>(node: SimNode, promise: Promise<T>): Promise<T> => {
    let done = false;
    const result = promise.finally(() => (done = true));
    while (!done) {
      await idle();
      if (done || (await node.storage.commitNext())) continue;
      if (node.parked > 0) node.resumeOne(random);
      else await macrotask();
    }
    return result;
  };

  const start = async (node: SimNode): Promise<void> => {
    node.incarnation++;
    node.storage = new CrashableStorage(node.room.openAnother(), (entities, version) => {
      truth.noteSaved(entities);
      node.storedVersion = node.storedVersion.mergeWith(version);
    });
    node.storedVersion = (await node.room.load(MODEL)).version;
    node.timers = new SimTimers(NEVER_MS);
    node.broadcastTimers = new SimTimers(NEVER_MS);
    node.slicer = new SimSlicer(itemsPerSlice);
    // Verification parked between slices waits for the simulation, not for crypto: idle.
    node.verifySlicer = new SimSlicer(itemsPerSlice, { parked: () => verifying--, resumed: () => verifying++ });
    node.identity = await drive(node, NodeIdentity.claim(node.storage, { newNodeId: () => node.id, canReuse: (id) => id === node.id }));
    if (node.identity.nodeId !== node.id) throw new Error(`${node.name} claimed ${node.identity.nodeId}`);
    node.model = new DomainModel({
      modelId: MODEL,
      schema: librarySchema,
      nodeId: node.id,
      getNow: () => clock + node.skewMs,
      newId: () => node.newId(),
    });
    node.engine = new SynchronizationEngine({
      nodeId: node.id,
      antiEntropyIntervalMs: 0,
      maxChangesPerMessage: 5,
      logger: { warn: () => undefined },
      slicer: node.slicer,
      // The digest kept up to date between changes at steps the seed picks, like the rest.
      digestSlicer: node.slicer,
      // Announcement rounds and grafts at steps the seed picks; peers sampled by the seed.
      broadcast: { timers: node.broadcastTimers, random: () => random.next() },
      ...(node.signer ? { signer: node.signer } : {}),
    });
    const certification = node.engine.certification;
    if (certification) {
      // The engine checks signatures in `prepare` (hashing and WebCrypto, a few messages ahead).
      // WebCrypto answers on Node's thread pool in whatever order the machine's load gives, so
      // each node's checks are handed back in the order they were asked for: the seed alone
      // decides what happens, on any machine. Hashing pauses in the verification slicer (idle).
      const prepare = certification.prepare.bind(certification);
      let previous: Promise<unknown> = Promise.resolve();
      certification.prepare = (modelId, batch, certificates) => {
        verifying++;
        const own = prepare(modelId, batch, certificates, node.verifySlicer).finally(() => verifying--);
        const before = previous;
        const ordered = own.then(async (prepared) => {
          await before;
          return prepared;
        });
        previous = ordered.catch(() => undefined);
        return ordered;
      };
    }
    node.engine.onEvent((event) => {
      if (event.type === 'peer-offence') node.offences.push(`${short(event.peerId)}: ${event.reason}`);
    });
    node.persistence = new ModelPersistence(node.model, node.storage, {
      timers: node.timers,
      slicer: node.slicer,
      identity: node.identity,
      saveDelayMs: NEVER_MS,
      maxSaveDelayMs: NEVER_MS,
      retryDelayMs: NEVER_MS,
      ...(certification ? { certificates: certification.store(MODEL) } : {}),
    });
    await drive(node, node.persistence.load());
    // As `openRoomSession` does: the digest of what was loaded, a slice at a time, before the first hello.
    while (!node.model.refreshDigest(itemsPerSlice)) continue;
    // Own seqs continue after the stored ones (what an unsaved write used never left the node).
    node.firstSeq = node.model.nextSeq;
    node.engine.registerModel(MODEL, node.model, { durability: node.persistence });
    node.alive = true;
    watchFalseConflicts(node, `loaded from storage, incarnation ${node.incarnation}`);
    await idle();
  };

  // What a node sends must not claim more than its storage holds: its own changes in anything it
  // sends, anyone's in a hello, version or ack (a delta may relay others' changes before saving).
  const visibility = { own: 0, acks: 0, ownExamples: [] as string[], ackExamples: [] as string[] };
  const checkVisible = (node: SimNode, frame: Uint8Array): void => {
    const message = decodeSyncMessage(frame, Number.MAX_SAFE_INTEGER);
    if (isDecodeError(message)) return;
    const claimed =
      message.t === 'hello'
        ? message.models[MODEL]
        : message.t === 'delta'
          ? message.batch.version
          : message.t === 'ack' || message.t === 'version'
            ? message.version
            : undefined;
    if (!claimed) return;
    const version = VersionVector.fromJSON(claimed);
    const stored = node.storedVersion;
    if (stored.includes(version)) return;
    const beyond = (id: NodeId) => `${short(id)} ${stored.maxSeen(id)}→${version.maxSeen(id)}`;
    let ownUnsaved = 0;
    for (let seq = 1; seq <= version.maxSeen(node.id); seq++) if (version.covers({ node: node.id, seq }) && !stored.covers({ node: node.id, seq })) ownUnsaved++;
    if (ownUnsaved) {
      visibility.own++;
      if (visibility.ownExamples.length < 3) visibility.ownExamples.push(`#${step} ${node.name} sent a ${message.t} claiming ${ownUnsaved} own seq(s) not stored (${beyond(node.id)})`);
    }
    if (message.t !== 'delta') {
      visibility.acks++;
      if (visibility.ackExamples.length < 3) {
        const over = [...version.nodes()].filter((id) => version.maxSeen(id) > stored.maxSeen(id)).map(beyond);
        visibility.ackExamples.push(`#${step} ${node.name} sent a ${message.t} claiming beyond its storage (${over.join(', ') || 'gaps'})`);
      }
    }
  };

  const reachable = (a: NodeId, b: NodeId): boolean => !groups || groups.get(a) === groups.get(b);
  const connected = (a: NodeId, b: NodeId): boolean => connections.get(a)?.has(b) ?? false;

  const connect = (a: SimNode, b: SimNode): void => {
    const [endA, endB] = network.open(a.id, b.id, `${a.name}-${b.name}`, random.chance(1 / 3), (from, message) => checkVisible(byId.get(from)!, message));
    for (const [from, end] of [[a, endA], [b, endB]] as const) {
      let map = connections.get(from.id);
      if (!map) connections.set(from.id, (map = new Map()));
      map.set(end.peerId, end);
      end.onClose(() => {
        if (connections.get(from.id)?.get(end.peerId) === end) connections.get(from.id)!.delete(end.peerId);
      });
    }
    a.engine.addConnection(endA);
    b.engine.addConnection(endB);
  };

  const missingPairs = (): Array<[SimNode, SimNode]> => {
    const pairs: Array<[SimNode, SimNode]> = [];
    for (let i = 0; i < nodes.length; i++)
      for (let j = i + 1; j < nodes.length; j++) {
        const [a, b] = [nodes[i]!, nodes[j]!];
        if (a.alive && b.alive && reachable(a.id, b.id) && !connected(a.id, b.id)) pairs.push([a, b]);
      }
    return pairs;
  };

  const crash = (node: SimNode, final = false): void => {
    if (!final) stats.crashes++;
    const unsaved = node.persistence.pending;
    const writes = node.storage.pendingWrites;
    log(`crash ${node.name} (unsaved entities ${unsaved}, uncommitted writes ${writes})`);
    // Bytes already on the wire may still arrive; nothing reaches the dead node any more.
    for (const link of network.links)
      if (link.a === node.id || link.b === node.id) link.reset(`${node.name} crashed`, (queue) => (queue.from === node.id ? random.int(0, queue.messages.length) : 0));
    node.alive = false;
    node.storage.crash();
    node.persistence.close();
    node.identity.release(); // The browser drops a dead tab's locks.
  };

  const save = (node: SimNode): void => {
    void node.persistence.whenSaved().catch(() => undefined);
  };

  // One random local operation; refusals by the model's rules are part of the game.
  const edit = (node: SimNode): void => {
    const model = node.model;
    const authors = model.entities('Author').toArray();
    const books = model.entities('Book').toArray();
    const deleted = [...model.entities('Author', { includeDeleted: true }).toArray(), ...model.entities('Book', { includeDeleted: true }).toArray()].filter(
      (entity) => entity.isDeleted,
    );
    const n = ++stats.operations;
    const kind = random.weighted({
      author: authors.length < 3 ? 4 : 0.5,
      book: books.length < 4 ? 4 : 0.5,
      rename: 5,
      rate: 3,
      title: 4,
      addWork: 4,
      removeWork: 2.5,
      delete: 1.5,
      restore: 1,
    });
    let text = '';
    let touched: string[] = [];
    let run: () => unknown = () => undefined;
    switch (kind) {
      case 'author':
        text = `create Author ${n}`;
        run = () => touched.push(model.create('Author', { name: `Author ${n}`, email: `a${n}@x.org` }).oid);
        break;
      case 'book': {
        const author = random.pick(authors);
        text = `create Book ${n}`;
        run = () => touched.push(model.create('Book', { title: `Book ${n}`, ...(author ? { author: author.oid } : {}) }).oid);
        break;
      }
      case 'rename':
      case 'rate': {
        const author = random.pick(authors);
        if (!author) return;
        touched = [author.oid];
        const values = kind === 'rename' ? { name: `Name ${node.name} ${n}` } : { rating: random.int(0, 5) };
        text = `update ${author.oid} ${JSON.stringify(values)}`;
        run = () => model.update(author.oid, values);
        break;
      }
      case 'title': {
        const book = random.pick(books);
        if (!book) return;
        touched = [book.oid];
        const values = random.chance(0.5) ? { title: `Title ${node.name} ${n}` } : { genre: random.pick(['novel', 'poetry', 'essay'] as const)! };
        text = `update ${book.oid} ${JSON.stringify(values)}`;
        run = () => model.update(book.oid, values);
        break;
      }
      case 'addWork': {
        const author = random.pick(authors);
        const book = random.pick(books);
        if (!author || !book) return;
        touched = [author.oid];
        text = `add ${book.oid} to ${author.oid}.works`;
        run = () => model.addChild(author.oid, 'works', book.oid);
        break;
      }
      case 'removeWork': {
        const author = random.pick(authors.filter((a) => a.childOids('works').length > 0));
        const book = author && random.pick(author.childOids('works'));
        if (!author || !book) return;
        touched = [author.oid];
        text = `remove ${book} from ${author.oid}.works`;
        run = () => model.removeChild(author.oid, 'works', book);
        break;
      }
      case 'delete': {
        const target = random.pick([...authors, ...books]);
        if (!target) return;
        touched = [target.oid];
        text = `delete ${target.oid}`;
        run = () => model.delete(target.oid);
        break;
      }
      default: {
        const target = random.pick(deleted);
        if (!target) return;
        touched = [target.oid];
        text = `restore ${target.oid}`;
        run = () => model.restore(target.oid);
      }
    }
    const before = touched.length ? model.getEntityStates(touched) : [];
    const context = model.version;
    try {
      run();
    } catch (error) {
      if ((error as Error).name !== 'ValidationError') throw error;
      log(`${node.name} ${text}: refused (${(error as Error).message})`);
      return;
    }
    const operation = truth.record(step, node.id, text, before, model.getEntityStates(touched));
    // A replaced write outside the writer's version: its replacement cannot tell peers it is gone.
    const uncovered = [...operation.replaced.keys()].filter((dot) => {
      const at = dot.lastIndexOf(':');
      return !context.covers({ node: asNodeId(dot.slice(0, at)), seq: Number(dot.slice(at + 1)) });
    });
    if (uncovered.length) log(`${node.name} replaces ${uncovered.join(' ')}, which its version does not cover`);
    log(`${node.name} ${text} -> ${[...operation.wrote.keys(), ...operation.marks.keys()].map((dot) => `${short(dot.slice(0, dot.lastIndexOf(':')))}${dot.slice(dot.lastIndexOf(':'))}`).join(' ')}`);
  };

  // The first moment a replica holds a write next to one it replaced goes into the trace: where a
  // false conflict is born is the useful part of a failure report.
  const falseConflictsSeen = new Set<string>();
  function watchFalseConflicts(node: SimNode, cause: string): void {
    for (const found of falseConflictsOf(node.model.getEntityStates(), truth)) {
      const key = `${node.name} ${found}`;
      if (falseConflictsSeen.has(key)) continue;
      falseConflictsSeen.add(key);
      log(`false conflict appears at ${node.name} (${cause}): ${found}`);
    }
  }

  const observeAcknowledged = (node: SimNode): void => {
    if (!node.alive) return;
    const own = node.model.version.get(node.id);
    truth.noteAcknowledged(node.id, node.firstSeq, own - node.engine.unsentChanges(MODEL));
  };

  const observe = (node: SimNode): void => {
    if (!node.alive) return;
    truth.noteHeld(node.id, node.model.getEntityStates());
    observeAcknowledged(node);
  };

  const weights = (): Record<string, number> => {
    const crashes = profile === 'network' ? 0 : profile === 'mixed' ? 0.8 : 1.2;
    return {
      deliver: 40,
      edit: 12,
      save: 5,
      timer: 8,
      slice: 10,
      commit: 10,
      fail: profile === 'storage-failures' || profile === 'mixed' ? 2 : 0,
      reset: profile === 'network' || profile === 'mixed' ? 2.5 : 0.7,
      partition: profile === 'network' || profile === 'mixed' ? 0.8 : 0.3,
      heal: 1.2,
      connect: 4,
      antiEntropy: 1.5,
      crash: crashes,
      restart: nodes.some((node) => !node.alive) ? 3 : 0,
    };
  };

  // Fires one of the node's due timers: a save or a broadcast round or graft.
  const fireTimer = (node: SimNode): void => {
    if (random.int(1, node.dueTimers) <= node.timers.due) {
      if (node.timers.fireOne(random)) stats.saveTimers++;
    } else if (node.broadcastTimers.fireOne(random)) stats.broadcastTimers++;
  };

  // Delivers one message; slow links (a third of them) are picked a tenth as often.
  const deliverOne = (): boolean => {
    const queues = network.busyQueues();
    if (!queues.length) return false;
    const weightsOf = queues.map((queue) => (queue.link.slow ? 0.1 : 1));
    let roll = random.next() * weightsOf.reduce((a, b) => a + b, 0);
    let index = 0;
    while (index < queues.length - 1 && (roll -= weightsOf[index]!) >= 0) index++;
    const queue = queues[index]!;
    queue.link.deliver(queue);
    stats.delivered++;
    const receiver = byId.get(queue.to)!;
    observe(receiver);
    watchFalseConflicts(receiver, `message from ${short(queue.from)}`);
    return true;
  };

  for (const node of nodes) await start(node);
  for (const [a, b] of missingPairs()) connect(a, b);
  await idle();

  // ---- the fault phase
  for (step = 1; step <= steps; step++) {
    stats.steps++;
    clock += random.int(0, 40);
    const alive = nodes.filter((node) => node.alive);
    const action = random.weighted(weights());
    switch (action) {
      case 'deliver':
        deliverOne();
        break;
      case 'edit': {
        const node = random.pick(alive);
        if (node) edit(node);
        break;
      }
      case 'timer': {
        // A local edit arms its save with a zero-delay timer (durable before visible); it starts
        // at a step the seed picks, with whatever arrived meanwhile. So do the broadcast's rounds.
        const node = random.pick(alive.filter((n) => n.dueTimers > 0));
        if (node) fireTimer(node);
        break;
      }
      case 'slice': {
        // Sliced work goes on at a step the seed picks: deliveries, edits, crashes land in between.
        const node = random.pick(alive.filter((n) => n.parked > 0));
        if (node && node.resumeOne(random)) stats.slices++;
        break;
      }
      case 'save': {
        const node = random.pick(alive.filter((n) => n.persistence.pending > 0 || n.persistence.versionUnsaved));
        if (node) save(node);
        break;
      }
      case 'commit': {
        const node = random.pick(alive.filter((n) => n.storage.pendingWrites > 0));
        if (node) {
          await node.storage.commitNext();
          log(`commit at ${node.name}`);
        }
        break;
      }
      case 'fail': {
        const node = random.pick(alive.filter((n) => n.storage.pendingWrites > 0));
        if (node && node.storage.failNext()) log(`storage write failed at ${node.name}`);
        break;
      }
      case 'reset': {
        const link = random.pick(network.links);
        if (link) {
          stats.resets++;
          log(`reset ${link.label}`);
          link.reset('simulated reset', (queue) => random.int(0, queue.messages.length));
        }
        break;
      }
      case 'partition': {
        stats.partitions++;
        groups = new Map(nodes.map((node) => [node.id, random.int(0, 1)]));
        log(`partition ${nodes.map((node) => `${node.name}:${groups!.get(node.id)}`).join(' ')}`);
        for (const link of network.links) if (!reachable(link.a, link.b)) link.reset('network partition', (queue) => random.int(0, queue.messages.length));
        break;
      }
      case 'heal':
        if (groups) log('heal');
        groups = null;
        break;
      case 'connect': {
        const pair = random.pick(missingPairs());
        if (pair) {
          log(`connect ${pair[0].name}-${pair[1].name}`);
          connect(...pair);
        }
        break;
      }
      case 'antiEntropy': {
        const node = random.pick(alive);
        if (node) void node.engine.synchronize(MODEL, 0);
        break;
      }
      case 'crash': {
        // After a save only: nothing of the node is waiting to be stored. Otherwise: any moment.
        const eligible = profile === 'crash-after-save' ? alive.filter((n) => n.persistence.pending === 0 && !n.persistence.versionUnsaved && n.storage.pendingWrites === 0) : alive;
        const node = alive.length > 1 ? random.pick(eligible) : undefined;
        if (node) crash(node);
        break;
      }
      case 'restart': {
        const node = random.pick(nodes.filter((n) => !n.alive));
        if (node) {
          log(`restart ${node.name}`);
          await start(node);
        }
        break;
      }
    }
    await idle();
    for (const node of nodes) observeAcknowledged(node);
  }

  // ---- heal everything and let the system quiesce
  step = steps + 1;
  log('heal all, faults off');
  groups = null;
  for (const node of nodes) if (!node.alive) await start(node);
  let quiet = false;
  const drain = async (): Promise<boolean> => {
    for (let i = 0; i < 20_000; i++) {
      for (const [a, b] of missingPairs()) connect(a, b);
      if (!deliverOne()) {
        // Whatever else waits, one kind picked at random: a timer that keeps arming another (two
        // nodes announcing to each other while neither has stored what the other holds) must not
        // starve the saves that end it.
        const work = {
          slice: nodes.find((node) => node.alive && node.parked > 0),
          timer: nodes.find((node) => node.alive && node.dueTimers > 0),
          commit: nodes.find((node) => node.storage.pendingWrites > 0),
          save: nodes.find((node) => node.persistence.pending > 0 || node.persistence.versionUnsaved),
        };
        const kinds = (Object.keys(work) as Array<keyof typeof work>).filter((kind) => work[kind] !== undefined);
        const kind = random.pick(kinds);
        if (kind === undefined) return true;
        const node = work[kind]!;
        if (kind === 'slice' && node.resumeOne(random)) stats.slices++;
        else if (kind === 'timer') fireTimer(node);
        else if (kind === 'commit') await node.storage.commitNext();
        else if (kind === 'save') save(node);
      }
      await idle();
    }
    return false;
  };
  for (let round = 0; round < 4; round++) {
    quiet = await drain();
    if (!quiet) break;
    for (const node of nodes) void node.engine.synchronize(MODEL, 0);
    await idle();
  }
  quiet &&= await drain();
  for (const node of nodes) observe(node);

  // ---- checks
  const failures: Failure[] = [];
  const fail = (check: CheckName, detail: string): void => {
    failures.push({ check, detail });
  };
  if (!quiet) {
    const busy = nodes
      .map((node) => `${node.name}: ${node.timers.due} save / ${node.broadcastTimers.due} broadcast timer(s), ${node.parked} slice(s), ${node.storage.pendingWrites} write(s), ${node.persistence.pending} unsaved`)
      .join('; ');
    fail('quiesced', `still busy after the step bound: ${network.inFlight} messages in flight; ${busy}`);
  }
  const entitiesOf = (node: SimNode): string => JSON.stringify(node.model.getEntityStates());
  const states = nodes.map(entitiesOf);
  const reference = nodes[0]!;
  for (const [index, node] of nodes.entries()) {
    if (index === 0) continue;
    if (states[index] !== states[0])
      fail('converged', `${node.name} differs from ${reference.name}: ${describeDifference(reference.model.getEntityStates(), node.model.getEntityStates())}`);
    if (node.model.version.compare(reference.model.version) !== 'equal')
      fail('versions-equal', `${node.name} ${JSON.stringify(node.model.version.toJSON())} vs ${reference.name} ${JSON.stringify(reference.model.version.toJSON())}`);
  }
  // Durability: judged on what any replica still holds.
  const present = new Set<string>();
  for (const node of nodes) for (const state of node.model.getEntityStates()) for (const dot of heldDotsOf(state)) present.add(dot);
  const lost: string[] = [];
  for (const operation of truth.operations)
    for (const [dot, register] of operation.wrote)
      if (truth.ownsDot(operation, dot) && !present.has(dot) && truth.mustSurvive(dot) && !truth.legitimatelyGone(dot, present))
        lost.push(`${short(operation.node)}${dot.slice(dot.lastIndexOf(':'))} (${register}, op #${operation.step} "${operation.text}", ${truth.saved.has(dot) ? 'saved' : 'acknowledged'})`);
  if (lost.length) fail('durability', `${lost.length} saved or acknowledged write(s) gone everywhere: ${lost.slice(0, 5).join('; ')}`);
  for (const node of nodes) {
    const falseConflicts = falseConflictsOf(node.model.getEntityStates(), truth);
    if (falseConflicts.length) fail('false-conflicts', `${node.name}: ${falseConflicts.slice(0, 3).join('; ')}`);
  }
  for (const node of nodes)
    for (const status of node.engine.peerStatus()) {
      const peer = byId.get(status.peerId);
      const inSync = status.models.find((model) => model.modelId === MODEL)?.inSync ?? false;
      if (!peer) continue;
      const equal = entitiesOf(node) === entitiesOf(peer);
      if (inSync && !equal) fail('honest-in-sync', `${node.name} says it is in sync with ${peer.name}, but their entities differ`);
      if (!inSync && equal && quiet) fail('in-sync-liveness', `${node.name} does not say it is in sync with ${peer.name}, though both hold the same entities`);
    }
  for (const node of nodes) {
    const stored = await node.room.load(MODEL);
    const copy = new DomainModel({ modelId: MODEL, schema: librarySchema, nodeId: asNodeId('reader'), getNow: () => clock + MAX_SKEW_MS });
    copy.loadState(stored.entities, stored.version);
    if (JSON.stringify(copy.getEntityStates()) !== entitiesOf(node))
      fail('storage-matches-memory', `${node.name}: ${describeDifference(node.model.getEntityStates(), copy.getEntityStates())} (memory vs storage)`);
  }
  if (truth.reused.length) {
    const { dot, first, second } = truth.reused[0]!;
    fail('seq-reuse', `${truth.reused.length} dot(s) written twice, first ${dot}: #${first.step} "${first.text}" and #${second.step} "${second.text}"`);
  }
  if (visibility.own) fail('durable-before-visible', `${visibility.own} message(s) claimed own changes not yet stored: ${visibility.ownExamples.join('; ')}`);
  if (visibility.acks) fail('acks-cover-saved', `${visibility.acks} hello/version/ack message(s) claimed more than storage held: ${visibility.ackExamples.join('; ')}`);
  for (const node of nodes) if (node.offences.length) fail('no-offences', `${node.name} counted ${node.offences.length}: ${node.offences[0]}`);

  for (const node of nodes) if (node.alive) crash(node, true);
  return { seed: options.seed, profile, signed, nodes: count, itemsPerSlice, failures: firstOfEach(failures, 3), trace: trace.map((line) => replaceIds(line, nodes)), stats };
}

/** Registers holding a write next to one its writer had replaced, in words. */
function falseConflictsOf(states: readonly EntityState[], truth: GroundTruth): string[] {
  const found: string[] = [];
  for (const state of states)
    for (const [attribute, writes] of Object.entries(state.attributes)) {
      if (writes.length < 2) continue;
      const dots = writes.map((write) => `${write.dot.node}:${write.dot.seq}`);
      for (const dot of dots) {
        const past = truth.ancestors(dot);
        const stale = dots.filter((other) => past.has(other));
        if (stale.length) found.push(`${state.oid}.${attribute}: ${stale.join(',')} was replaced by ${dot}`);
      }
    }
  return found;
}

/** At most `limit` failures per check, the rest counted in the last one kept. */
function firstOfEach(failures: readonly Failure[], limit: number): Failure[] {
  const kept: Failure[] = [];
  for (const check of CHECKS) {
    const all = failures.filter((failure) => failure.check === check);
    kept.push(...all.slice(0, limit));
    if (all.length > limit) kept.push({ check, detail: `… and ${all.length - limit} more like these` });
  }
  return kept;
}

function heldDotsOf(state: EntityState): string[] {
  const dots: string[] = [];
  for (const writes of Object.values(state.attributes)) for (const write of writes) dots.push(`${write.dot.node}:${write.dot.seq}`);
  for (const items of Object.values(state.children)) for (const [, itemDots] of items) for (const dot of itemDots) dots.push(`${dot.node}:${dot.seq}`);
  return dots;
}

// Long signed node ids read as their short names in a trace.
function replaceIds(line: string, nodes: readonly SimNode[]): string {
  let result = line;
  for (const node of nodes) if (node.id !== node.name) result = result.split(node.id).join(node.name);
  return result;
}

/** The first entity that differs between two replicas, in words. */
function describeDifference(a: readonly EntityState[], b: readonly EntityState[]): string {
  const byOid = new Map(b.map((state) => [state.oid, state]));
  for (const state of a) {
    const other = byOid.get(state.oid);
    if (!other) return `${state.oid} only on the first`;
    if (JSON.stringify(state) !== JSON.stringify(other)) return `${state.oid}: ${JSON.stringify(state)} vs ${JSON.stringify(other)}`;
    byOid.delete(state.oid);
  }
  const extra = [...byOid.keys()];
  return extra.length ? `${extra[0]} only on the second` : 'equal';
}

/** A seed's result as text: what failed, how to replay it, and the last steps. */
export function formatFailure(result: SeedResult): string {
  return [
    `seed ${result.seed} (${result.profile}, ${result.signed ? 'signed' : 'unsigned'}, ${result.nodes} nodes, ${result.itemsPerSlice} items per slice) failed — replay: runSeed({ seed: ${result.seed} })`,
    ...result.failures.map((failure) => `  ${failure.check}: ${failure.detail}`),
    '  last steps:',
    ...result.trace.map((line) => `    ${line}`),
  ].join('\n');
}
