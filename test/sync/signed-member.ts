import type { NodeId } from '../../src/crdt/dot.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import type { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { DeviceIdentity } from '../../src/security/index.js';
import { type SyncEngineEvent, SynchronizationEngine, type SynchronizationEngineOptions } from '../../src/sync/index.js';
import { Hostile } from '../models/electoral/roles-fixture.js';

/** One signing device of a test room: its electoral model, engine, memory transport and what the engine reported. */
export interface SignedMember {
  readonly id: NodeId;
  readonly model: ElectoralSystemModel;
  readonly engine: SynchronizationEngine;
  readonly transport: MemoryTransport;
  readonly events: SyncEngineEvent[];
}

const quiet = { warn: () => {} };
// Anti-entropy is off, so every change must travel by the broadcast: lazy links announce to every
// peer lacking it (not to a random few), or a device whose links all went lazy (at a reconnection,
// or when its first deltas all brought duplicates) would wait for an anti-entropy round that
// never comes.
const broadcast = { lazyFanout: 1_000, lazyIntervalMs: 50, graftTimeoutMs: 200 };

/**
 * A device with `identity` on `network`, signing its changes, election roles enforced; `hostile`:
 * a model that ignores the rules locally (`Hostile`, model id `election-2024`).
 */
export function signedMember(
  network: MemoryNetwork,
  identity: DeviceIdentity,
  options: { modelId?: string; hostile?: boolean; engine?: Partial<SynchronizationEngineOptions> } = {},
): SignedMember {
  const id = identity.newNodeId();
  const model = options.hostile ? new Hostile(id) : new ElectoralSystemModel({ modelId: options.modelId ?? 'election-2024', nodeId: id });
  const engine = new SynchronizationEngine({ nodeId: id, antiEntropyIntervalMs: 0, logger: quiet, signer: identity, broadcast, ...options.engine });
  engine.registerModel(model.modelId, model);
  const transport = new MemoryTransport(network, id, { logger: quiet });
  transport.onConnection((connection) => engine.addConnection(connection));
  const events: SyncEngineEvent[] = [];
  engine.onEvent((event) => events.push(event));
  return { id, model, engine, transport, events };
}
