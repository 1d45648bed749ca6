import type { NodeId } from '../../src/crdt/index.js';
import type { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { DeviceIdentity } from '../../src/security/index.js';
import { ModelPersistence, type StorageAdapter } from '../../src/store/index.js';
import { type SyncEngineEvent, SynchronizationEngine } from '../../src/sync/index.js';
import { election } from './election-model.js';

const MODEL = 'election';
const quiet = { warn: () => {} };

/**
 * A peer on `network` that signs as `identity`, with an election model registered as `election`.
 * With `storage`, its model is persisted and loaded before it is registered with the engine, as
 * a room session does. `close` stops it all; it is also pushed to `cleanups`.
 */
export async function signingPeer(network: MemoryNetwork, identity: DeviceIdentity, id: NodeId, storage: StorageAdapter | undefined, cleanups: Array<() => void>) {
  const model = election(id);
  const engine = new SynchronizationEngine({ nodeId: id, antiEntropyIntervalMs: 0, logger: quiet, signer: identity });
  const persistence = storage && new ModelPersistence(model, storage, { certificates: engine.certification!.store(MODEL) });
  await persistence?.load();
  engine.registerModel(MODEL, model);
  const transport = new MemoryTransport(network, id, { logger: quiet });
  transport.onConnection((connection) => engine.addConnection(connection));
  const events: SyncEngineEvent[] = [];
  engine.onEvent((event) => events.push(event));
  const close = () => {
    persistence?.close();
    engine.stop();
    transport.close();
    storage?.close();
  };
  cleanups.push(close);
  return { id, model, engine, transport, events, persistence, close };
}
