/**
 * The emulator must serve file bodies fast enough that a backup's file phase measures the backup,
 * not the emulator: upload 200 Files of 1 KiB to 5 MiB by multipart, then download every file of
 * the org (those and the demo's) through the sObject Blob Get resource, one at a time and eight at
 * a time, from a client in another process that reads every byte.
 */
import { createHash } from 'node:crypto';
import type { BenchOptions } from './run.ts';
import type { BenchSection } from './harness.ts';
import { login, mib, rate, seconds, startEmulatorChild } from './harness.ts';

const API = '/services/data/v62.0';
const UPLOADS = 200;
const MIN_BYTES = 1024;
const MAX_BYTES = 5 * 2 ** 20;
const CONCURRENCY = 8;
const SMALL_BYTES = 16 * 1024;

interface FileRef {
  id: string;
  size: number;
  checksum: string;
}

export async function emulatorFilesBench(_options: BenchOptions): Promise<BenchSection> {
  const emulator = await startEmulatorChild(['--profile', 'demo', '--seed', '1', '--port', '0']);
  try {
    const { info } = emulator;
    const token = await login(info);
    const headers = { Authorization: `Bearer ${token}` };

    // Sizes spread evenly on a log scale, so small and large files both weigh in.
    const sizes = Array.from({ length: UPLOADS }, (_, i) => Math.round(MIN_BYTES * (MAX_BYTES / MIN_BYTES) ** (i / (UPLOADS - 1))));
    let uploaded = 0;
    const uploadStarted = process.hrtime.bigint();
    for (const [i, size] of sizes.entries()) {
      const bytes = Buffer.alloc(size, i % 251);
      const boundary = `bench${i}`;
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="entity_content"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify({ PathOnClient: `bench-${i}.bin` })}\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="VersionData"; filename="bench-${i}.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        bytes,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await fetch(`${info.instanceUrl}${API}/sobjects/ContentVersion`, { method: 'POST', headers: { ...headers, 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body });
      if (res.status !== 201) throw new Error(`upload ${i}: ${res.status} ${await res.text()}`);
      uploaded += size;
    }
    const uploadSeconds = Number(process.hrtime.bigint() - uploadStarted) / 1e9;
    const afterUpload = emulator.memory();

    const files: FileRef[] = [];
    let next: string | undefined = `${API}/query?q=${encodeURIComponent('SELECT Id, ContentSize, Checksum FROM ContentVersion')}`;
    while (next) {
      const page = (await (await fetch(`${info.instanceUrl}${next}`, { headers })).json()) as { records: { Id: string; ContentSize: number; Checksum: string }[]; nextRecordsUrl?: string };
      for (const r of page.records) files.push({ id: r.Id, size: r.ContentSize, checksum: r.Checksum });
      next = page.nextRecordsUrl;
    }
    const totalBytes = files.reduce((n, f) => n + f.size, 0);

    const fetchFile = async (file: FileRef, verify: boolean): Promise<number> => {
      const res = await fetch(`${info.instanceUrl}${API}/sobjects/ContentVersion/${file.id}/VersionData`, { headers });
      if (!res.ok) throw new Error(`download ${file.id}: ${res.status}`);
      const hash = verify ? createHash('md5') : undefined;
      let n = 0;
      for await (const chunk of res.body! as AsyncIterable<Uint8Array>) {
        n += chunk.length;
        hash?.update(chunk);
      }
      if (n !== file.size) throw new Error(`download ${file.id}: ${n} bytes, expected ${file.size}`);
      if (hash && hash.digest('hex') !== file.checksum) throw new Error(`download ${file.id}: checksum mismatch`);
      return n;
    };

    // Warm-up and integrity: every file once, checked against its Checksum, outside the timings.
    for (const file of files) await fetchFile(file, true);

    const timed = async (concurrency: number, subset: FileRef[]): Promise<number> => {
      let at = 0;
      const started = process.hrtime.bigint();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (at < subset.length) await fetchFile(subset[at++]!, false);
      }));
      return Number(process.hrtime.bigint() - started) / 1e9;
    };
    const sequential = await timed(1, files);
    const parallel = await timed(CONCURRENCY, files);
    const small = files.filter((f) => f.size <= SMALL_BYTES);
    const smallSeconds = await timed(1, small);
    const memory = emulator.memory();
    const mibPerSecond = (bytes: number, s: number): string => `${(bytes / 2 ** 20 / s).toFixed(0)} MiB/s`;
    const sequentialRate = totalBytes / 2 ** 20 / sequential;
    return {
      title: 'Emulator: serving file bodies',
      description:
        `The \`demo\` profile (seed 1) plus ${UPLOADS} Files uploaded by multipart (1 KiB to 5 MiB, sizes spread on a log scale), then every ContentVersion of the org ` +
        `(${files.length} files, ${mib(totalBytes)}) downloaded through \`/sobjects/ContentVersion/{id}/VersionData\` by a client in another process that reads every byte; ` +
        `one pass checks every body against its Checksum first, untimed. Small files are those of at most ${SMALL_BYTES / 1024} KiB (${small.length}). Memory is the emulator process's resident set.`,
      figures: [
        { name: 'upload (multipart, sequential)', value: `${mib(uploaded)} in ${seconds(uploadSeconds)}: ${mibPerSecond(uploaded, uploadSeconds)}, ${rate(UPLOADS, uploadSeconds)}` },
        { name: 'download, one at a time', value: `${mibPerSecond(totalBytes, sequential)}, ${rate(files.length, sequential)}`, aim: '> 200 MiB/s', met: sequentialRate > 200 },
        { name: `download, ${CONCURRENCY} at a time`, value: `${mibPerSecond(totalBytes, parallel)}, ${rate(files.length, parallel)}` },
        { name: 'small files, one at a time', value: rate(small.length, smallSeconds) },
        { name: 'memory after uploads', value: mib(afterUpload.rss) },
        { name: 'peak memory', value: mib(memory.peakRss) },
      ],
    };
  } finally {
    await emulator.stop();
  }
}
