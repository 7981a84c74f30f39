/**
 * One export in a process of its own, so that its peak memory is the export's alone: every object
 * of the vault's org, latest state, to a folder in the format BENCH_FORMAT (parquet by default).
 * Prints one JSON line: the export's result, wall time, peak resident memory and the output's size.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OrgRegistration } from '../src/core/vault.ts';
import { exportFormat, folderTarget, planExport, runExport } from '../src/export/index.ts';
import { openVault } from '../src/store/vault.ts';

const info = JSON.parse(process.env.BENCH_ORG ?? '{}') as { loginUrl: string; instanceUrl: string; orgId: string };
const keyFile = Buffer.from(process.env.BENCH_KEY!, 'base64');
const out = process.env.BENCH_OUT!;
// Read-write: the export is a run in the log.
const vault = await openVault(process.env.BENCH_VAULT!, { keyFile });
const org: OrgRegistration = { name: 'bench', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
const started = process.hrtime.bigint();
const plan = await planExport(vault.store, { org, scope: { kind: 'latest' } });
const result = await runExport({ store: vault.store, blobs: vault.blobs }, plan, exportFormat(process.env.BENCH_FORMAT ?? 'parquet'), await folderTarget(out));
const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
clearInterval(sampler);
await vault.close();
let outputBytes = 0;
for (const entry of await readdir(out, { recursive: true, withFileTypes: true })) {
  if (entry.isFile()) outputBytes += (await stat(join(entry.parentPath, entry.name))).size;
}
process.stdout.write(`${JSON.stringify({ result, wallSeconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, sampledPeakRss: peakRss, outputBytes })}\n`);
