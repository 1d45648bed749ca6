import { type TemplateResult, html } from 'lit';

/**
 * The new-election form's choice of how ballots are kept: sealed until the close (the default),
 * or open, with or without results while voting runs. Radio buttons, so "live results with
 * sealed ballots" cannot be chosen.
 */
export function sealingChoice(): TemplateResult {
  return html`<fieldset class="sealing">
    <legend>Ballots</legend>
    <label class="check wrap"
      ><input type="radio" name="ballots" value="sealed" checked /> Sealed until voting closes (recommended): nobody reads a choice
      before the close; the count of ballots shows. Your device keeps the key; after the close every member can see who chose what.</label
    >
    <label class="check wrap"
      ><input type="radio" name="ballots" value="open" /> Not sealed; results when voting closes. Every member’s device holds who chose
      what.</label
    >
    <label class="check wrap"><input type="radio" name="ballots" value="live" /> Not sealed, with live results while voting is open.</label>
  </fieldset>`;
}

/** The `createElection` options the form's choice stands for. */
export function sealingOf(form: HTMLFormElement): { sealed: boolean; liveResults: boolean } {
  const choice = form.querySelector<HTMLInputElement>('input[name="ballots"]:checked')?.value ?? 'sealed';
  return { sealed: choice === 'sealed', liveResults: choice === 'live' };
}
