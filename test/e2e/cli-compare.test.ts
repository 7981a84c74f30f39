// `orgvault compare` as an admin or a script runs it: the real bin/orgvault.js in a child process
// against an emulated org, two backups apart with known changes in between, then compares of a
// record with the live one, of two versions, and of an object at two runs or times. Each compare
// is checked against what was changed, bad input exits 2, and every compare is in the run log.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';

const PASSPHRASE = 'e2e compare passphrase 91c4';

type Result = CliResult;

interface Side {
  label: string;
  systemModstamp: string | null;
  state: 'live' | 'deleted' | 'gone';
  runId?: string;
}

interface RecordJson {
  runId: string;
  record: string;
  objectName: string;
  left: Side;
  right: Side;
  comparedFields: number;
  changes: { field: string; left: unknown; right: unknown }[];
}

interface ObjectJson {
  runId: string;
  object: string;
  from: { at: string; runId?: string };
  to: { at: string; runId?: string };
  counts: { added: number; changed: number; removed: number; unchanged: number };
  records: { id: string; change: string; changedFields?: string[]; removedAs?: string }[];
  truncated: boolean;
}

interface RunJson {
  runId: string;
  kind: string;
  org: string | null;
  status: string;
  endedAt: string | null;
  counters: Record<string, number>;
}

describe('orgvault compare', () => {
  let emu: RunningEmulator;
  let scratch: string;
  let vault: string;
  let token: string;
  let run1: RunJson;
  let run2: RunJson;
  /** Accounts: one edited, one deleted, one created between the two backups. */
  let edited: string;
  let deleted: string;
  let created: string;
  let originalName: string;
  let accountsAtFirst: number;
  const compareRuns: string[] = [];

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 23 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-compare-'));
    vault = join(scratch, 'vault');
    const { info } = emu;
    const login = await fetch(`${info.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: info.clientId, client_secret: info.clientSecret, username: info.username, password: info.password }),
    });
    token = ((await login.json()) as { access_token: string }).access_token;
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  function run(args: string[]): Promise<Result> {
    return runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE });
  }

  function json<T>(result: Result): T {
    return jsonOf<T>(result);
  }


  /** A REST call as a user of the org would make it. */
  async function rest(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${emu.info.instanceUrl}/services/data/v62.0/sobjects/${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
    return response.status === 204 ? null : response.json();
  }

  async function backup(): Promise<RunJson> {
    const result = await run(['backup', '--org', 'demo', '--object', 'Account,Contact', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const { runId } = json<{ runId: string }>(result);
    const log = await run(['logs', runId, '--json']);
    assert.equal(log.code, 0, log.stderr);
    return json<RunJson>(log);
  }

  async function compare(args: string[]): Promise<Result> {
    const result = await run(['compare', '--org', 'demo', ...args]);
    if (result.code === 0 && args.includes('--json')) compareRuns.push(json<{ runId: string }>(result).runId);
    return result;
  }

  test('init, org add, a first backup; then an edit, a delete and a create; a second backup', async () => {
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    run1 = await backup();
    const accounts = [...emu.org.records('Account')].filter((r) => !r.IsDeleted);
    accountsAtFirst = accounts.length;
    assert.ok(accountsAtFirst >= 3);
    edited = String(accounts[0]!.Id);
    deleted = String(accounts[1]!.Id);
    originalName = String(accounts[0]!.Name);

    await rest('PATCH', `Account/${edited}`, { Name: 'Compare Edited Co', Phone: '+1 555 0100' });
    await rest('DELETE', `Account/${deleted}`);
    created = ((await rest('POST', 'Account', { Name: 'Compare New Co' })) as { id: string }).id;
    run2 = await backup();
    assert.ok(run1.endedAt && run2.endedAt && run1.endedAt < run2.endedAt);
  });

  test('--record against the live record: nothing to restore, then the live edit, then a deleted record', async () => {
    const same = await compare(['--record', edited, '--json']);
    assert.equal(same.code, 0, same.stderr);
    const clean = json<RecordJson>(same);
    assert.deepEqual([clean.record, clean.objectName, clean.right.state, clean.changes], [edited, 'Account', 'live', []]);
    assert.equal(clean.left.runId, run2.runId);
    assert.ok(clean.comparedFields > 3, `${clean.comparedFields} fields compared`);

    await rest('PATCH', `Account/${edited}`, { Name: 'Live Only Name' });
    const result = await compare(['--record', edited, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const diff = json<RecordJson>(result);
    assert.deepEqual(diff.changes, [{ field: 'Name', left: 'Compare Edited Co', right: 'Live Only Name' }]);
    assert.equal(diff.right.state, 'live');
    assert.ok(diff.right.systemModstamp! > diff.left.systemModstamp!, 'the live record is newer');

    // As of the first backup: the restore would also put back the original name and phone.
    const old = json<RecordJson>(await compare(['--record', edited, '--at', run1.endedAt!, '--json']));
    assert.deepEqual(old.changes.find((c) => c.field === 'Name'), { field: 'Name', left: originalName, right: 'Live Only Name' });
    assert.deepEqual(old.changes.find((c) => c.field === 'Phone')?.right, '+1 555 0100');
    assert.equal(old.left.runId, run1.runId);

    const gone = json<RecordJson>(await compare(['--record', deleted, '--json']));
    assert.equal(gone.right.state, 'deleted', 'in the Recycle Bin');
    assert.equal(gone.left.state, 'deleted', 'the second backup saw the delete');

    const human = await compare(['--record', edited]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Field\s+Backed up\s+Live$/m);
    assert.match(human.stdout, /^Name\s+Compare Edited Co\s+Live Only Name$/m);
    assert.match(human.stdout, /1 of \d+ field\(s\) a restore writes would change/);
  });

  test('--record --from --to: the two versions with both values of each changed field', async () => {
    const result = await compare(['--record', edited, '--from', run1.endedAt!, '--to', run2.endedAt!, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const diff = json<RecordJson>(result);
    const byField = new Map(diff.changes.map((c) => [c.field, c]));
    assert.deepEqual(byField.get('Name'), { field: 'Name', left: originalName, right: 'Compare Edited Co' });
    assert.equal(byField.get('Phone')?.right, '+1 555 0100');
    assert.ok(byField.has('SystemModstamp'));
    assert.deepEqual([diff.left.runId, diff.right.runId], [run1.runId, run2.runId]);
  });

  test('--object between two runs: exact counts, the records, --limit keeps the counts', async () => {
    const result = await compare(['--object', 'Account', '--run-a', run1.runId, '--run-b', run2.runId, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const diff = json<ObjectJson>(result);
    assert.deepEqual(diff.counts, { added: 1, changed: 1, removed: 1, unchanged: accountsAtFirst - 2 });
    assert.deepEqual([diff.from, diff.to], [{ at: run1.endedAt, runId: run1.runId }, { at: run2.endedAt, runId: run2.runId }]);
    const byId = new Map(diff.records.map((r) => [r.id, r]));
    assert.equal(diff.records.length, 3);
    assert.equal(byId.get(created)?.change, 'added');
    assert.deepEqual(byId.get(deleted), { id: deleted, change: 'removed', removedAs: 'deleted' });
    assert.equal(byId.get(edited)?.change, 'changed');
    for (const field of ['Name', 'Phone']) assert.ok(byId.get(edited)?.changedFields?.includes(field), field);
    assert.deepEqual(diff.records.map((r) => r.id), [...diff.records.map((r) => r.id)].sort(), 'in record-ID order');

    const limited = json<ObjectJson>(await compare(['--object', 'Account', '--run-a', run1.runId, '--run-b', run2.runId, '--limit', '1', '--json']));
    assert.deepEqual(limited.counts, diff.counts);
    assert.equal(limited.records.length, 1);
    assert.equal(limited.truncated, true);

    // From before anything was backed up: every record is added.
    const all = json<ObjectJson>(await compare(['--object', 'Account', '--from', '2000-01-01', '--to', run2.endedAt!, '--limit', '0', '--json']));
    assert.deepEqual(all.counts, { added: accountsAtFirst, changed: 0, removed: 0, unchanged: 0 });
    assert.deepEqual(all.records, []);

    const human = await compare(['--object', 'Account', '--run-a', run1.runId, '--run-b', run2.runId]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^ {2}1 added, 1 changed, 1 removed, ${accountsAtFirst - 2} unchanged$`, 'm'));
    assert.match(human.stdout, /^Record ID\s+Change\s+Fields$/m);
    assert.match(human.stdout, new RegExp(`^${deleted}\\s+removed \\(deleted\\)$`, 'm'));
  });

  test('bad input exits 2 naming the flag or the combinations', async () => {
    const cases: [string[], RegExp][] = [
      [['--object', 'Account', '--from', 'last week', '--to', '2026-11-01'], /--from "last week" is not an ISO-8601 time/],
      [['--record', edited, '--at', '2026-13-01'], /--at "2026-13-01" is not a real date/],
      [[], /--record ID or --object NAME.*The combinations are:/s],
      [['--object', 'Account', '--from', '2026-11-01'], /--to is missing/],
      [['--record', edited, '--object', 'Account'], /cannot be combined/],
      [['--object', 'Account', '--run-a', run1.runId, '--run-b', '00000000-0000-4000-8000-000000000000'], /--run-b: no run with ID 00000000-0000-4000-8000-000000000000/],
      [['--object', 'Nope__c', '--run-a', run1.runId, '--run-b', run2.runId], /No object Nope__c in the vault of org demo/],
      [['--record', '001000000000000AAA'], /No version of 001000000000000AAA in the vault/],
      [['--record', 'bad!'], /"bad!" is not a Salesforce record ID/],
    ];
    for (const [args, pattern] of cases) {
      const result = await compare([...args, '--json']);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern, args.join(' '));
      assert.equal(json<{ error: { exitCode: number } }>(result).error.exitCode, 2);
    }
  });

  test('every compare is a run of kind compare in logs --json, with its counts', async () => {
    const list = await run(['logs', '--org', 'demo', '--limit', '100', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const runs = new Map(json<{ runs: RunJson[] }>(list).runs.map((r) => [r.runId, r]));
    assert.ok(compareRuns.length >= 8);
    for (const id of compareRuns) {
      const r = runs.get(id);
      assert.ok(r, `compare run ${id} is in the log`);
      assert.deepEqual([r.kind, r.status, r.org], ['compare', 'Succeeded', 'demo']);
    }
    const objectRun = [...runs.values()].find((r) => r.kind === 'compare' && r.counters.added === 1);
    assert.deepEqual(objectRun?.counters, { added: 1, changed: 1, removed: 1, unchanged: accountsAtFirst - 2 });
    // Refused compares log nothing.
    assert.equal([...runs.values()].filter((r) => r.kind === 'compare').length, compareRuns.length + 2, 'the two human compares too');
  });
});
