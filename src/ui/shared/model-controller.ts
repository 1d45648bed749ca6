import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ModelChangedDetail } from '../../domain/index.js';

/** What the controller needs of a model: any `DomainModel` (or test double) that reports changes. */
export interface ObservableModel {
  onChange(listener: (detail: ModelChangedDetail) => void): () => void;
}

/**
 * Re-renders its host when the host's current model changes, by a local edit or a merge from a
 * peer. A burst of changes (a large delta applies many batches in one task) costs one update:
 * notifications are batched to one `requestUpdate` per microtask. The host may swap its model at
 * any time; the controller follows it on the next update.
 */
export class ModelController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #getModel: () => ObservableModel | undefined;
  #subscribed: ObservableModel | undefined;
  #unsubscribe: (() => void) | undefined;
  #pending = false;
  #connected = false;
  #revision = 0;

  /** `getModel` reads the host's current model (usually its `model` property). */
  constructor(host: ReactiveControllerHost, getModel: () => ObservableModel | undefined) {
    this.#host = host;
    this.#getModel = getModel;
    host.addController(this);
  }

  /**
   * Counts the changes of the host's model seen so far (and every switch to another model or
   * resubscription): what a host derives from its model stays valid while this stays the same.
   */
  get revision(): number {
    return this.#revision;
  }

  hostConnected(): void {
    this.#connected = true;
    this.#follow();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#subscribed = undefined;
  }

  // Runs before every render, so a model set as a property is subscribed before it is shown.
  hostUpdate(): void {
    this.#follow();
  }

  #follow(): void {
    const model = this.#getModel();
    if (!this.#connected || model === this.#subscribed) return;
    this.#unsubscribe?.();
    this.#subscribed = model;
    this.#revision++;
    this.#unsubscribe = model?.onChange(() => {
      this.#revision++;
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      // A change that arrives after the host left the page must not wake it.
      if (this.#connected) this.#host.requestUpdate();
    });
  }
}
