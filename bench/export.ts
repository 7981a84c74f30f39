/**
 * Exporting the `bench` profile to Parquet: the org is seeded in an emulator of its own process
 * and backed up into a new SQLite vault (as the backup bench does), the emulator stopped, then the
 * latest state of every object is exported to a folder in a process of its own (peak memory is
 * the export's alone): records per second, peak memory and the output's size. DuckDB then reads
 * the export through its views script and must count every record, so a fast but wrong export
 * cannot pass.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { heapArgs } from '../bin/heap-limit.js';
import type { BackupResult } from '../src/backup/index.ts';
import { generateKeyFileContent } from '../src/crypto/keys.ts';
import { DUCKDB_SCRIPT } from '../src/export/duckdb-script.ts';
import type { ExportResult } from '../src/export/index.ts';
import type { BenchSection } from './harness.ts';
import { mib, rate, seconds, startEmulatorChild } from './harness.ts';
import type { BenchOptions } from './run.ts';

const BACKUP_CHILD = fileURLToPath(new URL('./backup-child.ts', import.meta.url));
const EXPORT_CHILD = fileURLToPath(new URL('./export-child.ts', import.meta.url));

interface ExportOutcome {
  result: ExportResult;
  wallSeconds: number;
  maxRssBytes: number;
  outputBytes: number;
}

export async function exportBench(options: BenchOptions): Promise<BenchSection> {
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-bench-export-'));
  try {
    const env = { BENCH_VAULT: join(dir, 'vault'), BENCH_KEY: Buffer.from(generateKeyFileContent()).toString('base64'), BENCH_OUT: join(dir, 'export') };
    const emulator = await startEmulatorChild(['--profile', 'bench', '--scale', String(options.scale), '--port', '0'], ['--max-old-space-size=4096', '--max-semi-space-size=64']);
    let backup: { result: BackupResult; wallSeconds: number };
    const org = JSON.stringify(emulator.info);
    try {
      backup = await runChild<{ result: BackupResult; wallSeconds: number }>(BACKUP_CHILD, heapArgs(), { ...env, BENCH_ORG: org });
    } finally {
      // The export reads the vault only: the emulator's memory is given back first.
      await emulator.stop();
    }
    if (backup.result.status !== 'Succeeded') throw new Error(`the backup before the export ended ${backup.result.status}: ${backup.result.message ?? ''}`);
    const loadBefore = loadavg()[0]!;
    const exported = await runChild<ExportOutcome>(EXPORT_CHILD, [], { ...env, BENCH_ORG: org });
    const loadAfter = loadavg()[0]!;
    // The same export as CSV: what reading the vault costs, against which Parquet's encoding shows.
    const csv = await runChild<ExportOutcome>(EXPORT_CHILD, [], { ...env, BENCH_ORG: org, BENCH_FORMAT: 'csv', BENCH_OUT: join(dir, 'export-csv') });
    const rows = exported.result.counters.rows;
    const counted = await countWithDuckdb(env.BENCH_OUT);
    if (counted.rows !== rows) throw new Error(`DuckDB counted ${counted.rows} rows in the export, which wrote ${rows}`);
    return {
      title: 'Export: the bench profile to Parquet',
      description:
        `The \`bench\` profile at scale ${options.scale.toLocaleString('en-US')}, backed up into a new SQLite vault, then the latest state of every object (${exported.result.counters.objects} objects) ` +
        `exported to Parquet in a folder (\`orgvault export --format parquet\`: one file per object, typed columns, row groups of up to 100,000 rows and 1,000,000 values, Snappy) by a process of its own with Node's default heap; ` +
        'peak memory is its resident high-water mark (getrusage maxrss). DuckDB then loads the export\'s `duckdb.sql` and counts every view, which must give the rows written.',
      figures: [
        { name: 'records exported', value: rows.toLocaleString('en-US') },
        { name: 'export', value: `${seconds(exported.wallSeconds)}: ${rate(rows, exported.wallSeconds)}` },
        { name: 'peak memory of the export process', value: mib(exported.maxRssBytes), aim: '< 512 MiB', met: exported.maxRssBytes < 512 * 2 ** 20 },
        { name: 'output size (Parquet + duckdb.sql + manifest.json)', value: `${mib(exported.outputBytes)} (${(exported.outputBytes / rows).toFixed(0)} bytes a record)` },
        { name: 'the same export as CSV, for comparison', value: `${seconds(csv.wallSeconds)}: ${rate(csv.result.counters.rows, csv.wallSeconds)}, peak ${mib(csv.maxRssBytes)}, ${mib(csv.outputBytes)}` },
        { name: 'DuckDB: load duckdb.sql and count every view', value: `${counted.rows.toLocaleString('en-US')} rows in ${seconds(counted.seconds)}` },
        { name: 'backup before the export (not part of the figures)', value: seconds(backup.wallSeconds) },
      ],
      notes: [
        `Export run status: ${exported.result.status}.`,
        'Most of an export is reading the vault (inflating and decrypting packs, materialising versions) and garbage collection, whatever the format: the CSV export of the same vault shows that part.',
        "This process runs with Node's default heap, so V8 collects late and the peak includes garbage not yet collected; `orgvault export` itself runs under the backup's heap limit (--max-old-space-size=320), with which the same export peaked at 350 MiB.",
        `Load average (1 min) before and after the export: ${loadBefore.toFixed(1)} and ${loadAfter.toFixed(1)} on ${cpus().length} cores; other work on the machine slows every figure.`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runChild<T>(script: string, nodeArgs: string[], env: Record<string, string>): Promise<T> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${script} exited with ${String(code)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

/** Every view of the export's DuckDB script, counted: the rows DuckDB finds in the export. */
async function countWithDuckdb(folder: string): Promise<{ rows: number; seconds: number }> {
  const started = process.hrtime.bigint();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`SET file_search_path = '${folder.replaceAll("'", "''")}'`);
    await connection.run(await readFile(join(folder, DUCKDB_SCRIPT), 'utf8'));
    const views = (await connection.runAndReadAll('SHOW TABLES')).getRowObjects().map((r) => String(r.name));
    let rows = 0;
    for (const view of views) rows += Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM "${view.replaceAll('"', '""')}"`)).getRowObjects()[0]!.n);
    return { rows, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
