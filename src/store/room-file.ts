import type { ModelSnapshot } from '../domain/model-change.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import { DECODE_LIMITS, DomainModel, decodeSnapshot, isDecodeError } from '../domain/index.js';

/** The `format` field of a room file. */
export const ROOM_FILE_FORMAT = 'ednet-room';
/** The room file version this code writes and reads. */
export const ROOM_FILE_VERSION = 1;

/** A room exported as a file: every model's snapshot with its version vector. */
export interface RoomFile {
  readonly format: typeof ROOM_FILE_FORMAT;
  readonly formatVersion: typeof ROOM_FILE_VERSION;
  readonly roomId: string;
  /** ISO date and time of the export. */
  readonly exportedAt: string;
  readonly models: readonly ModelSnapshot[];
}

/** Limits on files read by `readRoomFile` and `importRoom`. */
export interface RoomFileLimits {
  readonly maxBytes: number;
  readonly maxModels: number;
}

/** Defaults: 256 MiB (a 10,000-entity election is a few MiB) and 64 models. */
export const ROOM_FILE_LIMITS: RoomFileLimits = { maxBytes: 256 * 2 ** 20, maxModels: 64 };

/** A read or import outcome: the value, or a message for the user. */
export type RoomFileResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Finds the model an imported snapshot belongs to; a `DomainModelRegistry` fits. */
export interface ModelLookup {
  get(modelId: string): SynchronizableDomainModel | undefined;
}

/** Snapshots every model of the room (from memory, so unsaved changes are included). */
export function exportRoom(
  roomId: string,
  models: Iterable<Pick<SynchronizableDomainModel, 'getSnapshot'>>,
  now: Date = new Date(),
): RoomFile {
  return {
    format: ROOM_FILE_FORMAT,
    formatVersion: ROOM_FILE_VERSION,
    roomId,
    exportedAt: now.toISOString(),
    models: [...models].map((model) => model.getSnapshot()),
  };
}

/** The file as a downloadable JSON `Blob`. */
export function roomFileBlob(file: RoomFile): Blob {
  return new Blob([JSON.stringify(file)], { type: 'application/json' });
}

/** A file name for the download: `ednet-room-<room>-<date>.json`. */
export function roomFileName(file: RoomFile): string {
  return `ednet-room-${file.roomId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${file.exportedAt.slice(0, 10)}.json`;
}

/** Reads and validates a room file (untrusted): structure, sizes, and every snapshot. */
export async function readRoomFile(input: Blob | string, limits: RoomFileLimits = ROOM_FILE_LIMITS): Promise<RoomFileResult<RoomFile>> {
  const size = typeof input === 'string' ? input.length : input.size;
  if (size > limits.maxBytes) return fail(`The file is too large (${megabytes(size)} MiB; the limit is ${megabytes(limits.maxBytes)} MiB).`);
  let json: unknown;
  try {
    json = JSON.parse(typeof input === 'string' ? input : await input.text());
  } catch {
    return fail('The file is not a room export: it is not valid JSON.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('The file is not a room export.');
  const raw = json as Record<string, unknown>;
  if (raw.format !== ROOM_FILE_FORMAT) return fail('The file is not a room export (its format is not "ednet-room").');
  if (raw.formatVersion !== ROOM_FILE_VERSION)
    return fail(`The file was written in room file version ${String(raw.formatVersion)}; this app reads version ${ROOM_FILE_VERSION}.`);
  if (typeof raw.roomId !== 'string' || !raw.roomId) return fail('The file does not say which room it holds.');
  if (typeof raw.exportedAt !== 'string' || Number.isNaN(Date.parse(raw.exportedAt))) return fail('The file has no valid export date.');
  if (!Array.isArray(raw.models)) return fail('The file holds no models.');
  if (raw.models.length > limits.maxModels) return fail(`The file holds more than ${limits.maxModels} models.`);
  const models: ModelSnapshot[] = [];
  const seen = new Set<string>();
  for (const [i, model] of raw.models.entries()) {
    const snapshot = decodeSnapshot(model, DECODE_LIMITS);
    if (isDecodeError(snapshot)) return fail(`Model ${i + 1} in the file is damaged: ${snapshot.error}.`);
    if (seen.has(snapshot.modelId)) return fail(`The file holds model ${snapshot.modelId} twice.`);
    seen.add(snapshot.modelId);
    models.push(snapshot);
  }
  return { ok: true, value: { format: ROOM_FILE_FORMAT, formatVersion: ROOM_FILE_VERSION, roomId: raw.roomId, exportedAt: raw.exportedAt, models } };
}

/**
 * Imports a room file into the room's models by merging (`initializeFromSnapshot`): newer local
 * data is never overwritten, and what the file adds is saved like any remote change. The file is
 * checked completely first, each `DomainModel` snapshot against a scratch copy of the model, so a
 * bad file changes nothing. Returns the number of entities in the file per model.
 */
export async function importRoom(
  input: Blob | string,
  models: ModelLookup,
  options: { readonly roomId: string; readonly limits?: RoomFileLimits },
): Promise<RoomFileResult<ReadonlyArray<{ readonly modelId: string; readonly entities: number }>>> {
  const read = await readRoomFile(input, options.limits);
  if (!read.ok) return read;
  const file = read.value;
  if (file.roomId !== options.roomId) return fail(`The file holds room "${file.roomId}", not "${options.roomId}". Open that room to import it.`);
  const targets = file.models.map((snapshot) => [snapshot, models.get(snapshot.modelId)] as const);
  for (const [snapshot, model] of targets) {
    if (!model) return fail(`The file holds model "${snapshot.modelId}", which this app does not know.`);
    if (model instanceof DomainModel && !scratchCopy(model).initializeFromSnapshot(snapshot))
      return fail(`${refused(snapshot.modelId)} Nothing was imported.`);
  }
  const imported: string[] = [];
  for (const [snapshot, model] of targets) {
    if (!model!.initializeFromSnapshot(snapshot))
      return fail(`${refused(snapshot.modelId)} ${imported.length ? `Already merged: ${imported.join(', ')}.` : 'Nothing was imported.'}`);
    imported.push(snapshot.modelId);
  }
  return { ok: true, value: file.models.map((snapshot) => ({ modelId: snapshot.modelId, entities: snapshot.entities.length })) };
}

// An empty model with the same schema, node, sequence position and clock: it accepts a snapshot
// exactly when the real model would.
function scratchCopy(model: DomainModel): DomainModel {
  return new DomainModel({
    modelId: model.modelId,
    schema: model.schema,
    nodeId: model.nodeId,
    firstSeq: model.nextSeq,
    getNow: () => model.clock.wallClock(),
    maxDriftMs: model.clock.maxDriftMs,
  });
}

const refused = (modelId: string): string =>
  `The data for model "${modelId}" was refused: it does not match this app's definition of the model (or holds changes dated in the future).`;

const fail = (error: string): { readonly ok: false; readonly error: string } => ({ ok: false, error });

const megabytes = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
