import { type Dot, dotKey } from '../crdt/dot.js';
import type { ChangeCertificate } from './change-certificate.js';
import { ITEM_HASH_BYTES } from './change-items.js';

/** Where a certificate lists one item. */
export interface CertificateEntry {
  readonly certificate: ChangeCertificate;
  /** The item's hash in the certificate. */
  readonly hash: Uint8Array;
}

/**
 * The certificates of one model's items, indexed by dot. Holds only certificates that were made
 * here or verified (or loaded from this replica's own storage); it never checks signatures itself.
 * Kept so that every item this replica holds can be sent on with its author's proof.
 */
export class CertificateStore {
  readonly #entries = new Map<string, { certificate: ChangeCertificate; index: number }>();
  readonly #certificates = new Set<ChangeCertificate>();
  readonly #listeners = new Set<(added: readonly ChangeCertificate[]) => void>();

  /** Certificates held. */
  get size(): number {
    return this.#certificates.size;
  }

  /** The certificate listing the item of `dot`, if any. */
  entry(dot: Dot): CertificateEntry | undefined {
    const found = this.#entries.get(dotKey(dot));
    return found && { certificate: found.certificate, hash: hashAt(found.certificate, found.index) };
  }

  /**
   * The first seq `certificate` lists with another hash than a held certificate of the same author:
   * the author signed two different operations under one dot (equivocation).
   */
  conflict(certificate: ChangeCertificate): number | undefined {
    for (let index = 0; index < certificate.seqs.length; index++) {
      const held = this.#entries.get(`${certificate.node}:${certificate.seqs[index]}`);
      if (held && !sameBytes(hashAt(held.certificate, held.index), hashAt(certificate, index))) return certificate.seqs[index];
    }
    return undefined;
  }

  /**
   * Adds certificates (made here, verified, or loaded from storage; not checked again). Entries a
   * held certificate already lists keep the held one. Listeners hear of the ones that were new.
   */
  add(certificates: readonly ChangeCertificate[]): void {
    const added: ChangeCertificate[] = [];
    for (const certificate of certificates) {
      if (this.#certificates.has(certificate)) continue;
      let listed = false;
      certificate.seqs.forEach((seq, index) => {
        const key = `${certificate.node}:${seq}`;
        if (this.#entries.has(key)) return;
        this.#entries.set(key, { certificate, index });
        listed = true;
      });
      // One that lists nothing new would only take space.
      if (!listed) continue;
      this.#certificates.add(certificate);
      added.push(certificate);
    }
    if (!added.length) return;
    for (const listener of [...this.#listeners]) listener(added);
  }

  /** Every certificate held. */
  certificates(): ChangeCertificate[] {
    return [...this.#certificates];
  }

  /** Hears of certificates added from now on; returns the unsubscribe function. */
  onAdded(listener: (added: readonly ChangeCertificate[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function hashAt(certificate: ChangeCertificate, index: number): Uint8Array {
  return certificate.hashes.subarray(index * ITEM_HASH_BYTES, (index + 1) * ITEM_HASH_BYTES);
}

/** Byte equality. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
