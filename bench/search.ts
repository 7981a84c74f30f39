/**
 * Global search on the `bench` profile: a full backup of the emulated org into a new vault (the
 * search index is built at the backup's end, as every backup does), the index's size, the cost of building it again
 * from the stored versions (as an older vault is caught up), and the latency of searches through
 * the whole use case (candidates from the index, each verified against its versions, 50 results):
 * rare words, common words and two-word searches, chosen from the data itself.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { recordTokens, valueTokens } from '../src/core/search-text.ts';
import type { BackupResult } from '../src/backup/index.ts';
import type { OrgRegistration } from '../src/core/vault.ts';
import { generateKeyFileContent } from '../src/crypto/keys.ts';
import { searchRecords } from '../src/search/index.ts';
import { CATALOG_FILE, openVault } from '../src/store/vault.ts';
import type { Vault } from '../src/store/vault.ts';
import { heapArgs } from '../bin/heap-limit.js';
import type { BenchSection } from './harness.ts';
import { mib, rate, seconds, startEmulatorChild } from './harness.ts';
import type { BenchOptions } from './run.ts';

const CHILD = fileURLToPath(new URL('./backup-child.ts', import.meta.url));
/** Objects whose records the search words are taken from. */
const SAMPLE_OBJECTS = ['Account', 'Contact', 'Lead', 'Opportunity', 'Case'];
const SAMPLE_PER_OBJECT = 400;
const QUERIES_PER_KIND = 20;
const RUNS_PER_QUERY = 3;

interface Timed {
  text: string;
  ms: number[];
  hits: number;
  candidates: number;
}

export async function searchBench(options: BenchOptions): Promise<BenchSection> {
  const emulator = await startEmulatorChild(['--profile', 'bench', '--scale', String(options.scale), '--port', '0'], ['--max-old-space-size=4096', '--max-semi-space-size=64']);
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-bench-search-'));
  const vaultDir = join(dir, 'vault');
  const keyFile = Buffer.from(generateKeyFileContent());
  try {
    const backup = await runBackupChild({ BENCH_ORG: JSON.stringify(emulator.info), BENCH_VAULT: vaultDir, BENCH_KEY: keyFile.toString('base64') });
    await emulator.stop();
    const records = backup.result.counters.records ?? 0;
    const versions = backup.result.counters.versions ?? records;
    const catalogBytes = (await stat(join(vaultDir, CATALOG_FILE))).size;
    const index = indexBytes(join(vaultDir, CATALOG_FILE));

    // The index built again from the stored versions, as a vault from before the index is caught up.
    const db = new Database(join(vaultDir, CATALOG_FILE));
    db.exec('DELETE FROM search_postings; DELETE FROM search_terms; UPDATE search_state SET indexed_batch = 0;');
    db.close();
    let vault = await openVault(vaultDir, { keyFile });
    const rebuildStarted = process.hrtime.bigint();
    const rebuilt = await vault.store.catchUpSearchIndex();
    const rebuildSeconds = Number(process.hrtime.bigint() - rebuildStarted) / 1e9;
    await vault.close();

    vault = await openVault(vaultDir, { keyFile });
    try {
      const org: OrgRegistration = (await vault.store.listOrgs())[0] ?? { name: 'bench', orgId: emulator.info.orgId, instanceUrl: '', loginUrl: '', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
      const words = await chooseWords(vault, org);
      const rare = await timeAll(vault, org, words.rare);
      const common = await timeAll(vault, org, words.common);
      const pairs = await timeAll(vault, org, words.pairs);
      const figure = (name: string, kind: Timed[]) => {
        const all = kind.flatMap((k) => k.ms).sort((a, b) => a - b);
        const p95 = percentile(all, 95);
        return { name, value: `${percentile(all, 50).toFixed(0)} ms / ${p95.toFixed(0)} ms`, aim: '< 500 ms', met: p95 < 500 };
      };
      const spread = (kind: Timed[]) => `${Math.min(...kind.map((k) => k.candidates)).toLocaleString('en-US')}–${Math.max(...kind.map((k) => k.candidates)).toLocaleString('en-US')}`;
      return {
        title: 'Search: the blind index over every version',
        description:
          `The \`bench\` profile at scale ${options.scale.toLocaleString('en-US')}, backed up in full into a new vault by \`orgvault backup\` in a process of its own (${heapArgs().join(' ')}), which builds the search index as it writes. ` +
          `Searches go through the whole use case (\`searchRecords\`: the index's candidates, latest first, each verified by opening its versions, 50 results) on the reopened vault, ${RUNS_PER_QUERY} runs of ${QUERIES_PER_KIND} searches of each kind, the first run of each cold. ` +
          `Words are chosen from ${SAMPLE_PER_OBJECT} records of each of ${SAMPLE_OBJECTS.join(', ')}: rare words (on at most 20 records), the most common words, and pairs of a common word with another word of the same record. ` +
          'The rebuild empties the index and indexes every stored version again from its pack, as a vault from before the index is caught up on first use.',
        figures: [
          { name: 'records backed up', value: records.toLocaleString('en-US') },
          { name: 'full backup, the index built at its end', value: `${seconds(backup.wallSeconds)}: ${rate(records, backup.wallSeconds)}` },
          { name: 'peak memory of the backup process', value: mib(backup.maxRssBytes), aim: '< 512 MiB', met: backup.maxRssBytes < 512 * 2 ** 20 },
          { name: 'index size (record rows, their key, inverted lists)', value: `${mib(index.total)} (${mib(index.postings)}, ${mib(index.key)}, ${mib(index.terms)}): ${(index.total / Math.max(1, records)).toFixed(0)} bytes a record` },
          { name: 'index / catalog size', value: `${((100 * index.total) / catalogBytes).toFixed(0)}% of ${mib(catalogBytes)}` },
          { name: 'index rebuild from the stored versions', value: `${seconds(rebuildSeconds)}: ${rate(rebuilt.versions, rebuildSeconds)}` },
          figure('rare word: p50 / p95', rare),
          figure('common word: p50 / p95', common),
          figure('two words: p50 / p95', pairs),
        ],
        notes: [
          `Versions backed up: ${versions.toLocaleString('en-US')}; backup status ${backup.result.status}.`,
          `Candidates the index offered: rare words ${spread(rare)}, common words ${spread(common)} (e.g. ${common.slice(0, 3).map((c) => `"${c.text}"`).join(', ')}), two words ${spread(pairs)}.`,
          'A common word returns its 50 latest records after verifying about as many: candidates are checked latest first, and the search stops once no older one can enter the results.',
        ],
      };
    } finally {
      await vault.close();
    }
  } finally {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function runBackupChild(env: Record<string, string>): Promise<{ result: BackupResult; wallSeconds: number; maxRssBytes: number }> {
  const child = spawn(process.execPath, [...heapArgs(), '--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the backup process exited with ${String(code)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as { result: BackupResult; wallSeconds: number; maxRssBytes: number };
}

function indexBytes(path: string): { postings: number; key: number; terms: number; total: number } {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat WHERE name IN ('search_postings', 'sqlite_autoindex_search_postings_1', 'search_terms') GROUP BY name").all() as { name: string; bytes: number }[];
    const of = (name: string): number => rows.find((r) => r.name === name)?.bytes ?? 0;
    const out = { postings: of('search_postings'), key: of('sqlite_autoindex_search_postings_1'), terms: of('search_terms'), total: 0 };
    out.total = out.postings + out.key + out.terms;
    return out;
  } finally {
    db.close();
  }
}

/** Words to search for, chosen from the backed-up records themselves. */
async function chooseWords(vault: Vault, org: OrgRegistration): Promise<{ rare: string[]; common: string[]; pairs: string[] }> {
  const frequency = new Map<string, number>();
  const sampled: string[][] = [];
  for (const object of SAMPLE_OBJECTS) {
    let n = 0;
    for await (const version of vault.store.latestVersions(org.orgId, object)) {
      const tokens = [...recordTokens(version.fields)].filter((t) => /^\p{L}{4,}$/u.test(t));
      sampled.push(tokens);
      for (const t of tokens) frequency.set(t, (frequency.get(t) ?? 0) + 1);
      if (++n >= SAMPLE_PER_OBJECT) break;
    }
  }
  const count = async (text: string): Promise<number> => (await vault.store.openSearchCandidates({ orgId: org.orgId, terms: [...valueTokens(text)].map((t) => [t]) })).count;
  const byFrequency = [...frequency].sort((a, b) => b[1] - a[1]);
  const common = byFrequency.slice(0, 5).map(([t]) => t);
  const rare: string[] = [];
  for (const [token, n] of [...byFrequency].reverse()) {
    if (rare.length >= QUERIES_PER_KIND) break;
    const candidates = n === 1 ? await count(token) : Infinity;
    if (candidates >= 1 && candidates <= 20) rare.push(token);
  }
  const pairs: string[] = [];
  const commonSet = new Set(byFrequency.slice(0, 30).map(([t]) => t));
  for (const tokens of sampled) {
    if (pairs.length >= QUERIES_PER_KIND) break;
    const a = tokens.find((t) => commonSet.has(t));
    const b = tokens.find((t) => t !== a && (frequency.get(t) ?? 0) >= 3);
    if (a && b && !pairs.includes(`${a} ${b}`)) pairs.push(`${a} ${b}`);
  }
  return { rare, common: Array.from({ length: QUERIES_PER_KIND }, (_, i) => common[i % common.length]!), pairs };
}

async function timeAll(vault: Vault, org: OrgRegistration, texts: readonly string[]): Promise<Timed[]> {
  const out: Timed[] = texts.map((text) => ({ text, ms: [], hits: 0, candidates: 0 }));
  for (let run = 0; run < RUNS_PER_QUERY; run++) {
    for (const timed of out) {
      const started = process.hrtime.bigint();
      const result = await searchRecords(vault.store, { org, text: timed.text });
      timed.ms.push(Number(process.hrtime.bigint() - started) / 1e6);
      timed.hits = result.hits.length;
      timed.candidates = result.candidates;
    }
  }
  return out;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
