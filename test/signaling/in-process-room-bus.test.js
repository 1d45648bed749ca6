import { InProcessRoomBus } from '../../signaling/in-process-room-bus.js';
import { roomBusContract } from './room-bus-contract.js';

roomBusContract('InProcessRoomBus', async ({ maxPeersPerRoom }) => {
  const bus = new InProcessRoomBus({ maxPeersPerRoom });
  await bus.ready();
  return { open: () => bus, close: () => bus.close() };
});
