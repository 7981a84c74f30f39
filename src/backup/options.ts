/**
 * What a backup run may be told, with the defaults an admin gets without configuring anything.
 * Settings stored with the org and flags given to one run merge here; wrong values are refused
 * with a UsageError naming the setting and what it accepts.
 */
import { UsageError } from '../core/errors.ts';
import { parseDataLakeTarget } from '../export/data-lake.ts';
import type { DataLakeTarget } from '../export/data-lake.ts';

/** GRAX's backup modes. */
export type BackupMode = 'objects-and-files' | 'objects-only' | 'files-paused' | 'paused';
export const BACKUP_MODES: readonly BackupMode[] = ['objects-and-files', 'objects-only', 'files-paused', 'paused'];

export interface BackupSettings {
  mode: BackupMode;
  /** Objects never backed up, by API name (case-insensitive). */
  exclude: string[];
  /** Back up `*Feed`, `*Share`, `*History` objects and event-log objects (EventLogFile…). */
  includeFeeds: boolean;
  includeShares: boolean;
  includeHistory: boolean;
  includeEventLogs: boolean;
  /** The largest share of the org's DailyApiRequests the org may have used when work starts (0–1]. */
  apiBudgetShare: number;
  /** Objects with at least this many records are read through Bulk API 2.0. */
  bulkThreshold: number;
  /** Objects captured side by side. */
  concurrency: number;
  /** How far before the watermark each run re-reads, for transactions that commit late. */
  lookbackMs: number;
  /** How often getDeleted is asked about each object, at most (it only reaches back 15–30 days). */
  deletedCheckIntervalMs: number;
  /** How often every record ID is compared with the org's, to catch deletes getDeleted no longer knows. */
  reconcileIntervalMs: number;
  /**
   * How long a stored describe may stand in for a new one when an object has changes. 0 (the
   * default) describes every changed object on every run, so a new field is captured with the
   * first change that fills it; a longer age saves one call per changed object and defers new
   * fields to the next describe.
   */
  describeMaxAgeMs: number;
  /**
   * The continuous data lake: after each run, the versions it captured also go to this folder as
   * Parquet files partitioned by org, object and day (src/export/data-lake.ts). null: off.
   */
  dataLake: DataLakeTarget | null;
}

export const DEFAULT_SETTINGS: Readonly<BackupSettings> = {
  mode: 'objects-and-files',
  exclude: [],
  includeFeeds: false,
  includeShares: false,
  includeHistory: true,
  includeEventLogs: false,
  apiBudgetShare: 0.5,
  bulkThreshold: 10_000,
  concurrency: 4,
  lookbackMs: 10 * 60_000,
  deletedCheckIntervalMs: 24 * 3_600_000,
  reconcileIntervalMs: 30 * 24 * 3_600_000,
  describeMaxAgeMs: 0,
  dataLake: null,
};

/**
 * The settings of a run: the defaults, then the org's stored settings, then the run's own. Unknown
 * keys and wrong values are refused, so a typo never silently backs up less.
 */
export function resolveSettings(...layers: readonly Record<string, unknown>[]): BackupSettings {
  const settings: BackupSettings = { ...DEFAULT_SETTINGS, exclude: [...DEFAULT_SETTINGS.exclude] };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (!(key in DEFAULT_SETTINGS)) throw new UsageError(`Unknown backup setting "${key}". Known settings: ${Object.keys(DEFAULT_SETTINGS).join(', ')}.`);
      assign(settings, key as keyof BackupSettings, value);
    }
  }
  return settings;
}

function assign(settings: BackupSettings, key: keyof BackupSettings, value: unknown): void {
  switch (key) {
    case 'mode':
      if (!BACKUP_MODES.includes(value as BackupMode)) throw new UsageError(`The backup mode "${String(value)}" is not one of ${BACKUP_MODES.join(', ')}.`);
      settings.mode = value as BackupMode;
      return;
    case 'exclude':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && /^[A-Za-z][A-Za-z0-9_]*$/.test(v))) {
        throw new UsageError(`"exclude" takes object API names (letters, digits, underscores), such as Account or Invoice__c; got ${JSON.stringify(value)}.`);
      }
      settings.exclude = [...new Set([...settings.exclude, ...(value as string[])])];
      return;
    case 'includeFeeds':
    case 'includeShares':
    case 'includeHistory':
    case 'includeEventLogs':
      if (typeof value !== 'boolean') throw new UsageError(`"${key}" is true or false, not ${JSON.stringify(value)}.`);
      settings[key] = value;
      return;
    case 'apiBudgetShare':
      if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw new UsageError(`"apiBudgetShare" is a share of the daily API limit above 0 and at most 1 (0.5 is half); got ${JSON.stringify(value)}.`);
      settings.apiBudgetShare = value;
      return;
    case 'dataLake':
      settings.dataLake = parseDataLakeTarget(value);
      return;
    default:
      if (typeof value !== 'number' || !Number.isInteger(value) || value < (key === 'concurrency' ? 1 : 0)) {
        throw new UsageError(`"${key}" is a whole number${key === 'concurrency' ? ' of at least 1' : ' of at least 0'}; got ${JSON.stringify(value)}.`);
      }
      settings[key] = value;
  }
}
