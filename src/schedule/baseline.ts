/**
 * When a scheduled backup must be a fresh full baseline rather than an increment: at the end of a
 * backup cycle (a year by default, as AvePoint), and whenever continuity with the vault cannot be
 * proven. Pure: the facts are gathered by the backup job.
 */
import type { ObjectState } from '../core/vault.ts';

const DAY_MS = 86_400_000;

/** The backup cycle when a schedule does not set one: a year, as AvePoint's. */
export const DEFAULT_CYCLE_DAYS = 365;

/**
 * How far back deletes can still be learnt without comparing IDs: Salesforce's getDeleted keeps
 * about 15 days (its earliestDateAvailable). A longer gap may hide hard deletes.
 */
export const DELETE_TRACKING_WINDOW_MS = 15 * DAY_MS;

export interface BaselineFacts {
  now: number;
  cycleDays: number;
  /** When the current cycle's baseline ran; null when no scheduled baseline has run yet. */
  cycleStartedAt: number | null;
  /** The org ID the vault knows the org by (its registration, or the last one a backup saw). */
  knownOrgId: string;
  /** The org ID the org reports now. */
  reportedOrgId: string;
  /** The vault's object states for the org. */
  objects: readonly ObjectState[];
  /** When the last completed backup started, if known. */
  lastSuccessAt: number | null;
}

/** When the cycle began: the scheduled baseline, else the org's first full backup. */
export function cycleStart(cycleStartedAt: number | null, objects: readonly ObjectState[]): number | null {
  if (cycleStartedAt !== null) return cycleStartedAt;
  const backfills = objects.map((o) => o.backfilledAt).filter((t): t is number => t !== null);
  return backfills.length ? Math.min(...backfills) : null;
}

/** Why the next backup must be a baseline, in an admin's words, or null when an increment is sound. */
export function baselineReason(facts: BaselineFacts): string | null {
  // An org never backed up gets its first full copy anyway: that is not a baseline to announce.
  const backedUp = facts.objects.filter((o) => o.backfilledAt !== null);
  if (backedUp.length === 0) return null;
  if (facts.reportedOrgId !== facts.knownOrgId) {
    return `the org now reports organization ID ${facts.reportedOrgId}, not ${facts.knownOrgId}: it was refreshed (a sandbox refresh) or replaced, so its records are compared afresh`;
  }
  const reset = backedUp.filter((o) => o.recordCount > 0 && o.watermark === null).map((o) => o.objectName);
  if (reset.length) return `the watermark of ${reset.slice(0, 5).join(', ')}${reset.length > 5 ? ` and ${reset.length - 5} more` : ''} was reset, so what changed since the last backup cannot be told`;
  // A backup started by hand counts as much as a scheduled one: the newest of either.
  const lastBackup = latest([facts.lastSuccessAt, ...backedUp.map((o) => o.lastBackupAt)]);
  if (lastBackup !== null && facts.now - lastBackup > DELETE_TRACKING_WINDOW_MS) {
    return `the last completed backup was ${Math.floor((facts.now - lastBackup) / DAY_MS)} days ago (${new Date(lastBackup).toISOString()}), longer than Salesforce keeps deleted records for getDeleted (about 15 days)`;
  }
  const start = cycleStart(facts.cycleStartedAt, facts.objects);
  if (start !== null && facts.now - start >= facts.cycleDays * DAY_MS) {
    return `the backup cycle of ${facts.cycleDays} days that began ${new Date(start).toISOString()} is over`;
  }
  return null;
}

function latest(times: readonly (number | null)[]): number | null {
  const known = times.filter((t): t is number => t !== null);
  return known.length ? Math.max(...known) : null;
}
