// `orgvault backup|status|history|logs` as an admin or a script runs them: the real bin/orgvault.js
// in a child process against an emulated org. One JSON document on stdout with --json, plain
// progress lines on stderr, the exit codes scripts rely on (0 clean, 1 object errors or skipped,
// 2 bad usage), and no secret in any output.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { OrgChange } from '../../emulator/org/org.ts';
import { openVault } from '../../src/store/vault.ts';

const PASSPHRASE = 'e2e backup passphrase 5d2e';

type Result = CliResult;

interface BackupJson {
  runId: string;
  status: string;
  message: string | null;
  apiCalls: number;
  objects: { name: string; status: string; statusCode: string | null; records: number; versions: number; deletes: number; apiCalls: number }[];
}

interface StatusJson {
  org: string;
  status: string;
  objects: { name: string; status: string; recordCount: number; versionCount: number }[];
  lastRun: { runId: string } | null;
}

interface HistoryJson {
  recordId: string;
  objectName: string;
  versions: { systemModstamp: string; changeType: string; capturedAt: string; runId: string; changedFields: string[]; fields: Record<string, unknown> }[];
}

const SYSTEM_FIELDS = new Set(['Id', 'IsDeleted', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp', 'LastActivityDate', 'LastViewedDate', 'LastReferencedDate']);

describe('orgvault backup, status, history, logs', () => {
  let emu: RunningEmulator;
  let scratch: string;
  let vault: string;
  const outputs: string[] = [];
  /** Every access token the emulator issued, to prove none was printed. */
  const accessTokens: string[] = [];
  const changes: OrgChange[] = [];
  let first: BackupJson;
  let second: BackupJson;
  let statusBefore: StatusJson;

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 11 });
    const sessions = emu.context.sessions;
    const issue = sessions.issue.bind(sessions);
    sessions.issue = (...args: Parameters<typeof issue>) => {
      const session = issue(...args);
      accessTokens.push(session.accessToken);
      return session;
    };
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-backup-'));
    vault = join(scratch, 'vault');
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  function run(args: string[]): Promise<Result> {
    return runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE, onOutput: (stdout, stderr) => outputs.push(stdout, stderr) });
  }

  function json<T>(result: Result): T {
    return jsonOf<T>(result);
  }


  async function admin(path: string, body: unknown = {}): Promise<unknown> {
    const response = await fetch(`${emu.info.loginUrl}/__emulator/${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${emu.info.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
    return response.json();
  }

  /** The vault's status as the library reads it, to prove a refused command changed nothing. */
  async function runsInVault(): Promise<string[]> {
    const v = await openVault(vault, { passphrase: PASSPHRASE }, { readonly: true });
    try {
      return (await v.store.listRuns({ orgId: emu.info.orgId, limit: 100 })).map((r) => `${r.runId} ${r.status}`);
    } finally {
      await v.close();
    }
  }

  test('init, then org add with the username-password flow', async () => {
    const init = await run(['init']);
    assert.equal(init.code, 0, init.stderr);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--json', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    const org = json<{ name: string; orgId: string; authKind: string }>(added);
    assert.deepEqual([org.name, org.orgId, org.authKind], ['demo', info.orgId, 'password']);
  });

  test('backup --json: one JSON document on stdout, plain progress lines on stderr, exit 0', async () => {
    const result = await run(['backup', '--org', 'demo', '--json']);
    assert.equal(result.code, 0, result.stderr);
    first = json<BackupJson>(result);
    assert.match(first.runId, /^[0-9a-f-]{36}$/);
    assert.equal(first.status, 'Succeeded', first.message ?? '');
    assert.equal(first.message, null);
    assert.ok(first.apiCalls > 0);
    const byName = new Map(first.objects.map((o) => [o.name, o]));
    for (const name of ['Account', 'Contact', 'Opportunity', 'Case']) {
      const o = byName.get(name);
      assert.ok(o, `${name} is in the result`);
      assert.equal(o.status, 'Waiting', name);
      assert.equal(o.statusCode, null, name);
      assert.ok(o.records > 0 && o.versions === o.records, `${name}: ${o.records} records, ${o.versions} versions on a backfill`);
      assert.ok(o.apiCalls > 0, `${name} API calls`);
    }
    for (const o of first.objects) {
      assert.equal(typeof o.records, 'number');
      assert.equal(typeof o.versions, 'number');
      assert.equal(typeof o.apiCalls, 'number');
    }
    // Objects that cannot be captured are reported, with the reason's code.
    const big = byName.get('Customer_Interaction__b');
    assert.deepEqual([big?.status, big?.statusCode, big?.records], ['Unsupported', 'UNSUPPORTED', 0]);
    assert.ok(first.objects.every((o) => !['Error', 'NotVisible', 'Unavailable'].includes(o.status)));

    // stderr is a pipe: plain lines, no terminal escapes, one per object read.
    assert.equal(result.stderr.includes('\x1b['), false, 'no escape codes when stderr is not a terminal');
    assert.match(result.stderr, new RegExp(`^Backup ${first.runId}: \\d+ object\\(s\\) to check$`, 'm'));
    assert.match(result.stderr, /^ {2}Account: backfilling through REST \([\d,]+ records in the org\)$/m);
    assert.match(result.stderr, /^ {2}Account: Waiting, [\d,]+ records read, [\d,]+ new versions$/m);
  });

  test('activity in the org, then a second backup stores new versions of the changed objects', async () => {
    const unsubscribe = emu.org.onChange((batch) => changes.push(...batch));
    try {
      await admin('activity', { changes: 200, seed: 'cli-day-1' });
    } finally {
      unsubscribe();
    }
    assert.ok(changes.some((c) => c.changeType === 'UPDATE'));
    await admin('clock', { advanceSeconds: 120 });

    // The run's own flags, in the forms the help gives.
    const result = await run(['backup', '--org', 'demo', '--json', '--exclude', 'Task', '--no-history', '--api-budget', '90%', '--concurrency', '2', '--bulk-threshold', '100000']);
    assert.equal(result.code, 0, result.stderr);
    second = json<BackupJson>(result);
    assert.equal(second.status, 'Succeeded', second.message ?? '');
    assert.notEqual(second.runId, first.runId);
    const byName = new Map(second.objects.map((o) => [o.name, o]));
    const changedObjects = new Set(changes.filter((c) => c.changeType === 'UPDATE' || c.changeType === 'CREATE').map((c) => c.object));
    let checked = 0;
    for (const name of changedObjects) {
      const o = byName.get(name);
      if (!o || o.status === 'Excluded' || o.status === 'Unsupported') continue;
      assert.equal(o.status, 'Waiting', name);
      assert.ok(o.versions > 0, `${name} changed in the org: ${o.versions} new versions`);
      checked++;
    }
    assert.ok(checked >= 2, `changed objects checked: ${checked}`);
    assert.deepEqual([byName.get('Task')?.status, byName.get('Task')?.statusCode, byName.get('Task')?.versions], ['Excluded', 'EXCLUDED', 0]);
    assert.equal(byName.get('LoginHistory')?.status, 'Excluded', '--no-history');
    assert.equal(first.objects.find((o) => o.name === 'LoginHistory')?.status, 'Unsupported', 'no SystemModstamp');
    // Objects the activity did not touch are skipped cheaply: fewer calls than the backfill.
    assert.ok(second.apiCalls < first.apiCalls, `${second.apiCalls} calls, backfill took ${first.apiCalls}`);
  });

  test('status --json and the human status after a clean run', async () => {
    const result = await run(['status', '--org', 'demo', '--json']);
    assert.equal(result.code, 0, result.stderr);
    statusBefore = json<StatusJson>(result);
    assert.equal(statusBefore.status, 'Running Continuously');
    assert.equal(statusBefore.org, 'demo');
    assert.equal(statusBefore.lastRun?.runId, second.runId);
    const account = statusBefore.objects.find((o) => o.name === 'Account');
    assert.ok(account);
    assert.equal(account.status, 'Waiting');
    assert.ok(account.recordCount > 0 && account.versionCount >= account.recordCount, JSON.stringify(account));
    for (const o of statusBefore.objects) {
      assert.equal(typeof o.name, 'string');
      assert.equal(typeof o.status, 'string');
      assert.equal(typeof o.recordCount, 'number');
      assert.equal(typeof o.versionCount, 'number');
    }
    // Versions stored by the two runs are the status page's versions.
    const stored = statusBefore.objects.reduce((n, o) => n + o.versionCount, 0);
    const captured = [...first.objects, ...second.objects].reduce((n, o) => n + o.versions, 0);
    const differing = statusBefore.objects
      .map((o) => ({ name: o.name, stored: o.versionCount, first: first.objects.find((f) => f.name === o.name), second: second.objects.find((f) => f.name === o.name) }))
      .filter((o) => o.stored !== (o.first?.versions ?? 0) + (o.second?.versions ?? 0));
    assert.equal(stored, captured, JSON.stringify(differing));

    const human = await run(['status', '--org', 'demo']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^Org demo \\(${emu.info.orgId}\\): Running Continuously$`, 'm'));
    assert.match(human.stdout, /^Object\s+Status\s+Records\s+Versions\s+Last backup\s+Reason$/m);
    assert.match(human.stdout, new RegExp(`^Account\\s+Waiting\\s+${account.recordCount.toLocaleString('en-US')}\\s+${account.versionCount.toLocaleString('en-US')}\\s`, 'm'));
    // Excluded objects are counted, not listed, without --all.
    assert.doesNotMatch(human.stdout, /^Customer_Interaction__b\s/m);
    assert.match(human.stdout, /excluded or unsupported objects not shown; --all lists them/);
  });

  test('history: every version of a record the activity updated, newest first; a bad ID exits 2', async () => {
    const backedUp = new Set(second.objects.filter((o) => o.status === 'Waiting').map((o) => o.name));
    const createdToday = new Set(changes.filter((c) => c.changeType === 'CREATE').map((c) => c.recordId));
    const perRecord = new Map<string, OrgChange[]>();
    for (const change of changes) perRecord.set(change.recordId, [...(perRecord.get(change.recordId) ?? []), change]);
    // A record that existed at the backfill and had one update since, of a field a user sees.
    const pick = changes.find(
      (c) =>
        c.changeType === 'UPDATE' &&
        backedUp.has(c.object) &&
        !createdToday.has(c.recordId) &&
        perRecord.get(c.recordId)!.length === 1 &&
        c.changedFields.some((f) => !SYSTEM_FIELDS.has(f)),
    );
    assert.ok(pick, 'the activity updated a record that was backed up before');

    const result = await run(['history', pick.recordId, '--org', 'demo', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const history = json<HistoryJson>(result);
    assert.equal(history.recordId, pick.recordId);
    assert.equal(history.objectName, pick.object);
    assert.equal(history.versions.length, 2, JSON.stringify(history.versions.map((v) => [v.systemModstamp, v.changeType])));
    const [newest, oldest] = history.versions as [HistoryJson['versions'][0], HistoryJson['versions'][0]];
    assert.ok(newest.systemModstamp > oldest.systemModstamp, 'newest first');
    assert.equal(newest.systemModstamp, new Date(pick.stampMs).toISOString());
    assert.equal(newest.changeType, 'updated');
    assert.equal(newest.runId, second.runId);
    assert.equal(oldest.runId, first.runId);
    for (const v of history.versions) {
      assert.match(v.capturedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(v.fields.Id, pick.recordId);
    }
    const edited = pick.changedFields.filter((f) => !SYSTEM_FIELDS.has(f) && f in newest.fields);
    assert.ok(edited.length > 0, `changed fields ${pick.changedFields.join(', ')} are captured`);
    for (const field of edited) assert.ok(newest.changedFields.includes(field), `${field} is listed as changed: ${newest.changedFields.join(', ')}`);

    const bad = await run(['history', 'not-a-record-id!', '--org', 'demo']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"not-a-record-id!" is not a Salesforce record ID/);
    assert.equal(bad.stdout, '');
  });

  test('bad flags exit 2 naming the flag, before any work: no run is logged, status is unchanged', async () => {
    const runsBefore = await runsInVault();
    const cases: [string[], RegExp][] = [
      [['backup', '--org', 'demo', '--api-budget', '2'], /--api-budget 2 is not a share/],
      [['backup', '--org', 'demo', '--concurrency', '0'], /--concurrency 0 is not a whole number of at least 1/],
      [['backup', '--org', 'demo', '--mode', 'nonsense'], /--mode.*nonsense.*objects-and-files, objects-only, files-paused, paused/s],
      [['backup', '--org', 'nope'], /No org named "nope" in this vault \(it holds demo\)/],
    ];
    for (const [args, pattern] of cases) {
      const result = await run([...args, '--json']);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern, args.join(' '));
      assert.equal(json<{ error: { exitCode: number } }>(result).error.exitCode, 2, args.join(' '));
    }
    assert.deepEqual(await runsInVault(), runsBefore);
    const status = await run(['status', '--org', 'demo', '--json']);
    assert.deepEqual(json<StatusJson>(status), statusBefore);
  });

  test('a second backup while one holds the org lock is Skipped, exit 1, naming the holder', async () => {
    const v = await openVault(vault, { passphrase: PASSPHRASE });
    try {
      const lock = await v.store.acquireOrgLock(emu.info.orgId, 'test holder 7b1');
      try {
        const result = await run(['backup', '--org', 'demo', '--json']);
        assert.equal(result.code, 1, result.stderr);
        const skipped = json<BackupJson>(result);
        assert.equal(skipped.status, 'Skipped');
        assert.match(skipped.message ?? '', /another backup of demo is running \(test holder 7b1\b.*, since \d{4}-/);
        assert.deepEqual(skipped.objects, []);
        assert.equal(skipped.apiCalls, 0);
      } finally {
        await lock.release();
      }
    } finally {
      await v.close();
    }
  });

  let failed: BackupJson;

  test('an object that is not visible: the backup exits 1; logs lists runs, and one run\'s errors go to CSV with cause and fix', async () => {
    // Campaign was backed up, then the API user loses Read on it; Nope__c never existed.
    await admin('permissions', { object: 'Campaign', read: false });
    let result: Result;
    try {
      result = await run(['backup', '--org', 'demo', '--object', 'Account,Campaign', '--object', 'Nope__c', '--json']);
    } finally {
      await admin('permissions', { object: 'Campaign', read: true });
    }
    assert.equal(result.code, 1, result.stderr);
    failed = json<BackupJson>(result);
    assert.equal(failed.status, 'CompletedWithErrors');
    assert.deepEqual(failed.objects.map((o) => [o.name, o.status, o.statusCode]), [
      ['Account', 'Waiting', null],
      ['Campaign', 'Unavailable', 'NOT_VISIBLE'],
      ['Nope__c', 'NotVisible', 'NOT_VISIBLE'],
    ]);
    assert.match(failed.message ?? '', /2 object\(s\) ended in error: Campaign \(NOT_VISIBLE\), Nope__c \(NOT_VISIBLE\)/);

    const list = await run(['logs', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const { runs } = json<{ runs: { runId: string; kind: string; org: string; status: string; startedAt: string; endedAt: string | null }[] }>(list);
    // Newest first, the skipped run included.
    assert.deepEqual(
      runs.slice(0, 2).map((r) => r.status),
      ['CompletedWithErrors', 'Skipped'],
    );
    const byId = new Map(runs.map((r) => [r.runId, r]));
    for (const [id, status] of [[first.runId, 'Succeeded'], [second.runId, 'Succeeded'], [failed.runId, 'CompletedWithErrors']] as const) {
      assert.equal(byId.get(id)?.status, status, id);
      assert.equal(byId.get(id)?.kind, 'backup');
      assert.equal(byId.get(id)?.org, 'demo');
      assert.ok(byId.get(id)?.endedAt);
    }

    const csvFile = join(scratch, 'errors.csv');
    const errors = await run(['logs', failed.runId, '--errors', '--csv', csvFile]);
    assert.equal(errors.code, 0, errors.stderr);
    const rows = parse(readFileSync(csvFile, 'utf8'), { columns: true }) as Record<string, string>[];
    const header = readFileSync(csvFile, 'utf8').split('\n')[0]!.split(',');
    assert.deepEqual(header.slice(0, 7), ['runId', 'object', 'status', 'statusCode', 'message', 'cause', 'fix']);
    assert.deepEqual(rows.map((r) => r.object), ['Campaign', 'Nope__c'], 'only the objects with errors');
    assert.match(rows[0]!.message!, /Campaign was backed up before but is no longer visible/);
    const row = rows[1]!;
    assert.equal(row.runId, failed.runId);
    assert.equal(row.object, 'Nope__c');
    assert.equal(row.status, 'Failed');
    assert.equal(row.statusCode, 'NOT_VISIBLE');
    assert.match(row.message!, /Nope__c is not visible to the API user/);
    assert.match(row.cause!, /not visible to the API user/);
    assert.match(row.fix!, /Give the API user Read on the object/);
    assert.match(errors.stderr, /Wrote 2 object\(s\) to .*errors\.csv/);
    // The human log: the run, the object, and the status code's cause and fix.
    assert.match(errors.stdout, new RegExp(`^Run ${failed.runId} \\(backup of demo\\): CompletedWithErrors$`, 'm'));
    assert.match(errors.stdout, /^Campaign\s+Failed\s+NOT_VISIBLE\s/m);
    assert.match(errors.stdout, /^Nope__c\s+Failed\s+NOT_VISIBLE\s/m);
    assert.match(errors.stdout, /^Nope__c NOT_VISIBLE:$/m);
    assert.doesNotMatch(errors.stdout, /^Account\s/m);
    assert.match(errors.stdout, /^ {2}cause: The object is not visible to the API user/m);
    assert.match(errors.stdout, /^ {2}fix: {3}Give the API user Read on the object/m);

    const unknown = await run(['logs', '00000000-0000-4000-8000-000000000000']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No run with ID 00000000-0000-4000-8000-000000000000/);
  });

  test('no secret in any output', () => {
    assert.ok(accessTokens.length >= 3, `access tokens issued: ${accessTokens.length}`);
    const printed = outputs.join('\n');
    assert.ok(printed.length > 0);
    for (const secret of [emu.info.clientSecret, emu.info.password, PASSPHRASE, ...accessTokens]) assert.equal(printed.includes(secret), false, 'a secret was printed');
  });
});
