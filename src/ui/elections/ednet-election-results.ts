import { type TemplateResult, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { type BallotReason, type BallotVerdict, type ElectoralSystemModel, type Tally, ElectionStatus } from '../../models/electoral/index.js';
import { formatIsoDate, plural } from '../shared/format.js';
import { Memo } from '../shared/memo.js';
import { ElectionPart } from './election-part.js';

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
 * The live tally of an election: a bar per candidate with its votes as text, the counts of
 * counted, superseded and invalid ballots, and every ballot that does not count with its reason.
 * Recomputed from the merged state whenever the model changes, so ballots from peers show as
 * they arrive.
 */
export class EdnetElectionResults extends ElectionPart {
  static override properties = { limit: { state: true } };

  private declare limit: number;
  // The tally is computed once per model change, not once per render.
  readonly #tally = new Memo((_revision: number, model: ElectoralSystemModel, electionId: string) => {
    const tally = model.tally(electionId);
    return { tally, notCounted: tally.ballots.filter((ballot) => ballot.status !== 'counted') };
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
    if (!model || !this.election()) return html``;
    const { tally, notCounted } = this.#tally.get(this.modelChanges.revision, model, this.electionId!);
    return html`<section class="card" aria-labelledby="results-heading">
      <div class="head">
        <h3 id="results-heading">Results</h3>
        <span class=${`badge ${tally.status}`}>${tally.status === ElectionStatus.closed ? 'Final' : tally.status === ElectionStatus.open ? 'Live' : 'Not open yet'}</span>
      </div>
      <p aria-live="polite">${summary(tally)}</p>
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

  #verdict(ballot: BallotVerdict): TemplateResult {
    const model = this.model!;
    const voter = model.get(ballot.voterId);
    const candidate = model.get(ballot.candidateId);
    const voterName = voter ? String(voter.getAttribute('name') ?? ballot.voterId) : ballot.voterId || 'unknown voter';
    const candidateName = candidate ? String(candidate.getAttribute('name') ?? ballot.candidateId) : ballot.candidateId || 'unknown candidate';
    return html`<li class="wrap">
      <strong>${ballot.reason ? REASON_TEXT[ballot.reason] : ballot.status}</strong><br />
      <span class="muted">${voterName} for ${candidateName}${ballot.castAt ? `, cast ${formatIsoDate(ballot.castAt)}` : ''}</span>
      ${ballot.detail ? html`<br /><span class="hint">${ballot.detail}</span>` : nothing}
    </li>`;
  }
}

function summary(tally: Tally): string {
  const parts = [`${plural(tally.counted, 'ballot')} counted`];
  if (tally.superseded) parts.push(`${tally.superseded.toLocaleString()} superseded`);
  if (tally.invalid) parts.push(`${tally.invalid.toLocaleString()} invalid`);
  return `${parts.join(', ')}.`;
}

customElements.define('ednet-election-results', EdnetElectionResults);

declare global {
  interface HTMLElementTagNameMap {
    'ednet-election-results': EdnetElectionResults;
  }
}
