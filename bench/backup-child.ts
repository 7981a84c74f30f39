/**
 * One backup run in a process of its own, so that its peak memory is the backup's alone. Reads
 * the org and vault from the environment (the vault is created when absent) and prints one JSON
 * line: the run's result, wall time and peak resident memory.
 */
import { existsSync } from 'node:fs';
import { resolveSettings, runBackup } from '../src/backup/index.ts';
import type { OrgRegistration } from '../src/core/vault.ts';
import { connectOrg } from '../src/salesforce/index.ts';
import { initVault, openVault } from '../src/store/vault.ts';

const info = JSON.parse(process.env.BENCH_ORG ?? '{}') as { loginUrl: string; instanceUrl: string; clientId: string; clientSecret: string; username: string; password: string; orgId: string };
const dir = process.env.BENCH_VAULT!;
const keyFile = Buffer.from(process.env.BENCH_KEY!, 'base64');
if (!existsSync(dir)) await initVault(dir, { keyFile });
const vault = await openVault(dir, { keyFile });
const org: OrgRegistration = { name: 'bench', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
// Where the memory goes at its peak: sampled, since resourceUsage only keeps the resident peak.
const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peak.rss) Object.assign(peak, { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
}, 250);
const started = process.hrtime.bigint();
const client = await connectOrg({ kind: 'password', loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password }, { bulk: { pollInitialMs: 50, pollMaxMs: 1000 } });
const result = await runBackup({ store: vault.store, blobs: vault.blobs, client }, { org, settings: resolveSettings(JSON.parse(process.env.BENCH_SETTINGS ?? '{}') as Record<string, unknown>) });
const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
await vault.close();
clearInterval(sampler);
process.stdout.write(`${JSON.stringify({ result, wallSeconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, peak })}\n`);
