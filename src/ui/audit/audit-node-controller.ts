import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { EDNetEvents, InputRefusedEvent, NodeStatus } from '../../node/node-events.js';
import type { ItemSignatures } from '../../node/index.js';

/** What the audit view reads of an `EDNetP2PNode` (which is one). */
export interface AuditNode {
  /** Input refused from peers, oldest first. */
  readonly refusals: readonly InputRefusedEvent[];
  readonly status: NodeStatus;
  readonly events: {
    on<K extends 'input-refused' | 'status-changed'>(type: K, listener: (event: EDNetEvents[K]) => void): () => void;
  };
  /** How a model's items are signed here; undefined when the room's changes are not signed. */
  signatures(modelId: string): ItemSignatures | undefined;
}

/**
 * Re-renders its host when what the node says changes: a refusal, the peers (their names), a
 * certificate added for the model (an own write's signature, made after the write). Like
 * `ModelController`, it follows whichever node and model the host has, and batches to one update
 * per microtask.
 */
export class AuditNodeController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #source: () => { node: AuditNode | undefined; modelId: string | undefined };
  #node: AuditNode | undefined;
  #modelId: string | undefined;
  #unsubscribe: Array<() => void> = [];
  #connected = false;
  #pending = false;
  #revision = 0;
  #signatures: ItemSignatures | undefined;

  constructor(host: ReactiveControllerHost, source: () => { node: AuditNode | undefined; modelId: string | undefined }) {
    this.#host = host;
    this.#source = source;
    host.addController(this);
  }

  /** The followed model's signatures (the same object while the node and model stay), if signed. */
  get signatures(): ItemSignatures | undefined {
    return this.#signatures;
  }

  /** Grows with every change heard: what a host derives from the node stays valid while it stays the same. */
  get revision(): number {
    return this.#revision;
  }

  hostConnected(): void {
    this.#connected = true;
    this.#follow();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#stop();
    this.#node = undefined;
    this.#modelId = undefined;
    this.#signatures = undefined;
  }

  hostUpdate(): void {
    this.#follow();
  }

  #follow(): void {
    const { node, modelId } = this.#source();
    if (!this.#connected || (node === this.#node && modelId === this.#modelId)) return;
    this.#stop();
    this.#node = node;
    this.#modelId = modelId;
    this.#signatures = node && modelId !== undefined ? node.signatures(modelId) : undefined;
    this.#revision++;
    if (!node) return;
    const changed = () => this.#changed();
    this.#unsubscribe.push(node.events.on('input-refused', changed), node.events.on('status-changed', changed));
    if (this.#signatures) this.#unsubscribe.push(this.#signatures.onChange(changed));
  }

  #stop(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  #changed(): void {
    this.#revision++;
    if (this.#pending) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      if (this.#connected) this.#host.requestUpdate();
    });
  }
}
