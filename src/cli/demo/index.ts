/**
 * `orgvault demo`: the main job end to end on the embedded default. Starts an emulated org with
 * the demo profile, makes a vault, connects the org, runs the full backup, simulates a day of
 * activity (edits, bulk updates, deletes, undeletes), runs the incremental backup, restores the
 * accounts the day deleted, shows the status and the last log, then serves the dashboard on the
 * vault (with a login made for it) until Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { BackupResult, StatusReport } from '../../backup/index.ts';
import type { RestoreReport } from '../../restore/index.ts';
import { OrgvaultError, UsageError } from '../../core/errors.ts';
import { generateKeyFileContent } from '../../crypto/keys.ts';
import { initVault, openVault } from '../../store/vault.ts';
import { formatBytes, table } from '../format.ts';
import { globalOptions } from '../vault-options.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('back up an emulated Salesforce org with demo data, change it for a day, back it up again, restore what the day deleted, and serve the dashboard')
    .option('--seed <seed>', 'seed for the emulated org', '1')
    .option('--changes <n>', 'changes made during the simulated day', '400')
    .option('--no-serve', 'end after the backups, without serving the dashboard')
    .action(async (flags: { seed: string; changes: string; serve: boolean }, command: Command) => {
      const options = globalOptions(command);
      const changes = Number(flags.changes);
      if (!Number.isInteger(changes) || changes < 0) throw new UsageError(`--changes ${flags.changes} is not a whole number of changes.`);
      // Loaded on use: jsforce and the backup engine would slow every other command's start-up.
      const { startEmulatorProcess } = await import('../emulator-process.ts');
      const { runBackup, resolveSettings, statusReport, jobLog } = await import('../../backup/index.ts');
      const { backupProgress } = await import('../progress.ts');
      const { addOrgToVault, connectToOrg } = await import('../vault-session.ts');
      const { DEFAULT_PLAN_OPTIONS, runRestore, selectVersions } = await import('../../restore/index.ts');
      const json = Boolean(options.json);
      const say = (line = ''): void => {
        process.stderr.write(`${line}\n`);
      };

      say('Starting the Salesforce org emulator (demo profile)…');
      const emulator = await startEmulatorProcess(['--profile', 'demo', '--seed', flags.seed, '--port', '0']);
      try {
        const { connection } = emulator;
        say(`Emulated org ${connection.orgId} at ${connection.instanceUrl}`);

        // The demo's own vault: the one named by --vault or ORGVAULT_HOME, else a fresh temporary one.
        const dir = options.vault ?? process.env.ORGVAULT_HOME ?? (await mkdtemp(join(tmpdir(), 'orgvault-demo-')));
        const vaultDir = resolve(dir);
        const keyFile = Buffer.from(generateKeyFileContent());
        const keyPath = join(dirname(vaultDir), `${basename(vaultDir)}.key`);
        await initVault(vaultDir, { keyFile });
        await writeFile(keyPath, keyFile, { mode: 0o600 });
        say(`Created a vault in ${vaultDir}, locked by the key file ${keyPath}`);

        const vault = await openVault(vaultDir, { keyFile });
        const runs: BackupResult[] = [];
        let status: StatusReport;
        let log;
        let restored: RestoreReport | undefined;
        try {
          const org = await addOrgToVault(vault, 'demo', {
            kind: 'password',
            loginUrl: connection.loginUrl,
            clientId: connection.clientId,
            clientSecret: connection.clientSecret,
            username: connection.username,
            password: connection.password,
          });
          say(`Connected org "demo" as ${connection.username} (username-password OAuth; the secrets are sealed in the vault)`);
          // Deletes are checked on every run here (by default once a day), so that the day's
          // deletes show in the incremental run.
          const settings = resolveSettings({ deletedCheckIntervalMs: 0 });
          const backup = async (title: string): Promise<BackupResult> => {
            say('');
            say(title);
            const client = await connectToOrg(vault, org);
            const progress = backupProgress();
            try {
              const result = await runBackup({ store: vault.store, blobs: vault.blobs, client, onEvent: (e) => progress.onEvent(e) }, { org, settings, startedBy: 'demo' });
              progress.close();
              say(`  ${result.status}: ${result.counters.records} records read, ${result.counters.versions} new versions, ${result.counters.files} files, ${result.counters.deletes} deletes, ${result.apiCalls} API calls`);
              return result;
            } finally {
              progress.close();
            }
          };
          runs.push(await backup('Full backup (the first run backfills every object):'));

          say('');
          say(`Simulating a day in the org: ${changes} changes (edits, bulk updates, deletes with cascades, undeletes)…`);
          // The emulator's clock is this machine's: the day's changes are stamped from now on.
          const activityFrom = Date.now();
          const activity = await admin(connection, 'activity', { changes, seed: `demo-${flags.seed}` });
          say(`  ${JSON.stringify(activity)}`);
          runs.push(await backup('Incremental backup (only what changed since the watermark):'));

          // The accounts the day deleted, back with their children: undeleted from the Recycle Bin.
          const deleted = await selectVersions(vault.store, { orgId: org.orgId, objectName: 'Account', changeTypes: ['deleted'], from: activityFrom });
          if (deleted.length > 0) {
            say('');
            say(`Restoring the ${deleted.length} account(s) deleted today, with their children (orgvault restore --object Account --change-type deleted --children 1):`);
            restored = await runRestore(
              { store: vault.store, blobs: vault.blobs, client: await connectToOrg(vault, org) },
              {
                org,
                selection: { objectName: 'Account', changeTypes: ['deleted'], from: activityFrom },
                parents: 0,
                children: 1,
                dryRun: false,
                plan: { ...DEFAULT_PLAN_OPTIONS, missingRecordType: { kind: 'default' } },
                allowDuplicates: false,
                bulkThreshold: 2000,
                matchOn: {},
                maskKey: null,
              },
            );
            const c = restored.counts;
            say(`  ${restored.status}: ${c.Undeleted} undeleted, ${c.Created} created, ${c.Updated} updated, ${c.Skipped} skipped, ${c.Failed} failed`);
          }

          status = await statusReport(vault.store, org);
          log = await jobLog(vault.store, runs[1]!.runId);
        } finally {
          await vault.close();
        }

        if (json) {
          process.stdout.write(`${JSON.stringify({ vault: vaultDir, keyFile: keyPath, runs, status, log, restore: restored && { runId: restored.runId, status: restored.status, counts: restored.counts } }, null, 2)}\n`);
          return;
        }
        const t = status.totals;
        const env = `ORGVAULT_HOME=${vaultDir} ORGVAULT_KEY_FILE=${keyPath}`;
        const changed = log.objects.filter((o) => (o.counters.versions ?? 0) > 0 || (o.counters.deletes ?? 0) > 0);
        const lines = [
          '',
          `Org demo: ${status.status}. ${t.records.toLocaleString('en-US')} records, ${t.versions.toLocaleString('en-US')} versions, ${t.files} files (${formatBytes(t.fileBytes)}) in ${t.objectsBackedUp} objects.`,
          '',
          `Last log: run ${log.runId} ${log.status}, ${log.counters.apiCalls} API calls; objects with changes:`,
          ...table(
            ['Object', 'Status', 'Records read', 'New versions', 'Deletes', 'API calls'],
            changed.map((o) => [o.name, o.status, String(o.counters.records ?? 0), String(o.counters.versions ?? 0), String(o.counters.deletes ?? 0), String(o.counters.apiCalls ?? 0)]),
          ),
          '',
          'What to try next (the vault stays; the emulated org stops with this demo):',
          `  ${env} npx orgvault status              # the objects table`,
          `  ${env} npx orgvault logs ${log.runId}   # the incremental run's log`,
          `  ${env} npx orgvault history <record ID>  # every version of a record`,
          ...(restored ? [`  ${env} npx orgvault logs ${restored.runId}   # the restore's report: every record, with cause and fix for failures`] : []),
          `  ${env} npx orgvault restore --object Contact --change-type deleted --children 1 --list   # deleted contacts, ready to restore`,
          `  ${env} npx orgvault compare --object Account --run-a ${runs[0]!.runId} --run-b ${log.runId}   # what changed between the two backups`,
          '  npx orgvault-emulator --profile demo     # run an emulated org yourself; it prints its URL and credentials',
          '  npm test                                 # the test suite, against the emulator',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        if (flags.serve) await serveDashboard(vaultDir, keyFile, say);
      } finally {
        await emulator.stop();
      }
    });
}

/**
 * Ends the demo by serving the dashboard on the demo's vault, with a user made for it, until
 * Ctrl-C; the emulated org keeps running meanwhile, so backups and restores work from the browser.
 */
async function serveDashboard(vaultDir: string, keyFile: Buffer, say: (line?: string) => void): Promise<void> {
  const { addUser } = await import('../../users/index.ts');
  const { serveVault } = await import('../serve/http-server.ts');
  const vault = await openVault(vaultDir, { keyFile });
  try {
    // A login for this demo vault only; it is printed because it exists to be typed in.
    const password = randomBytes(12).toString('base64url');
    await addUser({ store: vault.store, actor: 'demo' }, 'admin', 'administrator', password);
    await serveVault(vault, { port: 0, host: '127.0.0.1' }, (url) => {
      process.stdout.write(`\nThe dashboard: ${url}  (sign in as admin, password ${password}; the API is described at ${url}/openapi.json)\nCtrl-C ends the demo.\n`);
    });
    say('Stopping the dashboard and the emulated org…');
  } finally {
    await vault.close();
  }
}

/** The emulator's admin API (by URL, as for any org): moves its clock and makes activity. */
async function admin(connection: { loginUrl: string; adminToken: string }, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${connection.loginUrl}/__emulator/${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${connection.adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new OrgvaultError('EMULATOR', `The emulator's ${path} endpoint answered ${response.status}: ${await response.text()}`);
  return response.json();
}
