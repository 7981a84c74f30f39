/**
 * The schedule use case: when each org's jobs run (`rule.ts`, pure), the scheduler that starts
 * them (`scheduler.ts`), the scheduled backup with its baselines (`backup-job.ts`,
 * `baseline.ts`), setting and showing schedules (`settings.ts`), and the pull loop of `orgvault
 * worker` (`worker.ts`) with the distributed backup's handlers (`backup-job.ts`). Depends on the ports and the
 * backup use case only; the shells (`orgvault serve`, `orgvault scheduler`) inject the runners.
 */
export { Scheduler } from './scheduler.ts';
export type { JobContext, JobOutcome, JobRunner, SchedulerDeps, TickReport } from './scheduler.ts';
export { backupJob, backupWorkerHandlers } from './backup-job.ts';
export type { BackupJobDeps } from './backup-job.ts';
export { DEFAULT_CYCLE_DAYS, DELETE_TRACKING_WINDOW_MS, baselineReason } from './baseline.ts';
export type { BaselineFacts } from './baseline.ts';
export { describeRule, dueSlot, latestSlot, nextRun } from './rule.ts';
export { SCHEDULED_JOBS, clearSchedule, hostTimeZone, parseScheduleInput, scheduleViews, setSchedule } from './settings.ts';
export type { ScheduleDeps, ScheduleInput, ScheduleView } from './settings.ts';
export { QueueWorker } from './worker.ts';
export type { JobContext as WorkerJobContext, JobHandler, WorkerOptions } from './worker.ts';
