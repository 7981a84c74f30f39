/**
 * The `orgvault` command line: wires commands and maps errors to exit codes in one place.
 * Each command lives in its own folder and only parses options and calls use cases.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, OrgvaultError } from '../core/errors.ts';
import { registerDemoCommand } from './demo/index.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('orgvault')
  .description('Self-hosted backup and restore for Salesforce orgs.')
  .version(pkg.version)
  .option('--json', 'print one JSON document on stdout; progress and logs go to stderr')
  .showHelpAfterError()
  .exitOverride();

registerDemoCommand(program);

try {
  await program.parseAsync();
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are not failures; commander has printed them already.
    return error.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
  }
  if (error instanceof OrgvaultError) {
    process.stderr.write(`orgvault: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`orgvault: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.Failed;
}
