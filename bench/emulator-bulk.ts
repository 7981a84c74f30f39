/**
 * Bulk API 2.0 query serving: every populated object of the `bench` profile read the way a backup
 * reads it (a query job over every field, polled to JobComplete, then every result page followed
 * by `Sforce-Locator`), from a client in another process. The emulator must keep up with a real
 * org's bulk download rates, so it is not the bottleneck of a backup benchmark.
 */
import type { BenchOptions } from './run.ts';
import type { BenchSection } from './harness.ts';
import { readFileSync } from 'node:fs';
import { login, mib, rate, seconds, startEmulatorChild } from './harness.ts';

const API = '/services/data/v62.0';
const POLL_MS = 10;

export async function emulatorBulkBench(options: BenchOptions): Promise<BenchSection> {
  // A larger young generation halves the scavenges that serving's short-lived row strings cause.
  const extraNodeArgs = (process.env.BENCH_EMULATOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const emulator = await startEmulatorChild(['--profile', 'bench', '--scale', String(options.scale), '--port', '0'], ['--max-old-space-size=4096', '--max-semi-space-size=64', ...extraNodeArgs]);
  try {
    const { info } = emulator;
    const afterSeed = emulator.memory();
    const token = await login(info);
    const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
      const init: RequestInit = { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } };
      if (body !== undefined) init.body = JSON.stringify(body);
      return fetch(`${info.instanceUrl}${path}`, init);
    };
    const json = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const res = await call(method, path, body);
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return text ? JSON.parse(text) : undefined;
    };

    const global = (await json('GET', `${API}/sobjects`)) as { sobjects: { name: string; queryable: boolean }[] };
    const names = global.sobjects.filter((s) => s.queryable).map((s) => s.name);
    const counts = (await json('GET', `${API}/limits/recordCount?sObjects=${names.join(',')}`)) as { sObjects: { name: string; count: number }[] };
    const populated = counts.sObjects.filter((s) => s.count > 0);
    const queries: { name: string; soql: string; expected: number }[] = [];
    for (const { name, count } of populated) {
      const describe = (await json('GET', `${API}/sobjects/${name}/describe`)) as { fields: { name: string; type: string }[] };
      // Bulk queries cannot select compound fields; their components are selected instead.
      const fields = describe.fields.filter((f) => f.type !== 'address' && f.type !== 'location').map((f) => f.name);
      queries.push({ name, soql: `SELECT ${fields.join(', ')} FROM ${name}`, expected: count });
    }

    let records = 0;
    let pages = 0;
    let bytes = 0;
    let jobs = 0;
    let downloadSeconds = 0;
    const skipped: string[] = [];
    const cpuBefore = cpuSeconds(emulator.pid);
    const started = process.hrtime.bigint();
    for (const query of queries) {
      const created = await call('POST', `${API}/jobs/query`, { operation: 'query', query: query.soql });
      const createdText = await created.text();
      if (!created.ok) {
        // Objects the Bulk API cannot read (big objects) are refused at creation, as in Salesforce.
        if (created.status === 400 && createdText.includes('INVALIDENTITY')) {
          skipped.push(query.name);
          continue;
        }
        throw new Error(`${query.name}: ${created.status} ${createdText.slice(0, 300)}`);
      }
      jobs++;
      const { id } = JSON.parse(createdText) as { id: string };
      for (;;) {
        const job = (await json('GET', `${API}/jobs/query/${id}`)) as { state: string; errorMessage?: string };
        if (job.state === 'JobComplete') break;
        if (job.state === 'Failed' || job.state === 'Aborted') throw new Error(`${query.name}: job ${job.state} ${job.errorMessage ?? ''}`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      const downloadStart = process.hrtime.bigint();
      let locator: string | null = null;
      let objectRecords = 0;
      do {
        const res = await call('GET', `${API}/jobs/query/${id}/results${locator ? `?locator=${locator}` : ''}`);
        if (!res.ok) throw new Error(`${query.name}: ${res.status} ${await res.text()}`);
        // The client reads every byte but leaves CSV parsing out of the figure: the emulator is measured.
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          bytes += value.byteLength;
        }
        objectRecords += Number(res.headers.get('Sforce-NumberOfRecords'));
        pages++;
        locator = res.headers.get('Sforce-Locator');
      } while (locator && locator !== 'null');
      downloadSeconds += Number(process.hrtime.bigint() - downloadStart) / 1e9;
      if (objectRecords !== query.expected) throw new Error(`${query.name}: ${objectRecords} records served, ${query.expected} expected`);
      records += objectRecords;
      await call('DELETE', `${API}/jobs/query/${id}`);
    }
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = cpuSeconds(emulator.pid) - cpuBefore;
    const memory = emulator.memory();
    const perSecond = records / elapsed;
    return {
      title: 'Emulator: serving Bulk API 2.0 query results',
      description:
        `The \`bench\` profile at scale ${options.scale.toLocaleString('en-US')}: one Bulk API 2.0 query job per populated object over every field ` +
        `(${jobs} jobs), created, polled every ${POLL_MS} ms to JobComplete, and every result page followed by \`Sforce-Locator\` at the default page size, ` +
        'by a client in another process that reads every byte (counting records from `Sforce-NumberOfRecords`, without parsing the CSV). ' +
        'The rate covers the whole run: job creation, the query itself, polling and download; the emulator\'s own CPU time is given too, since a busy machine slows the wall clock. Memory is the emulator process\'s resident set (VmRSS/VmHWM).',
      figures: [
        { name: 'records served', value: records.toLocaleString('en-US') },
        { name: 'result pages', value: pages.toLocaleString('en-US') },
        { name: 'CSV payload', value: mib(bytes) },
        { name: 'serving rate (whole run)', value: rate(records, elapsed), aim: '> 100,000 /s', met: perSecond > 100_000 },
        { name: 'download rate (result pages only)', value: rate(records, downloadSeconds) },
        { name: 'serving time', value: seconds(elapsed) },
        { name: 'emulator CPU time while serving', value: `${seconds(cpu)} (${rate(records, cpu)} per CPU second)` },
        { name: 'org build (seed) time', value: seconds(emulator.startupSeconds) },
        { name: 'memory after seeding', value: mib(afterSeed.rss) },
        { name: 'peak memory', value: mib(memory.peakRss), aim: '< 3 GiB', met: memory.peakRss < 3 * 2 ** 30 },
      ],
      notes: skipped.length ? [`Refused by Bulk API 2.0 as in Salesforce (INVALIDENTITY), so not counted: ${skipped.join(', ')}.`] : undefined,
    };
  } finally {
    await emulator.stop();
  }
}

/** User plus system CPU seconds of a process so far, from /proc (clock ticks are 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
