import type { NodeId } from '../crdt/dot.js';
import { MAX_ROSTER_ENTRIES, type RosterEntry } from './overlay-message.js';

/** Options of `MemberRoster`. */
export interface MemberRosterOptions {
  /**
   * A member whose heartbeat has not advanced for this long is no longer counted as reached.
   * Heartbeats cross one hop per gossip period (10 s), so this must exceed the room's diameter
   * times that period by a margin. Default 120 s.
   */
  readonly reachedForMs?: number;
  /** A member not heard of for this long is forgotten (no longer counted as known). Default 10 min. */
  readonly forgetAfterMs?: number;
  /** Members kept at most; the longest silent go first. Default 1,000. */
  readonly maxMembers?: number;
}

interface Member {
  beat: number;
  digest: string;
  left: boolean;
  /** Local clock when it was last heard of in any way (gossip, a discovery, a connection). */
  heardAt: number;
  /** Local clock when its beat last advanced or it was connected directly; undefined: never. */
  reachedAt: number | undefined;
  /** Local clock when the entry last changed, for incremental gossip. */
  changedAt: number;
  readonly firstHeardAt: number;
}

/** What the roster says about the room, for the status. */
export interface RosterCounts {
  /** Members known (heard of within `forgetAfterMs` and not gone), this node included. */
  readonly known: number;
  /**
   * Of these, the ones whose heartbeat advanced within `reachedForMs` (or connected directly),
   * this node included: the part of the room our changes and theirs travel between.
   */
  readonly reached: number;
}

/**
 * The members of a room heard of recently, beyond direct connections: each node gossips
 * `[id, beat, digest, left]` for every member it knows, where `beat` is a counter only the member
 * itself increments (so no clocks are compared across devices) and `digest` summarizes its state.
 * A member counts as *reached* while its beat keeps advancing (or it is connected directly), as
 * *known* while anything mentions it (a discovery's list too) until it has been silent for
 * `forgetAfterMs` or said it left. Pure: an injected clock, no timers.
 */
export class MemberRoster {
  readonly me: NodeId;
  private readonly members = new Map<NodeId, Member>();
  private readonly reachedForMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxMembers: number;
  private ownBeat = 0;
  private ownDigest = '';

  constructor(
    me: NodeId,
    private readonly now: () => number,
    options: MemberRosterOptions = {},
  ) {
    this.me = me;
    this.reachedForMs = options.reachedForMs ?? 120_000;
    this.forgetAfterMs = options.forgetAfterMs ?? 600_000;
    this.maxMembers = Math.min(options.maxMembers ?? MAX_ROSTER_ENTRIES, MAX_ROSTER_ENTRIES);
    if (!(this.reachedForMs > 0) || !(this.forgetAfterMs >= this.reachedForMs)) throw new RangeError('MemberRoster: need 0 < reachedForMs <= forgetAfterMs');
  }

  /** Advances our own heartbeat and records our digest; returns our entry. */
  beat(digest: string): RosterEntry {
    this.ownBeat++;
    this.ownDigest = digest;
    return this.ownEntry();
  }

  /** Records our digest without a heartbeat (it changed); true if it did change. */
  setDigest(digest: string): boolean {
    if (digest === this.ownDigest) return false;
    this.ownDigest = digest;
    return true;
  }

  /**
   * A member was heard of outside the gossip: a discovery lists it (known, not yet reached), or
   * `direct`ly, over a connection (reached).
   */
  heard(id: NodeId, direct: boolean): void {
    if (id === this.me) return;
    const now = this.now();
    const member = this.members.get(id);
    if (!member) this.insert(id, { beat: 0, digest: '', left: false, heardAt: now, reachedAt: direct ? now : undefined, changedAt: now, firstHeardAt: now });
    else {
      member.heardAt = now;
      if (direct) member.reachedAt = now;
      member.left = false;
    }
  }

  /**
   * Of `candidates`, members known for at least `reachedForMs` whose heartbeat has not reached us
   * in that time: listed somewhere, yet not in our part of the overlay (a healed partition).
   */
  unreached(candidates: readonly NodeId[]): NodeId[] {
    const cutoff = this.now() - this.reachedForMs;
    return candidates.filter((id) => {
      const member = this.members.get(id);
      return member !== undefined && !member.left && (member.reachedAt ?? -Infinity) < cutoff && member.firstHeardAt <= cutoff;
    });
  }

  /**
   * Merges gossiped entries: a higher beat wins (its digest and left flag with it). Returns the
   * entries that changed something here; `news` is true if one brought a new member, a new digest
   * or a departure (worth passing on at once, unlike a mere heartbeat).
   */
  merge(entries: readonly RosterEntry[]): RosterEntry[] & { news?: boolean } {
    const now = this.now();
    const changed: RosterEntry[] & { news?: boolean } = [];
    for (const entry of entries) {
      if (entry.id === this.me) {
        // Someone knows a later beat of ours (from before a reload), or says we left: outrun it.
        // Our own beat coming back is only an echo.
        if (entry.beat > this.ownBeat || (entry.left && entry.beat === this.ownBeat)) this.ownBeat = entry.beat + 1;
        continue;
      }
      const member = this.members.get(entry.id);
      if (member && entry.beat <= member.beat) continue;
      if (!member || member.digest !== entry.digest || member.left !== entry.left) changed.news = true;
      if (!member) this.insert(entry.id, { beat: entry.beat, digest: entry.digest, left: entry.left, heardAt: now, reachedAt: now, changedAt: now, firstHeardAt: now });
      else Object.assign(member, { beat: entry.beat, digest: entry.digest, left: entry.left, heardAt: now, reachedAt: now, changedAt: now });
      changed.push(entry);
    }
    return changed;
  }

  /** Forgets members silent for `forgetAfterMs`; call now and then. */
  prune(): void {
    const cutoff = this.now() - this.forgetAfterMs;
    for (const [id, member] of this.members) if (member.heardAt < cutoff) this.members.delete(id);
  }

  /** Every member to gossip, ourselves first; with `since`, only those changed after it. */
  entries(since?: number): RosterEntry[] {
    const list: RosterEntry[] = [this.ownEntry()];
    for (const [id, member] of this.members) {
      if (since !== undefined && member.changedAt <= since) continue;
      // Only recent news is worth gossiping, so a silent member (or a departure) fades everywhere.
      if (member.reachedAt === undefined || this.now() - member.reachedAt > this.reachedForMs) continue;
      list.push({ id, beat: member.beat, digest: member.digest, left: member.left });
      if (list.length >= this.maxMembers) break;
    }
    return list;
  }

  /** Our entry saying we leave: it outruns every earlier beat of ours. */
  leaving(): RosterEntry {
    this.ownBeat++;
    return { id: this.me, beat: this.ownBeat, digest: this.ownDigest, left: true };
  }

  /** Members reached now, this node excluded. */
  reachedMembers(): NodeId[] {
    const cutoff = this.now() - this.reachedForMs;
    return [...this.members].filter(([, member]) => !member.left && (member.reachedAt ?? -Infinity) >= cutoff).map(([id]) => id);
  }

  /** The last digest `id` gossiped, or undefined. */
  digestOf(id: NodeId): string | undefined {
    const member = this.members.get(id);
    return member && member.digest !== '' ? member.digest : undefined;
  }

  counts(): RosterCounts {
    const now = this.now();
    let known = 1;
    let reached = 1;
    for (const member of this.members.values()) {
      if (member.left || now - member.heardAt > this.forgetAfterMs) continue;
      known++;
      if (member.reachedAt !== undefined && now - member.reachedAt <= this.reachedForMs) reached++;
    }
    return { known, reached };
  }

  private ownEntry(): RosterEntry {
    return { id: this.me, beat: this.ownBeat, digest: this.ownDigest, left: false };
  }

  private insert(id: NodeId, member: Member): void {
    if (this.members.size >= this.maxMembers) {
      let oldest: NodeId | undefined;
      let oldestAt = Infinity;
      for (const [candidate, entry] of this.members) {
        if (entry.heardAt < oldestAt) {
          oldest = candidate;
          oldestAt = entry.heardAt;
        }
      }
      if (oldest !== undefined) this.members.delete(oldest);
    }
    this.members.set(id, member);
  }
}
