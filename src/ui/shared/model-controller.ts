import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ModelChangedDetail } from '../../domain/index.js';

/** What the controller needs of a model: any `DomainModel` (or test double) that reports changes. */
export interface ObservableModel {
  onChange(listener: (detail: ModelChangedDetail) => void): () => void;
}

/** While the page is hidden no frames come: remote changes are then batched on this timer instead. */
const HIDDEN_BATCH_MS = 250;

/**
 * Re-renders its host when the host's current model changes, by a local edit or a merge from a
 * peer. A local edit updates the host in the same task (the user sees the result of their action
 * at once). Changes from peers arrive in bursts spread over many tasks (one per message), so they
 * are batched to one `requestUpdate` per animation frame (per `HIDDEN_BATCH_MS` while the page is
 * hidden, so background work such as notifications still runs). The host may swap its model at
 * any time; the controller follows it on the next update.
 */
export class ModelController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #getModel: () => ObservableModel | undefined;
  #subscribed: ObservableModel | undefined;
  #unsubscribe: (() => void) | undefined;
  #pending = false;
  #frame: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
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
    this.#cancelBatch();
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
    this.#unsubscribe = model?.onChange((detail) => {
      this.#revision++;
      if (detail.origin === 'local') this.#scheduleNow();
      else this.#scheduleBatch();
    });
  }

  #scheduleNow(): void {
    // This update shows every change so far, also the ones waiting for a frame.
    this.#cancelBatch();
    if (this.#pending) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      this.#update();
    });
  }

  #scheduleBatch(): void {
    if (this.#pending || this.#frame !== undefined || this.#timer !== undefined) return;
    const run = () => {
      this.#frame = undefined;
      this.#timer = undefined;
      this.#update();
    };
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') this.#timer = setTimeout(run, HIDDEN_BATCH_MS);
    else this.#frame = requestAnimationFrame(run);
  }

  #cancelBatch(): void {
    if (this.#frame !== undefined) cancelAnimationFrame(this.#frame);
    clearTimeout(this.#timer);
    this.#frame = undefined;
    this.#timer = undefined;
  }

  #update(): void {
    // A change that arrives after the host left the page must not wake it.
    if (this.#connected) this.#host.requestUpdate();
  }
}
