import { css } from 'lit';

/** A modal `<dialog>` as a centred card (a sheet along the bottom on phones). */
export const dialogStyles = css`
  dialog {
    border: 1px solid var(--ed-border, #7d8692);
    border-radius: var(--ed-radius, 8px);
    background: var(--ed-bg, #f4f5f7);
    color: var(--ed-text, #1b1f24);
    padding: var(--ed-gap, 12px);
    width: min(40rem, calc(100vw - 2 * var(--ed-gap, 12px)));
    max-height: calc(100dvh - 2 * var(--ed-gap, 12px));
    overflow: auto;
  }
  dialog::backdrop {
    background: rgb(0 0 0 / 45%);
  }
  dialog h2 {
    margin-top: 0;
  }
  @media (max-width: 480px) {
    dialog {
      margin: auto 0 0;
      width: 100vw;
      max-width: 100vw;
      border-radius: var(--ed-radius, 8px) var(--ed-radius, 8px) 0 0;
    }
  }
`;
