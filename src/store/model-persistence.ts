import type { Dot, NodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/version-vector.js';
import type { ApplyChangesResult, EntityState, ModelChangedDetail } from '../domain/model-change.js';
import { type WorkSlicer, changedOids, workSlicer } from '../domain/index.js';
import { type ChangeCertificate, decodeCertificate, encodeCertificate, isCertificateError } from '../security/change-certificate.js';
import type { CertificateStore } from '../security/certificate-store.js';
import { Listeners } from '../util/listeners.js';
import { type Timers, globalTimers } from '../util/timers.js';
import { storeLogger } from './store-logger.js';
import type { NodeIdentity } from './node-identity.js';
import { type LoadScreening, screenLoad } from './load-screening.js';
import { type StorageProblem, forgetClaims, forgetsNothing } from './quarantine.js';
import type { ModelStorage, StoredModel } from './storage-adapter.js';
import { StorageError, toStorageError } from './storage-error.js';

/** What `ModelPersistence` needs from a model; `DomainModel` fits. */
export interface PersistableModel {
  readonly modelId: string;
  readonly nodeId: NodeId;
  readonly version: VersionVector;
  getEntityStates(oids?: Iterable<string>): EntityState[];
  loadState(entities: readonly EntityState[], version: VersionVector): Pick<ApplyChangesResult, 'rejected'>;
  markOwnSequenceUsedUpTo(seq: number): void;
  skipOwnSequencesUpTo(seq: number): void;
  /** The next own seq (`DomainModel` has it): lets `load` leave lost own seqs unclaimed without reusing them. */
  readonly nextSeq?: number;
  onChange(listener: (detail: ModelChangedDetail) => void): () => void;
  /** The version grew with no entity changed (`DomainModel` has it): the version is saved alone. */
  onVersionAdopted?(listener: () => void): () => void;
}

/** What the UI hears from `ModelPersistence`. */
export type PersistenceEvent =
  /** Changes to these entities are durably stored. */
  | { readonly type: 'saved'; readonly modelId: string; readonly oids: readonly string[]; readonly commit: number }
  /** The number of entities with unsaved changes changed. */
  | { readonly type: 'pending'; readonly modelId: string; readonly pending: number }
  /** Stored state was joined into the model: at startup, or written by another tab. */
  | { readonly type: 'loaded'; readonly modelId: string; readonly oids: readonly string[]; readonly source: 'storage' | 'other-tab' }
  /**
   * Stored records that could not be read were kept aside (`ModelStorage.quarantine`); the model
   * opened without them and claims less, so peers send what they held again.
   */
  | { readonly type: 'quarantined'; readonly modelId: string; readonly problems: readonly StorageProblem[] }
  /** Saving or loading failed, or storage reported a problem. Unsaved changes stay pending. */
  | { readonly type: 'error'; readonly modelId: string; readonly error: StorageError };

/** Options of `ModelPersistence`. */
export interface ModelPersistenceOptions {
  /** The tab's identity (checked to match the model's node). */
  readonly identity?: NodeIdentity;
  /** First retry delay after a failed save (doubling up to a minute). Default 2 s. */
  readonly retryDelayMs?: number;
  /**
   * A save of changes from peers waits until no change arrived for this long, so a burst arriving
   * in separate tasks (the parts of a large delta) is saved in few transactions. Default 10 ms.
   * This device's own edits are saved at once: they may not leave the device before (see
   * `claimableVersion`).
   */
  readonly saveDelayMs?: number;
  /** The longest a change waits to be saved while changes keep arriving. Default 400 ms. */
  readonly maxSaveDelayMs?: number;
  /**
   * The model's change certificates (the sync engine's `certification.store(modelId)`). Stored
   * ones are added to it on load, before the model's state (they come from this replica's own
   * storage and are not verified again); ones added to it later are saved with the entities, in the
   * same transaction. Fill it before the model is registered with the engine, which signs again
   * every own item it finds without a certificate.
   */
  readonly certificates?: CertificateStore;
  /**
   * Where the save and retry timers run. Default the global `setTimeout` and `clearTimeout`; a
   * test or simulation passes its own to decide when they fire.
   */
  readonly timers?: Timers;
  /** How reading a large save's entity states from the model is cut up (`workSlicer()` by default). */
  readonly slicer?: WorkSlicer;
}

const MAX_RETRY_DELAY_MS = 60_000;
/** Rounds of reading what changed while a large save read states, before the rest is read at once. */
const MAX_READ_ROUNDS = 4;
const SAVE_DELAY_MS = 10;
/**
 * Own certificates alone wait this long for a pause: an own edit's certificate is signed just
 * after the edit's save began, and saved alone 10 ms later it took a transaction of its own that
 * the next edit's save then waited behind; while edits go on, it rides along with the next one.
 */
const CERTIFICATE_SAVE_DELAY_MS = 100;
const MAX_SAVE_DELAY_MS = 400;

/**
 * Keeps one model and its stored copy in step. `load()` joins what is stored into the model (call
 * it before any network activity); afterwards every change, local or remote, is saved: changed
 * entities are batched until changes pause (waiting at most `maxSaveDelayMs`) and joined into
 * storage in one transaction; the page going hidden or away saves at once. Commits by other tabs
 * are read back and joined into the model, so every tab shows every tab's writes. Failed saves
 * keep their changes pending and are retried; nothing is dropped.
 */
export class ModelPersistence {
  readonly #events = new Listeners<[PersistenceEvent]>(storeLogger, 'persistence event');
  readonly #dirty = new Set<string>();
  /** Certificates not yet stored. */
  #unsavedCertificates: ChangeCertificate[] = [];
  #inFlight = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #saving: Promise<StorageError | null> | null = null;
  #timer: unknown;
  /** When `#timer` fires. */
  #timerAt = 0;
  /** When the oldest change not yet in a save arrived. */
  #waitingSince: number | undefined;
  /** When the latest change arrived. */
  #lastChangeAt = 0;
  /** The page is going away: the next save starts without waiting for a pause. */
  #urgent = false;
  #refreshQueued = false;
  #seenCommit = 0;
  /** Everything in this version is stored (committed). */
  #durable = new VersionVector();
  /** Dots that unsaved own edits dropped from state, with the number of the edit. */
  #superseded: Array<{ readonly dots: readonly Dot[]; readonly edit: number }> = [];
  /** Own edits so far; a save covers every edit made before it read the model. */
  #edits = 0;
  /** Own edits not yet in a committed save. */
  #unsavedEdits = 0;
  /** A local edit waits: the next save starts without waiting for a pause. */
  #localWaiting = false;
  /** A save of own edits is queued as a microtask (`#saveSoon`). */
  #soon = false;
  /** The model's version grew with no entity to save (`#onVersionAdopted`). */
  #versionUnsaved = false;
  #claimable: VersionVector | null = null;
  readonly #durableListeners = new Listeners<[VersionVector]>(storeLogger, 'durable');
  /** Damaged records kept aside since this model was loaded. */
  readonly #problems: StorageProblem[] = [];
  #applying = false;
  #loaded = false;
  #closed = false;
  #retryDelay: number;
  #slicer: WorkSlicer | undefined;
  #retryTimer: unknown;
  readonly #timers: Timers;
  readonly #unsubscribe: Array<() => void>;

  constructor(
    readonly model: PersistableModel,
    readonly storage: ModelStorage,
    private readonly options: ModelPersistenceOptions = {},
  ) {
    if (options.identity && options.identity.nodeId !== model.nodeId)
      throw new Error(`model ${model.modelId} belongs to node ${model.nodeId}, not to identity ${options.identity.nodeId}`);
    this.#retryDelay = options.retryDelayMs ?? 2000;
    this.#timers = options.timers ?? globalTimers;
    this.#unsubscribe = [
      model.onChange((detail) => this.#onModelChange(detail)),
      storage.onExternalChange((modelId) => {
        if (this.#loaded && (modelId === null || modelId === model.modelId)) this.#queueRefresh();
      }),
      storage.onProblem((problem) => this.#onProblem(problem)),
      watchPageHidden(() => this.#saveNow()),
    ];
    if (options.certificates) this.#unsubscribe.push(options.certificates.onAdded((added) => this.#onCertificatesAdded(added)));
    if (model.onVersionAdopted) this.#unsubscribe.push(model.onVersionAdopted(() => this.#onVersionAdopted()));
  }

  /** Entities with changes not yet durably stored (certificates waiting to be stored are not counted). */
  get pending(): number {
    return this.#dirty.size + this.#inFlight;
  }

  /**
   * The version this replica may claim to hold, and send changes of: what storage holds, less the
   * dots that unsaved own edits dropped. A device's own edit leaves it only once stored, so after a
   * crash its announced version covers exactly what storage holds and no peer holds an edit of it
   * that it lost; and a context saying an unsaved edit superseded a stored write never leaves
   * either (after a crash that write is back and nothing supersedes it). See docs/storage.md.
   */
  claimableVersion(): VersionVector {
    if (this.#claimable) return this.#claimable;
    let claimable = this.#durable;
    if (this.#superseded.length) {
      claimable = claimable.clone();
      for (const { dots } of this.#superseded) for (const dot of dots) if (claimable.covers(dot)) claimable.forgetAfter(dot.node, dot.seq - 1);
    }
    return (this.#claimable = claimable);
  }

  /** True while the model's version grew beyond what is stored with no entity changed (not counted in `pending`). */
  get versionUnsaved(): boolean {
    return this.#versionUnsaved;
  }

  /** Own edits not yet stored. */
  get unsavedEdits(): number {
    return this.#unsavedEdits;
  }

  /** Calls `listener` whenever `claimableVersion()` grew (a save committed, or other tabs' commits were read). */
  onDurable(listener: (claimable: VersionVector) => void): () => void {
    return this.#durableListeners.add(listener);
  }

  /** Damaged records of this model kept aside since it was loaded (state: also before anyone listened). */
  get problems(): readonly StorageProblem[] {
    return this.#problems;
  }

  /** Subscribes to persistence events; returns the unsubscribe function. */
  onEvent(listener: (event: PersistenceEvent) => void): () => void {
    return this.#events.add(listener);
  }

  /**
   * Joins the stored model into the in-memory one and applies the identity's sequence reservation.
   * Rejects with a `StorageError` if storage cannot be read (the model is then unchanged).
   */
  async load(): Promise<void> {
    await this.#enqueue(async () => {
      const stored = await this.storage.load(this.model.modelId);
      // A model that held nothing before holds exactly what was stored (less what it refused).
      const fresh = this.model.version.isEmpty();
      // Claims of damaged records are given up, own ones too, so peers send them back; own seqs
      // up to the highest stored claim are never used again all the same (a peer may hold them).
      // (The stored entities count too: the stored version itself may be what is damaged.)
      const { nodeId } = this.model;
      let ownMax = stored.version.maxSeen(nodeId);
      forEachHeldDot(stored.entities, (dot) => {
        if (dot.node === nodeId && dot.seq > ownMax) ownMax = dot.seq;
      });
      this.model.skipOwnSequencesUpTo(ownMax);
      await this.#quarantine(this.#apply(stored, 'storage', true));
      await this.#pruneCertificates(() => heldDots(fresh ? stored.entities : this.model.getEntityStates()));
    });
    this.#loaded = true;
  }

  /**
   * Resolves once nothing is pending (every change and certificate so far is durably stored),
   * saving at once whatever waits; rejects with the `StorageError` of a save that failed.
   */
  async whenSaved(): Promise<void> {
    while (this.pending > 0 || this.#unsavedCertificates.length || this.#versionUnsaved) {
      if (this.#saving) {
        await this.#saving;
        continue;
      }
      const error = await this.#flush();
      if (error) throw error;
    }
  }

  /** Stops saving and listening. Call `whenSaved()` first to keep the last changes. */
  close(): void {
    this.#closed = true;
    this.#timers.clearTimeout(this.#retryTimer);
    this.#timers.clearTimeout(this.#timer);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#events.clear();
  }

  #onModelChange(detail: ModelChangedDetail): void {
    if (this.#closed) return;
    // What this class itself loaded from storage is stored already: saving it again would echo.
    if (this.#applying && detail.origin === 'remote') return;
    for (const oid of changedOids(detail)) this.#dirty.add(oid);
    if (detail.origin === 'local') {
      this.#edits++;
      this.#unsavedEdits++;
      this.#localWaiting = true;
      if (detail.superseded?.length) {
        this.#superseded.push({ dots: detail.superseded, edit: this.#edits });
        this.#claimable = null;
      }
    }
    this.#emitPending();
    this.#schedule();
  }

  // The model adopted a version with no entity changed: nothing is dirty, but storage must hold
  // the version before anything claims it (an ack for that delta waits for it).
  #onVersionAdopted(): void {
    if (this.#closed || this.#applying) return;
    this.#versionUnsaved = true;
    this.#schedule();
  }

  #onCertificatesAdded(added: readonly ChangeCertificate[]): void {
    // Loaded from storage: stored already.
    if (this.#closed || this.#applying) return;
    this.#unsavedCertificates.push(...added);
    this.#schedule();
  }

  #onProblem(problem: StorageError): void {
    if (this.#closed) return;
    if (problem.code === 'deleted') {
      // The stored copy is gone; the model still holds everything. All of it is unsaved now, and
      // is written again with the next save (the next change, a retry, or `whenSaved()`).
      this.#seenCommit = 0;
      // Nothing is stored any more: nothing more may be claimed until it is written again.
      this.#durable = new VersionVector();
      this.#claimable = null;
      for (const entity of this.model.getEntityStates()) this.#dirty.add(entity.oid);
      this.#versionUnsaved = true;
      if (this.options.certificates) this.#unsavedCertificates = this.options.certificates.certificates();
      this.#emitPending();
    }
    this.#emitError(problem);
  }

  // Saves once changes pause for `saveDelayMs`, or `maxSaveDelayMs` after the oldest waiting
  // change. Each part of a large delta arrives in its own task: saving after each one would read,
  // clone and write the same entities again and again, and hold up the next part.
  #schedule(): void {
    if (this.#closed) return;
    const time = now();
    this.#lastChangeAt = time;
    this.#waitingSince ??= time;
    // While a save runs, it looks at what waits when it ends.
    if (this.#saving) return;
    if (this.#localWaiting) this.#saveSoon();
    else {
      // An armed timer is not put off by later changes (the save is due a pause after the first),
      // only brought forward (a change that may not wait as long as certificates alone).
      const delay = Math.min(this.#quietDelay(), this.options.maxSaveDelayMs ?? MAX_SAVE_DELAY_MS);
      if (this.#timer === undefined || time + delay < this.#timerAt) this.#arm(delay);
    }
  }

  // How long changes must pause before a save: longer when only own certificates wait.
  #quietDelay(): number {
    const delay = this.options.saveDelayMs ?? SAVE_DELAY_MS;
    const certificatesOnly = this.#dirty.size === 0 && !this.#versionUnsaved && this.#unsavedCertificates.length > 0;
    return certificatesOnly ? Math.max(delay, CERTIFICATE_SAVE_DELAY_MS) : delay;
  }

  // An own edit may not leave the device before it is stored, so its save starts as soon as the
  // current task's synchronous work is done (edits made together are saved together): a timer
  // of 0 ms waits at least 4 ms once timers nest (an edit made from a timer callback).
  #saveSoon(): void {
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#soon) return;
    this.#soon = true;
    queueMicrotask(() => {
      this.#soon = false;
      this.#saveWhenDue();
    });
  }

  #arm(delay: number): void {
    this.#timers.clearTimeout(this.#timer);
    this.#timerAt = now() + delay;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.#saveWhenDue();
    }, delay);
  }

  // Starts the save if changes paused or the oldest waited long enough, else waits until then.
  #saveWhenDue(): void {
    if (this.#closed || this.#saving || !this.#hasUnsaved()) return;
    const time = now();
    const quietIn = this.#quietDelay() - (time - this.#lastChangeAt);
    const capIn = (this.options.maxSaveDelayMs ?? MAX_SAVE_DELAY_MS) - (time - (this.#waitingSince ?? time));
    const wait = Math.min(quietIn, capIn);
    if (wait > 0 && !this.#urgent && !this.#localWaiting) this.#arm(wait);
    else void this.#flush();
  }

  // The page is going away or hidden (and may be discarded): save what waits without delay.
  #saveNow(): void {
    if (this.#closed || !this.#hasUnsaved()) return;
    this.#urgent = true;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#saving) void this.#flush();
  }

  #hasUnsaved(): boolean {
    return this.#dirty.size > 0 || this.#unsavedCertificates.length > 0 || this.#versionUnsaved;
  }

  // Saves everything dirty, and the certificates waiting, in one merge. Resolves with the failure,
  // if any (never rejects).
  #flush(): Promise<StorageError | null> {
    const saving = this.#enqueue(async () => {
      if (!this.#hasUnsaved() || this.#closed) return null;
      this.#waitingSince = undefined;
      this.#urgent = false;
      const read = await this.#readDirtyStates();
      if (this.#closed) return null;
      const { oids, entities } = read;
      this.#localWaiting = false;
      const versionUnsaved = this.#versionUnsaved;
      this.#versionUnsaved = false;
      const edits = this.#edits;
      const unsavedEdits = this.#unsavedEdits;
      this.#inFlight = oids.length;
      // A received item's certificate is added in the same synchronous step that applies the item
      // (the engine keeps it right after applying), so it waits here no later than the entity: the
      // two are stored in one transaction.
      // An own item may be saved before its signature is made; after a crash in between, the
      // engine signs it again on registration.
      const certificates = this.#unsavedCertificates;
      this.#unsavedCertificates = [];
      // The version is read in the same step as the last states (see `#readDirtyStates`): it is an
      // exact context for them (with no entity to save, nothing this tab changed is unsaved, so it
      // is exact for the store).
      const version = this.model.version;
      try {
        const commit = await this.storage.merge(this.model.modelId, entities, version, certificates.map(encodeCertificate));
        this.#inFlight = 0;
        this.#unsavedEdits -= unsavedEdits;
        this.#advanceDurable(version, edits);
        this.#retryDelay = this.options.retryDelayMs ?? 2000;
        this.#events.emit({ type: 'saved', modelId: this.model.modelId, oids, commit });
        this.#emitPending();
        // Another tab committed in between: read its writes before counting this commit as seen.
        if (commit === this.#seenCommit + 1) this.#seenCommit = commit;
        else await this.#refresh().catch((error: unknown) => this.#emitError(toStorageError(error)));
        return null;
      } catch (caught) {
        const error = toStorageError(caught);
        for (const oid of oids) this.#dirty.add(oid);
        if (unsavedEdits) this.#localWaiting = true;
        if (versionUnsaved) this.#versionUnsaved = true;
        this.#unsavedCertificates = certificates.concat(this.#unsavedCertificates);
        this.#waitingSince ??= now();
        this.#inFlight = 0;
        this.#emitError(error);
        this.#retryLater(error);
        return error;
      }
    }).finally(() => {
      if (this.#saving === saving) this.#saving = null;
    });
    // Changes made while this save was running. After a failure, the retry timer or the next
    // change saves them: retrying at once would spin on a storage that keeps failing.
    saving.then(
      (error) => error || this.#saveWhenDue(),
      () => undefined,
    );
    this.#saving = saving;
    return saving;
  }

  // The states of the entities with unsaved changes, taking them off `#dirty`. Many are read a
  // slice at a time, pausing in between; whatever changed meanwhile is read again, and the last
  // read happens in one step with the caller reading the version, so every state is the one of
  // that moment. (While changes keep pouring in, after a few rounds the rest is read at once.)
  async #readDirtyStates(): Promise<{ oids: string[]; entities: EntityState[] }> {
    const slicer = (this.#slicer ??= this.options.slicer ?? workSlicer());
    const states = new Map<string, EntityState>();
    const oids = new Set(this.#dirty);
    let reading = [...this.#dirty];
    this.#dirty.clear();
    for (let round = 0; reading.length > slicer.itemsPerSlice && round < MAX_READ_ROUNDS; round++) {
      this.#inFlight = oids.size;
      for (let start = 0; start < reading.length; start += slicer.itemsPerSlice) {
        for (const state of this.model.getEntityStates(reading.slice(start, start + slicer.itemsPerSlice))) states.set(state.oid, state);
        await slicer.pause();
        if (this.#closed) return { oids: [], entities: [] };
      }
      reading = [...this.#dirty];
      this.#dirty.clear();
      for (const oid of reading) oids.add(oid);
    }
    // Read again just now: an entity without state any more is not saved from an earlier read.
    for (const oid of reading) states.delete(oid);
    for (const state of this.model.getEntityStates(reading)) states.set(state.oid, state);
    return { oids: [...oids], entities: [...states.values()] };
  }

  #retryLater(error: StorageError): void {
    // A closed or outdated adapter will not recover by retrying; the UI asks for a reload.
    if (this.#closed || this.#retryTimer || error.code === 'closed' || error.code === 'outdated') return;
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#saving) void this.#flush();
    }, this.#retryDelay);
    this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_DELAY_MS);
  }

  #queueRefresh(): void {
    if (this.#refreshQueued || this.#closed) return;
    this.#refreshQueued = true;
    void this.#enqueue(async () => {
      this.#refreshQueued = false;
      await this.#refresh();
    }).catch((error: unknown) => this.#emitError(toStorageError(error)));
  }

  // Reads what other tabs committed since the last commit seen and joins it into the model.
  async #refresh(): Promise<void> {
    let stored = await this.storage.load(this.model.modelId, this.#seenCommit);
    // A smaller commit counter means the database was deleted and created again: read it all.
    if (stored.commit < this.#seenCommit) stored = await this.storage.load(this.model.modelId);
    if (stored.commit === this.#seenCommit) return;
    await this.#quarantine(this.#apply(stored, 'other-tab', false));
  }

  // Joins what was loaded into the model, leaving out what cannot be read: the returned screening
  // says which records to keep aside and which of the stored version's claims were given up.
  #apply(stored: StoredModel, source: 'storage' | 'other-tab', forgetOwn: boolean): LoadScreening {
    // The model holds everything stored up to `#seenCommit`, and `stored` everything written
    // after it, so the stored version is an exact context and the model may adopt it (less the
    // claims of records kept aside: peers must send those again).
    this.#applying = true;
    let screening: LoadScreening;
    try {
      // Certificates first: whoever hears of the loaded items (the sync engine) finds theirs.
      const malformed = this.#loadCertificates(stored.certificates);
      const store = this.options.certificates;
      screening = screenLoad(this.model, stored, malformed, store && ((dot) => store.certificateOf(dot) !== undefined), forgetOwn);
    } finally {
      this.#applying = false;
    }
    this.#seenCommit = stored.commit;
    // What storage holds and the model took, less the claims given up for damaged records.
    this.#advanceDurable(forgetClaims(stored.version.clone(), screening.forget));
    if (stored.entities.length)
      this.#events.emit({ type: 'loaded', modelId: this.model.modelId, oids: stored.entities.map((entity) => entity.oid), source });
    return screening;
  }

  // Keeps aside the records `#apply` could not read and gives up their claims in storage too, so a
  // reload does not claim them again; reported as state (`problems`) and as an event.
  async #quarantine(screening: LoadScreening): Promise<void> {
    if (!screening.requests.length && forgetsNothing(screening.forget)) return;
    try {
      const problems = await this.storage.quarantine(this.model.modelId, screening.requests, screening.forget);
      this.#problems.push(...problems);
      if (problems.length) this.#events.emit({ type: 'quarantined', modelId: this.model.modelId, problems });
    } catch (error) {
      // The model opened without them anyway; the next load tries again.
      this.#emitError(toStorageError(error));
    }
  }

  // Certificates whose items are all gone since they were stored (overwritten, removed) are dropped
  // at startup, here and in storage, so they do not pile up with every edit ever made. Failing to
  // delete them loses nothing: they are dropped again next time.
  async #pruneCertificates(heldNow: () => ReadonlyMap<NodeId, ReadonlySet<number>>): Promise<void> {
    const store = this.options.certificates;
    if (!store?.size) return;
    const held = heldNow();
    const dropped = store.prune((dot) => held.get(dot.node)?.has(dot.seq) ?? false);
    if (dropped.length) await this.storage.forgetCertificates(this.model.modelId, dropped.map(encodeCertificate)).catch(() => undefined);
  }

  // Adds stored certificates to the store (not verified again: this replica stored them after
  // making or verifying them). Returns the ones that could not be decoded, with why.
  #loadCertificates(encoded: readonly Uint8Array[]): Array<{ bytes: Uint8Array; reason: string }> {
    const store = this.options.certificates;
    if (!store || !encoded.length) return [];
    const certificates: ChangeCertificate[] = [];
    const malformed: Array<{ bytes: Uint8Array; reason: string }> = [];
    for (const bytes of encoded) {
      const certificate = decodeCertificate(bytes);
      if (isCertificateError(certificate)) malformed.push({ bytes, reason: `the certificate does not decode (${certificate.error})` });
      else certificates.push(certificate);
    }
    store.add(certificates);
    return malformed;
  }

  // Marks `version` as stored (with `savedEdits`: own edits up to that number are stored) and tells
  // listeners if the claimable version grew.
  #advanceDurable(version: VersionVector, savedEdits?: number): void {
    const before = this.claimableVersion();
    if (savedEdits !== undefined) this.#superseded = this.#superseded.filter((entry) => entry.edit > savedEdits);
    if (!this.#durable.includes(version)) this.#durable = this.#durable.clone().mergeWith(version);
    this.#claimable = null;
    const after = this.claimableVersion();
    if (!after.equals(before)) this.#durableListeners.emit(after);
  }

  // Storage work of this model runs one step at a time, so commits are seen in order.
  #enqueue<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(step);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #emitPending(): void {
    this.#events.emit({ type: 'pending', modelId: this.model.modelId, pending: this.pending });
  }

  #emitError(error: StorageError): void {
    this.#events.emit({ type: 'error', modelId: this.model.modelId, error });
  }
}

const now = (): number => (typeof performance === 'undefined' ? Date.now() : performance.now());

// Calls `save` when the page is hidden or goes away (it may be discarded without another task);
// does nothing outside a window.
function watchPageHidden(save: () => void): () => void {
  if (typeof window === 'undefined' || typeof document === 'undefined') return () => undefined;
  const onVisibility = (): void => {
    if (document.visibilityState === 'hidden') save();
  };
  window.addEventListener('pagehide', save);
  document.addEventListener('visibilitychange', onVisibility);
  return () => {
    window.removeEventListener('pagehide', save);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

/** Every dot the entities hold, by node. */
function heldDots(entities: readonly EntityState[]): Map<NodeId, Set<number>> {
  const held = new Map<NodeId, Set<number>>();
  forEachHeldDot(entities, (dot) => {
    let seqs = held.get(dot.node);
    if (!seqs) held.set(dot.node, (seqs = new Set()));
    seqs.add(dot.seq);
  });
  return held;
}

/** Visits every dot the entities hold: their writes, child adds and removal marks. */
function forEachHeldDot(entities: readonly EntityState[], visit: (dot: Dot) => void): void {
  for (const entity of entities) {
    for (const writes of Object.values(entity.attributes)) for (const write of writes) visit(write.dot);
    for (const items of Object.values(entity.children)) for (const [, dots] of items) dots.forEach(visit);
    for (const marks of Object.values(entity.removals ?? {})) marks.forEach(visit);
  }
}
