// `orgvault archive` as an admin or a script runs it: the real bin/orgvault.js in a child process
// against an emulated org that was backed up. Bad flags exit 2 before anything is touched; a dry
// run deletes nothing; an archive with --yes deletes the records and their children, which
// history, status and the job log then show; a record changed since the backup is refused (exit
// 1); and `orgvault restore --archived RUN` brings the archived records back.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';
import type { EmulatedOrg } from './fixtures/emulated-org.ts';

const PASSPHRASE = 'e2e archive passphrase 5d1e';

interface ReportJson {
  runId: string;
  status: string;
  dryRun: boolean;
  selected: number;
  counts: Record<string, number>;
  results: { object: string; recordId: string; outcome: string; statusCode: string | null; message: string | null; fix: string | null }[];
}

describe('orgvault archive', () => {
  let emu: RunningEmulator;
  let sf: EmulatedOrg;
  let scratch: string;
  let vault: string;
  const accounts: string[] = [];
  const contacts: string[] = [];
  let archiveRun = '';

  const run = (args: string[]): Promise<CliResult> => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE });
  const archive = (args: string[]): Promise<CliResult> => run(['archive', '--org', 'demo', ...args]);
  const isDeleted = async (object: string, id: string): Promise<boolean> => (await sf.queryAll(`SELECT IsDeleted FROM ${object} WHERE Id = '${id}'`))[0]?.IsDeleted === true;
  const backup = async (): Promise<void> => {
    await sf.admin('POST', '/clock', { advanceSeconds: 60 });
    const result = await run(['backup', '--org', 'demo', '--object', 'Account,Contact,Lead', '--json']);
    assert.equal(result.code, 0, result.stderr);
  };

  before(async () => {
    emu = await startEmulator({ profile: 'empty', seed: 41 });
    sf = emulatedOrg(emu);
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-archive-'));
    vault = join(scratch, 'vault');
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    for (let i = 0; i < 3; i++) accounts.push(String((await sf.rest('POST', '/sobjects/Account', { Name: `Archive CLI ${i}`, Industry: 'Shipping' })).id));
    for (let i = 0; i < 2; i++) contacts.push(String((await sf.rest('POST', '/sobjects/Contact', { LastName: `Archive CLI Contact ${i}`, AccountId: accounts[0] })).id));
    await backup();
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('bad flags exit 2 with a message naming the fix, before anything is touched', async () => {
    const cases: [string[], RegExp][] = [
      [['--where', 'Industry = null', '--dry-run'], /--object NAME/],
      [['--object', 'Account', '--dry-run'], /--where/],
      [['--object', 'Account', '--where', '  ', '--dry-run'], /--where/],
      [['--object', 'Account', '--where', 'Id != null'], /--dry-run first.*--yes/],
      [['--object', 'Account', '--where', 'Id != null', '--limit', 'ten', '--dry-run'], /--limit ten is not a positive whole number/],
      [['--object', 'Account', '--where', 'Id != null', '--children', 'Case;Drop', '--dry-run'], /"Case;Drop" is not an object API name/],
      [['--resume', '00000000-0000-4000-8000-000000000000', '--object', 'Account', '--yes'], /--resume continues an archive/],
      [['--object', 'Account', '--where', 'NoSuchField__c = 1', '--dry-run'], /Salesforce refused the query/],
      [['--object', 'NoSuchThing__c', '--where', 'Id != null', '--dry-run'], /no object NoSuchThing__c/],
    ];
    for (const [args, message] of cases) {
      const result = await archive(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
    const json = await run(['--json', 'archive', '--org', 'demo', '--object', 'Account', '--where', 'Id != null']);
    assert.equal(json.code, 2);
    assert.equal(jsonOf<{ error: { code: string } }>(json).error.code, 'USAGE');
    for (const id of accounts) assert.equal(await isDeleted('Account', id), false);
  });

  test('a dry run lists what would go and deletes nothing', async () => {
    const result = await archive(['--object', 'Account', '--where', "Industry = 'Shipping'", '--children', '--dry-run', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = jsonOf<ReportJson>(result);
    assert.equal(report.dryRun, true);
    assert.equal(report.selected, 3);
    assert.equal(report.counts.Ready, 5, 'three accounts and two contacts');
    for (const id of accounts) assert.equal(await isDeleted('Account', id), false);

    const human = await archive(['--object', 'Account', '--where', "Industry = 'Shipping'", '--dry-run']);
    assert.equal(human.code, 1, 'a refusal is a completed-with-errors exit');
    assert.match(human.stdout, /HAS_CHILDREN/);
    assert.match(human.stdout, /Fix: Archive with --children/);
  });

  test('archives with --yes: the records and their children leave the org; history, status and logs show it', async () => {
    const reportFile = join(scratch, 'archive.csv');
    const result = await archive(['--object', 'Account', '--where', `Id IN ('${accounts[0]}','${accounts[1]}')`, '--children', '--yes', '--json', '--report', reportFile]);
    assert.equal(result.code, 0, result.stderr);
    const report = jsonOf<ReportJson>(result);
    archiveRun = report.runId;
    assert.equal(report.counts.Deleted, 4);
    for (const id of [accounts[0]!, accounts[1]!]) assert.equal(await isDeleted('Account', id), true);
    for (const id of contacts) assert.equal(await isDeleted('Contact', id), true, 'contacts went with their account');
    assert.equal(await isDeleted('Account', accounts[2]!), false);
    const csv = await readFile(reportFile, 'utf8');
    assert.match(csv, /^object,recordId,outcome/);
    assert.equal(csv.trim().split('\n').length, 5);

    const history = await run(['history', accounts[0]!, '--org', 'demo']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, new RegExp(`Archived by run ${archiveRun}`));
    await backup();
    const status = await run(['status', '--org', 'demo']);
    assert.match(status.stdout, /4 records archived/);
    assert.match(status.stdout, /^Account +Waiting +3 +\d+ +2 /m);
    const log = jsonOf<{ kind: string; status: string; counters: Record<string, number>; objects: { name: string; counters: Record<string, number> }[] }>(await run(['logs', archiveRun, '--json']));
    assert.equal(log.kind, 'archive');
    assert.equal(log.counters.deleted, 4);
    assert.equal(log.objects.find((o) => o.name === 'Contact')?.counters.deleted, 2);
  });

  test('a record changed since the backup is refused and stays (exit 1)', async () => {
    await sf.rest('PATCH', `/sobjects/Account/${accounts[2]}`, { Description: 'changed after the backup' });
    const result = await archive(['--object', 'Account', '--where', `Id = '${accounts[2]}'`, '--yes']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /CHANGED_SINCE_BACKUP/);
    assert.match(result.stdout, /run a backup first/);
    assert.equal(await isDeleted('Account', accounts[2]!), false);
  });

  test('restore --archived RUN brings the archived records back', async () => {
    const none = await run(['restore', '--org', 'demo', '--object', 'Lead', '--archived', archiveRun]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No Lead record archived by run/);
    const result = await run(['restore', '--org', 'demo', '--object', 'Account', '--archived', archiveRun, '--children', '1', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const restored = jsonOf<{ results: { originalId: string; outcome: string }[] }>(result);
    assert.deepEqual(restored.results.filter((r) => accounts.includes(r.originalId)).map((r) => r.outcome), ['Undeleted', 'Undeleted']);
    for (const id of [accounts[0]!, accounts[1]!]) assert.equal(await isDeleted('Account', id), false);
    for (const id of contacts) assert.equal(await isDeleted('Contact', id), false);
  });
});
