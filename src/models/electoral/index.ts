// The electoral system model: elections, candidates, voters and ballots (and co-organisers), declared with the meta-model.
export { BallotChannel, ElectionRoles, ElectionStatus, MAX_CONTEXT_CHARS, VotingAction, electoralSchema } from './electoral-schema.js';
export { type ElectionKeyPair, type OpenedChoice, type SealBinding, exportPrivateKey, generateElectionKeyPair, keyMatches, openChoice, sealChoice } from './ballot-sealing.js';
export { type ElectionKeyStore, MemoryElectionKeyStore, openSealedElection, publishHeldKeys, unsealElection } from './sealed-voting.js';
export { type ClosedRoundAuthority, type StandingAt, closedRoundAuthority, liveAt, standingAt } from './as-of-close.js';
export {
  type VotingEventRecord,
  type VotingHistory,
  type VotingRound,
  VotingEventEffect,
  contextOf,
  creationDots,
  deletionDots,
  votingHistoryOf,
} from './voting-history.js';
export {
  type ElectionAuthority,
  type VotingStamps,
  approvedVotersOf,
  coOrganisersOf,
  electionAuthority,
  keptByClose,
  liveElection,
  rolesOf,
  standingCandidatesOf,
  votingStampsOf,
} from './election-authority.js';
export { ElectoralSystemModel, type ElectoralSystemModelOptions } from './electoral-system-model.js';
export type { CandidateInput, ElectionInput } from './elections.js';
export type { VoterInput } from './voter-roll.js';
export type { BallotInput } from './ballot-box.js';
export {
  BallotReason,
  BallotStatus,
  type BallotVerdict,
  type CandidateResult,
  SEALED,
  type Tally,
  type UnsealedChoices,
  type VotingWindow,
  ballotFlaw,
  tallyElection,
  votingWindow,
} from './tally.js';
export { MAX_MEMBER_NAME_LENGTH, MAX_ROOM_DESCRIPTION_LENGTH, MAX_ROOM_NAME_LENGTH, roomConcepts } from './room-schema.js';
export {
  MEMBER_OID_SUFFIX,
  type RoomInfo,
  type RoomInfoInput,
  canNameRoom,
  memberNames,
  memberOid,
  roomCreatorOf,
  roomInfoOf,
  setMemberName,
  setRoomInfo,
} from './room-directory.js';
