/**
 * The restore use case: select backed-up versions with Salesforce Backup's filters, bring their
 * parents and children along, plan against the org's live records (a dry run stops there), and
 * write back with a per-record report, ID mappings and a resumable journal.
 */
export { selectVersions, schemaFields } from './select.ts';
export type { SelectedVersion, SelectionRequest } from './select.ts';
export { matches, parseCondition, parseLogic } from './filters.ts';
export type { Condition, Logic, Operator } from './filters.ts';
export { gatherRelated } from './related.ts';
export type { RestoreItem } from './related.ts';
export { resumeRestore, runRestore } from './run-restore.ts';
export type { RestoreDeps, RestoreEvent, RestoreRequest, RestoreStore } from './run-restore.ts';
export { reportCsv, restoreRecords } from './report.ts';
export type { RestoreReport, RestoreReportRow } from './report.ts';
export { DEFAULT_PLAN_OPTIONS } from './plan.ts';
export type { FieldOverride, PlanOptions } from './plan.ts';
export { MASK_KINDS, parseMaskRule } from './masking.ts';
export type { MaskRule } from './masking.ts';
