import { type Dot, type NodeId, dotKey } from '../crdt/dot.js';
import { VersionVector } from '../crdt/version-vector.js';
import type { ChangeBatch, ModelChange } from '../domain/model-change.js';
import type { WorkSlicer } from '../domain/work-slicer.js';
import { fromBase64Url, toBase64Url } from '../util/base64url.js';
import {
  type ChangeCertificate,
  type ElidedCertificate,
  MAX_CERTIFIED_ITEMS,
  certificateSignedBytes,
  decodeSentCertificate,
  encodeCertificate,
  encodeElidedCertificate,
  isCertificateError,
} from './change-certificate.js';
import { ITEM_HASH_BYTES, forEachDot, forEachItem, hashItems, keepItems } from './change-items.js';
import { CertificateStore, listsHash, maxSeq } from './certificate-store.js';
import { DEVICE_ID_CHARS, DeviceIdentity } from './device-identity.js';

/** What certifies this device's changes: `DeviceIdentity` is one. */
export interface ChangeSigner {
  /** The raw Ed25519 public key certificates carry. */
  readonly publicKey: Uint8Array;
  /** True for the node ids this key may certify (its device id, with or without a tab suffix). */
  ownsNodeId(node: unknown): boolean;
  sign(bytes: Uint8Array): Promise<Uint8Array>;
}

/** A received batch after verification. */
export interface VerifiedBatch {
  /** True if every certificate and every item checked out. */
  readonly ok: boolean;
  /** The batch if `ok`; otherwise the same envelope with no changes, `partial` so it is never adopted. */
  readonly batch: ChangeBatch;
  /** What failed: certificates refused (malformed, not the node's key, bad signature, equivocation) and items without a valid certificate. */
  readonly problems: readonly string[];
  /**
   * To call once the model applied the batch, with the changes it refused (`RejectedChange.change`):
   * stores the new certificates of the items it took. Where the batch is applied a slice at a
   * time, call it after each slice with the slice's changes (indexes `from` to `to`, exclusive),
   * so an item and its certificate are held from the same step on.
   */
  readonly keep: (refused: ReadonlySet<unknown>, changes?: { readonly from: number; readonly to: number }) => void;
  /** The signed context of an item of the batch, where its certificate carries one (removal marks). */
  readonly evidence: (dot: Dot) => VersionVector | undefined;
  /**
   * Authors that signed, for one of their dots, another operation than the one held here, in a
   * certificate a relay passed on (see `PreparedBatch.finish`): the relay is not to blame, and the
   * batch holds none of those certificates' items that are not vouched for by a held certificate.
   */
  readonly equivocations: readonly Equivocation[];
}

/** Proof that an author signed two different operations under one dot: its certificate and the held one disagree at `seq`. */
export interface Equivocation {
  readonly node: NodeId;
  readonly seq: number;
}

/** A received batch checked as far as it can be before the batches ahead of it are applied (`ChangeCertification.prepare`). */
export interface PreparedBatch {
  /**
   * The rest of the checks, against the certificates held now: call once the batches before it
   * are applied and kept. `from` is the peer that sent the batch: a certificate equivocating with
   * a held one refuses the whole batch where `from` is the author's own device (or unknown), and
   * only that certificate's items where it merely relayed it (`VerifiedBatch.equivocations`).
   */
  finish(from?: NodeId): VerifiedBatch;
}

// What `prepare` found, for `#finish`.
interface Prepared {
  readonly dots: readonly Dot[];
  readonly hashes: Uint8Array;
  readonly version: VersionVector;
  readonly claimed: readonly NodeId[];
  readonly itemsOf: ReadonlyMap<ChangeCertificate, readonly number[]>;
  /** Per certificate sent: held already, refused (why), or its key and signature checked. */
  readonly signed: ReadonlyArray<string | { held: ChangeCertificate } | ChangeCertificate>;
}

/**
 * Items hashed per slice, as a multiple of the slicer's items per slice: hashing an item costs
 * about a fifth of applying it, so a slice of 1,000 takes a few ms where one of 250 changes does.
 */
export const HASH_SLICE_FACTOR = 4;

/** Counts since the start, for status and benchmarks. */
export interface CertificationCounters {
  /** Certificates made here. */
  signed: number;
  /** Received certificates whose signature was checked and held. */
  verified: number;
  /** Received certificates refused. */
  refused: number;
  /** Received items dropped for want of a valid certificate. */
  rejectedItems: number;
}

/**
 * Signed changes for the sync engine (docs/security.md, "Signed changes"). Every item this device
 * writes is certified (one Ed25519 signature per run of up to `MAX_CERTIFIED_ITEMS` items); every
 * delta carries the certificates of its items, the author's original ones when relayed; every
 * received item is checked against its certificate before the model sees it. One instance per
 * engine, one `CertificateStore` per model.
 */
export class ChangeCertification {
  readonly counters: CertificationCounters = { signed: 0, verified: 0, refused: 0, rejectedItems: 0 };
  readonly #stores = new Map<string, CertificateStore>();
  readonly #inFlight = new Map<string, Set<string>>();
  // Certificates held, by their encoding (once sent or received), so one received again is not verified again.
  readonly #byEncoding = new Map<string, ChangeCertificate>();
  readonly #encodings = new WeakMap<ChangeCertificate, string>();
  readonly #elidedEncodings = new WeakMap<ChangeCertificate, string>();
  readonly #keyOwnsNode = new Map<string, Promise<boolean>>();
  readonly #publicKeys = new Map<string, Promise<CryptoKey>>();

  constructor(readonly signer: ChangeSigner) {}

  /** The certificates of one model's items. */
  store(modelId: string): CertificateStore {
    let store = this.#stores.get(modelId);
    if (!store) this.#stores.set(modelId, (store = new CertificateStore()));
    return store;
  }

  /**
   * Certifies the items of `changes` written by node ids this device owns that have no
   * certificate yet (fresh local edits, and own items from before, or from this device's other
   * tabs through storage). Resolves with how many items it certified.
   */
  async certify(modelId: string, changes: readonly ModelChange[], context?: VersionVector): Promise<number> {
    const store = this.store(modelId);
    // Removal marks are signed with the author's context: the evidence of what it removed.
    const marks = new Set<string>();
    if (context) for (const change of changes) if (change.kind === 'children') for (const dot of change.removals ?? []) marks.add(dotKey(dot));
    let inFlight = this.#inFlight.get(modelId);
    if (!inFlight) this.#inFlight.set(modelId, (inFlight = new Set()));
    const byNode = new Map<NodeId, Array<[seq: number, hash: Uint8Array, key: string]>>();
    // Asked per node, not per item: every change a replica applies comes here, received ones too
    // (a 10,000-entity bootstrap: 65,000 items of one author, none of them this device's).
    const ownsNode = new Map<NodeId, boolean>();
    const owns = (node: NodeId) => {
      let owned = ownsNode.get(node);
      if (owned === undefined) ownsNode.set(node, (owned = this.signer.ownsNodeId(node)));
      return owned;
    };
    const owned = (dot: Dot) => owns(dot.node) && !store.certificateOf(dot) && !inFlight.has(dotKey(dot));
    for (const change of changes) {
      // Hashing costs more than lookups: done only for changes with something to sign.
      let any = false;
      forEachDot(change, (dot) => (any ||= owned(dot)));
      if (!any) continue;
      forEachItem(change, (dot, hash) => {
        if (!owned(dot)) return;
        const key = dotKey(dot);
        inFlight.add(key);
        let items = byNode.get(dot.node);
        if (!items) byNode.set(dot.node, (items = []));
        items.push([dot.seq, hash.slice(), key]);
      });
    }
    const runs: Array<Array<[number, Uint8Array, string]>> = [];
    for (const items of byNode.values()) {
      items.sort((a, b) => a[0] - b[0]);
      for (let i = 0; i < items.length; i += MAX_CERTIFIED_ITEMS) runs.push(items.slice(i, i + MAX_CERTIFIED_ITEMS));
    }
    try {
      const certificates = await Promise.all(
        runs.map(async (run) => {
          const hashes = new Uint8Array(run.length * ITEM_HASH_BYTES);
          run.forEach(([, hash], i) => hashes.set(hash, i * ITEM_HASH_BYTES));
          const removes = context !== undefined && run.some(([, , key]) => marks.has(key));
          const unsigned = {
            node: nodeOf(run[0]![2]),
            publicKey: this.signer.publicKey,
            seqs: run.map(([seq]) => seq),
            hashes,
            ...(removes ? { context: context.clone() } : {}),
          };
          return { ...unsigned, signature: await this.signer.sign(certificateSignedBytes(modelId, unsigned)) };
        }),
      );
      store.add(certificates);
      this.counters.signed += certificates.length;
      return runs.reduce((sum, run) => sum + run.length, 0);
    } finally {
      for (const run of runs) for (const [, , key] of run) inFlight.delete(key);
    }
  }

  /**
   * What of `changes` may be sent now, and the context to send with them: an item without a
   * certificate (its certification still running, or an item of someone else that came without
   * one) stays back, and so does everything of its node past it, so the receiver never adopts a
   * version claiming it. It goes once certified.
   */
  sendable(modelId: string, changes: readonly ModelChange[], version: VersionVector): { changes: readonly ModelChange[]; version: VersionVector } {
    const store = this.store(modelId);
    let caps: Map<NodeId, number> | undefined;
    for (const change of changes)
      forEachDot(change, (dot) => {
        if (store.certificateOf(dot)) return;
        caps ??= new Map();
        caps.set(dot.node, Math.min(caps.get(dot.node) ?? Infinity, dot.seq - 1));
      });
    // Nor is an author claimed past the highest seq it signed: receivers refuse such a claim.
    for (const node of version.nodes()) {
      const frontier = store.frontier(node);
      if (version.maxSeen(node) > frontier) (caps ??= new Map()).set(node, Math.min(caps.get(node) ?? Infinity, frontier));
    }
    if (!caps) return { changes, version };
    const capped = version.clone();
    for (const [node, seq] of caps) capped.forgetAfter(node, seq);
    const kept: ModelChange[] = [];
    for (const change of changes) {
      const projected = keepItems(change, (dot) => capped.covers(dot));
      if (projected) kept.push(projected);
    }
    return { changes: kept, version: capped };
  }

  /**
   * The encoded certificates covering every item of `changes` (each once): without its hash list
   * where `changes` hold every item the certificate lists (the receiver computes the list).
   */
  certificatesFor(modelId: string, changes: readonly ModelChange[], proven?: Map<NodeId, number>): string[] {
    const store = this.store(modelId);
    const found = new Map<ChangeCertificate, number>();
    for (const change of changes)
      forEachDot(change, (dot) => {
        const certificate = store.certificateOf(dot);
        if (certificate) found.set(certificate, (found.get(certificate) ?? 0) + 1);
      });
    if (proven) for (const certificate of found.keys()) proven.set(certificate.node, Math.max(proven.get(certificate.node) ?? 0, maxSeq(certificate)));
    // A batch holds each dot once (one change per register or relation), so a count is exact.
    return [...found].map(([certificate, count]) => this.#encode(certificate, count === certificate.seqs.length));
  }

  /**
   * The certificates a delta's last part needs besides its items' (`proven`: the highest seq per
   * author those prove): for each author whose claim in `version` goes past what the receiver is
   * known to hold (`since`) and past `proven`, a certificate of the claimed seq (or else the
   * author's highest signed seq), so the receiver can check the claim (`verify` refuses a claim no
   * signature backs). The claimed seq's own certificate goes where held: the highest one may sign
   * own operations that are not stored yet, and once out, a crash that loses them makes the seqs
   * used again look like equivocation to every peer holding it.
   */
  frontierProofs(modelId: string, version: VersionVector, since: VersionVector, proven: ReadonlyMap<NodeId, number>): string[] {
    const store = this.store(modelId);
    const proofs: string[] = [];
    for (const node of version.nodes()) {
      const seq = version.maxSeen(node);
      if (seq <= since.maxSeen(node) || seq <= (proven.get(node) ?? 0)) continue;
      const certificate = store.certificateOf({ node, seq }) ?? store.frontierCertificate(node);
      if (certificate && maxSeq(certificate) >= seq) proofs.push(this.#encode(certificate, false));
    }
    return proofs;
  }

  /**
   * Checks a received batch: every certificate (format, key owns the node, signature, no
   * equivocation against what is held) and every item against the hash its certificate lists.
   * Anything failing refuses the whole batch: an honest sender never sends an item without its
   * certificate (see `sendable`), so a failure means a hostile or broken peer, and nothing it
   * sent is taken. Never throws. The caller applies the batch, then calls `keep`. With `slicer`,
   * items are hashed a slice at a time, pausing in between, so a large batch never holds the page.
   */
  async verify(modelId: string, batch: ChangeBatch, encoded: readonly string[], slicer?: WorkSlicer, from?: NodeId): Promise<VerifiedBatch> {
    return (await this.prepare(modelId, batch, encoded, slicer)).finish(from);
  }

  /**
   * `verify` in two steps, so a peer's next batches can be checked while the one before is still
   * being applied: `prepare` does the work that depends on the batch alone (hashing its items,
   * decoding its certificates, the key and signature checks, on WebCrypto's threads), and may run
   * ahead of the batches before it; `finish`, called once those are applied and their
   * certificates kept, decides against what is held then (a certificate known by now, equivocation,
   * items vouched for by held certificates, version claims), exactly as `verify` at that moment
   * would. Never throws.
   */
  async prepare(modelId: string, batch: ChangeBatch, encoded: readonly string[], slicer?: WorkSlicer): Promise<PreparedBatch> {
    const refuse = (problem: string): PreparedBatch => ({
      finish: () => {
        this.counters.refused++;
        return refused(batch, [problem]);
      },
    });
    // Every item hashed once, in order: the dots, and their hashes end to end.
    const dots: Dot[] = [];
    for (const change of batch.changes) forEachDot(change, (dot) => dots.push(dot));
    // Verification work is bounded by the delta itself, before any is done: a certificate vouches
    // for items of this delta, or (the last part) proves how far its version claims an author.
    const version = VersionVector.fromJSON(batch.version);
    const claimed = [...version.nodes()];
    if (encoded.length > dots.length + (batch.partial ? 0 : claimed.length))
      return refuse(`${encoded.length} certificates for a delta of ${dots.length} operation(s) of ${claimed.length} author(s)`);
    if (new Set(encoded).size !== encoded.length) return refuse('the same certificate twice in one delta');
    const hashes = new Uint8Array(dots.length * ITEM_HASH_BYTES);
    if (!slicer) hashItems(batch.changes, 0, batch.changes.length, hashes, 0);
    else {
      // Hashing costs less per item than applying it: slices of it are longer.
      const hashesPerSlice = slicer.itemsPerSlice * HASH_SLICE_FACTOR;
      let index = 0;
      let from = 0;
      let counted = 0;
      for (let to = 1; to <= batch.changes.length; to++) {
        forEachDot(batch.changes[to - 1]!, () => counted++);
        if (counted - index < hashesPerSlice && to < batch.changes.length) continue;
        index = hashItems(batch.changes, from, to, hashes, index);
        from = to;
        if (to < batch.changes.length) await slicer.pause();
      }
    }
    let itemAt: ((node: NodeId, seq: number) => number | undefined) | undefined;
    // Where an elided certificate's list was built from this batch, its items need no lookup.
    const itemsOf = new Map<ChangeCertificate, number[]>();
    const parsed = encoded.map((text) => {
      const result = this.#parse(text);
      if (typeof result === 'string' || 'held' in result || result.hashes) return result;
      // Elided: the hash list is the listed items' hashes, all of which must be in this batch.
      itemAt ??= indexByDot(dots);
      const list = new Uint8Array(result.seqs.length * ITEM_HASH_BYTES);
      const items: number[] = [];
      for (let i = 0; i < result.seqs.length; i++) {
        const at = itemAt(result.node, result.seqs[i]!);
        if (at === undefined) return `certificate of ${result.node}: lists operation ${result.node}:${result.seqs[i]} without its hash, but the delta lacks it`;
        // A byte loop: a subarray per item costs more (a certificate lists up to hundreds).
        for (let b = 0; b < ITEM_HASH_BYTES; b++) list[i * ITEM_HASH_BYTES + b] = hashes[at * ITEM_HASH_BYTES + b]!;
        items.push(at);
      }
      const certificate = { ...result, hashes: list };
      itemsOf.set(certificate, items);
      return certificate;
    });
    const signed = await Promise.all(parsed.map((result) => (typeof result === 'string' || 'held' in result ? result : this.#checkSignature(modelId, result))));
    return { finish: (from) => this.#finish(modelId, batch, encoded, { dots, hashes, version, claimed, itemsOf, signed }, from) };
  }

  // The second step of `verify`, against what is held now (see `prepare`).
  #finish(modelId: string, batch: ChangeBatch, encoded: readonly string[], prepared: Prepared, from?: NodeId): VerifiedBatch {
    const { dots, hashes, version, claimed, itemsOf } = prepared;
    const store = this.store(modelId);
    const problems: string[] = [];
    // Genuine certificates of an author that signed another operation under a dot held here. Sent
    // by the author's own device, that is its offence; relayed, it is the author's alone: an honest
    // relay holds the other copy and cannot know (blaming it would let one member who signs twice
    // turn honest devices against each other). They are kept as evidence, never stored, and their
    // items are taken only where a held certificate vouches for the same operation.
    const equivocating = new Set<ChangeCertificate>();
    const equivocations: Equivocation[] = [];
    // A certificate kept since it was prepared (a batch before this one brought it) counts as held,
    // as it would have been had this batch been checked only now.
    const checked = prepared.signed.map((result, at) => {
      if (typeof result === 'string' || 'held' in result) return result;
      const held = this.#byEncoding.get(encoded[at]!);
      if (held) return { held };
      const seq = store.conflict(result);
      if (seq === undefined) return result;
      if (from === undefined || sameDevice(from, result.node))
        return `certificate of ${result.node}: a different operation ${result.node}:${seq} was signed before (equivocation)`;
      equivocating.add(result);
      equivocations.push({ node: result.node, seq });
      return result;
    });
    // The batch's new certificates, checked; held ones agree with them (no equivocation).
    const fresh = new CertificateStore();
    const texts = new Map<ChangeCertificate, string>();
    let vouchedBy: Array<ChangeCertificate | undefined> = new Array(dots.length);
    // The highest seq of each author that this delta's certificates or the held ones prove.
    const proven = new Map<NodeId, number>();
    checked.forEach((result, at) => {
      if (typeof result === 'string') {
        problems.push(result);
        this.counters.refused++;
        return;
      }
      const certificate = 'held' in result ? result.held : result;
      proven.set(certificate.node, Math.max(proven.get(certificate.node) ?? 0, maxSeq(certificate)));
      if ('held' in result) return;
      texts.set(result, encoded[at]!);
      const items = itemsOf.get(result);
      if (items) for (const item of items) vouchedBy[item] = result;
      else fresh.add([result]);
    });
    const used = new Set<ChangeCertificate>();
    let failed = 0;
    const contexts = new Map<string, VersionVector>();
    // Items of the batch not taken: vouched for only by an equivocating certificate.
    const skipped = new Set<number>();
    dots.forEach((dot, at) => {
      if (equivocating.size) {
        const certificate = vouchedBy[at] ?? fresh.certificateOf(dot);
        if (certificate && equivocating.has(certificate)) {
          used.add(certificate);
          const held = store.certificateOf(dot);
          if (!held || !listsHash(held, dot.seq, hashes, at * ITEM_HASH_BYTES)) {
            skipped.add(at);
            return;
          }
          vouchedBy[at] = held;
        }
      }
      const built = vouchedBy[at];
      if (built) {
        used.add(built);
        if (built.context) contexts.set(dotKey(dot), built.context);
        return;
      }
      const certificate = fresh.certificateOf(dot) ?? store.certificateOf(dot);
      if (certificate && listsHash(certificate, dot.seq, hashes, at * ITEM_HASH_BYTES)) {
        used.add(certificate);
        if (certificate.context) contexts.set(dotKey(dot), certificate.context);
        return;
      }
      if (!failed++)
        problems.push(certificate ? `operation ${dotKey(dot)} does not match its author's certificate` : `operation ${dotKey(dot)} has no certificate`);
    });
    if (failed) {
      this.counters.rejectedItems += failed;
      if (failed > 1) problems[problems.length - 1] += ` (and ${failed - 1} more item(s))`;
    }
    // Nothing said about an author goes beyond what that author signed (docs/security.md).
    if (!batch.partial)
      for (const node of claimed) {
        const seq = version.maxSeen(node);
        const bound = Math.max(store.frontier(node), proven.get(node) ?? 0);
        if (seq > bound) problems.push(`the delta's version claims operation ${node}:${seq}, but ${node} signed none past ${bound}`);
      }
    // A certificate vouching for no item of the delta is a proof of an author's frontier: at most
    // one per author the version names, in the last part. (One proving no more than what is held
    // is no offence: the sender cannot know what reached this replica from elsewhere meanwhile.)
    const proofs = new Set<NodeId>();
    for (const certificate of texts.keys()) {
      if (used.has(certificate)) continue;
      const { node } = certificate;
      if (batch.partial || proofs.has(node) || version.maxSeen(node) === 0) problems.push(`a certificate of ${node} vouches for nothing in the delta`);
      proofs.add(node);
    }
    if (problems.length) return refused(batch, problems);
    if (skipped.size) ({ batch, vouchedBy } = withoutItems(batch, vouchedBy, skipped));
    const kept = new Set<ChangeCertificate>();
    // Where each change's items start among `dots`, for slices (built at the first one).
    let firstItem: number[] | undefined;
    const keep = (refused: ReadonlySet<unknown>, range?: { readonly from: number; readonly to: number }) => {
      const from = Math.max(0, range?.from ?? 0);
      const to = Math.min(batch.changes.length, range?.to ?? batch.changes.length);
      // Only certificates of items the model took are kept: one vouching for nothing held would
      // make a refused change look signed-and-known when it comes again.
      let vouched = used;
      if (refused.size || from > 0 || to < batch.changes.length) {
        vouched = new Set();
        if (!firstItem) {
          firstItem = [0];
          let count = 0;
          for (const change of batch.changes) {
            forEachDot(change, () => count++);
            firstItem.push(count);
          }
        }
        let at = firstItem[from]!;
        for (let i = from; i < to; i++) {
          const change = batch.changes[i]!;
          const taken = !refused.has(change);
          forEachDot(change, (dot) => {
            const certificate = vouchedBy[at++] ?? fresh.certificateOf(dot);
            if (taken && certificate) vouched.add(certificate);
          });
        }
      }
      // Proofs of an author's frontier go with the last slice: that is the one adopting the version.
      const last = to >= batch.changes.length;
      // A slice's certificates are found from its items, not by going through all of the batch's
      // (a bootstrap's part is applied in a few hundred slices). Held ones (not in `texts`) stay
      // out, and so do equivocating ones (evidence only, never stored).
      const added: ChangeCertificate[] = [];
      for (const certificate of vouched) if (texts.has(certificate) && !kept.has(certificate) && !equivocating.has(certificate)) added.push(certificate);
      // Proofs vouch for no item, so none is in `used`, of which `vouched` is a part.
      if (last)
        for (const certificate of texts.keys())
          if (!kept.has(certificate) && !equivocating.has(certificate) && proofs.has(certificate.node) && !used.has(certificate)) added.push(certificate);
      for (const certificate of added) kept.add(certificate);
      store.add(added);
      // Known by this encoding from now on: the same certificate again is not verified again.
      for (const certificate of added) this.#byEncoding.set(texts.get(certificate)!, certificate);
      this.counters.verified += added.length;
    };
    return { ok: true, batch, problems, keep, evidence: (dot) => contexts.get(dotKey(dot)), equivocations };
  }

  /** A held certificate by its encoding, or the decoded one, or why it cannot be read. */
  #parse(text: string): { held: ChangeCertificate } | ChangeCertificate | ElidedCertificate | string {
    const held = this.#byEncoding.get(text);
    if (held) return { held };
    const bytes = fromBase64Url(text);
    if (!bytes) return 'certificate: not base64url';
    const certificate = decodeSentCertificate(bytes);
    return isCertificateError(certificate) ? certificate.error : certificate;
  }

  /**
   * The certificate if its key owns the node and its signature verifies, or why not. (Whether it
   * equivocates depends on what is held when the batch is finished, so that is checked there.)
   */
  async #checkSignature(modelId: string, certificate: ChangeCertificate): Promise<ChangeCertificate | string> {
    const { node, publicKey, signature } = certificate;
    if (!(await this.#ownsNode(node, publicKey))) return `certificate: node ${node} is not derived from the key that signed it`;
    if (!(await this.#verifySignature(publicKey, signature, certificateSignedBytes(modelId, certificate))))
      return `certificate of ${node}: the signature does not verify`;
    return certificate;
  }

  // The public key imported once per author: importing costs a WebCrypto round trip, as much as
  // the check itself, and live edits bring one certificate each.
  async #verifySignature(publicKey: Uint8Array, signature: Uint8Array, bytes: Uint8Array): Promise<boolean> {
    const id = toBase64Url(publicKey);
    let key = this.#publicKeys.get(id);
    if (!key) {
      key = crypto.subtle.importKey('raw', publicKey as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
      if (this.#publicKeys.size > 10_000) this.#publicKeys.clear();
      this.#publicKeys.set(id, key);
    }
    try {
      return await crypto.subtle.verify({ name: 'Ed25519' }, await key, signature as Uint8Array<ArrayBuffer>, bytes as Uint8Array<ArrayBuffer>);
    } catch {
      // A key WebCrypto refuses (not a point on the curve) verifies nothing.
      return false;
    }
  }

  #ownsNode(node: NodeId, publicKey: Uint8Array): Promise<boolean> {
    const key = `${node}/${toBase64Url(publicKey)}`;
    let owns = this.#keyOwnsNode.get(key);
    if (!owns) {
      owns = DeviceIdentity.nodeIdBelongsTo(node, publicKey);
      if (this.#keyOwnsNode.size > 10_000) this.#keyOwnsNode.clear();
      this.#keyOwnsNode.set(key, owns);
    }
    return owns;
  }

  // Encoded once per form; a held certificate's encoding is also how it is recognized when it comes back.
  #encode(certificate: ChangeCertificate, elideHashes: boolean): string {
    const cache = elideHashes ? this.#elidedEncodings : this.#encodings;
    let text = cache.get(certificate);
    if (text === undefined) {
      text = toBase64Url(elideHashes ? encodeElidedCertificate(certificate) : encodeCertificate(certificate));
      cache.set(certificate, text);
      this.#byEncoding.set(text, certificate);
    }
    return text;
  }
}

// A batch refused: the same envelope with no changes, `partial` so it is never adopted.
function refused(batch: ChangeBatch, problems: string[]): VerifiedBatch {
  return { ok: false, batch: { ...batch, changes: [], partial: true }, problems, keep: () => undefined, evidence: () => undefined, equivocations: [] };
}

// Item positions by dot, to fill in elided hash lists. Per node an array indexed by seq (position
// + 1) where its seqs are dense, as a bootstrap's are: one allocation instead of a map entry per
// item. Sparse seqs (a hostile sender's, say) get a map, so the memory stays bounded by the batch.
function indexByDot(dots: readonly Dot[]): (node: NodeId, seq: number) => number | undefined {
  const extent = new Map<NodeId, { count: number; max: number }>();
  for (const { node, seq } of dots) {
    const seen = extent.get(node);
    if (seen) {
      seen.count++;
      if (seq > seen.max) seen.max = seq;
    } else extent.set(node, { count: 1, max: seq });
  }
  const index = new Map<NodeId, Int32Array | Map<number, number>>();
  for (const [node, { count, max }] of extent) index.set(node, max < 4 * count + 1024 ? new Int32Array(max + 1) : new Map());
  dots.forEach(({ node, seq }, at) => {
    const seqs = index.get(node)!;
    if (seqs instanceof Int32Array) seqs[seq] = at + 1;
    else seqs.set(seq, at);
  });
  return (node, seq) => {
    const seqs = index.get(node);
    if (!(seqs instanceof Int32Array)) return seqs?.get(seq);
    const at = Number.isInteger(seq) && seq >= 0 && seq < seqs.length ? seqs[seq]! : 0;
    return at ? at - 1 : undefined;
  };
}

// The node of a `node:seq` key (node ids contain no colon).
function nodeOf(key: string): NodeId {
  return key.slice(0, key.lastIndexOf(':')) as NodeId;
}

// True if two node ids are of one device (ids are the device id plus an optional per-tab suffix).
function sameDevice(a: NodeId, b: NodeId): boolean {
  return a.slice(0, DEVICE_ID_CHARS) === b.slice(0, DEVICE_ID_CHARS);
}

// The batch without the items at `skipped` (positions in item order), and the certificates by
// position that go with what is left.
function withoutItems(
  batch: ChangeBatch,
  vouchedBy: ReadonlyArray<ChangeCertificate | undefined>,
  skipped: ReadonlySet<number>,
): { batch: ChangeBatch; vouchedBy: Array<ChangeCertificate | undefined> } {
  const left: Array<ChangeCertificate | undefined> = [];
  const dropped = new Set<string>();
  let at = 0;
  for (const change of batch.changes)
    forEachDot(change, (dot) => {
      if (skipped.has(at)) dropped.add(dotKey(dot));
      else left.push(vouchedBy[at]);
      at++;
    });
  const changes: ModelChange[] = [];
  for (const change of batch.changes) {
    const kept = keepItems(change, (dot) => !dropped.has(dotKey(dot)));
    if (kept) changes.push(kept);
  }
  return { batch: { ...batch, changes }, vouchedBy: left };
}
