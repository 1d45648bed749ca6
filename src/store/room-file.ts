import type { Dot, NodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/version-vector.js';
import { stateToChanges } from '../domain/entity-record.js';
import { CHANGE_FORMAT, type ChangeBatch, type ModelSnapshot } from '../domain/model-change.js';
import type { SynchronizableDomainModel } from '../domain/synchronizable-domain-model.js';
import { DECODE_LIMITS, DomainModel, decodeSnapshot, isDecodeError } from '../domain/index.js';
import { BASE64URL_PATTERN } from '../util/base64url.js';
import { type ChangeCertificate, MAX_CERTIFICATE_BYTES } from '../security/change-certificate.js';
import { ChangeCertification } from '../security/change-certification.js';

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
  /**
   * Per model id, the change certificates (base64url, as sent between peers) of the items in its
   * snapshot. Absent from files of replicas that do not sign changes.
   */
  readonly certificates?: Readonly<Record<string, readonly string[]>>;
}

/** Options of `exportRoom`. */
export interface ExportRoomOptions {
  /** The export time written into the file. Default now. */
  readonly now?: Date;
  /** The sync engine's signed changes: the file then carries every item's certificate. */
  readonly certification?: ChangeCertification;
}

/** Options of `importRoom`. */
export interface ImportRoomOptions {
  /** The room the models belong to: a file of another room is refused. */
  readonly roomId: string;
  readonly limits?: RoomFileLimits;
  /**
   * The sync engine's signed changes. With it, every item in the file must carry a valid
   * certificate of its author (or one this replica holds already), else nothing is imported; the
   * file's certificates are kept so the imported items can be passed on to peers. Without it
   * (a library use without signing), certificates in the file are ignored.
   */
  readonly certification?: ChangeCertification;
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

/**
 * Snapshots every model of the room (from memory, so unsaved changes are included), with the
 * certificates of their items when a certification is given.
 */
export function exportRoom(
  roomId: string,
  models: Iterable<Pick<SynchronizableDomainModel, 'getSnapshot'>>,
  options: ExportRoomOptions = {},
): RoomFile {
  const snapshots = [...models].map((model) => model.getSnapshot());
  const file: RoomFile = {
    format: ROOM_FILE_FORMAT,
    formatVersion: ROOM_FILE_VERSION,
    roomId,
    exportedAt: (options.now ?? new Date()).toISOString(),
    models: snapshots,
  };
  const certification = options.certification;
  if (!certification) return file;
  const certificates = snapshots.map((snapshot) => {
    const proven = new Map<NodeId, number>();
    const texts = certification.certificatesFor(snapshot.modelId, snapshot.entities.flatMap(stateToChanges), proven);
    // And the proofs of how far the version claims each author, where its items are gone.
    const version = VersionVector.fromJSON(snapshot.version);
    return [snapshot.modelId, [...texts, ...certification.frontierProofs(snapshot.modelId, version, new VersionVector(), proven)]] as const;
  });
  return { ...file, certificates: Object.fromEntries(certificates) };
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
  const value = { format: ROOM_FILE_FORMAT, formatVersion: ROOM_FILE_VERSION, roomId: raw.roomId, exportedAt: raw.exportedAt, models } as const;
  if (raw.certificates === undefined) return { ok: true, value };
  const certificates = readCertificates(raw.certificates, seen);
  return typeof certificates === 'string' ? fail(certificates) : { ok: true, value: { ...value, certificates } };
}

// Longest base64url text of one certificate.
const MAX_CERTIFICATE_TEXT = Math.ceil((MAX_CERTIFICATE_BYTES * 4) / 3);

/** The file's certificates, checked for shape only (`importRoom` verifies them), or what is wrong. */
function readCertificates(raw: unknown, modelIds: ReadonlySet<string>): Record<string, readonly string[]> | string {
  const damaged = 'The file is damaged: its change certificates are unreadable.';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return damaged;
  const entries: Array<[string, string[]]> = [];
  for (const [modelId, list] of Object.entries(raw)) {
    if (!modelIds.has(modelId)) return `The file holds change certificates for model "${modelId}" but no data for it.`;
    if (!Array.isArray(list) || !list.every((text) => typeof text === 'string' && text.length <= MAX_CERTIFICATE_TEXT && BASE64URL_PATTERN.test(text)))
      return damaged;
    entries.push([modelId, list as string[]]);
  }
  // Built from entries, so a model id such as "__proto__" is an ordinary key.
  return Object.fromEntries(entries);
}

/**
 * Imports a room file into the room's models by merging (`initializeFromSnapshot`): newer local
 * data is never overwritten, and what the file adds is saved like any remote change. The file is
 * untrusted and checked completely first: each `DomainModel` snapshot against a scratch copy of
 * the model and, with a certification, every item against its author's certificate. So a bad file
 * changes nothing. Returns the number of entities in the file per model.
 */
export async function importRoom(
  input: Blob | string,
  models: ModelLookup,
  options: ImportRoomOptions,
): Promise<RoomFileResult<ReadonlyArray<{ readonly modelId: string; readonly entities: number }>>> {
  const read = await readRoomFile(input, options.limits);
  if (!read.ok) return read;
  const file = read.value;
  if (file.roomId !== options.roomId) return fail(`The file holds room "${file.roomId}", not "${options.roomId}". Open that room to import it.`);
  const targets = file.models.map((snapshot) => [snapshot, models.get(snapshot.modelId)] as const);
  for (const [snapshot, model] of targets) {
    if (!model) return fail(`The file holds model "${snapshot.modelId}", which this app does not know.`);
    if (model instanceof DomainModel && !model.emptyCopy().initializeFromSnapshot(snapshot))
      return fail(`${refused(snapshot.modelId)} Nothing was imported.`);
  }
  const certification = options.certification;
  const verified = certification && (await verifyRoomFile(file, certification));
  if (typeof verified === 'string') return fail(verified);
  const imported: string[] = [];
  for (const [snapshot, model] of targets) {
    // Before the items: whoever hears of them (the sync engine) finds their certificates.
    if (certification && verified) certification.store(snapshot.modelId).add(verified.get(snapshot.modelId) ?? []);
    // A signed file drops held state only on its removers' signed evidence, as a delta does.
    const store = certification?.store(snapshot.modelId);
    const evidence = store && ((dot: Dot) => store.certificateOf(dot)?.context);
    if (!model!.initializeFromSnapshot(snapshot, evidence ? { evidence } : {}))
      return fail(`${refused(snapshot.modelId)} ${imported.length ? `Already merged: ${imported.join(', ')}.` : 'Nothing was imported.'}`);
    imported.push(snapshot.modelId);
  }
  return { ok: true, value: file.models.map((snapshot) => ({ modelId: snapshot.modelId, entities: snapshot.entities.length })) };
}

/**
 * Checks every item of every model in the file against the certificates in the file and those
 * held, as a delta from a peer is checked, on a scratch certification holding copies of the held
 * certificates, so nothing is kept unless the whole file passes. Returns the file's certificates
 * that vouched for an item and were not held yet, per model, or why the file is refused.
 */
async function verifyRoomFile(file: RoomFile, certification: ChangeCertification): Promise<Map<string, ChangeCertificate[]> | string> {
  const scratch = new ChangeCertification(certification.signer);
  const added = new Map<string, ChangeCertificate[]>();
  for (const snapshot of file.models) {
    const { modelId } = snapshot;
    const store = scratch.store(modelId);
    store.add(certification.store(modelId).certificates());
    const fresh: ChangeCertificate[] = [];
    store.onAdded((certificates) => fresh.push(...certificates));
    const changes = snapshot.entities.flatMap(stateToChanges);
    const batch: ChangeBatch = { format: CHANGE_FORMAT, modelId, since: {}, version: snapshot.version, changes };
    const result = await scratch.verify(modelId, batch, file.certificates?.[modelId] ?? []);
    if (!result.ok) {
      const shown = result.problems.slice(0, 3).join('; ');
      const more = result.problems.length > 3 ? ` (and ${result.problems.length - 3} more problems)` : '';
      return `The data for model "${modelId}" is not signed by its authors: ${shown}${more}. Nothing was imported.`;
    }
    result.keep(new Set());
    added.set(modelId, fresh);
  }
  return added;
}

const refused = (modelId: string): string =>
  `The data for model "${modelId}" was refused: it does not match this app's definition of the model (or holds changes dated in the future).`;

const fail = (error: string): { readonly ok: false; readonly error: string } => ({ ok: false, error });

const megabytes = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
