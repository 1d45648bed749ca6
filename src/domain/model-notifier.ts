import { Listeners } from '../util/listeners.js';
import type { NodeId } from '../crdt/index.js';
import type { LocalUndo, ModelChangedDetail } from './model-change.js';
import { type Touched, changesOf } from './replica-state.js';

/**
 * Tells a model's subscribers what an operation changed. Both halves of a `DomainModel` report
 * through it: local edits (`DomainModel`) and joins of remote or stored state (`ModelReplica`).
 */
export class ModelNotifier {
  // A failing listener must break neither the model nor the other listeners: what it throws goes
  // to `onListenerError`.
  readonly #listeners: Listeners<[ModelChangedDetail]>;
  readonly #versionListeners: Listeners<[]>;

  constructor(
    private readonly modelId: string,
    private readonly nodeId: NodeId,
    onListenerError: (error: unknown) => void = rethrowLater,
  ) {
    const report = { warn: (_message: string, error?: unknown) => onListenerError(error) };
    this.#listeners = new Listeners(report, 'change');
    this.#versionListeners = new Listeners(report, 'version');
  }

  /** Subscribes to local edits and applied remote changes; returns the unsubscribe function. */
  onChange(listener: (detail: ModelChangedDetail) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** Subscribes to the version growing while no entity changed; returns the unsubscribe function. */
  onVersionAdopted(listener: () => void): () => void {
    return this.#versionListeners.add(listener);
  }

  // `adopted` (remote only): the version grew by adopting another's. Without a change of state that
  // is told to `onVersionAdopted` listeners, which store it (no `onChange` event: nothing visible
  // changed). `undo` (local only): how the user's operation is taken back.
  emit(origin: 'local' | 'remote', touched: Touched, { adopted = false, undo }: { adopted?: boolean; undo?: LocalUndo } = {}): void {
    if (!this.#listeners.size && !this.#versionListeners.size) return;
    const changes = changesOf(touched);
    if (!changes.length) {
      if (adopted) this.#versionListeners.emit();
      return;
    }
    const detail: ModelChangedDetail =
      origin === 'local'
        ? { modelId: this.modelId, origin, changes, nodeId: this.nodeId, superseded: touched.superseded, ...(undo && { undo }) }
        : { modelId: this.modelId, origin, changes };
    this.#listeners.emit(detail);
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
