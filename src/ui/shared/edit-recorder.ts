import type { AttributeValue, CRDTEntity, LocalUndo, ModelChangedDetail } from '../../domain/index.js';
import type { UndoableDetail } from './undoable.js';

/** What the recorder needs of a model: its change reports and its ordinary operations. */
export interface RecordableModel {
  onChange(listener: (detail: ModelChangedDetail) => void): () => void;
  get(oid: string, options?: { includeDeleted?: boolean }): CRDTEntity | undefined;
  update(oid: string, values: Readonly<Record<string, AttributeValue>>): void;
  delete(oid: string): boolean;
  restore(oid: string): boolean;
  addChild(oid: string, relation: string, child: string): boolean;
  removeChild(oid: string, relation: string, child: string): boolean;
}

/** One edit of this device that can be taken back. */
export interface RecordedEdit extends UndoableDetail {
  /** The edit deleted something (views offer "Deleted … Undo" for these). */
  readonly deletion: boolean;
}

/** Options of `EditRecorder`. */
export interface EditRecorderOptions {
  /**
   * Concepts whose edits are settings made elsewhere, not edits of the room to take back: a
   * device's `Member` (its display name, set in the name question or Details; undoing it there
   * would unname the device for everyone while the device still shows the name).
   */
  readonly notRecorded?: readonly string[];
}

// Taking back a group: restores first (a restored entity can be linked again), deletions last.
const UNDO_ORDER: Record<LocalUndo['kind'], number> = { restore: 0, update: 1, 'add-child': 2, 'remove-child': 3, delete: 4 };

/**
 * Turns this device's edits of a model into undoable entries. The operations one user action
 * makes in one task (withdrawing a candidate deletes it and takes it off the election) form one
 * entry, taken back together. Only edits every ordinary operation can take back are recorded: an
 * action with a managed write (a ballot, an opening or closing) is not, and neither are edits
 * from peers. Undo runs ordinary operations (`restore`, `update`, ...), so it syncs like any edit;
 * those operations are not recorded themselves.
 */
export class EditRecorder {
  readonly #model: RecordableModel;
  readonly #onRecord: (edit: RecordedEdit) => void;
  readonly #unsubscribe: () => void;
  #group: LocalUndo[] | undefined;
  #undoable = true;
  #replaying = false;
  readonly #notRecorded: ReadonlySet<string>;

  constructor(model: RecordableModel, onRecord: (edit: RecordedEdit) => void, options: EditRecorderOptions = {}) {
    this.#model = model;
    this.#onRecord = onRecord;
    this.#notRecorded = new Set(options.notRecorded ?? []);
    this.#unsubscribe = model.onChange((detail) => this.#onChange(detail));
  }

  /** Stops recording. */
  dispose(): void {
    this.#unsubscribe();
    this.#group = undefined;
  }

  #onChange(detail: ModelChangedDetail): void {
    if (detail.origin !== 'local' || this.#replaying) return;
    if (!this.#group) {
      this.#group = [];
      this.#undoable = true;
      queueMicrotask(() => this.#close());
    }
    if (detail.undo) this.#group.push(detail.undo);
    else this.#undoable = false;
  }

  #close(): void {
    const steps = this.#group;
    this.#group = undefined;
    if (!steps?.length || !this.#undoable) return;
    if (steps.every((step) => this.#notRecorded.has(this.#model.get(step.oid, { includeDeleted: true })?.concept ?? ''))) return;
    const ordered = [...steps].reverse().sort((a, b) => UNDO_ORDER[a.kind] - UNDO_ORDER[b.kind]);
    this.#onRecord({ label: this.#describe(steps), deletion: steps.some((step) => step.kind === 'restore'), undo: () => this.#replay(ordered) });
  }

  #replay(steps: readonly LocalUndo[]): void {
    const model = this.#model;
    this.#replaying = true;
    try {
      for (const step of steps) {
        if (step.kind === 'restore') model.restore(step.oid);
        else if (step.kind === 'delete') {
          if (model.get(step.oid)) model.delete(step.oid);
        } else if (step.kind === 'update') model.update(step.oid, step.values);
        else if (step.kind === 'add-child') model.addChild(step.oid, step.relation, step.child);
        else model.removeChild(step.oid, step.relation, step.child);
      }
    } finally {
      this.#replaying = false;
    }
  }

  // In words, by the most telling step: a deletion, else an addition, else a change.
  #describe(steps: readonly LocalUndo[]): string {
    const deleted = steps.find((step) => step.kind === 'restore');
    if (deleted) return `Deleted ${this.#entity(deleted.oid)}`;
    const added = steps.find((step) => step.kind === 'delete');
    if (added?.kind === 'delete') return `${added.created ? 'Added' : 'Restored'} ${this.#entity(added.oid)}`;
    const first = steps[0]!;
    if (first.kind === 'update') return `Changed ${Object.keys(first.values).map(words).join(', ')} of ${this.#entity(first.oid)}`;
    return `Changed ${words(first.kind === 'add-child' || first.kind === 'remove-child' ? first.relation : 'item')} of ${this.#entity(first.oid)}`;
  }

  #entity(oid: string): string {
    const entity = this.#model.get(oid, { includeDeleted: true });
    if (!entity) return 'an item';
    const values = entity.attributes();
    const name = ['name', 'title', 'label'].map((attribute) => values[attribute]).find((value) => typeof value === 'string' && value);
    return name ? `${words(entity.concept)} “${String(name)}”` : words(entity.concept);
  }
}

/** `voterNumber` → "voter number", `CoOrganiser` → "co-organiser" (close enough for a label). */
function words(name: string): string {
  return name
    .replace(/^Co([A-Z])/, 'Co-$1')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}
