// The UI layer: Lit views over the domain models and the node's status. Importing this module
// defines every element; the classes are exported for typing and subclassing.
export type { AuditNode } from './audit/audit-node-controller.js';
export { EdnetAuditView } from './audit/ednet-audit-view.js';
export { EdnetConflictsPanel, type ConflictResolvedDetail } from './ednet-conflicts-panel.js';
export { EdnetElectionsView, type ElectionSelectDetail } from './ednet-elections-view.js';
export { EdnetModelExplorer } from './ednet-model-explorer.js';
export { EdnetStatusBar, type DisplayNameChangeDetail, MAX_DISPLAY_NAME_LENGTH, type WorkOfflineChangeDetail } from './ednet-status-bar.js';
export { EdnetBallotForm } from './elections/ednet-ballot-form.js';
export { EdnetCandidateList } from './elections/ednet-candidate-list.js';
export { EdnetElectionEditor } from './elections/ednet-election-editor.js';
export { EdnetElectionResults } from './elections/ednet-election-results.js';
export { EdnetVoterRoll } from './elections/ednet-voter-roll.js';
export { EdnetEntityForm, type EntityDeletedDetail, type EntitySavedDetail } from './explorer/ednet-entity-form.js';
export { ModelController, type ObservableModel } from './shared/model-controller.js';
export { baseStyles, cardStyles, controlStyles, themeTokens } from './shared/theme.js';
