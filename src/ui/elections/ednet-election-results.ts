import { type PropertyValues, type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { ownerOf } from '../../domain/index.js';
import {
  type BallotReason,
  type BallotVerdict,
  type ElectoralSystemModel,
  type Tally,
  type UnsealedChoices,
  ElectionStatus,
  publishHeldKeys,
  unsealElection,
} from '../../models/electoral/index.js';
import { formatIsoDate, plural, shortId } from '../shared/format.js';
import { idsInWords } from '../shared/ids-in-words.js';
import { Memo } from '../shared/memo.js';
import { ElectionPart } from './election-part.js';
import { markResultsSeen } from './election-attention.js';
import { electionKeyStore } from './election-keys.js';

const PAGE = 20;

/** Why a ballot does not count, in words. */
export const REASON_TEXT: Record<BallotReason, string> = {
  incomplete: 'Incomplete ballot',
  'voter-unknown': 'Voter unknown or deleted',
  'not-voters-device': "Not cast from the voter's own device",
  'not-registered': 'Voter not registered for this election',
  'not-approved': 'Voter not approved by the organiser',
  'candidate-not-standing': 'Candidate does not stand in this election',
  'never-opened': 'The election was never opened',
  'before-opening': 'Cast before voting opened',
  'after-closing': 'Cast after voting closed',
  superseded: 'Superseded: an earlier ballot of this voter counts',
  unreadable: 'Sealed choice the published key does not open',
  'wrong-form': 'Sealed where voting was open, or open where it was sealed',
};

/**
 * The tally of an election: while voting is open, how many ballots were cast (and the votes only
 * where the organiser chose live results, never for sealed ballots); after the close, a bar per
 * candidate with its votes as text, the counts of counted, superseded and invalid ballots, and
 * every ballot that does not count with its reason. Sealed ballots are opened here, on this
 * device, with the key the opening device published; a key that does not open them is reported.
 * Recomputed from the merged state whenever the model changes.
 */
export class EdnetElectionResults extends ElectionPart {
  static override properties = { limit: { state: true }, unsealed: { state: true } };

  private declare limit: number;
  // Sealed choices as this device opened them, for the model revision they were opened at.
  private declare unsealed: { readonly revision: number; readonly electionId: string; readonly choices: UnsealedChoices } | undefined;
  #unsealing = false;
  #publishing = false;
  // The tally is computed once per model change, not once per render.
  readonly #tally = new Memo((_revision: number, model: ElectoralSystemModel, electionId: string, unsealed: UnsealedChoices | undefined) => {
    const tally = model.tally(electionId, unsealed);
    return { tally, notCounted: tally.ballots.filter((ballot) => ballot.status !== 'counted' && ballot.status !== 'sealed') };
  });

  constructor() {
    super();
    this.limit = PAGE;
  }

  static override styles = [
    ElectionPart.styles,
    css`
      ol.results {
        list-style: none;
        margin: 0 0 var(--ed-gap, 12px);
        padding: 0;
      }
      ol.results li {
        margin-bottom: 10px;
      }
      .line {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 8px;
      }
      .line > .wrap {
        min-width: 0;
      }
      .votes {
        font-variant-numeric: tabular-nums;
        white-space: nowrap;
      }
      .track {
        height: 12px;
        margin-top: 4px;
        border-radius: 999px;
        background: var(--ed-bg, #f4f5f7);
        border: 1px solid var(--ed-border, #7d8692);
        overflow: hidden;
      }
      .fill {
        height: 100%;
        background: var(--ed-accent, #1a56c4);
        transition: width 0.3s;
      }
      @media (prefers-reduced-motion: reduce) {
        .fill {
          transition: none;
        }
      }
    `,
  ];

  override render(): TemplateResult {
    const model = this.model;
    const election = this.election();
    if (!model || !election) return html``;
    const unsealed = this.unsealed?.electionId === election.oid ? this.unsealed.choices : undefined;
    const { tally, notCounted } = this.#tally.get(this.modelChanges.revision, model, election.oid, unsealed);
    const live = election.getAttribute('liveResults') === true && election.getAttribute('sealed') !== true;
    const closed = tally.status === ElectionStatus.closed;
    const head = html`<div class="head">
      <h3 id="results-heading">Results</h3>
      <span class=${`badge ${tally.status}`}>${closed ? (tally.sealed ? 'Sealed' : 'Final') : tally.status === ElectionStatus.open ? (live ? 'Live' : 'At the close') : 'Not open yet'}</span>
    </div>`;
    if (!closed && !live)
      return html`<section class="card" aria-labelledby="results-heading">
        ${head}
        <p aria-live="polite">
          ${tally.status === ElectionStatus.open
            ? `${plural(tally.counted + tally.sealed, 'ballot')} cast so far. ${election.getAttribute('sealed') === true ? 'Choices are sealed until voting closes.' : 'Results show when voting closes.'}`
            : 'Results show when voting closes.'}
        </p>
      </section>`;
    return html`<section class="card" aria-labelledby="results-heading">
      ${head}
      <p aria-live="polite">${summary(tally)}</p>
      ${closed && tally.sealed
        ? html`<p class="wrap">${tally.history.rounds.some((round) => round.close && round.sealKey && !round.publishedKeys.length)
            ? 'Waiting for the organiser’s device to publish the key of the sealed ballots.'
            : 'Opening the sealed ballots on this device…'}</p>`
        : nothing}
      ${tally.keyProblems.length
        ? html`<div class="error" role="alert">
            <p><strong>The published key does not open every ballot.</strong> These ballots are not counted:</p>
            <ul>${tally.keyProblems.slice(0, 10).map((problem) => html`<li class="wrap">${problem}</li>`)}</ul>
          </div>`
        : nothing}
      ${tally.setAside.length
        ? html`<div class="notice" role="note">
            <p><strong>Changes made after voting closed were set aside:</strong> the result is the one the closing counted.</p>
            <ul>${tally.setAside.slice(0, 10).map((change) => html`<li class="wrap">${change}</li>`)}</ul>
          </div>`
        : nothing}
      ${tally.results.length
        ? html`<ol class="results">
            ${repeat(
              tally.results,
              (result) => result.candidateId,
              (result) => {
                const share = tally.counted ? (100 * result.votes) / tally.counted : 0;
                return html`<li>
                  <div class="line">
                    <span class="wrap"><strong>${result.name}</strong>${result.party ? html` <span class="muted">${result.party}</span>` : nothing}</span>
                    <span class="votes">${plural(result.votes, 'vote')} (${Math.round(share)}%)</span>
                  </div>
                  <div class="track" aria-hidden="true"><div class="fill" .style=${`width: ${share}%`}></div></div>
                </li>`;
              },
            )}
          </ol>`
        : html`<p class="muted">No candidates stand in this election.</p>`}
      ${notCounted.length
        ? html`<h4>Not counted (${notCounted.length.toLocaleString()})</h4>
            <ul class="plain">
              ${repeat(
                notCounted.slice(0, this.limit),
                (ballot) => ballot.ballotId,
                (ballot) => this.#verdict(ballot),
              )}
            </ul>
            ${notCounted.length > this.limit
              ? html`<button type="button" class="secondary" @click=${() => (this.limit += PAGE)}>Show more ballots</button>`
              : nothing}`
        : nothing}
    </section>`;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const model = this.model;
    const election = this.election();
    // Results shown in full: the "results are in" badge of the Elections tab clears.
    if (model && election && this.unsealedOrPlain(election.oid) && markResultsSeen(model, election.oid))
      this.dispatchEvent(new CustomEvent('attention-changed', { bubbles: true, composed: true }));
    if (!model || !election || model.statusOf(election.oid) !== ElectionStatus.closed || !model.isSealed(election.oid)) return;
    const rounds = model.votingHistory(election.oid).rounds;
    // A co-organiser closed a round this device opened: its key goes out now.
    if (!this.#publishing && rounds.some((round) => round.close && round.sealKey && !round.publishedKeys.length && round.openings.some((o) => ownerOf(o.oid) === model.deviceId))) {
      this.#publishing = true;
      void publishHeldKeys(model, electionKeyStore())
        .catch(() => undefined)
        .finally(() => (this.#publishing = false));
    }
    const revision = this.modelChanges.revision;
    if (this.#unsealing || !rounds.some((round) => round.publishedKeys.length)) return;
    if (this.unsealed?.revision === revision && this.unsealed.electionId === election.oid) return;
    this.#unsealing = true;
    void unsealElection(model, election.oid)
      .then((choices) => (this.unsealed = { revision, electionId: election.oid, choices }))
      .finally(() => (this.#unsealing = false));
  }

  // True once the closed election's results show: not sealed, or opened with the published key.
  private unsealedOrPlain(electionId: string): boolean {
    const model = this.model!;
    if (model.statusOf(electionId) !== ElectionStatus.closed) return false;
    return !model.isSealed(electionId) || (this.unsealed?.electionId === electionId && model.tally(electionId, this.unsealed.choices).sealed === 0);
  }

  #verdict(ballot: BallotVerdict): TemplateResult {
    const model = this.model!;
    const voter = model.get(ballot.voterId);
    const candidate = model.get(ballot.candidateId);
    // Ids only where nothing names them (a voter deleted, a candidate never made), and then short.
    const voterName = voter ? String(voter.getAttribute('name') ?? shortId(ballot.voterId)) : ballot.voterId ? `voter ${shortId(ballot.voterId)}` : 'unknown voter';
    const candidateName = candidate ? String(candidate.getAttribute('name') ?? shortId(ballot.candidateId!)) : ballot.candidateId ? `candidate ${shortId(ballot.candidateId)}` : 'a sealed choice';
    return html`<li class="wrap">
      <strong>${ballot.reason ? REASON_TEXT[ballot.reason] : ballot.status}</strong><br />
      <span class="muted">${voterName} for ${candidateName}${ballot.castAt ? `, cast ${formatIsoDate(ballot.castAt)}` : ''}</span>
      ${ballot.detail ? html`<br /><span class="hint">${idsInWords(model, ballot.detail, this.peers)}</span>` : nothing}
    </li>`;
  }
}

function summary(tally: Tally): string {
  const parts = [`${plural(tally.counted, 'ballot')} counted`];
  if (tally.superseded) parts.push(`${tally.superseded.toLocaleString()} superseded`);
  if (tally.invalid) parts.push(`${tally.invalid.toLocaleString()} not counted`);
  if (tally.sealed) parts.push(`${tally.sealed.toLocaleString()} sealed`);
  return `${parts.join(', ')}.`;
}

customElements.define('ednet-election-results', EdnetElectionResults);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-election-results': EdnetElectionResults;
  }
}
