/**
 * `forget`: applies an org's retention policy to every record's chain and removes the versions and
 * file versions it does not keep (a dry run only reports them). Removal happens a page of records
 * at a time, each page in one transaction that re-links the chains and keeps heads and counts
 * right, under the org's writer lock so that no backup or restore of the org runs meanwhile.
 * Sealed payloads and blobs that nothing refers to any more stay until `prune` rewrites the packs
 * and deletes the blobs.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../core/errors.ts';
import type { OrgRegistration, Run, RunStatus } from '../core/vault.ts';
import type { ForgetRecord, MetadataForget, VaultStore } from '../store/port.ts';
import { evaluateRecord, policySettings, removesAnything } from './policy.ts';
import type { KeepReason, RetentionPolicy } from './policy.ts';
import { storedPolicy } from './settings.ts';

export type ForgetStore = Pick<
  VaultStore,
  | 'recordChains'
  | 'forgetVersions'
  | 'getObjectStates'
  | 'acquireOrgLock'
  | 'createRun'
  | 'updateRun'
  | 'putObjectRun'
  | 'appendAudit'
  | 'archivedRecords'
  | 'listRecoveryPoints'
  | 'metadataChains'
  | 'forgetMetadataVersions'
>;

export interface ForgetDeps {
  store: ForgetStore;
  /** Who asks, for the audit log. */
  actor: string;
  now?: () => number;
  onProgress?: (line: string) => void;
}

export interface ForgetRequest {
  org: OrgRegistration;
  dryRun: boolean;
  /** Put each record's decision in the report (what `--json` prints). */
  detail?: boolean;
  /** Only these objects (default: every object the vault holds for the org). */
  objects?: readonly string[];
  /** A policy to apply instead of the org's stored one (a preview of a change). */
  policy?: RetentionPolicy;
}

/** One record's decision, in the report's detail. */
export interface ForgetRecordDetail {
  recordId: string;
  wholeRecord: boolean;
  removed: { seq: number; systemModstamp: string }[];
  kept: { seq: number; systemModstamp: string; reasons: KeepReason[] }[];
  filesRemoved: { field: string; systemModstamp: string }[];
}

export interface ForgetObjectReport {
  objectName: string;
  records: number;
  /** Records that go whole (deleted longer ago than the policy keeps them). */
  recordsRemoved: number;
  versions: number;
  versionsRemoved: number;
  versionsKept: number;
  files: number;
  filesRemoved: number;
  filesKept: number;
  /** Bytes of the file versions removed (bodies shared with kept ones stay; prune says what is freed). */
  fileBytesRemoved: number;
  /** Records left alone because they changed after being evaluated. */
  skipped: number;
  /** Records that lose something, with what; only with `detail`. */
  detail?: ForgetRecordDetail[];
}

/** What the policy does to the org's metadata: each component's versions count as a record's. */
export interface ForgetMetadataReport {
  components: number;
  /** Components deleted in the org longer ago than deleted records are kept: every version goes. */
  componentsRemoved: number;
  versions: number;
  versionsRemoved: number;
  versionsKept: number;
  /** Stored contents no kept version refers to, deleted with the versions (0 on a dry run). */
  contentsRemoved: number;
  /** Components left alone because a capture stored a new version meanwhile. */
  skipped: number;
}

export interface ForgetReport {
  runId: string;
  org: string;
  orgId: string;
  dryRun: boolean;
  status: RunStatus;
  /** The time ages are counted from (ISO). */
  asOf: string;
  policy: RetentionPolicy;
  objects: ForgetObjectReport[];
  totals: Omit<ForgetObjectReport, 'objectName' | 'detail'>;
  /** Null when the run was limited to named objects. */
  metadata: ForgetMetadataReport | null;
}

const COUNTERS = ['records', 'recordsRemoved', 'versions', 'versionsRemoved', 'versionsKept', 'files', 'filesRemoved', 'filesKept', 'fileBytesRemoved', 'skipped'] as const;

/**
 * The time ages are counted from: this machine's clock, or the newest change the vault holds for
 * the org if that is later (an org clock ahead of this one must not make recent versions look old
 * to nobody's benefit, nor fresh versions exempt from the count). SystemModstamps are the org's
 * clock; so are the watermarks.
 */
export async function referenceTime(store: Pick<VaultStore, 'getObjectStates'>, orgId: string, now: number): Promise<number> {
  let newest = now;
  for (const state of await store.getObjectStates(orgId)) if (state.watermark && state.watermark.systemModstamp > newest) newest = state.watermark.systemModstamp;
  return newest;
}

/** Evaluates (and unless a dry run, applies) the org's policy; recorded as a run of kind `forget`. */
export async function forget(deps: ForgetDeps, request: ForgetRequest): Promise<ForgetReport> {
  const { store } = deps;
  const { org } = request;
  const now = deps.now ?? Date.now;
  const progress = deps.onProgress ?? (() => undefined);
  const policy = request.policy ?? storedPolicy(org);
  if (!policy) {
    throw new UsageError(`The org ${org.name} has no retention policy, so forget would keep everything. Set one with \`orgvault retention set --org ${org.name} --keep-all-days 30 …\` (see \`orgvault retention set --help\`).`);
  }
  const states = await store.getObjectStates(org.orgId);
  const held = new Map(states.map((s) => [s.objectName.toLowerCase(), s]));
  let objects = states.filter((s) => s.versionCount > 0).map((s) => s.objectName);
  if (request.objects?.length) {
    const unknown = request.objects.filter((o) => !held.has(o.toLowerCase()));
    if (unknown.length) throw new UsageError(`The vault holds no ${unknown.join(', ')} for ${org.name}; \`orgvault status --org ${org.name}\` lists the objects it holds.`);
    objects = request.objects.map((o) => held.get(o.toLowerCase())!.objectName);
  }

  const lock = request.dryRun ? undefined : await store.acquireOrgLock(org.orgId, `orgvault forget (${deps.actor})`);
  const runId = randomUUID();
  const startedAt = now();
  try {
    const asOf = await referenceTime(store, org.orgId, startedAt);
    const run: Run = {
      runId,
      orgId: org.orgId,
      kind: 'forget',
      status: 'Running',
      startedAt,
      endedAt: null,
      counters: {},
      message: null,
      parameters: { dryRun: request.dryRun, asOf, policy: policySettings(policy), objects: request.objects ?? null },
    };
    await store.createRun(run);
    const reports: ForgetObjectReport[] = [];
    let metadata: ForgetMetadataReport | null = null;
    try {
      progress(`${request.dryRun ? 'Dry run of forget' : 'Forget'} ${runId} for ${org.name}: ${objects.length} object(s), ages counted from ${new Date(asOf).toISOString()}`);
      for (const objectName of objects) {
        const report = await forgetObject(deps, request, policy, asOf, objectName);
        reports.push(report);
        await store.putObjectRun({ runId, objectName, status: 'Succeeded', statusCode: null, message: null, counters: countersOf(report) });
        if (report.versionsRemoved || report.filesRemoved) {
          progress(`  ${objectName}: ${report.versionsRemoved} of ${report.versions} versions${report.recordsRemoved ? ` (${report.recordsRemoved} deleted records whole)` : ''} and ${report.filesRemoved} file versions ${request.dryRun ? 'would go' : 'removed'}`);
        }
      }
      // The org's metadata ages by the same policy, unless the run was limited to some objects.
      if (!request.objects?.length) {
        metadata = await forgetMetadata(store, org.orgId, policy, asOf, request.dryRun);
        if (metadata.versionsRemoved) progress(`  Metadata: ${metadata.versionsRemoved} of ${metadata.versions} component versions ${request.dryRun ? 'would go' : 'removed'}`);
      }
    } catch (error) {
      await store.updateRun(runId, { status: 'Failed', endedAt: now(), counters: countersOf(sum(reports)), message: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
      throw error;
    }
    const totals = sum(reports);
    const skipped = totals.skipped + (metadata?.skipped ?? 0);
    const status: RunStatus = skipped > 0 ? 'CompletedWithErrors' : 'Succeeded';
    const message = skipped > 0 ? `${skipped} record(s) or metadata component(s) changed while forget ran and were left as they were; run forget again.` : null;
    const counters = { ...countersOf(totals), ...(metadata ? { metadataVersions: metadata.versions, metadataVersionsRemoved: metadata.versionsRemoved, metadataContentsRemoved: metadata.contentsRemoved } : {}) };
    await store.updateRun(runId, { status, endedAt: now(), counters, message });
    if (!request.dryRun) {
      await store.appendAudit({
        at: now(),
        actor: deps.actor,
        action: 'retention.forget',
        target: org.name,
        details: { runId, versionsRemoved: totals.versionsRemoved, recordsRemoved: totals.recordsRemoved, filesRemoved: totals.filesRemoved, metadataVersionsRemoved: metadata?.versionsRemoved ?? 0 },
      });
    }
    return { runId, org: org.name, orgId: org.orgId, dryRun: request.dryRun, status, asOf: new Date(asOf).toISOString(), policy, objects: reports, totals, metadata };
  } finally {
    await lock?.release();
  }
}

async function forgetObject(deps: ForgetDeps, request: ForgetRequest, policy: RetentionPolicy, asOf: number, objectName: string): Promise<ForgetObjectReport> {
  const { store } = deps;
  const orgId = request.org.orgId;
  const report: ForgetObjectReport = { objectName, records: 0, recordsRemoved: 0, versions: 0, versionsRemoved: 0, versionsKept: 0, files: 0, filesRemoved: 0, filesKept: 0, fileBytesRemoved: 0, skipped: 0 };
  if (request.detail) report.detail = [];
  const iso = (t: number): string => new Date(t).toISOString();
  // Recovery points of the object pin the version each record had at their time.
  const pinnedAt = (await store.listRecoveryPoints(orgId)).filter((p) => p.objects.some((o) => o.objectName.toLowerCase() === objectName.toLowerCase())).map((p) => p.at);
  for await (const page of store.recordChains(orgId, objectName)) {
    // Records an archive deleted on purpose are never forgotten for being deleted.
    const deletedIds = page.filter((r) => r.versions[0]?.isDeleted).map((r) => r.recordId);
    const archived = deletedIds.length && policy.keepDeletedDays !== null ? await store.archivedRecords(orgId, deletedIds) : new Map<string, { restored: boolean }>();
    const removals: ForgetRecord[] = [];
    for (const chain of page) {
      const mark = archived.get(chain.recordId);
      const verdict = evaluateRecord(chain, policy, asOf, { archived: mark !== undefined && !mark.restored, pinnedAt });
      report.records++;
      report.versions += verdict.versions.length;
      report.files += verdict.files.length;
      const removed = verdict.versions.filter((v) => !v.keep);
      const filesRemoved = verdict.files.filter((f) => !f.keep);
      report.versionsRemoved += removed.length;
      report.versionsKept += verdict.versions.length - removed.length;
      report.filesRemoved += filesRemoved.length;
      report.filesKept += verdict.files.length - filesRemoved.length;
      report.fileBytesRemoved += filesRemoved.reduce((n, f) => n + f.size, 0);
      if (verdict.wholeRecord) report.recordsRemoved++;
      if (!removesAnything(verdict)) continue;
      removals.push({
        recordId: chain.recordId,
        headSeq: chain.versions[0]!.seq,
        wholeRecord: verdict.wholeRecord,
        seqs: removed.map((v) => v.seq),
        files: filesRemoved.map((f) => ({ field: f.field, systemModstamp: f.systemModstamp })),
      });
      report.detail?.push({
        recordId: chain.recordId,
        wholeRecord: verdict.wholeRecord,
        removed: removed.map((v) => ({ seq: v.seq, systemModstamp: iso(v.systemModstamp) })),
        kept: verdict.versions.filter((v) => v.keep).map((v) => ({ seq: v.seq, systemModstamp: iso(v.systemModstamp), reasons: v.reasons })),
        filesRemoved: filesRemoved.map((f) => ({ field: f.field, systemModstamp: iso(f.systemModstamp) })),
      });
    }
    if (!request.dryRun && removals.length) {
      const outcome = await store.forgetVersions(orgId, objectName, removals);
      report.skipped += outcome.skipped;
    }
  }
  return report;
}

/**
 * Applies the policy to every metadata component as to a record: its versions by capture time,
 * the latest always kept, a component deleted longer ago than deleted records are kept gone whole.
 */
async function forgetMetadata(store: ForgetStore, orgId: string, policy: RetentionPolicy, asOf: number, dryRun: boolean): Promise<ForgetMetadataReport> {
  const report: ForgetMetadataReport = { components: 0, componentsRemoved: 0, versions: 0, versionsRemoved: 0, versionsKept: 0, contentsRemoved: 0, skipped: 0 };
  const removals: MetadataForget[] = [];
  for (const chain of await store.metadataChains(orgId)) {
    const verdict = evaluateRecord(
      { recordId: `${chain.type}:${chain.fullName}`, versions: chain.versions.map((v) => ({ seq: v.seq, systemModstamp: v.capturedAt, isDeleted: v.deleted })), files: [] },
      policy,
      asOf,
    );
    const removed = verdict.versions.filter((v) => !v.keep).map((v) => v.seq);
    report.components++;
    report.versions += chain.versions.length;
    report.versionsRemoved += removed.length;
    report.versionsKept += chain.versions.length - removed.length;
    if (verdict.wholeRecord) report.componentsRemoved++;
    if (removed.length) removals.push({ type: chain.type, fullName: chain.fullName, headSeq: chain.versions[0]!.seq, seqs: removed });
  }
  if (!dryRun && removals.length) {
    const outcome = await store.forgetMetadataVersions(orgId, removals);
    report.contentsRemoved = outcome.contents;
    report.skipped = outcome.skipped;
  }
  return report;
}

function sum(reports: readonly ForgetObjectReport[]): ForgetReport['totals'] {
  const totals = Object.fromEntries(COUNTERS.map((k) => [k, 0])) as ForgetReport['totals'];
  for (const r of reports) for (const k of COUNTERS) totals[k] += r[k];
  return totals;
}

function countersOf(report: Omit<ForgetObjectReport, 'objectName' | 'detail'>): Record<string, number> {
  return Object.fromEntries(COUNTERS.map((k) => [k, report[k]]));
}
