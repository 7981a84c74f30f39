// Retention as an admin runs it: backups of an emulated org whose clock moves over months, with
// activity in between; then `orgvault retention set`, `forget --dry-run`, `forget`, `prune` (with a
// reader streaming the vault meanwhile), `verify --read-data` and `purge`, each the real
// bin/orgvault.js in a child process. The right versions remain record by record, prune reclaims
// the space, purge leaves no trace of the record, and bad flags exit 2 naming what is wrong.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { resolveSettings, runBackup } from '../../src/backup/index.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import type { ForgetReport, PruneReport, PurgeReport } from '../../src/retention/index.ts';
import { connectOrg } from '../../src/salesforce/index.ts';
import { openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';
import type { EmulatedOrg } from './fixtures/emulated-org.ts';

const PASSPHRASE = 'e2e retention passphrase 91b4';
const DAY_MS = 86_400_000;
const OBJECTS = ['Account', 'Document'];

/** Salesforce's `2026-11-22T11:32:15.302+0000` as epoch ms. */
const sfTime = (text: unknown): number => Date.parse(String(text).replace(/\+0000$/, 'Z'));
const iso = (t: number): string => new Date(t).toISOString();

describe('orgvault retention, forget, prune and purge over months of backups', () => {
  let emu: RunningEmulator;
  let org: EmulatedOrg;
  let scratch: string;
  let vaultDir: string;
  let registration: OrgRegistration;
  /** The tracked documents: one changed every step, one deleted early, one deleted late. */
  let changing: string;
  let deletedEarly: string;
  let deletedLate: string;
  /** SystemModstamps of `changing`, oldest first, as the org stamped them (each one backed up). */
  const changingStamps: number[] = [];
  let deletedLateStamps: number[] = [];

  const run = (args: string[]): Promise<CliResult> => runCli(args, { vault: vaultDir, cwd: scratch, passphrase: PASSPHRASE });
  const json = <T>(result: CliResult): T => jsonOf<T>(result);
  const ok = (result: CliResult): CliResult => {
    assert.equal(result.code, 0, `exit ${result.code}\n${result.stderr}\n${result.stdout.slice(0, 2000)}`);
    return result;
  };

  async function withVault<T>(work: (vault: Vault) => Promise<T>, readonly = true): Promise<T> {
    const vault = await openVault(vaultDir, { passphrase: PASSPHRASE }, { readonly });
    try {
      return await work(vault);
    } finally {
      await vault.close();
    }
  }

  /**
   * A class changed before each backup, stored as a metadata capture at the org's time would store
   * it (the backups leave metadata out, so that the class is the org's only component).
   */
  const changedClassAt: number[] = [];
  async function changeClass(): Promise<void> {
    const at = emu.org.clock.nowMs();
    const step = changedClassAt.push(at) - 1;
    await withVault(
      (vault) =>
        vault.store.writeMetadataVersions(registration.orgId, `class-step-${step}`, at, [
          { type: 'ApexClass', fullName: 'Invoicing_Test', files: { 'classes/Invoicing_Test.cls': `public class Invoicing_Test { /* step ${step} */ }` }, deleted: false, lastModifiedDate: at, salesforceId: null },
        ]),
      false,
    );
  }

  async function backup(): Promise<void> {
    await changeClass();
    const { info } = emu;
    const client = await connectOrg({ kind: 'password', loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password });
    const result = await withVault(
      (vault) => runBackup({ store: vault.store, blobs: vault.blobs, client, now: () => emu.org.clock.nowMs() }, { org: registration, settings: resolveSettings({}), objects: OBJECTS, metadata: false }),
      false,
    );
    assert.equal(result.status, 'Succeeded', result.message ?? '');
  }

  /** Moves the org's clock to noon UTC at least `days` days on: steps of 35 days never share a month. */
  async function advanceDays(days: number): Promise<void> {
    const now = Date.parse(String((await org.admin('GET', '/clock')).now));
    const target = Math.floor((now + days * DAY_MS) / DAY_MS) * DAY_MS + 12 * 3_600_000;
    await org.admin('POST', '/clock', { advanceSeconds: Math.max(0, Math.ceil((target - now) / 1000)) });
  }

  async function stampOf(id: string): Promise<number> {
    return sfTime((await org.queryAll(`SELECT SystemModstamp FROM Document WHERE Id = '${id}'`))[0]?.SystemModstamp);
  }

  async function change(step: string): Promise<void> {
    await org.rest('PATCH', `/sobjects/Document/${changing}`, { Description: `step ${step}`, Body: Buffer.from(`body of step ${step}`).toString('base64') });
    changingStamps.push(await stampOf(changing));
  }

  async function stampsInVault(vault: Vault, id: string): Promise<number[]> {
    return (await vault.store.versionsOf(registration.orgId, id)).map((v) => v.systemModstamp);
  }

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 23 });
    org = emulatedOrg(emu);
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-retention-'));
    vaultDir = join(scratch, 'vault');
    ok(await run(['init']));
    const { info } = emu;
    ok(await run(['org', 'add', 'demo', '--login-url', info.loginUrl, '--client-id', info.clientId, '--client-secret', info.clientSecret, '--username', info.username, '--password', info.password]));
    registration = (await withVault((vault) => vault.store.getOrg('demo')))!;
    const docs = await org.query('SELECT Id, SystemModstamp FROM Document WHERE BodyLength > 0 ORDER BY Id LIMIT 3');
    [changing, deletedEarly, deletedLate] = docs.map((d) => String(d.Id)) as [string, string, string];
    changingStamps.push(sfTime(docs[0]!.SystemModstamp));
    deletedLateStamps = [sfTime(docs[2]!.SystemModstamp)];

    await backup();
    // Five steps of 35 days: the document changes, the org has activity, a backup follows.
    for (let step = 1; step <= 5; step++) {
      await advanceDays(35);
      await change(String(step));
      if (step === 2) await org.rest('DELETE', `/sobjects/Document/${deletedEarly}`);
      if (step === 5) {
        await org.rest('DELETE', `/sobjects/Document/${deletedLate}`);
        deletedLateStamps.unshift(await stampOf(deletedLate));
      }
      await org.admin('POST', '/activity', { changes: 40, seed: `retention-${step}` });
      await org.admin('POST', '/clock', { advanceSeconds: 60 });
      await backup();
    }
    // The same day, twice more, an hour apart, each backed up.
    for (const step of ['5b', '5c']) {
      await org.admin('POST', '/clock', { advanceSeconds: 3600 });
      await change(step);
      await org.admin('POST', '/clock', { advanceSeconds: 60 });
      await backup();
    }
  });

  after(async () => {
    await emu?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('the backups hold every version of the tracked documents', async () => {
    await withVault(async (vault) => {
      assert.deepEqual(await stampsInVault(vault, changing), [...changingStamps].reverse());
      assert.deepEqual(await stampsInVault(vault, deletedLate), deletedLateStamps);
      assert.equal((await vault.store.versionsOf(registration.orgId, deletedEarly))[0]?.isDeleted, true);
      assert.equal((await vault.store.filesOf(registration.orgId, changing)).length, changingStamps.length);
    });
  });

  test('retention set refuses bad values with exit 2, then saves and shows the policy', async () => {
    const negative = await run(['retention', 'set', '--org', 'demo', '--keep-daily', '-1']);
    assert.equal(negative.code, 2);
    assert.match(negative.stderr, /--keep-daily -1 is not a whole number/);
    const huge = await run(['retention', 'set', '--org', 'demo', '--keep-all-days', '99999']);
    assert.equal(huge.code, 2);
    assert.match(huge.stderr, /--keep-all-days must be a whole number from 0 to 36,500, not 99999/);
    const word = await run(['retention', 'set', '--org', 'demo', '--keep-file-days', 'forever']);
    assert.equal(word.code, 2);
    assert.match(word.stderr, /--keep-file-days forever is not a whole number or "off"/);
    const nothing = await run(['retention', 'set', '--org', 'demo']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /Give at least one setting to change/);
    const noPolicy = await run(['forget', '--org', 'demo', '--dry-run']);
    assert.equal(noPolicy.code, 2);
    assert.match(noPolicy.stderr, /has no retention policy, so forget would keep everything/);

    const set = ok(await run(['retention', 'set', '--org', 'demo', '--keep-all-days', '20', '--keep-monthly', '3', '--keep-deleted-days', '60', '--keep-file-versions', '2', '--json']));
    assert.deepEqual(json<{ settings: unknown }>(set).settings, { keepAllDays: 20, keepMonthly: 3, keepDeletedDays: 60, keepFileVersions: 2 });
    const shown = ok(await run(['retention', 'show']));
    assert.match(shown.stdout, /demo:\n {2}Keep every version of the last 20 days; 3 monthly; the latest version of every record and metadata component; deleted records kept 60 days after their deletion; files of kept versions, the last 2 of each file\./);
  });

  let dry: ForgetReport;
  test('forget --dry-run shows what would go, record by record with --json, and removes nothing', async () => {
    const countsBefore = await withVault((vault) => vault.store.countVersions(registration.orgId));
    const human = ok(await run(['forget', '--org', 'demo', '--dry-run']));
    assert.match(human.stdout, /^Dry run of forget for demo \(run [0-9a-f-]{36}\), ages counted from /);
    assert.match(human.stdout, /^Document +\d/m);
    assert.match(human.stdout, /versions would be removed/);
    // The class keeps what the document does: the last day's 3 versions and 2 monthly.
    assert.match(human.stdout, /^Metadata: 3 of 8 component versions would be removed; 5 kept across 1 components\.$/m);
    dry = json<{ orgs: ForgetReport[] }>(ok(await run(['forget', '--org', 'demo', '--dry-run', '--json']))).orgs[0]!;
    assert.equal(dry.dryRun, true);
    // Ages count from the newest change the vault holds: the org's clock runs months ahead of this machine's.
    assert.ok(Date.parse(dry.asOf) >= changingStamps[changingStamps.length - 1]!);
    const documents = dry.objects.find((o) => o.objectName === 'Document')!;
    const detail = new Map(documents.detail!.map((d) => [d.recordId, d]));
    // Kept: the three of the last day (within 20 days, the newest also the month's), and the last
    // of each of the two months before (35 days apart, so each its own month). The rest goes.
    const newestFirst = [...changingStamps].reverse();
    assert.deepEqual(
      detail.get(changing)?.kept.map((k) => k.systemModstamp),
      newestFirst.slice(0, 5).map(iso),
    );
    assert.deepEqual(detail.get(changing)?.kept.map((k) => k.reasons), [['latest', 'within', 'monthly'], ['within'], ['within'], ['monthly'], ['monthly']]);
    assert.deepEqual(detail.get(changing)?.removed.map((r) => r.systemModstamp), newestFirst.slice(5).map(iso));
    // Their bodies go with them: the file rule keeps the last two, and those of kept versions.
    assert.deepEqual(detail.get(changing)?.filesRemoved.map((f) => f.systemModstamp), newestFirst.slice(5).map(iso));
    assert.equal(detail.get(deletedEarly)?.wholeRecord, true, 'deleted about 105 days ago: goes whole');
    assert.equal(detail.has(deletedLate), false, 'deleted 35 days ago: kept with its history');
    const accounts = dry.objects.find((o) => o.objectName === 'Account')!;
    assert.ok(accounts.versionsRemoved > 0, 'months of activity leave Account versions to forget');
    assert.deepEqual(await withVault((vault) => vault.store.countVersions(registration.orgId)), countsBefore);
  });

  let blobsOfForgotten: string[] = [];
  test('forget removes exactly what the dry run showed; each record keeps the versions it should', async () => {
    blobsOfForgotten = await withVault(async (vault) => {
      const files = [...(await vault.store.filesOf(registration.orgId, changing)), ...(await vault.store.filesOf(registration.orgId, deletedEarly))];
      const kept = new Set(changingStamps.slice(-5));
      return files.filter((f) => f.recordId === deletedEarly || !kept.has(f.systemModstamp)).map((f) => f.address);
    });
    const countsBefore = await withVault((vault) => vault.store.countVersions(registration.orgId));
    const report = json<{ orgs: ForgetReport[] }>(ok(await run(['forget', '--org', 'demo', '--json']))).orgs[0]!;
    assert.equal(report.status, 'Succeeded');
    assert.deepEqual(report.totals, dry.totals);
    await withVault(async (vault) => {
      for (const object of dry.objects) {
        for (const d of object.detail!) {
          const remaining = (await stampsInVault(vault, d.recordId)).map(iso);
          assert.deepEqual(remaining, d.wholeRecord ? [] : d.kept.map((k) => k.systemModstamp), `${object.objectName} ${d.recordId}`);
        }
      }
      assert.deepEqual(await stampsInVault(vault, changing), [...changingStamps].reverse().slice(0, 5));
      assert.deepEqual(await stampsInVault(vault, deletedLate), deletedLateStamps);
      assert.deepEqual(await vault.store.filesOf(registration.orgId, deletedEarly), []);
      assert.deepEqual(
        (await vault.store.filesOf(registration.orgId, changing)).map((f) => f.systemModstamp),
        [...changingStamps].reverse().slice(0, 5),
      );
      // The latest version of the changed document still reads whole, with its body.
      const latest = (await vault.store.versionsOf(registration.orgId, changing))[0]!;
      assert.equal(latest.fields.Description, 'step 5c');
      assert.deepEqual(await vault.store.countVersions(registration.orgId), {
        records: countsBefore.records - dry.totals.recordsRemoved,
        versions: countsBefore.versions - dry.totals.versionsRemoved,
      });
      const run = (await vault.store.listRuns({ kind: 'forget', limit: 1 }))[0]!;
      assert.deepEqual([run.status, run.counters.versionsRemoved], ['Succeeded', dry.totals.versionsRemoved]);
    });
    // Metadata goes as the dry run said: what is left is what it kept.
    assert.deepEqual([report.metadata?.versionsRemoved, report.metadata?.skipped], [dry.metadata?.versionsRemoved, 0]);
    assert.ok((report.metadata?.contentsRemoved ?? 0) > 0, 'contents of forgotten metadata versions are deleted');
    const chains = await withVault((vault) => vault.store.metadataChains(registration.orgId));
    assert.equal(chains.reduce((n, c) => n + c.versions.length, 0), dry.metadata!.versionsKept);
    assert.deepEqual(chains[0]?.versions.map((v) => v.capturedAt), changedClassAt.slice(-5).reverse());
    const again = json<{ orgs: ForgetReport[] }>(ok(await run(['forget', '--json', '--dry-run']))).orgs[0]!;
    assert.equal(again.totals.versionsRemoved, 0, 'a second forget finds nothing more');
    assert.equal(again.metadata?.versionsRemoved, 0);
  });

  test('prune reclaims the space while a reader streams the vault and reads it consistently; verify passes', async () => {
    const dryRun = json<PruneReport>(ok(await run(['prune', '--dry-run', '--json'])));
    assert.ok(dryRun.packs.unusedPayloads > 0 && dryRun.blobs.orphans >= blobsOfForgotten.length, JSON.stringify(dryRun.packs));

    const reader = await openVault(vaultDir, { passphrase: PASSPHRASE }, { readonly: true });
    try {
      const snapshot = async (): Promise<string> => {
        const rows: string[] = [];
        for (const object of OBJECTS) for await (const v of reader.store.latestVersions(registration.orgId, object, { includeDeleted: true })) rows.push(`${v.recordId} ${v.systemModstamp} ${JSON.stringify(v.fields)}`);
        for (const v of await reader.store.versionsOf(registration.orgId, changing)) rows.push(`${v.systemModstamp} ${JSON.stringify(v.fields)}`);
        return rows.join('\n');
      };
      const expected = await snapshot();
      let finished = false;
      const pruning = run(['prune', '--json']).finally(() => {
        finished = true;
      });
      let reads = 0;
      while (!finished) {
        assert.equal(await snapshot(), expected, `read ${reads + 1} beside prune`);
        reads++;
        // Reads are synchronous underneath: let the event loop see the child exit.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const result = ok(await pruning);
      assert.equal(await snapshot(), expected, 'read after prune');
      assert.ok(reads >= 1);
      const report = json<PruneReport>(result);
      assert.equal(report.status, 'Succeeded', report.message ?? '');
      const r = report.repack!;
      assert.ok(r.packsRewritten + r.packsDeleted > 0 && r.sealedBytesAfter < r.sealedBytesBefore, JSON.stringify(r));
      assert.equal(r.payloadsDropped, dryRun.packs.unusedPayloads);
      assert.ok(report.catalog.after.bytes < report.catalog.before.bytes, `catalog ${report.catalog.before.bytes} → ${report.catalog.after.bytes}`);
      assert.equal(report.blobs.deleted, dryRun.blobs.orphans);
      for (const address of blobsOfForgotten) assert.equal(await reader.blobs.has(address), false, `blob ${address} of a forgotten version`);
    } finally {
      await reader.close();
    }
    const verify = ok(await run(['verify', '--read-data', '--json']));
    const checked = json<{ ok: boolean; counters: { packsChecked: number; blobsRead: number } }>(verify);
    assert.equal(checked.ok, true);
    assert.ok(checked.counters.packsChecked > 0 && checked.counters.blobsRead > 0);
  });

  test('purge refuses without --yes, saying what it would delete; with --yes no trace of the record remains', async () => {
    const before = await withVault(async (vault) => ({
      files: await vault.store.filesOf(registration.orgId, deletedLate),
      changing: await vault.store.versionsOf(registration.orgId, changing),
      counts: await vault.store.countVersions(registration.orgId, 'Document'),
    }));
    assert.ok(before.files.length > 0);
    const refused = await run(['purge', '--org', 'demo', '--object', 'Document', '--id', deletedLate.slice(0, 15)]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /purge would delete 1 Document record\(s\) of demo from the vault forever: 2 version\(s\) and \d+ file version\(s\) .*Nothing was deleted\..*--yes/);
    assert.equal(await withVault(async (vault) => (await vault.store.versionsOf(registration.orgId, deletedLate)).length), 2);

    const purged = json<PurgeReport>(ok(await run(['purge', '--org', 'demo', '--object', 'Document', '--id', deletedLate, '--yes', '--json'])));
    assert.deepEqual([purged.status, purged.records, purged.removed?.versions, purged.removed?.files], ['Succeeded', 1, 2, before.files.length]);
    assert.equal(JSON.stringify(purged).includes(deletedLate), false, 'the JSON output does not list the IDs');
    await withVault(async (vault) => {
      assert.deepEqual(await vault.store.versionsOf(registration.orgId, deletedLate), []);
      assert.deepEqual(await vault.store.filesOf(registration.orgId, deletedLate), []);
      for (const f of before.files) assert.equal(await vault.blobs.has(f.address), false);
      assert.deepEqual(await vault.store.versionsOf(registration.orgId, changing), before.changing);
      assert.deepEqual(await vault.store.countVersions(registration.orgId, 'Document'), { records: before.counts.records - 1, versions: before.counts.versions - 2 });
      const entry = (await vault.store.listAudit()).find((a) => a.action === 'records.purge')!;
      assert.deepEqual([entry.actor, entry.target, entry.details.objectName, entry.details.records], ['cli', 'demo', 'Document', 1]);
      const logged = JSON.stringify([await vault.store.listAudit(), await vault.store.listRuns({ kind: 'purge' })]);
      assert.equal(logged.includes(deletedLate) || logged.includes(deletedLate.slice(0, 15)), false, 'the logs never name the purged record');
    });
    ok(await run(['verify', '--read-data']));
  });

  test('bad flags of forget, prune and purge exit 2 with a message naming what to fix', async () => {
    const idsFile = join(scratch, 'ids.csv');
    await writeFile(idsFile, 'Id,Name\nnot-an-id,x\n');
    const cases: [string[], RegExp][] = [
      [['forget', '--org', 'nosuch'], /No org named "nosuch" in this vault/],
      [['forget', '--object', 'Account'], /--object needs --org/],
      [['forget', '--org', 'demo', '--object', 'Nope__c', '--dry-run'], /The vault holds no Nope__c for demo/],
      [['prune', '--wait', 'soon'], /--wait soon is not a number of seconds/],
      [['purge', '--org', 'demo', '--id', changing], /required option '--object <name>' not specified/],
      [['purge', '--org', 'demo', '--object', 'Document'], /Name the records to purge: --id ID/],
      [['purge', '--org', 'demo', '--object', 'Nope__c', '--id', changing, '--yes'], /The vault holds no Nope__c for demo/],
      [['purge', '--org', 'demo', '--object', 'Document', '--id', 'notanid', '--yes'], /"notanid" is not a Salesforce record ID/],
      [['purge', '--org', 'demo', '--object', 'Document', '--ids-file', idsFile, '--yes'], /"not-an-id" is not a Salesforce record ID/],
      [['purge', '--org', 'demo', '--object', 'Document', '--where', 'Nmae = x', '--yes'], /the object has no field "Nmae" \(did you mean Name\?\)/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      assert.equal(result.code, 2, `${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
    // Nothing was changed by any of them.
    assert.equal(await withVault(async (vault) => (await vault.store.versionsOf(registration.orgId, changing)).length), 5);
  });
});
