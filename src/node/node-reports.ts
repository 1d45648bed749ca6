import type { NodeId } from '../crdt/index.js';
import type { StorageProblem } from '../store/quarantine.js';
import type { InputRefusedEvent, NodeStatus } from './node-events.js';

/** Refusals kept for the audit view; older ones are dropped. */
const MAX_REFUSALS = 200;
/** One line per sender with another room key per this long, so one line stands for a burst. */
const OTHER_KEY_QUIET_MS = 60_000;

/** The status fields `NodeReports` keeps. */
export type ReportedStatus = Pick<NodeStatus, 'persistence' | 'storageError' | 'storageProblems' | 'roomKeyProblem' | 'connectionProblem'>;

/**
 * What the node's status and audit log hold besides the network's state: problems reported to the
 * node (storage, room key, unreachable devices) and the input refused from peers. The node asks
 * for a status recompute (`changed`) after every change and announces each refusal (`refused`).
 */
export class NodeReports {
  #persistence: NodeStatus['persistence'] = 'unknown';
  #storageError: string | null = null;
  readonly #storageProblems: StorageProblem[] = [];
  #roomKeyProblem: string | null = null;
  #connectionProblem: string | null = null;
  /** The last refusal of each connected peer's input. */
  readonly #lastRefusals = new Map<NodeId, string>();
  readonly #log: InputRefusedEvent[] = [];
  /** When each sender with another room key was last noted. */
  readonly #otherKeyNoted = new Map<NodeId, number>();
  /** Equivocations logged (`model/author:seq`), each once per session however many relays bring it. */
  readonly #equivocations = new Set<string>();

  constructor(
    private readonly changed: () => void,
    private readonly refused: (refusal: InputRefusedEvent) => void,
  ) {}

  /** The latest input refused from peers, oldest first (at most 200). */
  get refusals(): readonly InputRefusedEvent[] {
    return [...this.#log];
  }

  /** The status fields kept here, now. */
  status(): ReportedStatus {
    return {
      persistence: this.#persistence,
      storageError: this.#storageError,
      storageProblems: [...this.#storageProblems],
      roomKeyProblem: this.#roomKeyProblem,
      connectionProblem: this.#connectionProblem,
    };
  }

  /** The last refusal of `peerId`'s input while it is connected, else null. */
  lastRefusalOf(peerId: NodeId): string | null {
    return this.#lastRefusals.get(peerId) ?? null;
  }

  setPersistence(persistence: NodeStatus['persistence']): void {
    this.#persistence = persistence;
    this.changed();
  }

  setStorageError(message: string | null): void {
    this.#storageError = message;
    this.changed();
  }

  /** Damaged stored records worked around, each kept once for the rest of the session. */
  reportStorageProblems(problems: readonly StorageProblem[]): void {
    const fresh = problems.filter((problem) => !this.#storageProblems.includes(problem));
    if (!fresh.length) return;
    this.#storageProblems.push(...fresh);
    this.changed();
  }

  setRoomKeyProblem(message: string | null): void {
    this.#roomKeyProblem = message;
    this.changed();
  }

  setConnectionProblem(message: string | null): void {
    this.#connectionProblem = message;
    this.changed();
  }

  /** A connection opened: only holders of the same room key connect, and a device was reached. */
  connected(): void {
    this.#roomKeyProblem = null;
    this.#connectionProblem = null;
    this.changed();
  }

  /** Input of a connected peer was refused: logged, and shown beside the peer. */
  offence(peerId: NodeId, peerName: string | null, reason: string): void {
    this.#lastRefusals.set(peerId, reason);
    this.log(peerId, peerName, reason);
  }

  /** A peer left: its last refusal is no longer shown beside it. */
  peerGone(peerId: NodeId): void {
    this.#lastRefusals.delete(peerId);
  }

  /** A device with another room key (or none) sent under this room's topic: one neutral line a minute per sender. */
  otherKey(peerId: NodeId, peerName: string | null, now = Date.now()): void {
    if (now - (this.#otherKeyNoted.get(peerId) ?? -Infinity) < OTHER_KEY_QUIET_MS) return;
    if (this.#otherKeyNoted.size >= MAX_REFUSALS) this.#otherKeyNoted.clear();
    this.#otherKeyNoted.set(peerId, now);
    this.log(peerId, peerName, 'A device with another key tried to join; nothing it sent was opened');
  }

  /**
   * `author` signed two different operations under one dot and `relay` passed on the copy this
   * device does not hold: a line against the author, once per dot; the relay is not blamed.
   */
  equivocation(modelId: string, author: NodeId, authorName: string | null, seq: number, relay: NodeId): void {
    const key = `${modelId}/${author}:${seq}`;
    if (this.#equivocations.has(key)) return;
    if (this.#equivocations.size >= MAX_REFUSALS) this.#equivocations.clear();
    this.#equivocations.add(key);
    this.log(
      author,
      authorName,
      `signed two different operations as ${author}:${seq} (equivocation). The second copy, relayed by ${relay}, was not taken: devices holding either copy stay apart on it`,
    );
  }

  /** Adds a line to the refused-input log and announces it. */
  log(peerId: NodeId, peerName: string | null, reason: string): void {
    const refusal: InputRefusedEvent = { at: Date.now(), peerId, peerName, reason };
    this.#log.push(refusal);
    if (this.#log.length > MAX_REFUSALS) this.#log.shift();
    this.refused(refusal);
  }
}
