/**
 * The `orgvault` command line: wires commands and maps errors to exit codes in one place.
 * Each command lives in its own folder and only parses options and calls use cases.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, OrgvaultError } from '../core/errors.ts';
import { registerArchiveCommand } from './archive/index.ts';
import { registerBackupCommand } from './backup/index.ts';
import { registerCompareCommand } from './compare/index.ts';
import { registerDemoCommand } from './demo/index.ts';
import { registerExportCommand } from './export/index.ts';
import { registerForgetCommand } from './forget/index.ts';
import { registerHistoryCommand } from './history/index.ts';
import { registerInitCommand } from './init/index.ts';
import { registerKeyCommand } from './key/index.ts';
import { registerLogsCommand } from './logs/index.ts';
import { registerNotifyCommand } from './notify/index.ts';
import { registerOrgCommand } from './org/index.ts';
import { registerPermissionsCommand } from './permissions/index.ts';
import { registerMetadataCommand } from './metadata/index.ts';
import { registerPruneCommand } from './prune/index.ts';
import { registerPurgeCommand } from './purge/index.ts';
import { registerRecoveryPointCommand } from './recovery-point/index.ts';
import { registerRestoreCommand } from './restore/index.ts';
import { registerSearchCommand } from './search/index.ts';
import { registerRetentionCommand } from './retention/index.ts';
import { registerScheduleCommand } from './schedule/index.ts';
import { registerSchedulerCommand } from './scheduler/index.ts';
import { registerServeCommand } from './serve/index.ts';
import { registerStatusCommand } from './status/index.ts';
import { registerCdcCommand, registerStreamCommand } from './stream/index.ts';
import { registerUserCommand } from './user/index.ts';
import { registerVerifyCommand } from './verify/index.ts';
import { registerWorkerCommand } from './worker/index.ts';
import { registerQueueCommand } from './queue/index.ts';
import { registerMigrateCommand } from './migrate/index.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('orgvault')
  .description('Self-hosted backup and restore for Salesforce orgs.')
  .version(pkg.version)
  .option('--json', 'print one JSON document on stdout; progress and logs go to stderr')
  .option('--vault <dir>', 'the vault directory (default: ORGVAULT_HOME, else ./.orgvault)')
  .option('--key-file <file>', 'open the vault with this key file instead of a passphrase (default: ORGVAULT_KEY_FILE); the passphrase comes from ORGVAULT_PASSPHRASE or a prompt')
  .option('--store <url>', 'keep the catalog in PostgreSQL: postgres://user@host:5432/db?schema=NAME (default: ORGVAULT_STORE, else storage.json, else the vault directory\'s SQLite catalog)')
  .option('--blobs <url>', 'keep file bodies in S3-compatible storage: s3://bucket/prefix?endpoint=URL&region=R (default: ORGVAULT_BLOBS, else storage.json, else the vault directory)')
  .showHelpAfterError()
  .exitOverride();

registerDemoCommand(program);
registerInitCommand(program);
registerKeyCommand(program);
registerOrgCommand(program);
registerVerifyCommand(program);
registerMigrateCommand(program);
registerBackupCommand(program);
registerStatusCommand(program);
registerHistoryCommand(program);
registerSearchCommand(program);
registerLogsCommand(program);
registerServeCommand(program);
registerCompareCommand(program);
registerRestoreCommand(program);
registerExportCommand(program);
registerArchiveCommand(program);
registerRetentionCommand(program);
registerScheduleCommand(program);
registerSchedulerCommand(program);
registerNotifyCommand(program);
registerForgetCommand(program);
registerPruneCommand(program);
registerPurgeCommand(program);
registerStreamCommand(program);
registerCdcCommand(program);
registerRecoveryPointCommand(program);
registerUserCommand(program);
registerPermissionsCommand(program);
registerMetadataCommand(program);
registerWorkerCommand(program);
registerQueueCommand(program);

try {
  await program.parseAsync();
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are not failures; commander has printed them already.
    if (error.exitCode === 0) return ExitCode.Success;
    printJsonError('USAGE', error.message, ExitCode.Usage);
    return ExitCode.Usage;
  }
  if (error instanceof OrgvaultError) {
    process.stderr.write(`orgvault: ${error.message}\n`);
    printJsonError(error.code, error.message, error.exitCode);
    return error.exitCode;
  }
  process.stderr.write(`orgvault: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.Failed;
}

/** With --json, scripts get the error as the one JSON document on stdout too. */
function printJsonError(code: string, message: string, exitCode: number): void {
  if (program.opts().json) process.stdout.write(`${JSON.stringify({ error: { code, message, exitCode } }, null, 2)}\n`);
}
