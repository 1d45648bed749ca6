import { type NodeId, asNodeId } from '../../src/crdt/dot.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import type { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { SynchronizationEngine, type SynchronizationEngineOptions } from '../../src/sync/index.js';
import type { Timers } from '../../src/util/index.js';
import { seededRandom } from '../seeded-random.js';
import { MODEL, relayed } from './sync-peers.js';

/**
 * Virtual time for a room of sync engines: message deliveries and the broadcast's timers wait on
 * one clock that jumps from one due event to the next, so a test can make devices slow (every
 * message takes long to reach them) relative to the graft timeout and announcement interval,
 * the way a loaded machine or a phone does, and a seed replays the same way on any machine.
 */
export class VirtualClock implements Timers {
  now = 0;
  readonly #due: Array<{ at: number; order: number; callback: () => void }> = [];
  #order = 0;
  #cancelled = new Set<number>();

  setTimeout(callback: () => void, delayMs: number): unknown {
    const order = ++this.#order;
    this.#due.push({ at: this.now + Math.max(0, delayMs), order, callback });
    return order;
  }

  clearTimeout(handle: unknown): void {
    this.#cancelled.add(handle as number);
  }

  /** Runs due events in time order (letting the engines' microtasks and promises settle after each) until none is left or `untilMs`. */
  async run(untilMs = Infinity): Promise<void> {
    await turn();
    for (;;) {
      this.#due.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = this.#due[0];
      if (!next || next.at > untilMs) return;
      this.#due.shift();
      if (this.#cancelled.delete(next.order)) continue;
      this.now = next.at;
      next.callback();
      await turn();
    }
  }
}

/** One macrotask, unclamped (nested `setTimeout(0)` waits 4 ms each in browsers). */
const turn = (): Promise<void> =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });

/** A device of a slow room: what reaches it takes `latencyMs` of virtual time. */
export interface SlowDevice {
  readonly id: NodeId;
  readonly model: ElectoralSystemModel;
  readonly engine: SynchronizationEngine;
  readonly transport: MemoryTransport;
  latencyMs: number;
}

/** `connection` whose messages reach its engine `latencyMs()` later on `clock` (in order: equal delays keep it). */
const delayed = (connection: PeerConnection, clock: VirtualClock, latencyMs: () => number): PeerConnection =>
  relayed(connection, (bytes) => bytes, (bytes, deliver) => void clock.setTimeout(() => deliver(bytes), latencyMs()));

/**
 * `size` devices over `network`, each linked to the next (a ring) and to `chords` others drawn by
 * `seed`: an overlay of degree about 2 + 2·chords, as HyParView keeps. Announcement rounds and
 * grafts run on `clock`; anti-entropy is off, so only the broadcast delivers.
 */
export async function slowRoom(
  network: MemoryNetwork,
  clock: VirtualClock,
  size: number,
  options: { seed: number; chords: number; latencyMs: number; broadcast: NonNullable<SynchronizationEngineOptions['broadcast']> },
): Promise<SlowDevice[]> {
  const random = seededRandom(options.seed);
  const devices = Array.from({ length: size }, (_, i): SlowDevice => {
    const id = asNodeId(`dev-${i}`);
    const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: id, roles: 'open' });
    const engine = new SynchronizationEngine({
      nodeId: id,
      antiEntropyIntervalMs: 0,
      logger: { warn: () => {} },
      broadcast: { ...options.broadcast, timers: clock, random: seededRandom(options.seed * 1_000 + i) },
    });
    engine.registerModel(MODEL, model);
    const transport = new MemoryTransport(network, id, { logger: { warn: () => {} } });
    const device: SlowDevice = { id, model, engine, transport, latencyMs: options.latencyMs };
    transport.onConnection((connection) => engine.addConnection(delayed(connection, clock, () => device.latencyMs)));
    return device;
  });
  const pairs = new Set<string>();
  const join = async (a: number, b: number) => {
    const key = `${Math.min(a, b)}-${Math.max(a, b)}`;
    if (a === b || pairs.has(key)) return;
    pairs.add(key);
    const [from, to] = [devices[a]!, devices[b]!];
    from.engine.addConnection(delayed(await from.transport.connect(to.id), clock, () => from.latencyMs));
  };
  for (let i = 0; i < size; i++) {
    await join(i, (i + 1) % size);
    for (let c = 0; c < options.chords; c++) await join(i, Math.floor(random() * size));
  }
  await clock.run();
  return devices;
}

/** Opens a connection from `from` to `to`. */
export async function addLink(from: SlowDevice, to: SlowDevice, clock: VirtualClock): Promise<void> {
  from.engine.addConnection(delayed(await from.transport.connect(to.id), clock, () => from.latencyMs));
}

/** Sync messages the room's engines sent so far. */
export const messagesSent = (devices: readonly SlowDevice[]): number => devices.reduce((sum, device) => sum + device.engine.totals.messagesSent, 0);
