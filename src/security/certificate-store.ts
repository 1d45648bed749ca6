import type { Dot, NodeId } from '../crdt/dot.js';
import type { ChangeCertificate } from './change-certificate.js';
import { ITEM_HASH_BYTES } from './change-items.js';
import { Listeners } from '../util/listeners.js';
import { consoleLoggerFor, type Logger } from '../util/logger.js';

/**
 * The certificates of one model's items, indexed by dot. Holds only certificates that were made
 * here or verified (or loaded from this replica's own storage); it never checks signatures itself.
 * Kept so that every item this replica holds can be sent on with its author's proof.
 */
export class CertificateStore {
  // node → seq → the certificate listing it (numeric keys: no string per item).
  readonly #bySeq = new Map<NodeId, Map<number, ChangeCertificate>>();
  readonly #certificates = new Set<ChangeCertificate>();
  // Per author, the certificate listing its highest signed seq: the proof of how far a version
  // may claim that author's operations. Kept even when all its items are gone.
  readonly #frontier = new Map<NodeId, ChangeCertificate>();
  // A listener that throws is reported, never thrown out of `add()`: the certificates are held by then.
  readonly #listeners: Listeners<[readonly ChangeCertificate[]]>;

  constructor(logger: Logger = consoleLoggerFor('security')) {
    this.#listeners = new Listeners(logger, 'certificate');
  }

  /** Certificates held. */
  get size(): number {
    return this.#certificates.size;
  }

  /** The certificate listing the item of `dot`, if any. */
  certificateOf(dot: Dot): ChangeCertificate | undefined {
    return this.#bySeq.get(dot.node)?.get(dot.seq);
  }

  /** The highest seq of `node` any held certificate lists (0 if none): no version may claim more. */
  frontier(node: NodeId): number {
    const certificate = this.#frontier.get(node);
    return certificate ? maxSeq(certificate) : 0;
  }

  /** The certificate proving `frontier(node)`, if any. */
  frontierCertificate(node: NodeId): ChangeCertificate | undefined {
    return this.#frontier.get(node);
  }

  /** True if a held certificate lists `hash` for the item of `dot`. */
  vouchesFor(dot: Dot, hash: Uint8Array): boolean {
    const certificate = this.certificateOf(dot);
    return certificate !== undefined && listsHash(certificate, dot.seq, hash);
  }

  /**
   * The first seq `certificate` lists with another hash than a held certificate of the same author:
   * the author signed two different operations under one dot (equivocation).
   */
  conflict(certificate: ChangeCertificate): number | undefined {
    const held = this.#bySeq.get(certificate.node);
    if (!held) return undefined;
    for (let index = 0; index < certificate.seqs.length; index++) {
      const seq = certificate.seqs[index]!;
      const other = held.get(seq);
      if (other && !listsHash(other, seq, certificate.hashes.subarray(index * ITEM_HASH_BYTES, (index + 1) * ITEM_HASH_BYTES))) return seq;
    }
    return undefined;
  }

  /**
   * Adds certificates (made here, verified, or loaded from storage; not checked again). Entries a
   * held certificate already lists keep the held one; a certificate listing nothing new is not
   * kept. Listeners hear of the ones that were new.
   */
  add(certificates: Iterable<ChangeCertificate>): void {
    const added: ChangeCertificate[] = [];
    for (const certificate of certificates) {
      if (this.#certificates.has(certificate)) continue;
      let held = this.#bySeq.get(certificate.node);
      if (!held) this.#bySeq.set(certificate.node, (held = new Map()));
      let listed = false;
      for (const seq of certificate.seqs) {
        if (held.has(seq)) continue;
        held.set(seq, certificate);
        listed = true;
      }
      if (!listed) continue;
      this.#certificates.add(certificate);
      added.push(certificate);
      if (maxSeq(certificate) > this.frontier(certificate.node)) this.#frontier.set(certificate.node, certificate);
    }
    if (!added.length) return;
    this.#listeners.emit(added);
  }

  /**
   * Drops every certificate none of whose items `holds` (their items were all overwritten or
   * removed since): nobody will ask for them again. Returns the ones dropped.
   */
  prune(holds: (dot: Dot) => boolean): ChangeCertificate[] {
    const dropped: ChangeCertificate[] = [];
    for (const certificate of this.#certificates) {
      const { node, seqs } = certificate;
      if (seqs.some((seq) => holds({ node, seq })) || this.#frontier.get(node) === certificate) continue;
      const held = this.#bySeq.get(node)!;
      for (const seq of seqs) if (held.get(seq) === certificate) held.delete(seq);
      if (!held.size) this.#bySeq.delete(node);
      this.#certificates.delete(certificate);
      dropped.push(certificate);
    }
    return dropped;
  }

  /** Every certificate held. */
  certificates(): ChangeCertificate[] {
    return [...this.#certificates];
  }

  /** Hears of certificates added from now on; returns the unsubscribe function. */
  onAdded(listener: (added: readonly ChangeCertificate[]) => void): () => void {
    return this.#listeners.add(listener);
  }
}

/** The highest seq `certificate` lists (seqs are ascending). */
export function maxSeq(certificate: { readonly seqs: readonly number[] }): number {
  return certificate.seqs[certificate.seqs.length - 1] ?? 0;
}

/** True if `certificate` lists `seq` with the `ITEM_HASH_BYTES` of `hash` from `offset`. */
export function listsHash(certificate: ChangeCertificate, seq: number, hash: Uint8Array, offset = 0): boolean {
  const { seqs, hashes } = certificate;
  let lo = 0;
  let hi = seqs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const listed = seqs[mid]!;
    if (listed === seq) {
      const at = mid * ITEM_HASH_BYTES;
      for (let i = 0; i < ITEM_HASH_BYTES; i++) if (hashes[at + i] !== hash[offset + i]) return false;
      return true;
    }
    if (listed < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
