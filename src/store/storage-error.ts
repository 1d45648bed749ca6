/** Why storage failed, as a stable code the UI can switch on. */
export const StorageErrorCode = {
  /** The browser refused to store more data for this site. */
  quotaExceeded: 'quota-exceeded',
  /** An upgrade of the database waits for another tab that keeps an older version open. */
  blocked: 'blocked',
  /** The database was deleted (by another tab, or the user clearing site data) while open. */
  deleted: 'deleted',
  /** A newer version of the app upgraded the database; this tab must reload to keep saving. */
  outdated: 'outdated',
  /** Storage is not available at all (IndexedDB missing, disabled, or failing to open). */
  unavailable: 'unavailable',
  /** The adapter was closed; using it afterwards is a programming error. */
  closed: 'closed',
  /** Stored data is not in the expected format. */
  corrupt: 'corrupt',
  /** Anything else the browser reported. */
  unknown: 'unknown',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

const MESSAGES: Record<StorageErrorCode, string> = {
  'quota-exceeded':
    'The browser refused to store more data for this site (storage is full). Your latest changes are kept in this tab only: free some disk space or export the room, then try again.',
  blocked:
    'The stored data needs an update, but another tab of this app still has an older version open. Reload or close the other tabs of this room.',
  deleted:
    'The stored copy of this room was deleted (by another tab or by clearing site data). This tab still holds the room: it is saved again with the next change, and you can export it now.',
  outdated:
    'A newer version of the app was opened in another tab. Reload this tab to keep saving; your changes so far are kept in this tab until then.',
  unavailable:
    'This browser does not let the app store data (private mode or storage disabled). Changes live only in this tab: export the room to keep them.',
  closed: 'Storage was closed.',
  corrupt: 'Stored data for this room is damaged and could not be read.',
  unknown: 'The browser could not store the latest changes. They are kept in this tab; try again.',
};

/** A storage failure with a code and a message written for the user. Nothing stored is lost by it. */
export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    readonly code: StorageErrorCode,
    message: string = MESSAGES[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for a `StorageError`. */
export const isStorageError = (error: unknown): error is StorageError => error instanceof StorageError;

/**
 * Maps what IndexedDB throws or aborts with to a `StorageError` (the original is the `cause`).
 * Quota errors surface as `QuotaExceededError`, and in some engines as an `AbortError` on the
 * transaction whose `error` is the quota error, so both shapes are recognised.
 */
export function toStorageError(error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  const name = errorName(error);
  if (name === 'QuotaExceededError') return new StorageError('quota-exceeded', undefined, { cause: error });
  if (name === 'VersionError') return new StorageError('outdated', undefined, { cause: error });
  if (name === 'InvalidStateError') return new StorageError('closed', undefined, { cause: error });
  if (name === 'DataCloneError' || name === 'DataError') return new StorageError('corrupt', undefined, { cause: error });
  const detail = error instanceof Error && error.message ? ` (${error.message})` : '';
  return new StorageError('unknown', `${MESSAGES.unknown}${detail}`, { cause: error });
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name } = error as { name?: unknown };
  if (name === 'AbortError') {
    // An aborted transaction carries the real reason in `transaction.error`; idb rejects with it
    // directly, raw IndexedDB with the abort event's target.
    const inner = (error as { target?: { error?: unknown } }).target?.error;
    return inner ? errorName(inner) : 'AbortError';
  }
  return typeof name === 'string' ? name : undefined;
}
