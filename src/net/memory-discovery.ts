import type { NodeId } from '../crdt/dot.js';
import { RosterDiscovery } from './discovery-roster.js';
import { consoleLogger, type NetLogger } from './logger.js';
import type { MemoryNetwork } from './memory-network.js';
import { assertNodeId } from './wire-guards.js';

/** Options of `MemoryDiscovery`. */
export interface MemoryDiscoveryOptions {
  readonly room: string;
  readonly nodeId: NodeId;
  /** The transport kind peers are reported reachable by. Default: the network's kind. */
  readonly via?: string;
  readonly logger?: NetLogger;
}

/**
 * In-memory discovery for one room of a `MemoryNetwork`: started discoveries of the room see each
 * other join and leave, and relay signals (as JSON, like a server would) to each other.
 */
export class MemoryDiscovery extends RosterDiscovery {
  readonly room: string;
  readonly nodeId: NodeId;
  private started = false;

  constructor(
    private readonly network: MemoryNetwork,
    options: MemoryDiscoveryOptions,
  ) {
    assertNodeId(options.nodeId, 'MemoryDiscovery');
    super(options.via ?? network.kind, options.logger ?? consoleLogger);
    this.room = options.room;
    this.nodeId = options.nodeId;
  }

  start(): Promise<void> {
    if (this.started) return Promise.resolve();
    const members = this.network.roomMembers(this.room);
    if (members.has(this.nodeId)) {
      return Promise.reject(new Error(`${this.nodeId} is already in room ${this.room} of this network`));
    }
    this.started = true;
    members.set(this.nodeId, this);
    for (const member of members.values()) {
      if (member === this) continue;
      queueMicrotask(() => {
        member.peerJoined(this.nodeId, this);
        this.peerJoined(member.nodeId, member);
      });
    }
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (!this.started) return Promise.resolve();
    this.started = false;
    const members = this.network.roomMembers(this.room);
    members.delete(this.nodeId);
    for (const member of members.values()) queueMicrotask(() => member.peerLeft(this.nodeId, 'left the room'));
    this.roster.loseAll('discovery stopped');
    return Promise.resolve();
  }

  sendSignal(to: NodeId, data: unknown): void {
    if (!this.started) {
      this.logger.warn(`signal to ${to} dropped: discovery is not started`);
      return;
    }
    let copy: unknown;
    try {
      copy = JSON.parse(JSON.stringify(data) ?? 'null');
    } catch (error) {
      this.logger.warn(`signal to ${to} dropped: not JSON`, error);
      return;
    }
    const target = this.network.roomMembers(this.room).get(to);
    if (!target) {
      this.logger.debug?.(`signal to ${to} dropped: not in room ${this.room}`);
      return;
    }
    queueMicrotask(() => target.signalFrom(this.nodeId, copy));
  }

  private peerJoined(peer: NodeId, member: MemoryDiscovery): void {
    if (this.started && member.started) this.roster.see(peer);
  }

  private peerLeft(peer: NodeId, reason: string): void {
    this.roster.lose(peer, reason);
  }

  private signalFrom(from: NodeId, data: unknown): void {
    if (this.started) this.roster.signal(from, data);
  }
}
