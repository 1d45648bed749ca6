/** Detail of `undoable`: an edit this device just made, in words, and how to take it back. */
export interface UndoableDetail {
  /** What was done, for people: "Deleted candidate “Ann”". */
  readonly label: string;
  /** Takes it back with ordinary edits (a restore, a write), so the undo syncs like any edit. */
  readonly undo: () => void;
}

/** Reports an undoable edit from `element` (bubbling out of shadow roots) to whoever offers undo. */
export function announceUndoable(element: EventTarget, detail: UndoableDetail): void {
  element.dispatchEvent(new CustomEvent<UndoableDetail>('undoable', { detail, bubbles: true, composed: true }));
}

declare global {
  interface HTMLElementEventMap {
    undoable: CustomEvent<UndoableDetail>;
  }
}
