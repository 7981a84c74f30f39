/**
 * `verify`: checks that the vault holds what its catalog says it holds. Without reading data it
 * compares the catalog's blob references with the blobs present and looks for version rows whose
 * pack is gone; with `readData` it also opens every pack and streams every blob (or one
 * deterministic slice of them, so that a large vault can be read a slice a night), which
 * authenticates every byte and re-hashes it against its address. Depends on ports only.
 */
import { randomUUID } from 'node:crypto';
import type { Run } from '../core/vault.ts';
import { PackGoneError } from '../store/port.ts';
import type { BlobStore, VaultStore } from '../store/port.ts';

/** The catalog ports verify uses. */
export type VerifyCatalog = Pick<
  VaultStore,
  'referencedAddresses' | 'filesReferencing' | 'listPacks' | 'checkPack' | 'danglingVersions' | 'createRun' | 'updateRun'
>;

export interface VerifyPorts {
  store: VerifyCatalog;
  blobs: Pick<BlobStore, 'list' | 'get' | 'has'>;
}

/** Everything, or the n-th of m deterministic slices (1-based). */
export type ReadData = 'all' | { n: number; m: number };

export interface VerifyOptions {
  readData?: ReadData;
  /** Progress lines for a human (the CLI sends them to stderr). */
  onProgress?: (line: string) => void;
}

export type VerifyProblemKind = 'missing-blob' | 'orphan-blob' | 'damaged-blob' | 'damaged-pack' | 'dangling-versions';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** The blob address or pack ID at fault; `catalog` for dangling version rows. */
  subject: string;
  message: string;
  /** What refers to the subject, where the catalog can tell (org, object, record, field). */
  referencedBy?: string[];
}

export interface VerifyCounters {
  referencedBlobs: number;
  storedBlobs: number;
  missingBlobs: number;
  orphanBlobs: number;
  danglingVersions: number;
  packsChecked: number;
  payloadsChecked: number;
  damagedPacks: number;
  /** Packs listed, then rewritten by a prune running beside verify before they were read: not damage. */
  packsRepackedMeanwhile: number;
  blobsRead: number;
  bytesRead: number;
  damagedBlobs: number;
  problems: number;
}

export interface VerifyReport {
  runId: string;
  ok: boolean;
  /** `none`, `all` or `n/m`. */
  readData: string;
  startedAt: number;
  endedAt: number;
  counters: VerifyCounters;
  problems: VerifyProblem[];
}

/** Parses `--read-data` values: `all`, or `n/m` with 1 ≤ n ≤ m. Returns undefined when invalid. */
export function parseReadData(text: string): ReadData | undefined {
  if (text === 'all') return 'all';
  const match = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const m = Number(match[2]);
  return n >= 1 && m >= 1 && n <= m ? { n, m } : undefined;
}

/** Whether a blob address falls in the n-th of m slices; addresses are uniform keyed hashes. */
export function inSlice(address: string, slice: { n: number; m: number }): boolean {
  return Number.parseInt(address.slice(0, 8), 16) % slice.m === slice.n - 1;
}

/**
 * Verifies the vault and records the run (kind `verify`) with its counters. Problems are
 * reported, not thrown; only a failure to verify at all (the catalog unreadable) throws.
 */
export async function verifyVault(ports: VerifyPorts, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { store, blobs } = ports;
  const readData = options.readData;
  const slice = readData === undefined || readData === 'all' ? undefined : readData;
  const readDataLabel = readData === undefined ? 'none' : readData === 'all' ? 'all' : `${readData.n}/${readData.m}`;
  const progress = options.onProgress ?? (() => undefined);
  const runId = randomUUID();
  const startedAt = Date.now();
  const counters: VerifyCounters = {
    referencedBlobs: 0,
    storedBlobs: 0,
    missingBlobs: 0,
    orphanBlobs: 0,
    danglingVersions: 0,
    packsChecked: 0,
    payloadsChecked: 0,
    damagedPacks: 0,
    packsRepackedMeanwhile: 0,
    blobsRead: 0,
    bytesRead: 0,
    damagedBlobs: 0,
    problems: 0,
  };
  const problems: VerifyProblem[] = [];
  const run: Run = { runId, orgId: null, kind: 'verify', status: 'Running', startedAt, endedAt: null, counters: {}, message: null, parameters: { readData: readDataLabel } };
  await store.createRun(run);

  const readBlob = async (address: string): Promise<void> => {
    counters.blobsRead++;
    try {
      // get() authenticates every chunk and re-hashes the body against its address.
      for await (const piece of blobs.get(address)) counters.bytesRead += piece.length;
    } catch (error) {
      counters.damagedBlobs++;
      const referencedBy = await referrers(store, address);
      problems.push({
        kind: 'damaged-blob',
        subject: address,
        message: `blob ${address}: ${messageOf(error)}${referencedBy.length ? ` Referenced by ${referencedBy.join('; ')}.` : ''}`,
        ...(referencedBy.length ? { referencedBy } : {}),
      });
    }
  };

  try {
    progress('Comparing the catalog\'s file references with the blob store…');
    // Only the references are held in memory; the stored blobs are streamed past them.
    const unseen = new Set<string>();
    for await (const address of store.referencedAddresses()) unseen.add(address);
    counters.referencedBlobs = unseen.size;
    const orphanCandidates: string[] = [];
    if (readData !== undefined) progress(`Reading blobs${slice ? ` (slice ${readDataLabel})` : ''}…`);
    for await (const address of blobs.list()) {
      counters.storedBlobs++;
      if (!unseen.delete(address)) orphanCandidates.push(address);
      if (readData !== undefined && (!slice || inSlice(address, slice))) await readBlob(address);
    }

    for (const address of unseen) {
      // Stored after the listing passed its place (a backup running now) is not missing.
      if (await blobs.has(address)) continue;
      counters.missingBlobs++;
      const referencedBy = await referrers(store, address);
      problems.push({
        kind: 'missing-blob',
        subject: address,
        message: `blob ${address} is referenced by the catalog but missing from the blob store${referencedBy.length ? ` (${referencedBy.join('; ')})` : ''}.`,
        ...(referencedBy.length ? { referencedBy } : {}),
      });
    }

    if (orphanCandidates.length > 0) {
      // A backup may have referenced them since the first pass: look again before reporting.
      const referencedNow = new Set(orphanCandidates);
      for await (const address of store.referencedAddresses()) referencedNow.delete(address);
      for (const address of orphanCandidates.filter((a) => referencedNow.has(a))) {
        counters.orphanBlobs++;
        problems.push({ kind: 'orphan-blob', subject: address, message: `blob ${address} is stored but nothing in the catalog refers to it (left by an interrupted backup, or its catalog rows were lost).` });
      }
    }

    counters.danglingVersions = await store.danglingVersions();
    if (counters.danglingVersions > 0) {
      problems.push({
        kind: 'dangling-versions',
        subject: 'catalog',
        message: `${counters.danglingVersions} record version row${counters.danglingVersions === 1 ? '' : 's'} point to a pack that is missing: those versions cannot be restored.`,
      });
    }

    if (readData !== undefined) {
      progress(`Reading packs${slice ? ` (slice ${readDataLabel})` : ''}…`);
      for await (const packId of store.listPacks(slice)) {
        counters.packsChecked++;
        try {
          counters.payloadsChecked += (await store.checkPack(packId)).payloads;
        } catch (error) {
          if (error instanceof PackGoneError) {
            counters.packsRepackedMeanwhile++;
            continue;
          }
          counters.damagedPacks++;
          problems.push({ kind: 'damaged-pack', subject: packId, message: `pack ${packId}: ${messageOf(error)}` });
        }
      }
    }
  } catch (error) {
    await store.updateRun(runId, { status: 'Failed', endedAt: Date.now(), counters: { ...counters }, message: `verify could not complete: ${messageOf(error)}` });
    throw error;
  }

  counters.problems = problems.length;
  const endedAt = Date.now();
  const ok = problems.length === 0;
  await store.updateRun(runId, {
    status: ok ? 'Succeeded' : 'Failed',
    endedAt,
    counters: { ...counters },
    message: ok ? null : `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${summarize(problems)}`,
  });
  return { runId, ok, readData: readDataLabel, startedAt, endedAt, counters, problems };
}

async function referrers(store: VerifyCatalog, address: string): Promise<string[]> {
  const out: string[] = [];
  for await (const { orgId, file } of store.filesReferencing(address)) {
    out.push(`org ${orgId} ${file.objectName} ${file.recordId} ${file.field}${file.fileName ? ` (${file.fileName})` : ''}`);
    if (out.length >= 20) break;
  }
  return out;
}

function summarize(problems: VerifyProblem[]): string {
  const byKind = new Map<string, number>();
  for (const p of problems) byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + 1);
  return [...byKind].map(([kind, count]) => `${count} ${kind}`).join(', ');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
