/**
 * The permission check (AvePoint's permission report): what the API user can read, which fields it
 * cannot, and which user permissions backup and restore need, from its profile, its permission
 * sets and describe; stored as a run of kind `permissions`. Shells use this surface only.
 */
export { evaluatePermissions } from './evaluate.ts';
export type { GatheredPermissions, PermissionSource } from './evaluate.ts';
export { gatherPermissions } from './gather.ts';
export type { PermissionStore } from './gather.ts';
export { NEEDS_ORG_SETTING, PERMISSION_SET_NAME, permissionSetProject, permissionSetXml, reportCsv } from './output.ts';
export type { ProjectFile, SetFileOptions } from './output.ts';
export { USER_PERMISSION_REQUIREMENTS } from './requirements.ts';
export type { FieldPermissionRow, Grant, ObjectPermissionRow, PermissionReport, PermissionSummary, SourceNote, UserPermissionRequirement, UserPermissionRow } from './requirements.ts';
export { latestPermissionReport, reportOfRun, runPermissionCheck } from './run-check.ts';
export type { PermissionCheckDeps, PermissionCheckResult } from './run-check.ts';
