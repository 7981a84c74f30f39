// When a scheduled backup must be a full baseline: each reason alone, and none for a sound
// increment or an org never backed up (its first backup is full anyway).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObjectState } from '../../src/core/vault.ts';
import { baselineReason } from '../../src/schedule/index.ts';
import type { BaselineFacts } from '../../src/schedule/index.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2027, 5, 1);
const ORG = '00D5g000000AbCd';

function object(name: string): ObjectState {
  return { objectName: name, status: 'Waiting', watermark: { systemModstamp: NOW - DAY, recordId: '001' }, backfilledAt: NOW - 100 * DAY, recordCount: 10, versionCount: 12, lastRunId: 'r', lastBackupAt: NOW - DAY, reason: null, statusCode: null, details: {} };
}

const facts = (over: Partial<BaselineFacts> = {}): BaselineFacts => ({
  now: NOW,
  cycleDays: 365,
  cycleStartedAt: null,
  knownOrgId: ORG,
  reportedOrgId: ORG,
  objects: [object('Account'), object('Contact')],
  lastSuccessAt: NOW - DAY,
  ...over,
});

test('a sound increment, and an org never backed up, need no baseline', () => {
  assert.equal(baselineReason(facts()), null);
  assert.equal(baselineReason(facts({ objects: [], lastSuccessAt: null })), null);
  assert.equal(baselineReason(facts({ objects: [{ ...object('Account'), backfilledAt: null, watermark: null }], reportedOrgId: '00D000000000002' })), null);
});

test('each break of continuity, and the end of the cycle, is a reason an admin can read', () => {
  assert.match(baselineReason(facts({ reportedOrgId: '00D5g000000ZzZz' }))!, /now reports organization ID 00D5g000000ZzZz, not 00D5g000000AbCd: .*sandbox refresh/);
  assert.match(baselineReason(facts({ objects: [object('Account'), { ...object('Contact'), watermark: null }] }))!, /the watermark of Contact was reset/);
  const stale = [object('Account'), object('Contact')].map((o) => ({ ...o, lastBackupAt: NOW - 17 * DAY }));
  assert.match(baselineReason(facts({ lastSuccessAt: NOW - 16 * DAY, objects: stale }))!, /last completed backup was 16 days ago .*\(about 15 days\)/);
  // A backup run by hand since the last scheduled one keeps continuity.
  assert.equal(baselineReason(facts({ lastSuccessAt: NOW - 16 * DAY })), null);
  // Without a recorded success, the objects' last backups tell.
  assert.match(baselineReason(facts({ lastSuccessAt: null, objects: [{ ...object('Account'), lastBackupAt: NOW - 20 * DAY }] }))!, /20 days ago/);
  assert.equal(baselineReason(facts({ lastSuccessAt: NOW - 14 * DAY })), null);
  // The cycle runs from the last baseline, else from the first full backup.
  assert.match(baselineReason(facts({ cycleStartedAt: NOW - 365 * DAY }))!, /backup cycle of 365 days that began .* is over/);
  assert.equal(baselineReason(facts({ cycleStartedAt: NOW - 364 * DAY })), null);
  assert.match(baselineReason(facts({ cycleDays: 90 }))!, /backup cycle of 90 days/);
});
