import { css } from 'lit';

/**
 * The design tokens with their light and dark values. The app's index.html defines the same
 * custom properties on `:root`; this block exists for pages that mount the views without it
 * (tests, embeds): `document.adoptedStyleSheets = [...document.adoptedStyleSheets, themeTokens.styleSheet!]`.
 * Every pair of text and background tokens passes WCAG AA contrast (4.5:1).
 */
export const themeTokens = css`
  :root {
    color-scheme: light dark;
    --ed-bg: #f4f5f7;
    --ed-surface: #ffffff;
    --ed-text: #1b1f24;
    --ed-muted: #545d68;
    --ed-accent: #1a56c4;
    --ed-accent-text: #ffffff;
    --ed-danger: #b3261e;
    --ed-ok: #1d6b33;
    --ed-warn: #8a4b00;
    --ed-border: #7d8692;
    --ed-radius: 8px;
    --ed-gap: 12px;
    --ed-font: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  }
  @media (prefers-color-scheme: dark) {
    :root {
      --ed-bg: #14171b;
      --ed-surface: #1e2228;
      --ed-text: #e8eaed;
      --ed-muted: #aab2bd;
      --ed-accent: #8ab4ff;
      --ed-accent-text: #0b1a33;
      --ed-danger: #ff8a80;
      --ed-ok: #7bd88f;
      --ed-warn: #f2c46d;
      --ed-border: #6b7480;
    }
  }
`;

/**
 * Box sizing, font, colours and a visible focus ring for every element of a component. Each token
 * falls back to its light value so a view stays readable even on a page that defines none.
 */
export const baseStyles = css`
  :host {
    font-family: var(--ed-font, system-ui, sans-serif);
    color: var(--ed-text, #1b1f24);
    line-height: 1.45;
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  :focus-visible {
    outline: 3px solid var(--ed-accent, #1a56c4);
    outline-offset: 2px;
  }
  h2,
  h3,
  h4 {
    margin: 0 0 calc(var(--ed-gap, 12px) / 2);
    line-height: 1.25;
  }
  h2 {
    font-size: 1.25rem;
  }
  h3 {
    font-size: 1.1rem;
  }
  h4 {
    font-size: 1rem;
  }
  p {
    margin: 0 0 calc(var(--ed-gap, 12px) / 2);
  }
  .muted {
    color: var(--ed-muted, #545d68);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  /* Peer-supplied text can be one long word; it must never widen a phone screen. */
  .wrap {
    overflow-wrap: anywhere;
  }
`;

/** Buttons, inputs, selects, labels, field hints and field errors. */
export const controlStyles = css`
  button {
    font: inherit;
    min-height: 44px;
    padding: 0.45em 1em;
    border-radius: var(--ed-radius, 8px);
    border: 1px solid var(--ed-accent, #1a56c4);
    background: var(--ed-accent, #1a56c4);
    color: var(--ed-accent-text, #ffffff);
    cursor: pointer;
  }
  button.secondary {
    background: transparent;
    color: var(--ed-accent, #1a56c4);
  }
  button.danger {
    background: transparent;
    border-color: var(--ed-danger, #b3261e);
    color: var(--ed-danger, #b3261e);
  }
  button.link {
    min-height: 0;
    padding: 0;
    border: none;
    background: none;
    color: var(--ed-accent, #1a56c4);
    text-decoration: underline;
    text-align: start;
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  label,
  .label {
    display: block;
    font-weight: 600;
    margin-bottom: 0.25em;
  }
  input:not([type='checkbox']):not([type='radio']),
  select,
  textarea {
    font: inherit;
    width: 100%;
    min-height: 44px;
    padding: 0.4em 0.6em;
    border: 1px solid var(--ed-border, #7d8692);
    border-radius: var(--ed-radius, 8px);
    background: var(--ed-surface, #ffffff);
    color: var(--ed-text, #1b1f24);
  }
  textarea {
    min-height: 5em;
    resize: vertical;
  }
  input[type='checkbox'],
  input[type='radio'] {
    width: 1.25em;
    height: 1.25em;
    accent-color: var(--ed-accent, #1a56c4);
  }
  [aria-invalid='true'] {
    border-color: var(--ed-danger, #b3261e) !important;
    border-width: 2px !important;
  }
  .field {
    margin-bottom: var(--ed-gap, 12px);
    min-width: 0;
  }
  .check {
    display: flex;
    gap: 0.5em;
    align-items: center;
    font-weight: 400;
  }
  .hint {
    display: block;
    font-size: 0.875rem;
    color: var(--ed-muted, #545d68);
    margin-top: 0.2em;
  }
  .field-error,
  .error {
    display: block;
    color: var(--ed-danger, #b3261e);
    font-size: 0.9rem;
    margin-top: 0.2em;
    font-weight: 600;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: calc(var(--ed-gap, 12px) / 2);
    align-items: center;
  }
  .notice {
    padding: 0.6em 0.8em;
    border-radius: var(--ed-radius, 8px);
    border: 1px solid var(--ed-border, #7d8692);
    background: var(--ed-bg, #f4f5f7);
  }
  .notice.ok {
    border-color: var(--ed-ok, #1d6b33);
  }
  .notice.error {
    border-color: var(--ed-danger, #b3261e);
  }
`;

/** A surface card for grouping a section, and the small status badge used by lists. */
export const cardStyles = css`
  .card {
    background: var(--ed-surface, #ffffff);
    border: 1px solid var(--ed-border, #7d8692);
    border-radius: var(--ed-radius, 8px);
    padding: var(--ed-gap, 12px);
    margin-bottom: var(--ed-gap, 12px);
    min-width: 0;
  }
  .badge {
    display: inline-block;
    padding: 0 0.5em;
    border-radius: 999px;
    border: 1px solid currentColor;
    font-size: 0.8rem;
    font-weight: 600;
    white-space: nowrap;
  }
  .badge.draft {
    color: var(--ed-muted, #545d68);
  }
  .badge.open {
    color: var(--ed-ok, #1d6b33);
  }
  .badge.closed {
    color: var(--ed-warn, #8a4b00);
  }
`;

/** `<details>` whose summary is a 44 px tap target in the accent colour, with a drawn disclosure triangle. */
export const disclosureStyles = css`
  details > summary {
    cursor: pointer;
    font-weight: 600;
    min-height: 44px;
    display: flex;
    align-items: center;
    gap: 0.4em;
    color: var(--ed-accent, #1a56c4);
  }
  /* A flex summary loses its disclosure triangle: draw one. */
  details > summary::before {
    content: '';
    border: 0.35em solid transparent;
    border-left: 0.5em solid currentColor;
    border-right: 0;
  }
  details[open] > summary::before {
    transform: rotate(90deg);
  }
`;
