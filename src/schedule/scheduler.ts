/**
 * The scheduler: a thin loop around pure decisions. Each `tick()` reads every schedule and its
 * state from the vault, asks `dueSlot` whether a job is due, claims the slot in the vault (so a
 * second scheduler on the same vault, or a restart, never runs it again) and starts the job with
 * the runner the shell injected. A job whose org is still busy with the previous one is not
 * started: it is recorded as Skipped in the run log with the reason. Times come from an injected
 * clock, so tests drive it with the emulator's.
 */
import { randomUUID } from 'node:crypto';
import type { OrgRegistration, RunStatus } from '../core/vault.ts';
import type { OrgCatalog, RunLog, ScheduleRecord, ScheduleStateRecord, ScheduleStore, ScheduledJob } from '../store/port.ts';
import { dueSlot } from './rule.ts';

/** What a job runner is given. */
export interface JobContext {
  org: OrgRegistration;
  schedule: ScheduleRecord;
  /** The schedule's state before this job (the backup cycle, the last completed run). */
  state: ScheduleStateRecord | undefined;
  /** The slot this job is for. */
  slot: number;
  /** For the run log: "scheduler". */
  startedBy: string;
}

/** What a job did, for the schedule's state. */
export interface JobOutcome {
  runId: string | null;
  status: RunStatus;
  message: string | null;
  /** Why the job was a full baseline, when it was one. */
  baseline?: string | null;
  /** The org ID the org reported, when the job asked. */
  orgIdSeen?: string | null;
}

/** Runs one scheduled job to its end. Never throws for an org's failure: it reports it. */
export type JobRunner = (context: JobContext) => Promise<JobOutcome>;

export interface SchedulerDeps {
  store: ScheduleStore & OrgCatalog & RunLog;
  /** The runners, wired by the shell: src/schedule imports no shell and no adapter. */
  jobs: { backup: JobRunner; permissions?: JobRunner };
  now?: () => number;
  /** One line per job started, skipped or finished (the shell prints them). */
  log?: (line: string) => void;
}

/** What one tick did. */
export interface TickReport {
  started: { orgName: string; job: ScheduledJob; slot: number }[];
  skipped: { orgName: string; job: ScheduledJob; slot: number; reason: string }[];
}

const COMPLETED: readonly RunStatus[] = ['Succeeded', 'CompletedWithErrors'];

export class Scheduler {
  private readonly running = new Map<string, { slot: number; startedAt: number; done: Promise<void> }>();
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly warned = new Set<string>();
  private ticking: Promise<TickReport> | null = null;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? (() => undefined);
  }

  /** Starts every job that is due; resolves once they are started (not finished: see `idle`). Ticks never overlap. */
  tick(): Promise<TickReport> {
    if (!this.ticking) this.ticking = this.tickOnce().finally(() => (this.ticking = null));
    return this.ticking;
  }

  /** Resolves when no job started by this scheduler is running. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Whether a job of the org started here is running. */
  isRunning(orgName: string, job: ScheduledJob = 'backup'): boolean {
    return this.running.has(key(orgName, job));
  }

  /**
   * Ticks every `intervalMs` until the returned function is called; that function waits for the
   * running jobs to end. A tick that fails is logged and the next one tries again.
   */
  start(intervalMs = 30_000): () => Promise<void> {
    let stopped = false;
    const loop = (): void => {
      if (stopped) return;
      this.tick()
        .catch((error: unknown) => this.log(`scheduler: a tick failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => {
          if (!stopped) timer = setTimeout(loop, intervalMs);
        });
    };
    let timer: NodeJS.Timeout | undefined = setTimeout(loop, 0);
    return async () => {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await this.ticking?.catch(() => undefined);
      await this.idle();
    };
  }

  private async tickOnce(): Promise<TickReport> {
    const report: TickReport = { started: [], skipped: [] };
    const { store } = this.deps;
    for (const schedule of await store.listSchedules()) {
      const runner = this.deps.jobs[schedule.job];
      if (!runner) {
        this.warnOnce(`${schedule.job}`, `scheduler: ${schedule.job} jobs are scheduled but this process cannot run them; they wait.`);
        continue;
      }
      const org = await store.getOrg(schedule.orgName);
      if (!org) {
        this.warnOnce(`org:${schedule.orgName}`, `scheduler: the schedule of ${schedule.orgName} names an org no longer in the vault; clear it with \`orgvault schedule clear --org ${schedule.orgName}\`.`);
        continue;
      }
      const state = await store.getScheduleState(schedule.orgName, schedule.job);
      const now = this.now();
      // A schedule set (or changed) after a slot passed does not run that slot.
      const since = Math.max(state?.lastSlot ?? Number.NEGATIVE_INFINITY, schedule.setAt);
      const slot = dueSlot(schedule.rule, schedule.timeZone, since, now);
      if (slot === null) continue;
      // Claimed first: whatever happens next, this slot is handled once.
      if (!(await store.claimScheduleSlot(schedule.orgName, schedule.job, slot))) continue;
      const busy = this.running.get(key(schedule.orgName, schedule.job));
      if (busy) {
        const reason = `Skipped: the ${schedule.job === 'backup' ? 'backup' : 'permission check'} of ${org.name} due ${new Date(slot).toISOString()} did not start because the job due ${new Date(busy.slot).toISOString()} (started ${new Date(busy.startedAt).toISOString()}) is still running.`;
        await this.recordSkip(org, schedule, now, reason);
        report.skipped.push({ orgName: schedule.orgName, job: schedule.job, slot, reason });
        this.log(`scheduler: ${reason}`);
        continue;
      }
      report.started.push({ orgName: schedule.orgName, job: schedule.job, slot });
      this.launch(runner, org, schedule, state, slot, now);
    }
    return report;
  }

  private launch(runner: JobRunner, org: OrgRegistration, schedule: ScheduleRecord, state: ScheduleStateRecord | undefined, slot: number, startedAt: number): void {
    const { store } = this.deps;
    const name = `${schedule.job} of ${org.name}`;
    this.log(`scheduler: starting the ${name} due ${new Date(slot).toISOString()}.`);
    const done = (async () => {
      await store.updateScheduleState(schedule.orgName, schedule.job, { lastStartedAt: startedAt });
      let outcome: JobOutcome;
      try {
        outcome = await runner({ org, schedule, state, slot, startedBy: 'scheduler' });
      } catch (error) {
        outcome = { runId: null, status: 'Failed', message: error instanceof Error ? error.message : String(error) };
      }
      const completed = COMPLETED.includes(outcome.status);
      await store.updateScheduleState(schedule.orgName, schedule.job, {
        lastRunId: outcome.runId,
        lastStatus: outcome.status,
        lastEndedAt: this.now(),
        ...(completed ? { lastSuccessAt: startedAt } : {}),
        ...(completed && outcome.baseline ? { cycleStartedAt: startedAt, baselineReason: outcome.baseline, baselineAt: startedAt } : {}),
        ...(completed && outcome.orgIdSeen ? { orgIdSeen: outcome.orgIdSeen } : {}),
      });
      this.log(`scheduler: the ${name} ended ${outcome.status}${outcome.runId ? ` (run ${outcome.runId})` : ''}${outcome.message ? `: ${outcome.message}` : '.'}`);
    })()
      .catch((error: unknown) => this.log(`scheduler: recording the ${name} failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => this.running.delete(key(schedule.orgName, schedule.job)));
    this.running.set(key(schedule.orgName, schedule.job), { slot, startedAt, done });
  }

  /** A skipped job is a run in the log, as a backup refused by another process's lock is; the running job's outcome stays the state's. */
  private async recordSkip(org: OrgRegistration, schedule: ScheduleRecord, at: number, reason: string): Promise<void> {
    await this.deps.store.createRun({
      runId: randomUUID(),
      orgId: org.orgId,
      kind: schedule.job,
      status: 'Skipped',
      startedAt: at,
      endedAt: at,
      counters: {},
      message: reason,
      parameters: { org: org.name, ...(schedule.job === 'backup' ? { objects: schedule.objects } : {}), startedBy: 'scheduler' },
    });
  }

  private warnOnce(id: string, line: string): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.log(line);
  }
}

function key(orgName: string, job: ScheduledJob): string {
  return `${job}\u0000${orgName}`;
}
