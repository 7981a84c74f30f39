/**
 * The backup itself, on the `bench` profile: a full backup (records per second, API calls, peak
 * memory), an incremental run after 0.1% churn, and a run with nothing new; and the full backup's
 * time against simply pulling the same records with jsforce (REST below the bulk threshold, Bulk
 * API 2.0 above it, as the backup chooses) and discarding them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@jsforce/jsforce-node';
import type { BackupResult } from '../src/backup/index.ts';
import { DEFAULT_SETTINGS } from '../src/backup/index.ts';
import { generateKeyFileContent } from '../src/crypto/keys.ts';
import { heapArgs } from '../bin/heap-limit.js';
import type { BenchSection } from './harness.ts';
import { mib, rate, seconds, startEmulatorChild } from './harness.ts';
import type { BenchOptions } from './run.ts';

const CHILD = fileURLToPath(new URL('./backup-child.ts', import.meta.url));
const API_VERSION = '62.0';

interface ChildOutcome {
  result: BackupResult;
  wallSeconds: number;
  maxRssBytes: number;
}

export async function backupBench(options: BenchOptions): Promise<BenchSection> {
  const emulator = await startEmulatorChild(['--profile', 'bench', '--scale', String(options.scale), '--port', '0'], ['--max-old-space-size=4096', '--max-semi-space-size=64']);
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-bench-backup-'));
  try {
    const { info } = emulator;
    const raw = await rawPull(info);
    const env = { BENCH_ORG: JSON.stringify(info), BENCH_VAULT: join(dir, 'vault'), BENCH_KEY: Buffer.from(generateKeyFileContent()).toString('base64') };
    const full = await runChild(env);
    const churn = Math.max(1, Math.round(options.scale / 1000));
    await admin(info, 'activity', { changes: churn, seed: 'bench-churn' });
    const incremental = await runChild(env);
    const quiet = await runChild(env);
    const checked = quiet.result.objects.filter((o) => o.status === 'Waiting').length;
    const quietAim = Math.ceil(checked / 5) + 1;
    const ratio = full.wallSeconds / raw.seconds;
    const records = full.result.counters.records ?? 0;
    return {
      title: 'Backup: full, incremental and quiet runs',
      description:
        `The \`bench\` profile at scale ${options.scale.toLocaleString('en-US')} in an emulator of its own process; each backup in a process of its own (peak memory is its own) with the heap limit \`orgvault backup\` runs with (${heapArgs().join(' ')}), ` +
        `into a new SQLite vault, with the default settings (REST below ${DEFAULT_SETTINGS.bulkThreshold.toLocaleString('en-US')} records, Bulk API 2.0 above, ${DEFAULT_SETTINGS.concurrency} objects side by side). ` +
        `The raw pull reads the same objects and fields with jsforce (REST \`queryAll\` with autoFetch, or \`bulk2.query\`) and discards the records. ` +
        `The incremental run follows ${churn.toLocaleString('en-US')} changes (0.1%) made through the emulator's activity generator; the quiet run follows it with nothing new.`,
      figures: [
        { name: 'records backed up (full)', value: records.toLocaleString('en-US') },
        { name: 'full backup', value: `${seconds(full.wallSeconds)}: ${rate(records, full.wallSeconds)}` },
        { name: 'raw jsforce pull of the same records', value: `${seconds(raw.seconds)}: ${rate(raw.records, raw.seconds)}` },
        { name: 'full backup / raw pull', value: `${ratio.toFixed(2)}×`, aim: '≤ 1.3×', met: ratio <= 1.3 },
        { name: 'API calls (full)', value: String(full.result.apiCalls) },
        { name: 'peak memory of the backup process', value: mib(full.maxRssBytes), aim: '< 512 MiB', met: full.maxRssBytes < 512 * 2 ** 20 },
        { name: 'incremental after 0.1% churn', value: `${seconds(incremental.wallSeconds)}, ${incremental.result.apiCalls} API calls, ${incremental.result.counters.versions ?? 0} new versions` },
        { name: 'run with nothing new: API calls', value: `${quiet.result.apiCalls} for ${checked} objects`, aim: `≤ ${quietAim} (one per 5 objects, plus one)`, met: quiet.result.apiCalls <= quietAim },
        { name: 'run with nothing new: wall time', value: seconds(quiet.wallSeconds) },
      ],
      notes: [`Run statuses: full ${full.result.status}, incremental ${incremental.result.status}, quiet ${quiet.result.status}.`],
    };
  } finally {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function runChild(env: Record<string, string>): Promise<ChildOutcome> {
  // With the heap limit the orgvault command gives a backup (bin/heap-limit.js).
  const child = spawn(process.execPath, [...heapArgs(), '--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the backup process exited with ${String(code)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as ChildOutcome;
}

interface OrgInfo {
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  adminToken: string;
}

async function admin(info: OrgInfo, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${info.loginUrl}/__emulator/${path}`, { method: 'POST', headers: { Authorization: `Bearer ${info.adminToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Every record the backup reads, pulled with plain jsforce and thrown away. */
async function rawPull(info: OrgInfo): Promise<{ records: number; seconds: number }> {
  const conn = new Connection({ loginUrl: info.loginUrl, version: API_VERSION, oauth2: { loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret } });
  await conn.login(info.username, info.password);
  const started = process.hrtime.bigint();
  const global = await conn.describeGlobal();
  const names = global.sobjects.filter((s) => s.queryable && !s.name.endsWith('__b')).map((s) => s.name);
  const counts = await conn.request<{ sObjects: { name: string; count: number }[] }>(`/services/data/v${API_VERSION}/limits/recordCount?sObjects=${names.join(',')}`);
  let records = 0;
  for (const { name, count } of counts.sObjects) {
    if (count === 0) continue;
    const describe = await conn.sobject(name).describe();
    if (!describe.fields.some((f) => f.name === 'SystemModstamp')) continue;
    const fields = describe.fields.filter((f) => !['address', 'location', 'base64'].includes(f.type)).map((f) => f.name);
    const soql = `SELECT ${fields.join(', ')} FROM ${name}`;
    if (count >= DEFAULT_SETTINGS.bulkThreshold) {
      const stream = await conn.bulk2.query(soql, { scanAll: true, pollInterval: 50, pollTimeout: 3_600_000 });
      await new Promise<void>((resolve, reject) => {
        stream.on('record', () => records++).on('end', () => resolve()).on('error', reject);
      });
    } else {
      await new Promise<void>((resolve, reject) => {
        conn
          .query(soql)
          .scanAll(true)
          .on('record', () => records++)
          .on('end', () => resolve())
          .on('error', reject)
          .run({ autoFetch: true, maxFetch: Number.MAX_SAFE_INTEGER });
      });
    }
  }
  return { records, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
