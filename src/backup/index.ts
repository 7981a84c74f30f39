/**
 * The backup use case: run a backup of an org, and read its status, history and logs. Depends on
 * the vault's ports and the org port only; shells wire the adapters.
 */
export { runBackup } from './run-backup.ts';
export type { BackupDeps, BackupEvent, BackupObjectResult, BackupRequest, BackupResult, BackupStore } from './run-backup.ts';
export { BACKUP_MODES, DEFAULT_SETTINGS, resolveSettings } from './options.ts';
export { storedSettings, updateBackupSettings } from './settings.ts';
export type { BackupMode, BackupSettings } from './options.ts';
export { diffFields, jobLog, listJobs, orgStatusOf, recordHistory, statusReport } from './report.ts';
export type { HistoryEntry, LogObject, OrgStatus, RunLogView, StatusObject, StatusReport } from './report.ts';
export { BACKUP_JOB, BACKUP_OBJECT_JOB, backupJobLog, backupJobOutcome, backupJobRunId, captureObjectTask, coordinateBackup, describeBackupJob, enqueueBackup, findBackupJob, jobsWithQueued, liveBackupJob, runLogOf, waitForBackupJob } from './distributed.ts';
export type { BackupJobPayload, DistributedBackupDeps } from './distributed.ts';
