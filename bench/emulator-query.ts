/**
 * The emulator must not be the bottleneck of any benchmark: serve the whole `bench` profile as
 * REST query pages (2,000 records each, every field of every object, the way a backup reads),
 * to a client in another process that parses every page.
 */
import type { BenchOptions } from './run.ts';
import type { BenchSection } from './harness.ts';
import { login, mib, rate, seconds, startEmulatorChild } from './harness.ts';

const API = '/services/data/v62.0';

export async function emulatorQueryBench(options: BenchOptions): Promise<BenchSection> {
  const emulator = await startEmulatorChild(['--profile', 'bench', '--scale', String(options.scale), '--port', '0'], ['--max-old-space-size=4096', ...(process.env.BENCH_EMULATOR_NODE_ARGS ?? '').split(' ').filter(Boolean)]);
  try {
    const { info } = emulator;
    const afterSeed = emulator.memory();
    const token = await login(info);
    const get = async (path: string): Promise<unknown> => {
      const res = await fetch(`${info.instanceUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };

    const global = (await get(`${API}/sobjects`)) as { sobjects: { name: string; queryable: boolean }[] };
    const names = global.sobjects.filter((s) => s.queryable).map((s) => s.name);
    const counts = (await get(`${API}/limits/recordCount?sObjects=${names.join(',')}`)) as { sObjects: { name: string; count: number }[] };
    const populated = counts.sObjects.filter((s) => s.count > 0).map((s) => s.name);

    let records = 0;
    let pages = 0;
    let bytes = 0;
    const started = process.hrtime.bigint();
    for (const name of populated) {
      const describe = (await get(`${API}/sobjects/${name}/describe`)) as { fields: { name: string; type: string }[] };
      const fields = describe.fields.filter((f) => f.type !== 'address' && f.type !== 'location').map((f) => f.name);
      let next: string | undefined = `${API}/query?q=${encodeURIComponent(`SELECT ${fields.join(', ')} FROM ${name}`)}`;
      while (next) {
        const res = await fetch(`${info.instanceUrl}${next}`, { headers: { Authorization: `Bearer ${token}` } });
        const text = await res.text();
        if (!res.ok) throw new Error(`${name}: ${res.status} ${text.slice(0, 300)}`);
        bytes += text.length;
        const page = JSON.parse(text) as { records: unknown[]; nextRecordsUrl?: string };
        records += page.records.length;
        pages++;
        next = page.nextRecordsUrl;
      }
    }
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const memory = emulator.memory();
    const perSecond = records / elapsed;
    return {
      title: 'Emulator: serving query pages',
      description:
        `The \`bench\` profile at scale ${options.scale.toLocaleString('en-US')}, served as REST query pages of 2,000 records with every field of every populated object ` +
        `(${populated.length} objects), to a client in another process that parses each page with JSON.parse. Memory is the emulator process's resident set (VmRSS/VmHWM).`,
      figures: [
        { name: 'records served', value: records.toLocaleString('en-US') },
        { name: 'pages', value: pages.toLocaleString('en-US') },
        { name: 'payload', value: mib(bytes) },
        { name: 'serving rate', value: rate(records, elapsed), aim: '> 50,000 /s', met: perSecond > 50_000 },
        { name: 'serving time', value: seconds(elapsed) },
        { name: 'org build (seed) time', value: seconds(emulator.startupSeconds) },
        { name: 'memory after seeding', value: mib(afterSeed.rss) },
        { name: 'peak memory', value: mib(memory.peakRss), aim: '< 3 GiB', met: memory.peakRss < 3 * 2 ** 30 },
      ],
    };
  } finally {
    await emulator.stop();
  }
}
