import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';

/** The seed's `DomainModelRegistry`: the models a node holds, by model id. */
export class DomainModelRegistry {
  private readonly models = new Map<string, SynchronizableDomainModel>();

  /** Adds a model; a second model with the same id is a programming error. */
  register(modelId: string, model: SynchronizableDomainModel): void {
    if (this.models.has(modelId)) throw new Error(`a model with id ${modelId} is already registered`);
    if (model.modelId !== modelId) throw new Error(`model id ${model.modelId} does not match ${modelId}`);
    this.models.set(modelId, model);
  }

  /** Removes a model; true if it was there. */
  unregister(modelId: string): boolean {
    return this.models.delete(modelId);
  }

  /** The model with this id, if registered. */
  get(modelId: string): SynchronizableDomainModel | undefined {
    return this.models.get(modelId);
  }

  /** Ids of all registered models. */
  ids(): string[] {
    return [...this.models.keys()];
  }

  /** All registered models. */
  all(): SynchronizableDomainModel[] {
    return [...this.models.values()];
  }
}
