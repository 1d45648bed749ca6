import { LitElement, type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { type BallotReason, BallotStatus, type BallotVerdict, type ElectoralSystemModel, type UnsealedChoices, unsealElection } from '../../models/electoral/index.js';
import type { InputRefusedEvent } from '../../node/node-events.js';
import type { ItemSignatures, SignatureState } from '../../node/index.js';
import { formatIsoDate, formatTime, shortId } from '../shared/format.js';
import { idsInWords } from '../shared/ids-in-words.js';
import { Memo } from '../shared/memo.js';
import { ModelController } from '../shared/model-controller.js';
import { baseStyles, cardStyles, controlStyles } from '../shared/theme.js';
import { AuditNodeController, type AuditNode } from './audit-node-controller.js';
import { type AuthorName, AuthorNames } from './author-names.js';
import { type ActivityEntry, ActivityTiming, electionActivity } from './election-activity.js';

const PAGE = 500;

/** An entry's signature state; `off` where the room's changes are not signed. */
type EntrySignature = SignatureState | 'off';

const SIGNATURE_TEXT: Record<EntrySignature, string> = {
  valid: 'valid signature',
  invalid: 'signature invalid',
  missing: 'no certificate',
  pending: 'being signed',
  off: 'not signed',
};

const REASON_TEXT: Record<BallotReason, string> = {
  incomplete: 'Incomplete ballot',
  'voter-unknown': 'Unknown voter',
  'not-voters-device': "Not cast on the voter's own device",
  'not-registered': 'Voter not registered for this election',
  'not-approved': 'Voter not approved by the organiser',
  'candidate-not-standing': 'Candidate not standing',
  'never-opened': 'The election was never opened',
  'before-opening': 'Cast before voting opened',
  'after-closing': 'Cast after voting closed',
  superseded: 'The voter had already voted',
  unreadable: 'Sealed choice the published key does not open',
  'wrong-form': 'Sealed where voting was open, or open where it was sealed',
};

/**
 * The audit of an election: who did what and when, with each entry's signature state; the ballots
 * the tally leaves out, and why; and the input this device refused from peers. Reads the model
 * and the node; changes nothing. Names and values come from peers and are rendered as text only.
 */
export class EdnetAuditView extends LitElement {
  static override properties = {
    model: { attribute: false },
    node: { attribute: false },
    electionId: { attribute: false },
    limit: { state: true },
    unsealed: { state: true },
  };

  declare model: ElectoralSystemModel | undefined;
  /** The room's node: signatures, peers' names and refused input. Without it only the model's part shows. */
  declare node: AuditNode | undefined;
  /** The election audited; the first one when unset or gone. */
  declare electionId: string | undefined;
  private declare limit: number;
  /** The closed election's sealed choices as the published key opened them on this device (see `unsealElection`). */
  private declare unsealed: { readonly revision: number; readonly electionId: string; readonly choices: UnsealedChoices } | undefined;
  #unsealing = false;
  readonly #modelChanges = new ModelController(this, () => this.model);
  readonly #nodeChanges = new AuditNodeController(this, () => ({ node: this.node, modelId: this.model?.modelId }));
  readonly #activity = new Memo((model: ElectoralSystemModel, _revision: number, electionId: string) => electionActivity(model, electionId));
  // Hashing items costs: only the entries shown, again only when they or the certificates change.
  readonly #signatures = new Memo(
    (entries: readonly ActivityEntry[], limit: number, _revision: number, signatures: ItemSignatures | undefined) =>
      new Map<string, EntrySignature>(
        entries.slice(0, limit).map((entry) => [entry.key, signatures ? signatures.stateOf(entry.items.map((item) => item.change)) : 'off']),
      ),
  );
  readonly #names = new Memo(
    (model: ElectoralSystemModel, _modelRevision: number, node: AuditNode | undefined, _nodeRevision: number, electionId: string | undefined) =>
      new AuthorNames(model, electionId, [...(node?.refusals ?? []).map((r) => ({ peerId: r.peerId, displayName: r.peerName })), ...(node?.status.peers ?? [])]),
  );
  readonly #uncounted = new Memo((model: ElectoralSystemModel, _revision: number, electionId: string, unsealed: UnsealedChoices | undefined) =>
    model.tally(electionId, unsealed).ballots.filter((verdict) => verdict.status !== BallotStatus.counted),
  );

  constructor() {
    super();
    this.limit = PAGE;
  }

  static override styles = [
    baseStyles,
    controlStyles,
    cardStyles,
    css`
      :host {
        display: block;
        container-type: inline-size;
      }
      .field {
        max-width: 32em;
      }
      ol,
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      .entry {
        display: grid;
        grid-template-columns: minmax(9em, 13em) minmax(8em, 15em) minmax(0, 1fr) auto;
        grid-template-areas: 'when who what sig';
        gap: 4px 12px;
        align-items: baseline;
        padding: 8px 0;
        border-top: 1px solid var(--ed-border, #7d8692);
      }
      .when {
        grid-area: when;
      }
      .who {
        grid-area: who;
        min-width: 0;
      }
      .what {
        grid-area: what;
        min-width: 0;
      }
      .sig {
        grid-area: sig;
        justify-self: end;
      }
      @container (max-width: 640px) {
        .entry {
          grid-template-columns: minmax(0, 1fr) auto;
          grid-template-areas: 'when sig' 'who who' 'what what';
        }
      }
      .when,
      .detail {
        font-size: 0.875rem;
        color: var(--ed-muted, #545d68);
      }
      .detail {
        display: block;
      }
      .sig.valid {
        color: var(--ed-ok, #1d6b33);
      }
      .sig.invalid {
        color: var(--ed-danger, #b3261e);
      }
      .sig.missing {
        color: var(--ed-warn, #8a4b00);
      }
      .sig.pending,
      .sig.off {
        color: var(--ed-muted, #545d68);
      }
      .verdict {
        padding: 8px 0;
        border-top: 1px solid var(--ed-border, #7d8692);
      }
      .verdict p {
        margin: 0;
      }
      .reason {
        font-weight: 600;
      }
    `,
  ];

  // After the close, sealed ballots are read with the published key here too: else they would
  // be listed as not counted when the results card counts them.
  protected override updated(): void {
    const model = this.model;
    const electionId = this.#shownElection();
    if (!model || !electionId || this.#unsealing || !model.elections().has(electionId)) return;
    if (model.statusOf(electionId) !== 'closed' || !model.votingHistory(electionId).rounds.some((round) => round.publishedKeys.length)) return;
    const revision = this.#modelChanges.revision;
    if (this.unsealed?.revision === revision && this.unsealed.electionId === electionId) return;
    this.#unsealing = true;
    void unsealElection(model, electionId)
      .then((choices) => (this.unsealed = { revision, electionId, choices }))
      .catch(() => undefined)
      .finally(() => (this.#unsealing = false));
  }

  #shownElection(): string | undefined {
    const elections = this.model?.entities('Election', { includeDeleted: true }).toArray() ?? [];
    return (elections.find((e) => e.oid === this.electionId) ?? elections.find((e) => !e.isDeleted) ?? elections[0])?.oid;
  }

  override render(): TemplateResult {
    const model = this.model;
    if (!model) return html`<p class="muted">No room is open.</p>`;
    const elections = model.entities('Election', { includeDeleted: true }).toArray();
    const election = elections.find((e) => e.oid === this.electionId) ?? elections.find((e) => !e.isDeleted) ?? elections[0];
    const names = this.#names.get(model, this.#modelChanges.revision, this.node, this.#nodeChanges.revision, election?.oid);
    return html`<section aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit</h2>
      <p class="muted">Who did what in an election, when, and whether their signature checks out; ballots the count leaves out; input this device refused.</p>
      ${model && this.node && !this.node.signatures(model.modelId)
        ? html`<p class="notice">Changes in this room are not signed: authors are who the changes claim, not proven by a device key.</p>`
        : nothing}
      ${election
        ? html`<div class="field">
              <label for="audit-election">Election</label>
              <select id="audit-election" @change=${this.#choose}>
                ${elections.map(
                  (e) =>
                    html`<option value=${e.oid} ?selected=${e.oid === election.oid}>
                      ${String(e.getAttribute('title') ?? e.oid)}${e.isDeleted ? ' (deleted)' : ''}
                    </option>`,
                )}
              </select>
            </div>
            ${this.#activitySection(model, election.oid, names)}
            ${this.#uncountedSection(model, election.oid, !model.elections().has(election.oid), names)}`
        : html`<p class="muted">No elections yet.</p>`}
      ${this.#refusedSection(names)} ${this.#storageSection()}
    </section>`;
  }

  #activitySection(model: ElectoralSystemModel, electionId: string, names: AuthorNames): TemplateResult {
    const entries = this.#activity.get(model, this.#modelChanges.revision, electionId);
    const signatures = this.#signatures.get(entries, this.limit, this.#nodeChanges.revision, this.#nodeChanges.signatures);
    return html`<section class="card" aria-labelledby="activity-heading">
      <h3 id="activity-heading">Activity <span class="muted">(${entries.length.toLocaleString()})</span></h3>
      <p class="hint">
        Newest first, as this device's copy of the room holds it: a value overwritten since is no longer here. Additions and removals carry no clock
        reading, so their time is bounded by the author's nearest other change.
      </p>
      ${entries.length
        ? html`<ol class="activity">
            ${repeat(
              entries.slice(0, this.limit),
              (entry) => entry.key,
              (entry) => this.#entry(entry, names.of(entry.author), signatures.get(entry.key)!),
            )}
          </ol>`
        : html`<p class="muted">Nothing recorded for this election.</p>`}
      ${entries.length > this.limit
        ? html`<p class="actions">
            <span>Showing ${this.limit.toLocaleString()} of ${entries.length.toLocaleString()}.</span>
            <button type="button" class="secondary" @click=${() => (this.limit += PAGE)}>Show ${PAGE} more</button>
          </p>`
        : nothing}
    </section>`;
  }

  #entry(entry: ActivityEntry, author: AuthorName, signature: EntrySignature): TemplateResult {
    return html`<li class="entry">
      ${this.#time(entry)}
      <span class="who wrap"><span class="visually-hidden">by </span>${author.name}${author.detail ? html`<span class="detail">${author.detail}</span>` : nothing}</span>
      <span class="what wrap">${entry.what}</span>
      <span class=${`badge sig ${signature}`}>${SIGNATURE_TEXT[signature]}</span>
    </li>`;
  }

  #time(entry: ActivityEntry): TemplateResult {
    if (entry.ms === undefined) return html`<span class="when">time unknown</span>`;
    const prefix = entry.timing === ActivityTiming.after ? 'after ' : entry.timing === ActivityTiming.before ? 'before ' : '';
    return html`<span class="when">${prefix}<time datetime=${new Date(entry.ms).toISOString()}>${formatTime(entry.ms)}</time></span>`;
  }

  #uncountedSection(model: ElectoralSystemModel, electionId: string, deleted: boolean, names: AuthorNames): TemplateResult {
    const unsealed = this.unsealed?.electionId === electionId ? this.unsealed.choices : undefined;
    const verdicts = deleted ? [] : this.#uncounted.get(model, this.#modelChanges.revision, electionId, unsealed);
    return html`<section class="card" aria-labelledby="uncounted-heading">
      <h3 id="uncounted-heading">Ballots not counted <span class="muted">(${verdicts.length.toLocaleString()})</span></h3>
      ${deleted
        ? html`<p class="muted">The election is deleted: there is no count.</p>`
        : verdicts.length
          ? html`<ul>
              ${verdicts.map((verdict) => this.#verdict(model, verdict, names))}
            </ul>`
          : html`<p class="muted">Every ballot cast so far counts.</p>`}
    </section>`;
  }

  #verdict(model: ElectoralSystemModel, verdict: BallotVerdict, names: AuthorNames): TemplateResult {
    const voter = model.get(verdict.voterId, { includeDeleted: true })?.getAttribute('name');
    // The ballot's author: whoever wrote its voter (written once, at casting, by the caster).
    const author = model.get(verdict.ballotId)?.toState().attributes['voter']?.[0]?.dot.node;
    const caster = author === undefined ? undefined : names.of(author);
    return html`<li class="verdict">
      <p class="wrap">
        <span class="reason">${verdict.reason ? REASON_TEXT[verdict.reason] : verdict.status}:</span> ballot of voter
        ${typeof voter === 'string' ? `“${voter}”` : shortId(verdict.voterId)}, cast ${formatIsoDate(verdict.castAt)}${caster
          ? ` by ${caster.name}${caster.detail ? ` (${caster.detail})` : ''}`
          : ''}.
      </p>
      ${verdict.detail ? html`<p class="hint wrap">${idsInWords(model, verdict.detail, this.node?.status.peers)}</p>` : nothing}
    </li>`;
  }

  #refusedSection(names: AuthorNames): TemplateResult {
    const refusals = this.#refusals().slice().reverse();
    return html`<section class="card" aria-labelledby="refused-heading">
      <h3 id="refused-heading">Refused input <span class="muted">(${refusals.length.toLocaleString()})</span></h3>
      <p class="hint">
        Only what reached this device since the room was opened here (the latest 200, every election): other devices keep their own list. Refused input
        changed nothing.
      </p>
      ${!this.node
        ? html`<p class="muted">Not connected to a node.</p>`
        : refusals.length
          ? html`<ol>
              ${refusals.map((refusal) => {
                const peer = names.of(refusal.peerId);
                return html`<li class="entry">
                  <span class="when"><time datetime=${new Date(refusal.at).toISOString()}>${formatTime(refusal.at)}</time></span>
                  <span class="who wrap"><span class="visually-hidden">from </span>${peer.name}${peer.detail ? html`<span class="detail">${peer.detail}</span>` : nothing}</span>
                  <span class="what wrap">${idsInWords(this.model, refusal.reason, this.node?.status.peers)}</span>
                </li>`;
              })}
            </ol>`
          : html`<p class="muted">Nothing refused.</p>`}
    </section>`;
  }

  // Damaged stored records worked around when the room opened here: shown only if there are any.
  #storageSection(): TemplateResult | typeof nothing {
    const problems = this.node?.status.storageProblems ?? [];
    if (!problems.length) return nothing;
    return html`<section class="card" aria-labelledby="storage-heading">
      <h3 id="storage-heading">Damaged storage <span class="muted">(${problems.length.toLocaleString()})</span></h3>
      <p class="hint">
        Records of this device's copy of the room that could not be read. Each is kept aside in its storage, not deleted; the room opened without
        it, and peers send what it held again.
      </p>
      <ol>
        ${problems.map(
          (problem) => html`<li class="entry">
            <span class="when"><time datetime=${new Date(problem.at).toISOString()}>${formatTime(problem.at)}</time></span>
            <span class="who wrap">${problem.kind} ${problem.key}</span>
            <span class="what wrap">${problem.reason}. ${problem.recovery}</span>
          </li>`,
        )}
      </ol>
    </section>`;
  }

  #refusals(): readonly InputRefusedEvent[] {
    return this.node?.refusals ?? [];
  }

  #choose(event: Event): void {
    this.electionId = (event.target as HTMLSelectElement).value;
    this.limit = PAGE;
  }
}

customElements.define('ednet-audit-view', EdnetAuditView);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-audit-view': EdnetAuditView;
  }
}
