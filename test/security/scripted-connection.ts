import type { NodeId } from '../../src/crdt/index.js';
import { BaseConnection } from '../../src/net/base-connection.js';

const quiet = { warn: () => undefined };

/** One end of a link a test drives by hand: `deliver` hands a frame to the engine at once. */
export class ScriptedConnection extends BaseConnection {
  /** Where frames the engine sends go; dropped by default. */
  onSend: (frame: Uint8Array) => void = () => undefined;

  constructor(peerId: NodeId) {
    super(peerId, 'memory', quiet);
    this.markOpen();
  }

  send(frame: Uint8Array): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error('closed'));
    this.onSend(frame.slice());
    return Promise.resolve();
  }

  close(reason = 'closed'): void {
    this.markClosed(reason);
  }

  deliver(frame: Uint8Array): void {
    if (this.state === 'open') this.receive(frame);
  }
}
