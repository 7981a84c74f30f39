/**
 * Retention policies, evaluated per record: pure functions, no I/O.
 *
 * A policy keeps, of each record's versions: every version of the last `keepAllDays` days; the
 * last version of each of the `keepDaily` most recent days that have versions, and likewise of
 * weeks (ISO, Monday to Sunday), months and years (restic's `--keep-daily` semantics, each rule
 * counted over the record's whole history, the rules' choices added together); and always the
 * latest version. A record deleted in Salesforce more than `keepDeletedDays` ago goes whole: every
 * version and file. File versions follow the record versions that use them (a version uses the
 * newest file of each field stamped at or before it, as a restore does), and the file rule can
 * keep more: every file version of the last `keepFileDays` days, the last `keepFileVersions` of
 * each field. Times are SystemModstamps, calendar buckets are UTC, and ages count back from a
 * reference time (`asOf`) rather than from each version's successor.
 */
import { UsageError } from '../core/errors.ts';

export const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  /** Every version stamped within this many days of the reference time. */
  keepAllDays: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
  keepYearly: number;
  /** A record deleted longer ago than this goes whole; null keeps deleted records like the others. */
  keepDeletedDays: number | null;
  /** File versions stamped within this many days stay even when their record version goes; null: no such rule. */
  keepFileDays: number | null;
  /** The last N file versions of each file field of a record stay; null: no such rule. */
  keepFileVersions: number | null;
}

export const POLICY_KEYS = ['keepAllDays', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly', 'keepDeletedDays', 'keepFileDays', 'keepFileVersions'] as const;
export type PolicyKey = (typeof POLICY_KEYS)[number];

const NULLABLE: ReadonlySet<PolicyKey> = new Set(['keepDeletedDays', 'keepFileDays', 'keepFileVersions']);

/** The CLI flag of each setting, for messages that name what to fix. */
export const POLICY_FLAGS: Readonly<Record<PolicyKey, string>> = {
  keepAllDays: '--keep-all-days',
  keepDaily: '--keep-daily',
  keepWeekly: '--keep-weekly',
  keepMonthly: '--keep-monthly',
  keepYearly: '--keep-yearly',
  keepDeletedDays: '--keep-deleted-days',
  keepFileDays: '--keep-file-days',
  keepFileVersions: '--keep-file-versions',
};

/** A hundred years of days; as many versions as anyone keeps per bucket. */
const MAX_DAYS = 36_500;
const MAX_COUNT = 100_000;

const EMPTY: RetentionPolicy = { keepAllDays: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0, keepDeletedDays: null, keepFileDays: null, keepFileVersions: null };

/**
 * A policy from stored settings or changes: settings left out take their defaults (keep nothing
 * beyond the latest version; deleted records and files without a rule of their own). A value of
 * the wrong type or out of range is a UsageError naming the setting and its flag.
 */
export function resolvePolicy(raw: Readonly<Record<string, unknown>>): RetentionPolicy {
  const policy: RetentionPolicy = { ...EMPTY };
  for (const [key, value] of Object.entries(raw)) {
    if (!(POLICY_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`The retention policy has no setting "${key}"; the settings are ${POLICY_KEYS.join(', ')}.`);
    }
    const k = key as PolicyKey;
    if (value === null || value === undefined) {
      if (!NULLABLE.has(k) && value === null) throw new UsageError(`${POLICY_FLAGS[k]} needs a whole number (0 to keep none).`);
      continue;
    }
    const max = k.endsWith('Days') ? MAX_DAYS : MAX_COUNT;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      throw new UsageError(`${POLICY_FLAGS[k]} must be a whole number from 0 to ${max.toLocaleString('en-US')}, not ${JSON.stringify(value)}.`);
    }
    (policy as unknown as Record<PolicyKey, number | null>)[k] = value;
  }
  return policy;
}

/** The policy as stored settings: only what differs from the defaults (0 counts and unset rules left out). */
export function policySettings(policy: RetentionPolicy): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of POLICY_KEYS) {
    const value = policy[key];
    if (value !== null && (value !== 0 || NULLABLE.has(key))) out[key] = value;
  }
  return out;
}

/** One line a human reads: what the policy keeps. */
export function describePolicy(p: RetentionPolicy): string {
  const parts: string[] = [];
  if (p.keepAllDays > 0) parts.push(`every version of the last ${p.keepAllDays} day${p.keepAllDays === 1 ? '' : 's'}`);
  const buckets = (
    [
      [p.keepDaily, 'daily'],
      [p.keepWeekly, 'weekly'],
      [p.keepMonthly, 'monthly'],
      [p.keepYearly, 'yearly'],
    ] as const
  ).filter(([n]) => n > 0);
  if (buckets.length) parts.push(buckets.map(([n, what]) => `${n} ${what}`).join(', '));
  parts.push('the latest version of every record and metadata component');
  const deleted = p.keepDeletedDays === null ? 'deleted records kept until a purge' : `deleted records kept ${p.keepDeletedDays} day${p.keepDeletedDays === 1 ? '' : 's'} after their deletion`;
  const files: string[] = ['files of kept versions'];
  if (p.keepFileDays !== null) files.push(`every file version of the last ${p.keepFileDays} days`);
  if (p.keepFileVersions !== null) files.push(`the last ${p.keepFileVersions} of each file`);
  return `Keep ${parts.join('; ')}; ${deleted}; ${files.join(', ')}.`;
}

/** Why a version or file version stays. */
export type KeepReason = 'latest' | 'within' | 'daily' | 'weekly' | 'monthly' | 'yearly' | 'archived' | 'recovery-point';
export type FileKeepReason = 'version' | 'newer' | 'days' | 'versions';

/** What retention needs of a record: its chain newest first, and its file versions. */
export interface PolicyRecord {
  recordId: string;
  versions: readonly { seq: number; systemModstamp: number; isDeleted: boolean }[];
  files: readonly { field: string; systemModstamp: number; size: number }[];
}

export interface VersionVerdict {
  seq: number;
  systemModstamp: number;
  keep: boolean;
  reasons: KeepReason[];
}

export interface FileVerdict {
  field: string;
  systemModstamp: number;
  size: number;
  keep: boolean;
  reasons: FileKeepReason[];
}

export interface RecordVerdict {
  recordId: string;
  /** Deleted longer ago than the policy keeps deleted records: every version and file goes. */
  wholeRecord: boolean;
  /** Chain order, newest first. */
  versions: VersionVerdict[];
  files: FileVerdict[];
}

type Bucket = (t: number) => number;

/** Calendar buckets in UTC. Weeks start on Monday (ISO): 1970-01-01 was a Thursday. */
const BUCKETS: readonly [rule: 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly', reason: KeepReason, bucket: Bucket][] = [
  ['keepDaily', 'daily', (t) => Math.floor(t / DAY_MS)],
  ['keepWeekly', 'weekly', (t) => Math.floor((Math.floor(t / DAY_MS) + 3) / 7)],
  [
    'keepMonthly',
    'monthly',
    (t) => {
      const d = new Date(t);
      return d.getUTCFullYear() * 12 + d.getUTCMonth();
    },
  ],
  ['keepYearly', 'yearly', (t) => new Date(t).getUTCFullYear()],
];

/**
 * Which of a record's versions and file versions the policy keeps at `asOf`. `archived` marks a
 * record an archive deleted from Salesforce on purpose: the vault is then its only copy, so it is
 * never forgotten whole for being deleted. `pinnedAt` are the times of the object's recovery
 * points: the version current at each is kept, so that a restore or export from the point still
 * finds every record as it was.
 */
export function evaluateRecord(record: PolicyRecord, policy: RetentionPolicy, asOf: number, options: { archived?: boolean; pinnedAt?: readonly number[] } = {}): RecordVerdict {
  const versions: VersionVerdict[] = record.versions.map((v) => ({ seq: v.seq, systemModstamp: v.systemModstamp, keep: false, reasons: [] }));
  const head = record.versions[0];
  // The version current at each recovery point of the object (newest first: the first at or before it).
  const pinned = (options.pinnedAt ?? []).map((at) => record.versions.findIndex((v) => v.systemModstamp <= at)).filter((i) => i >= 0);
  // A record alive at a recovery point is kept whatever became of it since.
  const livedAtPoint = pinned.some((i) => !record.versions[i]!.isDeleted);
  const wholeRecord =
    head !== undefined && head.isDeleted && !options.archived && !livedAtPoint && policy.keepDeletedDays !== null && head.systemModstamp < asOf - policy.keepDeletedDays * DAY_MS;
  if (wholeRecord) {
    return { recordId: record.recordId, wholeRecord, versions, files: record.files.map((f) => ({ field: f.field, systemModstamp: f.systemModstamp, size: f.size, keep: false, reasons: [] })) };
  }
  const keep = (v: VersionVerdict, reason: KeepReason): void => {
    v.keep = true;
    v.reasons.push(reason);
  };
  if (versions[0]) keep(versions[0], 'latest');
  if (options.archived && versions[0]) keep(versions[0], 'archived');
  for (const i of pinned) if (!versions[i]!.reasons.includes('recovery-point')) keep(versions[i]!, 'recovery-point');
  if (policy.keepAllDays > 0) {
    const cutoff = asOf - policy.keepAllDays * DAY_MS;
    for (const v of versions) if (v.systemModstamp >= cutoff) keep(v, 'within');
  }
  for (const [rule, reason, bucket] of BUCKETS) {
    let left = policy[rule];
    let last: number | undefined;
    // Newest first: the first version met in a bucket is its last one.
    for (const v of versions) {
      if (left <= 0) break;
      const key = bucket(v.systemModstamp);
      if (key === last) continue;
      last = key;
      keep(v, reason);
      left--;
    }
  }
  return { recordId: record.recordId, wholeRecord, versions, files: evaluateFiles(record, versions, policy, asOf) };
}

function evaluateFiles(record: PolicyRecord, versions: readonly VersionVerdict[], policy: RetentionPolicy, asOf: number): FileVerdict[] {
  const byField = new Map<string, FileVerdict[]>();
  for (const f of record.files) {
    const verdict: FileVerdict = { field: f.field, systemModstamp: f.systemModstamp, size: f.size, keep: false, reasons: [] };
    const list = byField.get(f.field);
    if (list) list.push(verdict);
    else byField.set(f.field, [verdict]);
  }
  const keep = (f: FileVerdict, reason: FileKeepReason): void => {
    f.keep = true;
    if (!f.reasons.includes(reason)) f.reasons.push(reason);
  };
  const headStamp = versions[0]?.systemModstamp ?? Number.NEGATIVE_INFINITY;
  const kept = versions.filter((v) => v.keep);
  const fileCutoff = policy.keepFileDays === null ? undefined : asOf - policy.keepFileDays * DAY_MS;
  const out: FileVerdict[] = [];
  for (const files of byField.values()) {
    files.sort((a, b) => b.systemModstamp - a.systemModstamp);
    for (const v of kept) {
      // The body a restore of this version sends: the newest stamped at or before it.
      const used = files.find((f) => f.systemModstamp <= v.systemModstamp);
      if (used) keep(used, 'version');
    }
    files.forEach((f, i) => {
      // Stamped after the record's latest version: a body whose version is not stored yet.
      if (f.systemModstamp > headStamp) keep(f, 'newer');
      if (fileCutoff !== undefined && f.systemModstamp >= fileCutoff) keep(f, 'days');
      if (policy.keepFileVersions !== null && i < policy.keepFileVersions) keep(f, 'versions');
    });
    out.push(...files);
  }
  return out;
}

/** Whether a verdict removes anything. */
export function removesAnything(verdict: RecordVerdict): boolean {
  return verdict.wholeRecord || verdict.versions.some((v) => !v.keep) || verdict.files.some((f) => !f.keep);
}
