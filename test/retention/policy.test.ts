// Which versions a retention policy keeps: restic's bucket semantics per record, the latest always
// kept, deleted records forgotten whole after their keep period, and files following the versions
// that use them unless their own rule keeps more. Pure functions, no vault.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toId18 as emulatorId18 } from '../../emulator/org/ids.ts';
import { DAY_MS, describePolicy, evaluateRecord, policySettings, resolvePolicy, toId18 } from '../../src/retention/index.ts';
import type { PolicyRecord, RetentionPolicy } from '../../src/retention/index.ts';

const NONE: RetentionPolicy = resolvePolicy({});
const policy = (over: Partial<RetentionPolicy>): RetentionPolicy => ({ ...NONE, ...over });
const t = (iso: string): number => Date.parse(iso);

/** A record from (time, deleted?) pairs given newest first; seqs count down so they are distinct. */
function record(stamps: readonly (string | [string, boolean])[], files: PolicyRecord['files'] = []): PolicyRecord {
  return {
    recordId: '001000000000001AAA',
    versions: stamps.map((s, i) => {
      const [iso, isDeleted] = typeof s === 'string' ? [s, false] : s;
      return { seq: 1000 - i, systemModstamp: t(iso), isDeleted };
    }),
    files,
  };
}

const kept = (r: PolicyRecord, p: RetentionPolicy, asOf: string, options?: { archived?: boolean }): string[] =>
  evaluateRecord(r, p, t(asOf), options)
    .versions.filter((v) => v.keep)
    .map((v) => new Date(v.systemModstamp).toISOString());

describe('retention policy: versions', () => {
  test('the latest version is kept whatever the policy; an empty policy keeps only it', () => {
    const r = record(['2024-03-01T10:00:00.000Z', '2024-02-01T10:00:00.000Z', '2023-01-01T10:00:00.000Z']);
    const verdict = evaluateRecord(r, NONE, t('2025-01-01T00:00:00Z'));
    assert.deepEqual(
      verdict.versions.map((v) => [v.keep, v.reasons]),
      [
        [true, ['latest']],
        [false, []],
        [false, []],
      ],
    );
    assert.equal(verdict.wholeRecord, false);
    // A record with one very old version keeps it.
    assert.deepEqual(kept(record(['2001-01-01T00:00:00.000Z']), NONE, '2025-01-01T00:00:00Z'), ['2001-01-01T00:00:00.000Z']);
  });

  test('keepAllDays keeps every version stamped within N days of the reference time, edges included', () => {
    const asOf = '2024-06-30T12:00:00.000Z';
    const r = record(['2024-06-30T11:00:00.000Z', '2024-06-29T12:00:00.000Z', '2024-06-29T11:59:59.999Z', '2024-06-01T00:00:00.000Z']);
    assert.deepEqual(kept(r, policy({ keepAllDays: 1 }), asOf), ['2024-06-30T11:00:00.000Z', '2024-06-29T12:00:00.000Z']);
    assert.deepEqual(kept(r, policy({ keepAllDays: 30 }), asOf), r.versions.map((v) => new Date(v.systemModstamp).toISOString()));
  });

  test('keepDaily: the last version of each of the N most recent days that have versions; many versions on one day keep one', () => {
    const r = record([
      '2024-05-10T23:59:59.000Z',
      '2024-05-10T12:00:00.000Z',
      '2024-05-10T00:00:00.000Z',
      // No versions on the 9th and 8th: those days do not count.
      '2024-05-07T18:00:00.000Z',
      '2024-05-07T09:00:00.000Z',
      '2024-05-01T10:00:00.000Z',
    ]);
    const verdict = evaluateRecord(r, policy({ keepDaily: 2 }), t('2024-06-01T00:00:00Z'));
    assert.deepEqual(
      verdict.versions.filter((v) => v.keep).map((v) => [new Date(v.systemModstamp).toISOString(), v.reasons]),
      [
        ['2024-05-10T23:59:59.000Z', ['latest', 'daily']],
        ['2024-05-07T18:00:00.000Z', ['daily']],
      ],
    );
    // Days are UTC days: 23:59:59.999 and 00:00 the next day are two days.
    const edge = record(['2024-05-11T00:00:00.000Z', '2024-05-10T23:59:59.999Z', '2024-05-10T01:00:00.000Z']);
    assert.deepEqual(kept(edge, policy({ keepDaily: 5 }), '2024-06-01T00:00:00Z'), ['2024-05-11T00:00:00.000Z', '2024-05-10T23:59:59.999Z']);
  });

  test('keepWeekly uses ISO weeks (Monday to Sunday, UTC)', () => {
    // 2024-06-03 is a Monday, 2024-06-02 a Sunday.
    const r = record(['2024-06-05T10:00:00.000Z', '2024-06-03T00:00:00.000Z', '2024-06-02T23:00:00.000Z', '2024-05-27T08:00:00.000Z', '2024-05-20T08:00:00.000Z']);
    assert.deepEqual(kept(r, policy({ keepWeekly: 3 }), '2024-07-01T00:00:00Z'), ['2024-06-05T10:00:00.000Z', '2024-06-02T23:00:00.000Z', '2024-05-20T08:00:00.000Z']);
    // Across a year boundary: Monday 2024-12-30 starts ISO week 1 of 2025, with 2025-01-01.
    const year = record(['2025-01-01T10:00:00.000Z', '2024-12-30T10:00:00.000Z', '2024-12-29T10:00:00.000Z']);
    assert.deepEqual(kept(year, policy({ keepWeekly: 2 }), '2025-02-01T00:00:00Z'), ['2025-01-01T10:00:00.000Z', '2024-12-29T10:00:00.000Z']);
  });

  test('keepMonthly and keepYearly count calendar months and years that have versions', () => {
    const r = record([
      '2025-02-10T00:00:00.000Z',
      '2025-01-31T23:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
      '2024-12-31T23:59:59.000Z',
      '2024-11-15T00:00:00.000Z',
      '2023-06-01T00:00:00.000Z',
      '2022-06-01T00:00:00.000Z',
    ]);
    assert.deepEqual(kept(r, policy({ keepMonthly: 3 }), '2025-03-01T00:00:00Z'), ['2025-02-10T00:00:00.000Z', '2025-01-31T23:00:00.000Z', '2024-12-31T23:59:59.000Z']);
    assert.deepEqual(kept(r, policy({ keepYearly: 3 }), '2025-03-01T00:00:00Z'), ['2025-02-10T00:00:00.000Z', '2024-12-31T23:59:59.000Z', '2023-06-01T00:00:00.000Z']);
  });

  test('rules add up, each counted over the whole history, with every reason given', () => {
    const r = record(['2024-06-30T10:00:00.000Z', '2024-06-29T10:00:00.000Z', '2024-06-15T10:00:00.000Z', '2024-05-15T10:00:00.000Z', '2024-04-15T10:00:00.000Z', '2023-04-15T10:00:00.000Z']);
    const verdict = evaluateRecord(r, policy({ keepAllDays: 7, keepDaily: 1, keepMonthly: 2, keepYearly: 2 }), t('2024-07-01T00:00:00Z'));
    assert.deepEqual(
      verdict.versions.map((v) => [new Date(v.systemModstamp).toISOString().slice(0, 10), v.keep, v.reasons]),
      [
        ['2024-06-30', true, ['latest', 'within', 'daily', 'monthly', 'yearly']],
        ['2024-06-29', true, ['within']],
        ['2024-06-15', false, []],
        ['2024-05-15', true, ['monthly']],
        ['2024-04-15', false, []],
        ['2023-04-15', true, ['yearly']],
      ],
    );
  });

  test('versions sharing a SystemModstamp: chain order decides which is the last', () => {
    const r = record(['2024-06-01T10:00:00.000Z', '2024-06-01T10:00:00.000Z', '2024-05-01T10:00:00.000Z']);
    const verdict = evaluateRecord(r, policy({ keepDaily: 2 }), t('2024-07-01T00:00:00Z'));
    assert.deepEqual(
      verdict.versions.map((v) => [v.seq, v.keep]),
      [
        [1000, true],
        [999, false],
        [998, true],
      ],
    );
  });
});

describe('retention policy: deleted records', () => {
  const deleted = record([['2024-03-01T00:00:00.000Z', true], '2024-02-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z'], [{ field: 'Body', systemModstamp: t('2024-01-01T00:00:00.000Z'), size: 10 }]);

  test('a record deleted longer ago than keepDeletedDays goes whole, files included', () => {
    const verdict = evaluateRecord(deleted, policy({ keepDeletedDays: 30, keepAllDays: 3650, keepFileDays: 3650 }), t('2024-04-01T00:00:00Z'));
    assert.equal(verdict.wholeRecord, true);
    assert.ok(verdict.versions.every((v) => !v.keep));
    assert.ok(verdict.files.every((f) => !f.keep));
  });

  test('within its keep period a deleted record follows the version rules, its deletion kept as the latest', () => {
    const verdict = evaluateRecord(deleted, policy({ keepDeletedDays: 31 }), t('2024-04-01T00:00:00Z'));
    assert.equal(verdict.wholeRecord, false);
    assert.deepEqual(
      verdict.versions.map((v) => v.keep),
      [true, false, false],
    );
  });

  test('without keepDeletedDays, and for records an archive deleted, deleted records are never forgotten whole', () => {
    assert.equal(evaluateRecord(deleted, NONE, t('2030-01-01T00:00:00Z')).wholeRecord, false);
    const archived = evaluateRecord(deleted, policy({ keepDeletedDays: 1 }), t('2030-01-01T00:00:00Z'), { archived: true });
    assert.equal(archived.wholeRecord, false);
    assert.deepEqual(archived.versions[0]?.reasons, ['latest', 'archived']);
  });

  test('a record deleted then undeleted is not a deleted record', () => {
    const undeleted = record(['2024-03-02T00:00:00.000Z', ['2024-03-01T00:00:00.000Z', true], '2024-01-01T00:00:00.000Z']);
    assert.equal(evaluateRecord(undeleted, policy({ keepDeletedDays: 0 }), t('2030-01-01T00:00:00Z')).wholeRecord, false);
  });
});

describe('retention policy: recovery points', () => {
  test('the version current at each recovery point is kept, with the reason', () => {
    const r = record(['2024-05-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z']);
    const verdict = evaluateRecord(r, NONE, t('2030-01-01T00:00:00Z'), { pinnedAt: [t('2024-03-15T00:00:00Z'), t('2024-01-01T00:00:00Z')] });
    assert.deepEqual(
      verdict.versions.map((v) => v.reasons),
      [['latest'], [], ['recovery-point'], []],
      'a point before the record existed pins nothing',
    );
  });

  test('a deleted record that was alive at a recovery point is not forgotten whole', () => {
    const deleted = record([['2024-03-01T00:00:00.000Z', true], '2024-02-01T00:00:00.000Z']);
    const pinned = evaluateRecord(deleted, policy({ keepDeletedDays: 1 }), t('2030-01-01T00:00:00Z'), { pinnedAt: [t('2024-02-15T00:00:00Z')] });
    assert.equal(pinned.wholeRecord, false);
    assert.deepEqual(
      pinned.versions.map((v) => v.keep),
      [true, true],
    );
    // A point after the delete: the record did not exist then, so nothing holds it back.
    assert.equal(evaluateRecord(deleted, policy({ keepDeletedDays: 1 }), t('2030-01-01T00:00:00Z'), { pinnedAt: [t('2024-03-15T00:00:00Z')] }).wholeRecord, true);
  });
});

describe('retention policy: files', () => {
  const body = (iso: string, field = 'VersionData'): PolicyRecord['files'][number] => ({ field, systemModstamp: t(iso), size: 100 });

  test('a kept version keeps the newest file stamped at or before it; other file versions go', () => {
    // Versions on the 10th (no new body: it uses the 5th's), 5th and 1st.
    const r = record(['2024-06-10T00:00:00.000Z', '2024-06-05T00:00:00.000Z', '2024-06-01T00:00:00.000Z'], [body('2024-06-05T00:00:00.000Z'), body('2024-06-01T00:00:00.000Z')]);
    const verdict = evaluateRecord(r, NONE, t('2024-07-01T00:00:00Z'));
    assert.deepEqual(
      verdict.files.map((f) => [new Date(f.systemModstamp).toISOString().slice(0, 10), f.keep, f.reasons]),
      [
        ['2024-06-05', true, ['version']],
        ['2024-06-01', false, []],
      ],
    );
  });

  test('the file rule keeps more: file versions of the last N days, the last N of each field', () => {
    const r = record(['2024-06-10T00:00:00.000Z', '2024-06-05T00:00:00.000Z', '2024-05-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'], [
      body('2024-06-10T00:00:00.000Z'),
      body('2024-06-05T00:00:00.000Z'),
      body('2024-05-01T00:00:00.000Z'),
      body('2024-04-01T00:00:00.000Z'),
      body('2024-04-01T00:00:00.000Z', 'Body'),
    ]);
    const byDays = evaluateRecord(r, policy({ keepFileDays: 30 }), t('2024-06-20T00:00:00Z'));
    assert.deepEqual(
      byDays.files.filter((f) => f.keep).map((f) => `${f.field}@${new Date(f.systemModstamp).toISOString().slice(0, 10)}`),
      ['VersionData@2024-06-10', 'VersionData@2024-06-05', 'Body@2024-04-01'],
    );
    // Every version went but the latest; the 5th's file stays for the file rule only.
    assert.deepEqual(byDays.versions.map((v) => v.keep), [true, false, false, false]);
    const byCount = evaluateRecord(r, policy({ keepFileVersions: 3 }), t('2024-06-20T00:00:00Z'));
    assert.deepEqual(
      byCount.files.filter((f) => f.keep).map((f) => [`${f.field}@${new Date(f.systemModstamp).toISOString().slice(0, 10)}`, f.reasons]),
      [
        ['VersionData@2024-06-10', ['version', 'versions']],
        ['VersionData@2024-06-05', ['versions']],
        ['VersionData@2024-05-01', ['versions']],
        ['Body@2024-04-01', ['version', 'versions']],
      ],
    );
  });

  test('a file stamped after the latest version stays', () => {
    const r = record(['2024-06-01T00:00:00.000Z'], [body('2024-06-02T00:00:00.000Z')]);
    assert.deepEqual(evaluateRecord(r, NONE, t('2024-07-01T00:00:00Z')).files.map((f) => f.reasons), [['newer']]);
  });
});

describe('retention policy: settings', () => {
  test('validation names the flag and the allowed range', () => {
    assert.throws(() => resolvePolicy({ keepDaily: -1 }), /--keep-daily must be a whole number from 0 to 100,000, not -1/);
    assert.throws(() => resolvePolicy({ keepAllDays: 1.5 }), /--keep-all-days must be a whole number from 0 to 36,500/);
    assert.throws(() => resolvePolicy({ keepMonthly: '3' }), /--keep-monthly must be a whole number/);
    assert.throws(() => resolvePolicy({ keepHourly: 3 }), /no setting "keepHourly"/);
    assert.throws(() => resolvePolicy({ keepDaily: null }), /--keep-daily needs a whole number/);
    assert.deepEqual(resolvePolicy({ keepDeletedDays: null }), NONE);
  });

  test('settings round-trip and read as a sentence', () => {
    const p = policy({ keepAllDays: 30, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 3, keepDeletedDays: 90, keepFileDays: 365 });
    assert.deepEqual(resolvePolicy(policySettings(p)), p);
    assert.equal(policySettings(p).keepFileVersions, undefined);
    assert.equal(
      describePolicy(p),
      'Keep every version of the last 30 days; 7 daily, 4 weekly, 12 monthly, 3 yearly; the latest version of every record and metadata component; deleted records kept 90 days after their deletion; files of kept versions, every file version of the last 365 days.',
    );
    assert.equal(DAY_MS, 86_400_000);
  });

  test('15-character IDs are made 18 as Salesforce does', () => {
    for (const id15 of ['001A0000006Vm9r', '0015000000Gv7qJ', '003xx000004TmiQ', 'a0B5g00000ABCdE']) assert.equal(toId18(id15), emulatorId18(id15));
    assert.equal(toId18('001A0000006Vm9rIAC'), '001A0000006Vm9rIAC');
    assert.equal(toId18('not an id'), undefined);
  });
});
