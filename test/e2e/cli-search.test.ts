// `orgvault search` as an admin runs it: the real bin/orgvault.js in a child process against an
// emulated org, two backups apart with a rename and a delete in between. A record is found by its
// current and its former name (as history), by email, with --object, --deleted-only and dates;
// the text output names the `orgvault history` command; bad input exits 2 naming the problem; the
// index survives `orgvault key rotate`; `orgvault purge` takes records out of the results.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';
import type { EmulatedOrg } from './fixtures/emulated-org.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';

const PASSPHRASE = 'e2e search passphrase 5e8a';

interface Hit {
  objectName: string;
  recordId: string;
  name: string | null;
  matchedIn: 'latest' | 'history';
  isDeleted: boolean;
  version: { systemModstamp: string };
  matches: { field: string; snippet: string }[];
  history: string;
}

interface Result {
  hits: Hit[];
  more: boolean;
  filters: { objects: string[] | null };
}

describe('orgvault search', () => {
  let emu: RunningEmulator;
  let sf: EmulatedOrg;
  let scratch: string;
  let vault: string;
  let passphrase = PASSPHRASE;
  let renamed: string;
  let oldName: string;
  let deleted: string;
  let contactEmail: string;
  let contactId: string;

  const run = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> => runCli(args, { vault, cwd: scratch, passphrase, env });
  const search = async (args: string[]): Promise<Result> => {
    const result = await run(['search', ...args, '--org', 'demo', '--json']);
    assert.equal(result.code, 0, result.stderr);
    return jsonOf<Result>(result);
  };

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 31 });
    sf = emulatedOrg(emu);
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-search-'));
    vault = join(scratch, 'vault');
  });
  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('init, org add, a backup; a rename and a delete; a second backup', async () => {
    assert.equal((await run(['init'])).code, 0);
    const { info } = emu;
    const added = await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal((await run(['backup', '--org', 'demo', '--object', 'Account,Contact', '--json'])).code, 0);
    const accounts = await sf.query('SELECT Id, Name FROM Account ORDER BY Name LIMIT 2');
    renamed = String(accounts[0]!.Id);
    oldName = String(accounts[0]!.Name);
    deleted = String(accounts[1]!.Id);
    const contact = (await sf.query("SELECT Id, Email FROM Contact WHERE Email != null ORDER BY LastName LIMIT 1"))[0]!;
    contactId = String(contact.Id);
    contactEmail = String(contact.Email);
    await sf.rest('PATCH', `/sobjects/Account/${renamed}`, { Name: 'Zanzibar Quokka Holdings' });
    await sf.rest('DELETE', `/sobjects/Account/${deleted}`);
    const second = await run(['backup', '--org', 'demo', '--object', 'Account,Contact', '--json']);
    assert.equal(second.code, 0, second.stderr);
  });

  test('a new name is found in the latest version, a former one in the history', async () => {
    const now = await search(['zanzibar', 'quokka']);
    assert.deepEqual(now.hits.map((h) => [h.recordId, h.matchedIn, h.name, h.history]), [[renamed, 'latest', 'Zanzibar Quokka Holdings', `orgvault history ${renamed} --org demo`]]);
    const before = await search([oldName]);
    const hit = before.hits.find((h) => h.recordId === renamed);
    assert.ok(hit, `"${oldName}" finds the renamed account`);
    assert.equal(hit.matchedIn, 'history');
    assert.equal(hit.name, oldName);
    assert.deepEqual(hit.matches.map((m) => m.field), ['Name']);
  });

  test('by email; filters by object and deleted records', async () => {
    const byEmail = await search([contactEmail]);
    assert.deepEqual(byEmail.hits.map((h) => h.recordId), [contactId]);
    assert.deepEqual((await search([contactEmail, '--object', 'account'])).hits, []);
    // The delete cascaded to the account's contacts, which may hold its name too: Accounts only.
    const deletedName = (await sf.queryAll(`SELECT Name FROM Account WHERE Id = '${deleted}'`)).map((r) => String(r.Name));
    const anyDeleted = await search(['--deleted-only', '--object', 'Account', ...deletedName]);
    assert.deepEqual(anyDeleted.hits.map((h) => [h.recordId, h.isDeleted]), [[deleted, true]]);
    assert.ok((await search(['--object', 'Account', ...deletedName])).hits.some((h) => h.recordId === deleted));
    assert.ok((await search(['--deleted-only', 'zanzibar'])).hits.length === 0, 'a live record is not a deleted one');
    assert.deepEqual((await search(['zanzibar', '--from', '2000-01-01', '--to', '2000-12-31'])).hits, []);
  });

  test('the text report names each hit and the history command to run', async () => {
    const result = await run(['search', 'zanzibar', '--org', 'demo']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^1 record\(s\) match "zanzibar" in demo\./);
    assert.match(result.stdout, new RegExp(`Account ${renamed}  "Zanzibar Quokka Holdings"  \\[live\\]`));
    assert.match(result.stdout, /Name: Zanzibar Quokka Holdings/);
    assert.match(result.stdout, new RegExp(`history: orgvault history ${renamed} --org demo`));
    const none = await run(['search', 'xylophoneqq', '--org', 'demo']);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /^No record matches "xylophoneqq" in demo\./);
  });

  test('bad input exits 2 and says what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['search', '', '--org', 'demo'], /text to search for/],
      [['search', '!!', '--org', 'demo'], /no word to search for/],
      [['search', 'acme', '--org', 'nope'], /No org named "nope"/],
      [['search', 'acme', '--org', 'demo', '--object', 'Acount'], /no object "Acount" \(did you mean Account/],
      [['search', 'acme', '--org', 'demo', '--from', 'tuesday'], /--from "tuesday" is not an ISO-8601 time/],
      [['search', 'acme', '--org', 'demo', '--from', '2026-02-01', '--to', '2026-01-01'], /after --to/],
      [['search', 'acme', '--org', 'demo', '--limit', '0'], /--limit must be a whole number from 1 to 1000/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
    const json = await run(['search', 'acme', '--org', 'nope', '--json']);
    assert.equal(jsonOf<{ error: { code: string } }>(json).error.code, 'USAGE');
  });

  test('after `orgvault key rotate` the index still answers: the blind-index key comes from the data key', async () => {
    const rotated = await run(['key', 'rotate'], { ORGVAULT_NEW_PASSPHRASE: 'the rotated e2e passphrase' });
    assert.equal(rotated.code, 0, rotated.stderr);
    passphrase = 'the rotated e2e passphrase';
    assert.deepEqual((await search(['zanzibar'])).hits.map((h) => h.recordId), [renamed]);
    assert.deepEqual((await search([contactEmail])).hits.map((h) => h.recordId), [contactId]);
  });

  test('`orgvault purge` takes the records out of the results', async () => {
    const purged = await run(['purge', '--org', 'demo', '--object', 'Account', '--id', renamed, '--yes', '--no-vacuum']);
    assert.equal(purged.code, 0, purged.stderr);
    assert.deepEqual((await search(['zanzibar'])).hits, []);
    assert.ok(!(await search([oldName])).hits.some((h) => h.recordId === renamed));
  });
});
