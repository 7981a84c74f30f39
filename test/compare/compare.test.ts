// The pure parts of compare (time parsing, field diffs, restorable fields, the merge-join of two
// states) and the use cases over small in-memory ports.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareObject, compareVersions, compareWithLive, fieldChanges, mergeById, parseTime, recordDelta, restorableFields } from '../../src/compare/index.ts';
import type { CompareStore } from '../../src/compare/index.ts';
import { UsageError } from '../../src/core/errors.ts';
import { fieldSummary } from '../../src/core/describe.ts';
import type { FieldSummary, OrgClient } from '../../src/core/org-client.ts';
import type { ObjectState, OrgRegistration, RecordVersion, Run } from '../../src/core/vault.ts';
import { planCompare } from '../../src/cli/compare/index.ts';

const ORG: OrgRegistration = { name: 'prod', orgId: '00D000000000001AAA', instanceUrl: 'https://x', loginUrl: 'https://x', sealedAuth: new Uint8Array(), createdAt: 0, settings: {} };

let seq = 0;
function version(recordId: string, stamp: number, fields: Record<string, unknown>, extra: Partial<RecordVersion> = {}): RecordVersion {
  return { recordId, systemModstamp: stamp, changeType: 'updated', isDeleted: false, fields: { Id: recordId, ...fields }, seq: ++seq, objectName: 'Account', capturedAt: stamp + 1, runId: 'run-1', schemaId: null, ...extra };
}

async function* stream<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function field(name: string, flags: Partial<FieldSummary> = {}): FieldSummary {
  return { ...fieldSummary({ name, type: 'string', createable: true, updateable: true }), ...flags };
}

/** The ports compare uses, over an array of versions; stateAsOf in record-ID order as the SQLite store yields it. */
function memoryStore(versions: RecordVersion[], objects: string[] = ['Account']): CompareStore & { runs: Map<string, Run> } {
  const runs = new Map<string, Run>();
  const asOf = (id: string, at: number): RecordVersion | undefined =>
    versions.filter((v) => v.recordId === id && v.systemModstamp <= at).sort((a, b) => b.systemModstamp - a.systemModstamp || b.seq - a.seq)[0];
  const store = {
    runs,
    async versionsOf(_org: string, id: string) {
      return versions.filter((v) => v.recordId === id).sort((a, b) => b.systemModstamp - a.systemModstamp);
    },
    async versionAsOf(_org: string, _object: string, id: string, at: number) {
      return asOf(id, at);
    },
    async *stateAsOf(_org: string, _object: string, at: number, options: { includeDeleted?: boolean } = {}) {
      const ids = [...new Set(versions.map((v) => v.recordId))].sort();
      for (const id of ids) {
        const v = asOf(id, at);
        if (v && (options.includeDeleted || !v.isDeleted)) yield v;
      }
    },
    async getObjectState(_org: string, name: string) {
      return objects.includes(name) ? ({ objectName: name } as ObjectState) : undefined;
    },
    async getObjectStates() {
      return objects.map((objectName) => ({ objectName }) as ObjectState);
    },
    async createRun(run: Run) {
      runs.set(run.runId, { ...run });
    },
    async updateRun(runId: string, patch: Partial<Run>) {
      runs.set(runId, { ...runs.get(runId)!, ...patch });
    },
    async getRun(runId: string) {
      return runs.get(runId);
    },
  };
  return store as unknown as CompareStore & { runs: Map<string, Run> };
}

describe('parseTime', () => {
  test('dates are midnight UTC; date-times need a zone', () => {
    assert.equal(parseTime('2026-11-01', '--from'), Date.UTC(2026, 10, 1));
    assert.equal(parseTime('2026-11-01T10:00:00Z', '--from'), Date.UTC(2026, 10, 1, 10));
    assert.equal(parseTime('2026-11-01T12:00+02:00', '--to'), Date.UTC(2026, 10, 1, 10));
    assert.equal(parseTime('2026-11-01T12:00:00.250+0200', '--to'), Date.UTC(2026, 10, 1, 10, 0, 0, 250));
  });
  test('bad times are UsageErrors naming the flag', () => {
    for (const [value, pattern] of [
      ['yesterday', /--at "yesterday" is not an ISO-8601 time/],
      ['2026-02-30', /--at "2026-02-30" is not a real date/],
      ['2026-11-01T25:00Z', /is not a real date/],
      ['2026-11-01T10:00', /--at "2026-11-01T10:00" has no time zone/],
    ] as const) {
      assert.throws(() => parseTime(value, '--at'), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && pattern.test(e.message), value);
    }
  });
});

describe('field diffs', () => {
  test('fieldChanges: differing fields, sorted, missing as null; `only` limits them', () => {
    const left = { Name: 'A', Phone: '1', Rating: null, Employees: 10 };
    const right = { Name: 'B', Phone: '1', Employees: 10, Site: 'x' };
    assert.deepEqual(fieldChanges(left, right), [
      { field: 'Name', left: 'A', right: 'B' },
      { field: 'Site', left: null, right: 'x' },
    ]);
    assert.deepEqual(fieldChanges(left, right, ['Phone', 'Site']), [{ field: 'Site', left: null, right: 'x' }]);
  });

  test('restorableFields: never Id, calculated, system, compound or body fields', () => {
    const fields = [
      field('Id', { type: 'id', createable: false, updateable: false }),
      field('Name'),
      field('Total__c', { calculated: true, createable: false, updateable: false }),
      field('SystemModstamp', { type: 'datetime', createable: false, updateable: false }),
      field('BillingAddress', { type: 'address' }),
      field('ParentLock__c', { updateable: false }),
      field('Body', { type: 'base64' }),
    ];
    assert.deepEqual(restorableFields(fields, true).map((f) => f.name), ['Name']);
    assert.deepEqual(restorableFields(fields, false).map((f) => f.name), ['Name', 'ParentLock__c']);
  });

  test('recordDelta: added, changed, removed (deleted or gone), unchanged', () => {
    const a = version('001A00000000000', 1, { Name: 'a' });
    assert.deepEqual(recordDelta('001A00000000000', undefined, a), { id: '001A00000000000', change: 'added' });
    assert.deepEqual(recordDelta('001A00000000000', a, a), { id: '001A00000000000', change: 'unchanged' });
    assert.deepEqual(recordDelta('001A00000000000', a, version('001A00000000000', 2, { Name: 'b' })), { id: '001A00000000000', change: 'changed', changedFields: ['Name'] });
    assert.deepEqual(recordDelta('001A00000000000', a, version('001A00000000000', 2, { Name: 'a' })), { id: '001A00000000000', change: 'unchanged' });
    assert.deepEqual(recordDelta('001A00000000000', a, version('001A00000000000', 2, { Name: 'a' }, { isDeleted: true, changeType: 'deleted' })), { id: '001A00000000000', change: 'removed', removedAs: 'deleted' });
    assert.deepEqual(recordDelta('001A00000000000', a, version('001A00000000000', 2, { Name: 'a' }, { isDeleted: true, changeType: 'reconciled' })), { id: '001A00000000000', change: 'removed', removedAs: 'gone' });
    assert.deepEqual(recordDelta('001A00000000000', a, undefined), { id: '001A00000000000', change: 'removed', removedAs: 'gone' });
    assert.equal(recordDelta('001A00000000000', undefined, version('001A00000000000', 2, {}, { isDeleted: true })), undefined);
  });

  test('mergeById pairs two ordered streams by record ID and refuses one out of order', async () => {
    const left = [version('001A00000000000', 1, {}), version('001C00000000000', 1, {}), version('001D00000000000', 1, {})];
    const right = [version('001B00000000000', 2, {}), version('001C00000000000', 2, {}), version('001E00000000000', 2, {})];
    const pairs = await collect(mergeById(stream(left), stream(right)));
    assert.deepEqual(
      pairs.map((p) => [p.id, p.left?.systemModstamp ?? null, p.right?.systemModstamp ?? null]),
      [['001A00000000000', 1, null], ['001B00000000000', null, 2], ['001C00000000000', 1, 2], ['001D00000000000', 1, null], ['001E00000000000', null, 2]],
    );
    assert.deepEqual(await collect(mergeById(stream([]), stream([]))), []);
    await assert.rejects(collect(mergeById(stream([version('001B00000000000', 1, {}), version('001A00000000000', 1, {})]), stream([]))), /not in record-ID order/);
  });
});

describe('planCompare: the flag combinations', () => {
  test('each combination, and the errors that list them', () => {
    assert.deepEqual(planCompare({ record: '001A00000000000' }), { kind: 'live', record: '001A00000000000' });
    assert.deepEqual(planCompare({ record: '001A00000000000', at: '2026-11-01' }), { kind: 'live', record: '001A00000000000', at: Date.UTC(2026, 10, 1) });
    assert.equal(planCompare({ record: '001A00000000000', from: '2026-11-01', to: '2026-11-02' }).kind, 'versions');
    assert.deepEqual(planCompare({ object: 'Account', runA: 'a', runB: 'b', limit: '5' }), { kind: 'object', object: 'Account', from: { runId: 'a' }, to: { runId: 'b' }, limit: 5 });
    const bad: [Record<string, string>, RegExp][] = [
      [{}, /--record ID or --object NAME/],
      [{ record: '001A00000000000', object: 'Account' }, /cannot be combined/],
      [{ object: 'Account' }, /needs two points/],
      [{ object: 'Account', from: '2026-11-01' }, /--to is missing/],
      [{ object: 'Account', from: '2026-11-01', runB: 'b' }, /cannot be mixed/],
      [{ record: '001A00000000000', at: '2026-11-01', from: '2026-11-01', to: '2026-11-02' }, /--at compares with the live record/],
      [{ object: 'Account', at: '2026-11-01' }, /--at applies to --record only/],
      [{ record: '001A00000000000', limit: '3' }, /--limit applies to --object/],
      [{ object: 'Account', runA: 'a', runB: 'b', limit: 'x' }, /--limit x is not a whole number/],
      [{ object: 'Account', from: 'soon', to: '2026-11-02' }, /--from "soon" is not an ISO-8601 time/],
    ];
    for (const [flags, pattern] of bad) {
      assert.throws(() => planCompare(flags), (e: unknown) => e instanceof UsageError && pattern.test(e.message), JSON.stringify(flags));
    }
    assert.throws(() => planCompare({}), /The combinations are:\n.*--record ID \[--at TIME\]/s);
  });
});

describe('the use cases over in-memory ports', () => {
  const T1 = 1000;
  const T2 = 2000;
  const history = (): RecordVersion[] => [
    version('001A00000000000', 100, { Name: 'a', Phone: '1' }),
    version('001A00000000000', 1500, { Name: 'a2', Phone: '1' }),
    version('001B00000000000', 100, { Name: 'b' }),
    version('001B00000000000', 1600, { Name: 'b' }, { isDeleted: true, changeType: 'deleted' }),
    version('001C00000000000', 100, { Name: 'c' }),
    version('001D00000000000', 1700, { Name: 'd' }, { changeType: 'created' }),
    version('001E00000000000', 100, { Name: 'e' }),
    version('001E00000000000', 1800, { Name: 'e' }, { isDeleted: true, changeType: 'reconciled' }),
  ];

  test('compareObject counts exactly, lists up to the limit, and is recorded as a compare run', async () => {
    const store = memoryStore(history());
    const result = await compareObject({ store, now: () => 5 }, ORG, 'Account', { at: T1 }, { at: T2 }, { limit: 2 });
    assert.deepEqual(result.counts, { added: 1, changed: 1, removed: 2, unchanged: 1 });
    assert.deepEqual(result.records, [
      { id: '001A00000000000', change: 'changed', changedFields: ['Name'] },
      { id: '001B00000000000', change: 'removed', removedAs: 'deleted' },
    ]);
    assert.equal(result.truncated, true);
    const run = store.runs.get(result.runId)!;
    assert.deepEqual([run.kind, run.status, run.orgId, run.counters], ['compare', 'Succeeded', ORG.orgId, { added: 1, changed: 1, removed: 2, unchanged: 1 }]);
    const all = await compareObject({ store }, ORG, 'Account', { at: T1 }, { at: T2 });
    assert.deepEqual(all.records.map((r) => [r.id, r.change]), [['001A00000000000', 'changed'], ['001B00000000000', 'removed'], ['001D00000000000', 'added'], ['001E00000000000', 'removed']]);
    assert.equal(all.truncated, false);
    await assert.rejects(compareObject({ store }, ORG, 'account', { at: T1 }, { at: T2 }), /No object account .*did you mean Account\?/);
    await assert.rejects(compareObject({ store }, ORG, 'Account', { runId: 'nope' }, { at: T2 }), /--run-a: no run with ID nope/);
  });

  test('a run stands for the moment it ended', async () => {
    const store = memoryStore(history());
    await store.createRun({ runId: 'r1', orgId: ORG.orgId, kind: 'backup', status: 'Succeeded', startedAt: 0, endedAt: T1, counters: {}, message: null, parameters: {} });
    await store.createRun({ runId: 'r2', orgId: ORG.orgId, kind: 'backup', status: 'Succeeded', startedAt: 0, endedAt: T2, counters: {}, message: null, parameters: {} });
    const result = await compareObject({ store }, ORG, 'Account', { runId: 'r1' }, { runId: 'r2' });
    assert.deepEqual(result.from, { at: new Date(T1).toISOString(), runId: 'r1' });
    assert.deepEqual(result.counts, { added: 1, changed: 1, removed: 2, unchanged: 1 });
  });

  test('compareVersions: the versions current at each point', async () => {
    const store = memoryStore(history());
    const result = await compareVersions({ store }, ORG, '001A00000000000', { at: T1 }, { at: T2 });
    assert.deepEqual(result.changes, [{ field: 'Name', left: 'a', right: 'a2' }]);
    assert.deepEqual([result.objectName, result.left.systemModstamp, result.right.systemModstamp], ['Account', new Date(100).toISOString(), new Date(1500).toISOString()]);
    await assert.rejects(compareVersions({ store }, ORG, '001Z00000000000', { at: T1 }, { at: T2 }), /No version of 001Z/);
  });

  test('compareWithLive: only the fields a restore writes; a deleted or gone live record is said', async () => {
    const describe = { name: 'Account', label: 'Account', queryable: true, retrieveable: true, raw: {}, fields: [
      field('Id', { type: 'id', createable: false, updateable: false }),
      field('IsDeleted', { type: 'boolean', createable: false, updateable: false }),
      field('SystemModstamp', { type: 'datetime', createable: false, updateable: false }),
      field('Name'),
      field('Phone'),
      field('Score__c', { calculated: true, createable: false, updateable: false }),
    ] };
    const queries: string[] = [];
    const client = (live: Record<string, unknown> | undefined): OrgClient =>
      ({
        describeObject: async () => describe,
        query: (soql: string) => {
          queries.push(soql);
          return stream(live ? [[live]] : [[]]);
        },
        usage: () => ({ calls: 2, bulkQueryJobs: 0, orgUsed: null, orgMax: null }),
      }) as unknown as OrgClient;
    const versions = [version('001A00000000000', 100, { Name: 'a', Phone: '1', Score__c: 5, SystemModstamp: 'x' }), version('001A00000000000', 1500, { Name: 'a2', Phone: '1', Score__c: 6 })];
    const store = memoryStore(versions);
    const live = { Id: '001A00000000000', IsDeleted: false, SystemModstamp: '2026-11-01T10:00:00.000+0000', Name: 'live', Phone: '1', Score__c: 9 };
    const latest = await compareWithLive({ store, connect: async () => client(live) }, ORG, '001A00000000000');
    assert.deepEqual(latest.changes, [{ field: 'Name', left: 'a2', right: 'live' }]);
    assert.deepEqual([latest.right.state, latest.right.systemModstamp, latest.comparedFields], ['live', '2026-11-01T10:00:00.000Z', 2]);
    assert.match(queries[0]!, /^SELECT Id, IsDeleted, SystemModstamp, Name, Phone FROM Account WHERE Id = '001A00000000000'$/);
    const old = await compareWithLive({ store, connect: async () => client({ ...live, IsDeleted: true, Name: 'a' }) }, ORG, '001A00000000000', { at: 200 });
    assert.deepEqual([old.right.state, old.changes], ['deleted', []]);
    const gone = await compareWithLive({ store, connect: async () => client(undefined) }, ORG, '001A00000000000');
    assert.equal(gone.right.state, 'gone');
    assert.deepEqual(gone.changes, [{ field: 'Name', left: 'a2', right: null }, { field: 'Phone', left: '1', right: null }]);
    const run = store.runs.get(gone.runId)!;
    assert.deepEqual([run.kind, run.status, run.counters.changes], ['compare', 'Succeeded', 2]);
    // Nothing to compare: refused before connecting, and no run logged.
    let connected = false;
    const before = store.runs.size;
    await assert.rejects(compareWithLive({ store, connect: async () => ((connected = true), client(live)) }, ORG, '001A00000000000', { at: 50 }), UsageError);
    await assert.rejects(compareWithLive({ store }, ORG, 'bad id!'), /is not a Salesforce record ID/);
    assert.equal(connected, false);
    assert.equal(store.runs.size, before);
  });
});
