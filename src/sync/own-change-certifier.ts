import type { ModelChange } from '../domain/model-change.js';
import type { SyncContext } from './sync-context.js';

/**
 * The outgoing half of the signing pipeline: certifies what this device wrote. The changes of one
 * event-loop turn are signed together: a script or an import making thousands of edits at once
 * gets one certificate per 256 items, not one per edit (each costs a peer a signature check when
 * it bootstraps). Until then `ChangeCertification.sendable` holds the items back; once signed,
 * `signed(modelId)` lets them go.
 */
export class OwnChangeCertifier {
  /** Changes of this event-loop turn waiting to be signed together, per model. */
  readonly #uncertified = new Map<string, Array<readonly ModelChange[]>>();

  constructor(
    private readonly context: Pick<SyncContext, 'models' | 'certification' | 'logger'>,
    private readonly signed: (modelId: string) => void,
  ) {}

  /** Queues `changes` of `modelId` for signing at the end of this turn (nothing without a signer). */
  certify(modelId: string, changes: readonly ModelChange[]): void {
    const { certification, models, logger } = this.context;
    if (!certification || !changes.length) return;
    let pending = this.#uncertified.get(modelId);
    if (!pending) {
      this.#uncertified.set(modelId, (pending = []));
      queueMicrotask(() => {
        this.#uncertified.delete(modelId);
        // The context: everything this node had seen when it made these changes (and them).
        const context = models.get(modelId)?.model.version;
        certification.certify(modelId, pending!.flat(), context).then(
          (count) => {
            if (count > 0 && models.has(modelId)) this.signed(modelId);
          },
          (error) => logger.warn(`could not sign changes of ${modelId}`, error),
        );
      });
    }
    pending.push(changes);
  }
}
