import { LitElement, css, html, nothing } from 'lit';
import type { UndoableDetail } from '../ui/shared/undoable.js';
import { baseStyles, controlStyles } from '../ui/shared/theme.js';

/** How long "Deleted … Undo" stays on screen. */
export const UNDO_TOAST_MS = 8_000;
const MAX_UNDO = 20;

/**
 * "Deleted … Undo" for a few seconds after a deletion, and Ctrl+Z / Cmd+Z for this device's last
 * undoable edits, newest first (outside text fields, which keep their own undo). Entries come
 * from `push` (the room's `EditRecorder`, and forgetting a room); `clear` forgets them (when the
 * room closes).
 */
export class EDNetUndoToast extends LitElement {
  static override properties = { shown: { state: true }, note: { state: true } };
  static override styles = [
    baseStyles,
    controlStyles,
    css`
      :host {
        position: fixed;
        left: 50%;
        bottom: max(12px, env(safe-area-inset-bottom));
        transform: translateX(-50%);
        z-index: 10;
        width: max-content;
        max-width: calc(100vw - 24px);
      }
      .toast:empty {
        display: none;
      }
      .toast {
        display: flex;
        align-items: center;
        gap: 12px;
        padding: 8px 12px;
        border-radius: var(--ed-radius, 8px);
        background: var(--ed-text, #1b1f24);
        color: var(--ed-surface, #ffffff);
        box-shadow: 0 2px 8px rgb(0 0 0 / 30%);
      }
      .toast button {
        background: var(--ed-surface, #ffffff);
        color: var(--ed-text, #1b1f24);
        border-color: var(--ed-surface, #ffffff);
        min-height: 36px;
      }
      .label {
        overflow-wrap: anywhere;
      }
    `,
  ];

  declare shown: UndoableDetail | null;
  declare note: string | null;
  #stack: UndoableDetail[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onKey = (event: KeyboardEvent): void => {
    if (event.key.toLowerCase() !== 'z' || !(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey) return;
    if (isTextField(event.composedPath()[0])) return;
    if (!this.#stack.length) return;
    event.preventDefault();
    this.undoLast();
  };

  constructor() {
    super();
    this.shown = null;
    this.note = null;
    this.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && (this.shown || this.note)) this.#hide();
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.#onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.#onKey);
    clearTimeout(this.#timer);
  }

  /** Offers undo for an edit just made: on Ctrl+Z, and with `show` also on screen for a few seconds. */
  push(entry: UndoableDetail, show = true): void {
    this.#stack.push(entry);
    if (this.#stack.length > MAX_UNDO) this.#stack.shift();
    if (show) this.#show(entry, null);
    // A newer edit: the toast of an older one would undo something other than the last edit.
    else if (this.shown) this.#hide();
  }

  /** How many edits Ctrl+Z can take back now. */
  get depth(): number {
    return this.#stack.length;
  }

  /** Undoes the latest edit still undoable; false if there is none. */
  undoLast(): boolean {
    const entry = this.#stack.pop();
    if (!entry) return false;
    this.#run(entry);
    return true;
  }

  /** Forgets every entry (their room closed). */
  clear(): void {
    this.#stack = [];
    this.#hide();
  }

  override render() {
    return html`<div class="toast" role="status">${this.shown
      ? html`<span class="label">${this.shown.label}</span>
          <button type="button" @click=${() => this.#undoShown()}>Undo</button>`
      : this.note
        ? html`<span class="label">${this.note}</span>`
        : nothing}</div>`;
  }

  #undoShown(): void {
    const entry = this.shown;
    if (!entry) return;
    this.#stack = this.#stack.filter((other) => other !== entry);
    this.#run(entry);
  }

  #run(entry: UndoableDetail): void {
    try {
      entry.undo();
      this.#show(null, `Undone: ${lowerFirst(entry.label)}.`);
    } catch (error) {
      this.#show(null, `Could not undo: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #show(entry: UndoableDetail | null, note: string | null): void {
    this.shown = entry;
    this.note = note;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#hide(), UNDO_TOAST_MS);
  }

  #hide(): void {
    clearTimeout(this.#timer);
    this.shown = null;
    this.note = null;
  }
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function isTextField(target: EventTarget | undefined): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(target.type);
}

customElements.define('ednet-undo-toast', EDNetUndoToast);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-undo-toast': EDNetUndoToast;
  }
}
