// The electoral system model: elections, candidates, voters and ballots, declared with the meta-model.
export { BallotChannel, ElectionRoles, ElectionStatus, electoralSchema } from './electoral-schema.js';
export {
  type BallotInput,
  type CandidateInput,
  type ElectionInput,
  ElectoralSystemModel,
  type ElectoralSystemModelOptions,
  type VoterInput,
} from './electoral-system-model.js';
export {
  BallotReason,
  BallotStatus,
  type BallotVerdict,
  type CandidateResult,
  type Tally,
  type VotingWindow,
  ballotFlaw,
  rolesOf,
  tallyElection,
  votingWindow,
} from './tally.js';
