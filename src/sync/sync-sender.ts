import type { NodeId } from '../crdt/dot.js';
import type { ModelChange } from '../domain/model-change.js';
import type { PeerLink } from './peer-link.js';
import { sendableChanges } from './sendable-changes.js';
import { splitBatch } from './split-batch.js';
import type { SyncContext } from './sync-context.js';
import { type AckMessage, type HelloMessage, SYNC_PROTOCOLS } from './sync-message.js';

/**
 * Everything the engine tells a peer about a model: the hello, deltas (with the certificates that
 * vouch for them), version reports and acks. Each claims only what `SyncedModels` says this node
 * may claim, and records it in the link's `told`, so the scheduler knows what the peer heard.
 */
export class SyncSender {
  constructor(
    private readonly context: Pick<SyncContext, 'nodeId' | 'models' | 'certification'>,
    private readonly maxChangesPerMessage: number,
  ) {}

  /** The first message on a connection: every model held here, its version and digest. */
  sendHello(peer: PeerLink, name: string | null): void {
    const { models: synced, nodeId } = this.context;
    const models: Record<string, HelloMessage['models'][string]> = {};
    const digests: Record<string, string> = {};
    for (const id of synced.keys()) {
      const version = synced.claimable(id)!;
      peer.told.set(id, version);
      models[id] = version.toJSON();
      const digest = synced.ownDigest(id);
      if (digest !== undefined) digests[id] = digest;
    }
    peer.send({ t: 'hello', protocols: SYNC_PROTOCOLS, node: nodeId, models, name, digests });
  }

  /** Sends the peer whatever of `modelId` it does not hold yet, in parts if large. */
  sendDelta(peer: PeerLink, modelId: string): void {
    const { models } = this.context;
    const entry = models.get(modelId);
    const state = peer.model(modelId);
    if (!entry || !state) return;
    let version = models.claimable(modelId)!;
    if (state.known.includes(version)) return;
    const delta = entry.model.getDelta(state.known);
    let changes: readonly ModelChange[] = sendableChanges(delta.changes, version);
    const certification = this.context.certification;
    if (certification) {
      // Items still being signed wait (with the context claiming them) until they are.
      ({ changes, version } = certification.sendable(modelId, changes, version));
      if (state.known.includes(version)) return;
    }
    const parts = splitBatch({ ...delta, version: version.toJSON(), changes }, this.maxChangesPerMessage);
    const seq = ++peer.sentSeq;
    // A certificate goes once per delta: the receiver holds it from the earlier part (or, if that
    // part was refused, refuses the rest of the delta anyway).
    const sentCertificates = new Set<string>();
    const proven = new Map<NodeId, number>();
    parts.forEach((batch, index) => {
      peer.count('changesSent', batch.changes.length);
      let certs: { certs: string[] } | undefined;
      if (certification) {
        const needed = certification.certificatesFor(modelId, batch.changes, proven).filter((text) => !sentCertificates.has(text));
        if (index === parts.length - 1) needed.push(...certification.frontierProofs(modelId, version, state.known, proven).filter((text) => !sentCertificates.has(text) && !needed.includes(text)));
        for (const text of needed) sentCertificates.add(text);
        certs = { certs: needed };
      }
      // The last part says what the sender's state is, where it is exactly that of the version sent.
      const digest = index === parts.length - 1 && version.equals(entry.model.version) ? models.ownDigest(modelId) : undefined;
      peer.send({ t: 'delta', seq, part: index + 1, parts: parts.length, batch, ...certs, ...(digest ? { digest } : {}) });
    });
    state.sent(seq, version);
    peer.told.set(modelId, version);
  }

  /**
   * Tells the peer what of `modelId` this node holds; `request` asks for its version back, and
   * `rebase` for it whole (compact versions from the peer did not add up here).
   */
  sendVersion(peer: PeerLink, modelId: string, request: boolean, rebase = false): void {
    const { models } = this.context;
    const version = models.claimable(modelId);
    if (!version) return;
    peer.told.set(modelId, version);
    const digest = models.ownDigest(modelId);
    const seen = peer.model(modelId)?.reportableSeen(peer.seenSeq) ?? peer.seenSeq;
    peer.send({ t: 'version', model: modelId, version: version.toJSON(), request, sent: peer.sentSeq, seen, ...(digest ? { digest } : {}), ...(rebase ? { rebase } : {}) });
  }

  /**
   * Acknowledges the last delta received from `peer`: what is stored here now. With `prune`, the
   * delta was a duplicate: the link turns lazy in the trees of the writers named (none named: the shared tree).
   */
  sendAck(peer: PeerLink, modelId: string, prune?: readonly NodeId[]): void {
    const { models } = this.context;
    const state = peer.model(modelId);
    const awaited = state?.awaitingAck;
    if (!state || !awaited) return;
    state.awaitingAck = null;
    const ours = models.claimable(modelId)!;
    peer.told.set(modelId, ours);
    const digest = models.ownDigest(modelId);
    const ack: AckMessage = {
      t: 'ack',
      model: modelId,
      version: ours.toJSON(),
      complete: ours.includes(awaited),
      seen: peer.seenSeq,
      ...(digest ? { digest } : {}),
      ...(prune ? { prune: true } : {}),
      ...(prune?.length ? { roots: prune } : {}),
    };
    peer.send(ack);
  }
}
