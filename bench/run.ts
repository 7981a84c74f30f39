/**
 * `npm run bench [-- NAME…] [--scale N]`: runs the benchmarks (all, or those named) and writes
 * docs/BENCHMARKS.md. Sections of benchmarks that were not run are kept from the previous file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchSection } from './harness.ts';
import { renderMarkdown } from './harness.ts';
import { emulatorQueryBench } from './emulator-query.ts';
import { emulatorFilesBench } from './emulator-files.ts';
import { emulatorBulkBench } from './emulator-bulk.ts';
import { vaultBench } from './vault.ts';
import { backupBench } from './backup.ts';
import { restoreBench } from './restore.ts';
import { searchBench } from './search.ts';
import { exportBench } from './export.ts';
import { scaleOutBench } from './scale-out.ts';

export interface BenchOptions {
  scale: number;
}

const benches: Record<string, (options: BenchOptions) => Promise<BenchSection>> = {
  'emulator-query': emulatorQueryBench,
  'emulator-files': emulatorFilesBench,
  'emulator-bulk': emulatorBulkBench,
  vault: vaultBench,
  backup: backupBench,
  restore: restoreBench,
  search: searchBench,
  export: exportBench,
  'scale-out': scaleOutBench,
};

const { values, positionals } = parseArgs({ options: { scale: { type: 'string', default: '1000000' } }, allowPositionals: true });
const scale = Number(values.scale);
if (!Number.isInteger(scale) || scale < 1000) {
  console.error('bench: --scale must be a whole number of at least 1000');
  process.exit(2);
}
const unknown = positionals.filter((p) => !(p in benches));
if (unknown.length) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}

const selected = positionals.length ? positionals : Object.keys(benches);
const docPath = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));
const stateFile = docPath.replace(/\.md$/, '.json');
const previous: Record<string, BenchSection> = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, BenchSection>) : {};

for (const name of selected) {
  console.error(`bench: ${name} (scale ${scale.toLocaleString('en-US')})…`);
  previous[name] = await benches[name]!({ scale });
  for (const f of previous[name].figures) console.error(`  ${f.name}: ${f.value}${f.aim ? ` (aim ${f.aim})` : ''}`);
}

const ordered = Object.keys(benches).filter((n) => previous[n]).map((n) => previous[n]!);
writeFileSync(stateFile, `${JSON.stringify(previous, null, 2)}\n`);
writeFileSync(docPath, renderMarkdown(ordered, new Date()));
console.error(`bench: wrote ${docPath}`);
