import type { PropertyDeclarations, PropertyValues } from 'lit';
import { focusFirstInvalid } from '../shared/form-field.js';
import { idsInWords } from '../shared/ids-in-words.js';
import { ElectionPart } from './election-part.js';

/**
 * An election part with forms: the model's refusals keyed by the field they concern (`''` for
 * the form as a whole), a status message for what succeeded, and focus moved to the first invalid
 * field after a refusal, so keyboard and screen-reader users land where the problem is. Both are
 * cleared when the part is pointed at another election.
 */
export abstract class ElectionFormPart extends ElectionPart {
  static override properties: PropertyDeclarations = { errors: { state: true }, message: { state: true } };

  protected declare errors: ReadonlyMap<string, string>;
  protected declare message: string;
  #focusInvalid = false;

  constructor() {
    super();
    this.errors = new Map();
    this.message = '';
  }

  /** An action worked: clears the errors and says so. */
  protected succeeded(message: string): void {
    this.errors = new Map();
    this.message = message;
  }

  /**
   * An action was refused: shows why (ids in the model's words become names and titles), and (for
   * field errors) moves focus to the first one.
   */
  protected refused(errors: ReadonlyMap<string, string>, focus = true): void {
    this.errors = new Map([...errors].map(([field, text]) => [field, idsInWords(this.model, text, this.peers)]));
    this.message = '';
    this.#focusInvalid = focus;
  }

  /** What else to clear when the part shows another election. */
  protected resetForElection(): void {}

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    if (changed.has('electionId')) {
      this.errors = new Map();
      this.message = '';
      this.resetForElection();
    }
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.#focusInvalid) {
      this.#focusInvalid = false;
      focusFirstInvalid(this.renderRoot);
    }
  }
}
