import { LitElement, type PropertyValues, type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { type AttributeValue, type AttributeWrite, type Conflict, DELETED, type DomainModel, deviceOf } from '../domain/index.js';
import type { PeerInfo } from '../node/node-events.js';
import { deviceDisplayName } from './shared/device-names.js';
import { fieldErrorOf } from './shared/error-message.js';
import { entityLabel, formatTime, formatValue, plural, shortId } from './shared/format.js';
import { ModelController } from './shared/model-controller.js';
import { idsInWords } from './shared/ids-in-words.js';
import { whyReadOnly } from './shared/write-permission.js';
import { baseStyles, cardStyles, controlStyles } from './shared/theme.js';

/** Detail of `conflict-resolved`: which register was settled, and on which value. */
export interface ConflictResolvedDetail {
  readonly oid: string;
  readonly attribute: string;
  readonly value: AttributeValue;
}

const PAGE = 25;

/**
 * Every concurrent overwrite the model kept (the value shown and the ones that lost, with who
 * wrote them and when), and every deletion that raced with edits. "Keep" and "Use this value"
 * settle a conflict through `resolveConflicts`; the decision is a new write that every peer
 * receives. Fires `conflict-resolved` (bubbling) after each decision.
 */
export class EdnetConflictsPanel extends LitElement {
  static override properties = {
    model: { attribute: false },
    peers: { attribute: false },
    limit: { state: true },
    errors: { state: true },
  };

  declare model: DomainModel | undefined;
  /** Known peers, to name writers by their display name. */
  declare peers: readonly PeerInfo[];
  private declare limit: number;
  private declare errors: ReadonlyMap<string, string>;
  #focusHeading = false;

  constructor() {
    super();
    this.peers = [];
    this.limit = PAGE;
    this.errors = new Map();
    new ModelController(this, () => this.model);
  }

  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    css`
      :host {
        display: block;
      }
      ul.conflicts {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      .write {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px 12px;
        padding: 8px 0;
        border-top: 1px solid var(--ed-border, #7d8692);
      }
      .write .what {
        flex: 1 1 20em;
        min-width: 0;
      }
      .value {
        font-weight: 600;
      }
      .edits {
        margin: 4px 0 8px;
        padding-left: 1.2em;
      }
      h2:focus {
        outline: none;
      }
      h2:focus-visible {
        outline: 3px solid var(--ed-accent, #1a56c4);
      }
    `,
  ];

  override render(): TemplateResult {
    const model = this.model;
    const conflicts = model ? model.conflicts : [];
    return html`<section aria-labelledby="conflicts-heading">
      <h2 id="conflicts-heading" tabindex="-1">Conflicts <span class="muted">(${conflicts.length.toLocaleString()})</span></h2>
      ${conflicts.length === 0
        ? html`<p class="muted">No conflicts. When two devices change the same value at the same time, both values are listed here for you to choose.</p>`
        : html`<ul class="conflicts">
              ${repeat(
                conflicts.slice(0, this.limit),
                (conflict) => keyOf(conflict),
                (conflict) => html`<li class="card">${conflict.attribute === DELETED ? this.#deletion(conflict) : this.#overwrite(conflict)}</li>`,
              )}
            </ul>
            ${conflicts.length > this.limit
              ? html`<p class="actions">
                  <span>Showing ${this.limit.toLocaleString()} of ${conflicts.length.toLocaleString()}.</span>
                  <button type="button" class="secondary" @click=${() => (this.limit += PAGE)}>Show more conflicts</button>
                </p>`
              : nothing}`}
    </section>`;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.#focusHeading) {
      this.#focusHeading = false;
      this.renderRoot.querySelector<HTMLElement>('#conflicts-heading')?.focus();
    }
  }

  #overwrite(conflict: Conflict): TemplateResult {
    const error = this.errors.get(keyOf(conflict));
    const subject = this.#subject(conflict);
    const readOnly = whyReadOnly(this.model!, conflict.entityType, conflict.oid, this.peers);
    return html`<h3 class="wrap">${subject}: <span class="muted">${conflict.attribute}</span></h3>
      <p class="muted">${this.#where(conflict)} The first value is shown now.</p>
      ${readOnly ? html`<p class="wrap">${readOnly} It can settle this conflict; this device cannot.</p>` : nothing}
      <div class="write">
        <span class="what wrap">
          <span class="value">${formatValue(conflict.winner.value)}</span>
          <span class="muted">(shown) by ${this.#writer(conflict.winner)}, ${formatTime(conflict.winner.ts.ms)}</span>
        </span>
        ${readOnly
          ? nothing
          : html`<button type="button" @click=${() => this.#resolve(conflict, conflict.winner.value)}>
              Keep<span class="visually-hidden"> ${formatValue(conflict.winner.value)} for ${conflict.attribute} of ${subject}</span>
            </button>`}
      </div>
      ${conflict.losers.map(
        (write) => html`<div class="write">
          <span class="what wrap">
            <span class="value">${formatValue(write.value)}</span>
            <span class="muted">by ${this.#writer(write)}, ${formatTime(write.ts.ms)}</span>
          </span>
          ${readOnly
            ? nothing
            : html`<button type="button" class="secondary" @click=${() => this.#resolve(conflict, write.value)}>
                Use this value<span class="visually-hidden"> (${formatValue(write.value)}) for ${conflict.attribute} of ${subject}</span>
              </button>`}
        </div>`,
      )}
      ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}`;
  }

  #deletion(conflict: Conflict): TemplateResult {
    const error = this.errors.get(keyOf(conflict));
    const subject = this.#subject(conflict);
    const edits = conflict.concurrentEdits ?? [];
    const restores = conflict.losers.filter((write) => write.value === false);
    const readOnly = whyReadOnly(this.model!, conflict.entityType, conflict.oid, this.peers);
    return html`<h3 class="wrap">${subject} was deleted</h3>
      <p>Deleted by ${this.#writer(conflict.winner)}, ${formatTime(conflict.winner.ts.ms)}.</p>
      ${restores.map((write) => html`<p>Restored at the same time by ${this.#writer(write)}, ${formatTime(write.ts.ms)}.</p>`)}
      ${edits.length
        ? html`<p>${plural(edits.length, 'change')} made at the same time ${this.#elsewhere(conflict)}:</p>
            <ul class="edits">
              ${edits.map(
                (edit) =>
                  html`<li class="wrap">
                    ${edit.attribute}: <span class="value">${formatValue(edit.write.value)}</span>
                    <span class="muted">by ${this.#writer(edit.write)}, ${formatTime(edit.write.ts.ms)}</span>
                  </li>`,
              )}
            </ul>`
        : nothing}
      ${readOnly
        ? html`<p class="wrap">${readOnly} It can settle this conflict; this device cannot.</p>`
        : html`<div class="actions">
            <button type="button" @click=${() => this.#resolve(conflict, true)}>Keep deleted<span class="visually-hidden">: ${subject}</span></button>
            <button type="button" class="secondary" @click=${() => this.#resolve(conflict, false)}>
              Restore<span class="visually-hidden"> ${subject}</span>${edits.length ? ' with these changes' : ''}
            </button>
          </div>`}
      ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}`;
  }

  // Where the racing writes came from: two devices, or two tabs of one device (one device id, two node ids).
  #where(conflict: Conflict): string {
    const writes = [conflict.winner, ...conflict.losers];
    const devices = new Set(writes.map((write) => deviceOf(write.dot.node) ?? write.dot.node));
    if (devices.size > 1) return 'Changed on two devices at the same time.';
    return [...devices][0] === deviceOf(this.model!.nodeId) ? 'Changed in two tabs of this device at the same time.' : 'Changed in two tabs of one device at the same time.';
  }

  // Where the edits racing a deletion were made: another tab of the deleting device, or another device.
  #elsewhere(conflict: Conflict): string {
    const deleter = deviceOf(conflict.winner.dot.node);
    const edits = conflict.concurrentEdits ?? [];
    return deleter !== undefined && edits.every((edit) => deviceOf(edit.write.dot.node) === deleter) ? 'in another tab of the same device' : 'on another device';
  }

  // "Concept “label”", the label read from the entity even when it is deleted.
  #subject(conflict: Conflict): string {
    const model = this.model!;
    const entity = model.get(conflict.oid, { includeDeleted: true });
    const concept = model.schema.concepts.get(conflict.entityType);
    const label = entity && concept ? entityLabel(entity, concept) : conflict.oid;
    return `${conflict.entityType} “${label}”`;
  }

  #writer(write: AttributeWrite): string {
    const node = write.dot.node;
    if (node === this.model?.nodeId) return 'you';
    if (this.model && deviceOf(node) !== undefined && deviceOf(node) === deviceOf(this.model.nodeId)) return 'you, in another tab';
    const name = deviceDisplayName(this.model, this.peers, deviceOf(node)) ?? this.peers.find((candidate) => candidate.peerId === node)?.displayName;
    return name || `device ${shortId(node)}`;
  }

  #resolve(conflict: Conflict, value: AttributeValue): void {
    const model = this.model;
    if (!model) return;
    const key = keyOf(conflict);
    const errors = new Map(this.errors);
    errors.delete(key);
    try {
      model.resolveConflicts(
        [{ kind: 'attribute', entityType: conflict.entityType, oid: conflict.oid, attribute: conflict.attribute, writes: [conflict.winner, ...conflict.losers] }],
        () => value,
      );
    } catch (error) {
      // Rights may have changed since the card was drawn: say who may, in words, as the card would.
      errors.set(key, whyReadOnly(model, conflict.entityType, conflict.oid, this.peers) ?? idsInWords(model, fieldErrorOf(error).message, this.peers));
      this.errors = errors;
      return;
    }
    this.errors = errors;
    // The settled card disappears; keyboard focus must not fall back to the top of the page.
    this.#focusHeading = true;
    this.requestUpdate();
    this.dispatchEvent(
      new CustomEvent<ConflictResolvedDetail>('conflict-resolved', {
        detail: { oid: conflict.oid, attribute: conflict.attribute, value },
        bubbles: true,
        composed: true,
      }),
    );
  }
}

function keyOf(conflict: Conflict): string {
  return `${conflict.oid}\u0000${conflict.attribute}`;
}

customElements.define('ednet-conflicts-panel', EdnetConflictsPanel);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-conflicts-panel': EdnetConflictsPanel;
  }
  interface HTMLElementEventMap {
    'conflict-resolved': CustomEvent<ConflictResolvedDetail>;
  }
}
