import { ownerOf } from '../../domain/index.js';
import { ElectionStatus, type ElectoralSystemModel } from '../../models/electoral/index.js';

/** One thing that waits for this device, in words. */
export interface AttentionItem {
  /** Stable per election and kind, so a notification is shown once per item. */
  readonly key: string;
  readonly electionId: string;
  readonly text: string;
  /** How many it stands for on the badge: the voters waiting, else 1. */
  readonly count: number;
}

const SEEN_KEY = 'ednet-p2p/results-seen';

/**
 * What waits for this device's action in the room's elections: voters waiting for its approval
 * (elections it organises), its own voter approved in a draft (until it looked at the election),
 * voting opened for its own approved voter who has not voted, and results of a closed election it
 * voted or organised in that it has not looked at yet.
 */
export function electionAttention(model: ElectoralSystemModel, seen: ReadonlySet<string> = seenItems()): AttentionItem[] {
  const items: AttentionItem[] = [];
  const voter = model.myVoter();
  for (const election of model.elections()) {
    const id = election.oid;
    const title = String(election.getAttribute('title') ?? '');
    const status = model.statusOf(id);
    const organising = model.isOrganiser(id);
    if (organising && status !== ElectionStatus.closed) {
      const waiting = model.pendingVoters(id).count;
      if (waiting)
        items.push({ key: `${id}:waiting:${waiting}`, electionId: id, count: waiting, text: `${waiting} voter${waiting === 1 ? '' : 's'} waiting for approval in “${title}”` });
    }
    const mine = voter && voter.childOids('elections').includes(id) ? voter : undefined;
    if (status === ElectionStatus.draft && mine && model.isApproved(id, mine.oid) && !seen.has(approvalKey(id, mine.oid)))
      items.push({ key: approvalKey(id, mine.oid), electionId: id, count: 1, text: `You are approved to vote in “${title}”` });
    if (status === ElectionStatus.open && mine && model.isApproved(id, mine.oid) && !votedIn(model, id, mine.oid))
      items.push({ key: `${id}:open`, electionId: id, count: 1, text: `Voting is open in “${title}”` });
    const round = model.votingHistory(id).rounds.at(-1);
    if (status === ElectionStatus.closed && (organising || mine) && !seen.has(`${id}:${round?.close?.oid ?? ''}`))
      items.push({ key: `${id}:results:${round?.close?.oid ?? ''}`, electionId: id, count: 1, text: `Results of “${title}” are in` });
  }
  return items;
}

// The approval of one voter (a voter registered again is approved again, and told again).
const approvalKey = (electionId: string, voterId: string) => `${electionId}:approved:${voterId}`;

/** Records that this device looked at the results of the election's last close (kept in localStorage). */
export function markResultsSeen(model: ElectoralSystemModel, electionId: string): boolean {
  if (model.statusOf(electionId) !== ElectionStatus.closed) return false;
  const close = model.votingHistory(electionId).rounds.at(-1)?.close?.oid ?? '';
  return markSeen(`${electionId}:${close}`);
}

/** Records that this device's voter saw it was approved in the election (kept in localStorage). */
export function markApprovalSeen(model: ElectoralSystemModel, electionId: string): boolean {
  const voter = model.myVoter();
  if (!voter || !voter.childOids('elections').includes(electionId) || !model.isApproved(electionId, voter.oid)) return false;
  return markSeen(approvalKey(electionId, voter.oid));
}

function markSeen(key: string): boolean {
  const seen = seenItems();
  if (seen.has(key)) return false;
  seen.add(key);
  try {
    localStorage.setItem(SEEN_KEY, JSON.stringify([...seen].slice(-500)));
  } catch {
    // Storage blocked: the badge then clears for this page only.
    sessionSeen.add(key);
  }
  return true;
}

const sessionSeen = new Set<string>();

function seenItems(): Set<string> {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(SEEN_KEY) ?? '[]');
    return new Set([...(Array.isArray(stored) ? stored.filter((v): v is string => typeof v === 'string') : []), ...sessionSeen]);
  } catch {
    return new Set(sessionSeen);
  }
}

/** True if this device cast a ballot for its voter `voterId` in the election. */
export function votedIn(model: ElectoralSystemModel, electionId: string, voterId: string): boolean {
  return model
    .findBy('Ballot', 'voter', voterId)
    .find((ballot) => ballot.getAttribute('election') === electionId && ownerOf(ballot.oid) === model.deviceId) !== undefined;
}
