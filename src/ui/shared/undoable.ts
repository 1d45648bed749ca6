/** An edit this device just made, in words, and how to take it back (offered by the undo toast). */
export interface UndoableDetail {
  /** What was done, for people: "Deleted candidate “Ann”". */
  readonly label: string;
  /** Takes it back with ordinary edits (a restore, a write), so the undo syncs like any edit. */
  readonly undo: () => void;
}

