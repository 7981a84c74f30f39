/**
 * `orgvault export --org NAME [--object X…] --format csv|sql|parquet --out DIR | --zip FILE`:
 * the backed-up records as Data Loader CSV, SQL for PostgreSQL or MySQL, or Parquet; the latest
 * state, the state at a time, every version, or what changed since the last export or a backup
 * run; optionally with the file bodies, and packed into one AES-256 zip. Every export is a run in
 * `orgvault logs`. Exit 0 when all is written, 1 when some file bodies could not be read, 2 on
 * bad usage, 3 when the export failed.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { FORMAT_NAMES, MIN_ZIP_PASSWORD, SQL_DIALECTS, folderTarget, planExport, runExport, zipFileTarget } from '../../export/index.ts';
import type { ExportEvent, ExportResult } from '../../export/index.ts';
import { formatBytes, table } from '../format.ts';
import { listOption } from '../option-lists.ts';
import { canPrompt, promptSecret } from '../secret-prompt.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';
import { exportFlagsAt } from '../recovery-point/flags.ts';
import { exportRequestOf, formatOf, outputOf, scopeOf } from '../../export/request.ts';
import type { ExportFlags } from '../../export/request.ts';

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('export backed-up records as CSV (Data Loader), SQL (PostgreSQL, MySQL) or Parquet, to a folder or an encrypted zip')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--object <names>', 'only these objects, by API name (repeat, or commas; default: every object with records in the vault)', listOption)
    .addOption(new Option('--format <format>', 'csv: one Data Loader CSV per object; sql: CREATE TABLE and INSERTs per object and a load.sql; parquet: typed columns and a DuckDB script').choices([...FORMAT_NAMES]).default('csv'))
    .addOption(new Option('--dialect <dialect>', 'with --format sql: the database (default postgres)').choices([...SQL_DIALECTS]))
    .option('--out <dir>', 'write into this folder (new or empty)')
    .option('--zip <file>', 'write one AES-256 zip protected by a password instead (entry names, such as file names, stay readable)')
    .option('--password-file <file>', `with --zip: read the password from this file (else ORGVAULT_EXPORT_PASSWORD, else a prompt; at least ${MIN_ZIP_PASSWORD} characters)`)
    .option('--as-of <time>', 'each record as it was at this time (ISO-8601; default: the latest state)')
    .option('--recovery-point <id>', 'the objects of this recovery point as of its time (`orgvault recovery-point list`); --object narrows them')
    .option('--all-versions', 'every backed-up version, with _version_seq, _system_modstamp, _change_type, _is_deleted, _captured_at and _run_id columns')
    .option('--since-last-export', 'the versions captured since the last export of each object (every version the first time)')
    .option('--since-run <runId>', 'the versions one backup run captured')
    .option('--include-deleted', 'with the latest state or --as-of: also records deleted by then (IsDeleted true)')
    .option('--files', 'also the file bodies of the ContentVersion, Attachment and Document records exported, as files/<Object>/<RecordId>/<name>')
    .option('--force', 'write into a folder that is not empty, or replace the zip file (files of the same names are replaced)')
    .action(async (flags: ExportFlags, command: Command) => {
      const options = globalOptions(command);
      // Everything the flags alone decide is checked before the vault is opened.
      const format = formatOf(flags);
      scopeOf(flags);
      const output = outputOf(flags);
      const password = output.kind === 'zip' ? await zipPassword(flags.passwordFile) : undefined;
      const result = await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          const request = flags.recoveryPoint === undefined ? flags : await exportFlagsAt(vault.store, org, flags.recoveryPoint, flags);
          const plan = await planExport(vault.store, exportRequestOf(request, org));
          const target = output.kind === 'zip' ? await zipFileTarget(output.file, password!, { force: flags.force }) : await folderTarget(output.dir, { force: flags.force });
          const progress = exportProgress();
          try {
            return await runExport({ store: vault.store, blobs: vault.blobs, onEvent: progress.onEvent }, plan, format, target, {
              startedBy: 'cli',
              parameters: format.name === 'sql' ? { dialect: flags.dialect ?? 'postgres' } : {},
            });
          } finally {
            progress.close();
          }
        },
      );
      printResult(options, result, () => resultLines(result));
      process.exitCode = result.status === 'Succeeded' ? ExitCode.Success : ExitCode.CompletedWithErrors;
    });
}

/** The zip's password: from a file, ORGVAULT_EXPORT_PASSWORD or a prompt; never from the command line. */
async function zipPassword(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let password: string;
  if (file !== undefined) {
    const path = resolve(file);
    try {
      password = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new UsageError(`Cannot read the password file ${path}: ${(error as Error).message}.`, { cause: error });
    }
    if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) warn(`Warning: the password file ${path} can be read by other users; restrict it with \`chmod 600 ${path}\`.`);
  } else if (env.ORGVAULT_EXPORT_PASSWORD) {
    password = env.ORGVAULT_EXPORT_PASSWORD;
  } else if (canPrompt()) {
    password = await promptSecret('Password for the zip: ');
    if (password !== (await promptSecret('Repeat the password: '))) throw new UsageError('The two passwords differ; nothing was exported.');
  } else {
    throw new UsageError('--zip needs a password: pass --password-file FILE, set ORGVAULT_EXPORT_PASSWORD, or run in a terminal to be prompted. A password is never accepted on the command line.');
  }
  if (password.length < MIN_ZIP_PASSWORD) throw new UsageError(`The zip password is too short: use at least ${MIN_ZIP_PASSWORD} characters.`);
  return password;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** Progress on stderr: one line redrawn in place on a terminal; a line per object otherwise. */
function exportProgress(stream: NodeJS.WriteStream = process.stderr): { onEvent(event: ExportEvent): void; close(): void } {
  const tty = stream.isTTY === true;
  let total = 0;
  let done = 0;
  let line = '';
  let drawnAt = 0;
  const draw = (text: string, force = false): void => {
    const now = Date.now();
    if (!force && now - drawnAt < 150) return;
    drawnAt = now;
    line = text.slice(0, (stream.columns || 100) - 1);
    stream.write(`\r\x1b[2K${line}`);
  };
  const clear = (): void => {
    if (line) stream.write('\r\x1b[2K');
    line = '';
  };
  const expected = new Map<string, number | null>();
  return {
    onEvent(event) {
      switch (event.type) {
        case 'run-started':
          total = event.objects;
          stream.write(`Export ${event.runId}: ${total} object(s)\n`);
          return;
        case 'object-started':
          expected.set(event.name, event.expected);
          if (tty) draw(`  [${done + 1}/${total}] ${event.name}…`, true);
          return;
        case 'object-progress': {
          if (!tty) return;
          const aim = expected.get(event.name);
          draw(`  [${done + 1}/${total}] ${event.name}: ${count(event.rows)}${aim ? ` / ${count(aim)}` : ''} rows${event.files ? `, ${count(event.files)} files` : ''}`);
          return;
        }
        case 'object-finished':
          done++;
          if (tty) clear();
          stream.write(`  ${event.name}: ${count(event.rows)} rows${event.files ? `, ${count(event.files)} files` : ''}${event.status === 'Succeeded' ? '' : ` (${event.status}: ${event.message ?? ''})`}\n`);
          return;
      }
    },
    close() {
      if (tty) clear();
    },
  };
}

function resultLines(result: ExportResult): string[] {
  const c = result.counters;
  const lines = [
    `Export ${result.runId}: ${result.status}`,
    `${count(c.objects)} object(s), ${count(c.rows)} row(s)${c.files || result.objects.some((o) => o.files) ? `, ${count(c.files)} file(s) (${formatBytes(c.fileBytes)})` : ''}, ${result.format}, ${result.scope}${result.includeDeleted ? ', deleted records included' : ''}`,
    `Written to ${result.output.location} (${formatBytes(c.bytes)}).`,
    '',
    ...table(
      ['Object', 'Rows', 'Files', 'Status', 'Message'],
      result.objects.map((o) => [o.name, count(o.rows), count(o.files), o.status, o.message ?? '']),
    ),
  ];
  return lines;
}
