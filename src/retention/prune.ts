/**
 * `prune`: deletes what nothing refers to, under the vault's exclusive lock. In this order, each
 * step durable before the next:
 *
 * 1. Packs: every pack holding payloads no version refers to any more (after `forget`, `purge`) is
 *    rewritten: the payloads still referred to are copied into new packs and their versions and
 *    heads re-pointed, the old pack deleted, one transaction per group of packs (restic's prune).
 * 2. The catalog is synced, so that no file row deleted before can come back after a power cut.
 * 3. Blobs no file row refers to are deleted (never before the rows referring to them are gone).
 * 4. The catalog gives its freed pages back to the filesystem (incremental vacuum).
 *
 * Readers go on meanwhile: each reads a consistent snapshot (SQLite WAL), and pack keys are never
 * reused, so a pack a reader opened before the rewrite still holds what it read.
 */
import { randomUUID } from 'node:crypto';
import type { Run, RunStatus } from '../core/vault.ts';
import type { BlobStore, CatalogSize, PackUsage, RepackOutcome, VaultStore } from '../store/port.ts';
import { takeVaultLock } from './vault-lock.ts';

export type PruneStore = Pick<
  VaultStore,
  | 'packUsage'
  | 'repackPacks'
  | 'syncCatalog'
  | 'catalogSize'
  | 'compactCatalog'
  | 'referencedAddresses'
  | 'acquireVaultLock'
  | 'createRun'
  | 'updateRun'
  | 'appendAudit'
>;

export interface PruneDeps {
  store: PruneStore;
  blobs: Pick<BlobStore, 'list' | 'delete' | 'size'>;
  actor: string;
  now?: () => number;
  onProgress?: (line: string) => void;
}

export interface PruneRequest {
  dryRun: boolean;
  /** How long to wait for backups and restores that hold an org's writer lock (default: refuse at once). */
  waitMs?: number;
}

export interface PruneReport {
  runId: string;
  dryRun: boolean;
  status: RunStatus;
  packs: PackUsage;
  /** What the rewrite did (absent in a dry run). */
  repack: RepackOutcome | null;
  blobs: { stored: number; orphans: number; orphanBytes: number; deleted: number; bytesDeleted: number; failed: string[] };
  catalog: { before: CatalogSize; after: CatalogSize; vacuumed: boolean; walPending: boolean };
  /** Bytes given back: catalog pages plus blobs. */
  reclaimedBytes: number;
  message: string | null;
}

/** Prunes the vault (or, in a dry run, reports what a prune would reclaim); recorded as a run of kind `prune`. */
export async function prune(deps: PruneDeps, request: PruneRequest): Promise<PruneReport> {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const progress = deps.onProgress ?? (() => undefined);
  // A dry run changes nothing, so it waits for nobody; a real one has the vault to itself.
  const lock = request.dryRun ? undefined : await takeVaultLock(store, `orgvault prune (${deps.actor})`, request.waitMs, progress);
  try {
    const runId = randomUUID();
    const run: Run = { runId, orgId: null, kind: 'prune', status: 'Running', startedAt: now(), endedAt: null, counters: {}, message: null, parameters: { dryRun: request.dryRun } };
    await store.createRun(run);
    const report: PruneReport = {
      runId,
      dryRun: request.dryRun,
      status: 'Running',
      packs: await store.packUsage(),
      repack: null,
      blobs: { stored: 0, orphans: 0, orphanBytes: 0, deleted: 0, bytesDeleted: 0, failed: [] },
      catalog: { before: await store.catalogSize(), after: await store.catalogSize(), vacuumed: false, walPending: false },
      reclaimedBytes: 0,
      message: null,
    };
    try {
      const { packs } = report;
      progress(`Packs: ${packs.packs} (${packs.emptyPacks} unused, ${packs.partialPacks} partly used: ${packs.unusedPayloads} of ${packs.payloads} payloads unused)`);
      if (!request.dryRun) {
        report.repack = await store.repackPacks({ onProgress: (done) => progress(`  ${done} of ${packs.emptyPacks + packs.partialPacks} packs rewritten or deleted`) });
        await store.syncCatalog();
      }
      await pruneBlobs(deps, request.dryRun, report.blobs, progress);
      if (!request.dryRun) {
        const compacted = await store.compactCatalog();
        report.catalog = compacted;
      }
      report.reclaimedBytes = request.dryRun
        ? packs.reclaimableBytes + report.blobs.orphanBytes + report.catalog.before.freeBytes
        : Math.max(0, report.catalog.before.bytes - report.catalog.after.bytes) + report.blobs.bytesDeleted;
      const problems = [
        ...(report.repack?.damagedPacks.length ? [`${report.repack.damagedPacks.length} damaged pack(s) left as they were (${report.repack.damagedPacks.slice(0, 5).join(', ')}): run \`orgvault verify --read-data\``] : []),
        ...(report.blobs.failed.length ? [`${report.blobs.failed.length} blob(s) could not be deleted: ${report.blobs.failed.slice(0, 3).join('; ')}`] : []),
      ];
      report.status = problems.length ? 'CompletedWithErrors' : 'Succeeded';
      report.message = problems.length ? problems.join('; ') : null;
    } catch (error) {
      await store.updateRun(runId, { status: 'Failed', endedAt: now(), counters: countersOf(report), message: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
      throw error;
    }
    await store.updateRun(runId, { status: report.status, endedAt: now(), counters: countersOf(report), message: report.message });
    if (!request.dryRun) await store.appendAudit({ at: now(), actor: deps.actor, action: 'vault.prune', target: null, details: { runId, ...countersOf(report) } });
    return report;
  } finally {
    await lock?.release();
  }
}

/**
 * Deletes (or counts) the blobs no file row refers to. Only the catalog's references are held in
 * memory; the store is streamed past them. Under the exclusive lock no reference can appear
 * meanwhile; a dry run, which takes no lock, may count a body a backup is storing right now.
 */
async function pruneBlobs(deps: PruneDeps, dryRun: boolean, out: PruneReport['blobs'], progress: (line: string) => void): Promise<void> {
  const referenced = new Set<string>();
  for await (const address of deps.store.referencedAddresses()) referenced.add(address);
  const orphans: string[] = [];
  for await (const address of deps.blobs.list()) {
    out.stored++;
    if (!referenced.has(address)) orphans.push(address);
  }
  for (const address of orphans) {
    const size = (await deps.blobs.size(address)) ?? 0;
    out.orphans++;
    out.orphanBytes += size;
    if (dryRun) continue;
    try {
      await deps.blobs.delete(address);
      out.deleted++;
      out.bytesDeleted += size;
    } catch (error) {
      out.failed.push(`${address}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (out.orphans) progress(`Blobs: ${out.orphans} of ${out.stored} referred to by nothing${dryRun ? '' : `, ${out.deleted} deleted`}`);
}

function countersOf(report: PruneReport): Record<string, number> {
  const r = report.repack;
  return {
    packs: report.packs.packs,
    emptyPacks: report.packs.emptyPacks,
    partialPacks: report.packs.partialPacks,
    unusedPayloads: report.packs.unusedPayloads,
    packsDeleted: r?.packsDeleted ?? 0,
    packsRewritten: r?.packsRewritten ?? 0,
    packsWritten: r?.packsWritten ?? 0,
    payloadsMoved: r?.payloadsMoved ?? 0,
    payloadsDropped: r?.payloadsDropped ?? 0,
    orphanBlobs: report.blobs.orphans,
    blobsDeleted: report.blobs.deleted,
    blobBytesDeleted: report.blobs.bytesDeleted,
    catalogBytesBefore: report.catalog.before.bytes,
    catalogBytesAfter: report.catalog.after.bytes,
    reclaimedBytes: report.reclaimedBytes,
  };
}
