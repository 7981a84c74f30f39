/**
 * The restore use case. This release selects: the versions a restore would bring back, with
 * Salesforce Backup's filters (`orgvault restore --list`). Writing them back comes next.
 */
export { selectVersions, schemaFields } from './select.ts';
export type { SelectedVersion, SelectionRequest } from './select.ts';
export { matches, parseCondition, parseLogic } from './filters.ts';
export type { Condition, Logic, Operator } from './filters.ts';
