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

// Engines started here stop after each test of any file that uses this module (a root-level hook:
// each test file runs in its own page).
const running = new Set<SynchronizationEngine>();
afterEach(() => {
  for (const engine of running) engine.stop();
  running.clear();
});

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
  // Anti-entropy runs, with a short period: the epidemic broadcast leaves a device its tree does not
  // reach to announcements and anti-entropy (docs/protocol.md), as the app does every 30 s.
  const engine = new SynchronizationEngine({ nodeId: id, antiEntropyIntervalMs: 500, logger: quiet, signer: identity, ...options.engine });
  engine.start();
  running.add(engine);
  engine.registerModel(model.modelId, model);
  const transport = new MemoryTransport(network, id, { logger: quiet });
  transport.onConnection((connection) => engine.addConnection(connection));
  const events: SyncEngineEvent[] = [];
  engine.onEvent((event) => events.push(event));
  return { id, model, engine, transport, events };
}
