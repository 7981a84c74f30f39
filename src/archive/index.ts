/**
 * The archive use case (GRAX's, Own's and Veeam's archive): select records of an object with a
 * SOQL condition and their children from the org, confirm every one is in the vault as it is now
 * with its files, delete them from Salesforce in journaled batches to free storage, and mark them
 * in the vault, where they stay restorable like any deleted record.
 */
export { resumeArchive, runArchive, storedSelection } from './run-archive.ts';
export type { ArchiveDeps, ArchiveDepsStore, ArchiveEvent, ArchiveRequest } from './run-archive.ts';
export { ARCHIVE_OUTCOMES, archiveCsv, archiveHelp, archiveReport, archivedIdsFor } from './report.ts';
export type { ArchiveReport, ArchiveReportRow } from './report.ts';
export { MAX_CHILD_LEVELS } from './select.ts';
