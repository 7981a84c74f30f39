/**
 * The emulator's `--state FILE`: the whole org (records, Recycle Bin, deletion log, ID counters,
 * permissions, connected app, its metadata and its behaviours) as one JSON document.
 *
 * A million-record org is several hundred megabytes of JSON, more than V8 can hold in one string,
 * so the file is laid out one record per line and written and read line by line; it stays a valid
 * JSON document that other tools can read. Writes go to a temporary file renamed into place, so a
 * crash mid-write leaves the previous state intact.
 */
import { closeSync, existsSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { enableBehaviours, listBehaviours, restoreBehaviours } from '../behaviours/registry.ts';
import type { Spec } from '../behaviours/spec.ts';
import { exportMetadata, importMetadata } from '../metadata/persistence.ts';
import type { MetadataSnapshot } from '../metadata/persistence.ts';
import type { Org, OrgState } from '../org/org.ts';
import type { StoredRecord } from '../org/schema.ts';

/** The header line: the org's state without its tables, and its configuration beside the data. */
type Header = Omit<OrgState, 'tables'> & { metadata?: MetadataSnapshot; behaviours?: Spec[] };

const FORMAT = 'orgvault-emulator-state';
const WRITE_CHUNK = 1 << 20;
const READ_CHUNK = 4 << 20;

/** Writes the org's state to `file` atomically. */
export function saveOrgState(org: Org, file: string): void {
  const state = org.exportState();
  const { tables, ...orgHeader } = state;
  const header: Header = { ...orgHeader, metadata: exportMetadata(org), behaviours: listBehaviours(org) };
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    let buffer = '';
    const write = (text: string): void => {
      buffer += text;
      if (buffer.length >= WRITE_CHUNK) {
        writeSync(fd, buffer);
        buffer = '';
      }
    };
    write(`{"format":${JSON.stringify(FORMAT)},\n"header":${JSON.stringify(header)},\n"tables":{`);
    let firstTable = true;
    for (const [name, records] of Object.entries(tables)) {
      // Separators lead their line, so that every line holds exactly one item.
      write(`\n${firstTable ? '' : ','}${JSON.stringify(name)}:[`);
      firstTable = false;
      for (let i = 0; i < records.length; i++) write(`\n${i ? ',' : ''}${JSON.stringify(records[i])}`);
      write('\n]');
    }
    write('\n}}\n');
    writeSync(fd, buffer);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, file);
}

/**
 * Replaces the org's data with the state saved in `file`. Returns false, leaving the org as it is,
 * when the file does not exist (a first run with `--state`). The org's schema is the one it was
 * built with; tables of objects it does not have are ignored.
 */
export function loadOrgState(org: Org, file: string): boolean {
  if (!existsSync(file)) return false;
  let header: Header | undefined;
  const tables: Record<string, StoredRecord[]> = {};
  let table: StoredRecord[] | undefined;
  let lineNumber = 0;
  let done = false;
  const fail = (why: string): never => {
    throw new Error(`${file}:${lineNumber}: not an emulator state file (${why})`);
  };

  const onLine = (raw: string): void => {
    lineNumber++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (done) {
      if (line.trim() !== '') fail('text after the end');
      return;
    }
    if (lineNumber === 1) {
      if (line !== `{"format":${JSON.stringify(FORMAT)},`) fail('unknown format');
      return;
    }
    if (line.startsWith('"header":')) {
      header = JSON.parse(line.slice('"header":'.length, line.endsWith(',') ? -1 : undefined)) as Header;
      return;
    }
    if (line === '"tables":{') return;
    if (table) {
      if (line === ']') {
        table = undefined;
        return;
      }
      table.push(JSON.parse(line.startsWith(',') ? line.slice(1) : line) as StoredRecord);
      return;
    }
    if (line === '}}') {
      done = true;
      return;
    }
    const start = /^,?("(?:[^"\\]|\\.)*"):\[$/.exec(line);
    if (!start) fail('unexpected line');
    table = [];
    tables[JSON.parse(start![1]!) as string] = table;
  };

  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    // Bytes after the last newline of a chunk wait for the next one; a newline never falls
    // inside a UTF-8 sequence, so decoding up to it is safe.
    let carry = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, chunk, 0, READ_CHUNK, null);
      if (!n) {
        if (carry.length) onLine(carry.toString('utf8'));
        break;
      }
      const data = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const cut = data.lastIndexOf(10);
      if (cut < 0) {
        carry = Buffer.from(data);
        continue;
      }
      const text = data.toString('utf8', 0, cut);
      carry = Buffer.from(data.subarray(cut + 1));
      for (const line of text.split('\n')) onLine(line);
    }
  } finally {
    closeSync(fd);
  }
  if (!done || !header) fail('truncated');
  // Time in an org never runs backwards: a state saved with an advanced clock keeps it, and one
  // saved long ago resumes at the present.
  const { metadata, behaviours, ...orgHeader } = header!;
  org.importState({ ...orgHeader, nowMs: Math.max(orgHeader.nowMs, org.clock.nowMs()), tables });
  // Files written before metadata and behaviours were saved leave the org's configuration as built.
  if (metadata) importMetadata(org, metadata);
  if (behaviours) restoreBehaviours(org, behaviours);
  if (metadata?.rules.some((r) => r.active)) enableBehaviours(org);
  return true;
}
