/**
 * The permission check as a job: one run of kind `permissions` in the run log, whose report is
 * kept in the run's parameters (sealed like every run's parameters: it names objects and fields,
 * never values) and whose counters say the gaps in clear for lists and the dashboard. A check that
 * finds a gap ends CompletedWithErrors and tells the notifier (event `permission-gap`).
 */
import { randomUUID } from 'node:crypto';
import type { NotificationEvent, Notifier } from '../core/notifications.ts';
import type { OrgClient } from '../core/org-client.ts';
import type { OrgRegistration, Run, RunStatus } from '../core/vault.ts';
import type { RunLog } from '../store/port.ts';
import { evaluatePermissions } from './evaluate.ts';
import { gatherPermissions } from './gather.ts';
import type { PermissionStore } from './gather.ts';
import type { PermissionReport } from './requirements.ts';

export interface PermissionCheckDeps {
  store: PermissionStore & Pick<RunLog, 'createRun' | 'updateRun'>;
  /** Connects to the org (called once, after the run is recorded). */
  connect: () => Promise<OrgClient>;
  notifier?: Notifier;
  now?: () => number;
}

export interface PermissionCheckResult {
  runId: string;
  status: RunStatus;
  report: PermissionReport;
}

/** Run-log parameters key under which the report is kept. */
const REPORT_KEY = 'report';

/**
 * Checks the API user's permissions on `org` and records the run. A failure to connect or to learn
 * who the API user is marks the run Failed and is raised; every other source that cannot be read
 * is reported in `report.sources`.
 */
export async function runPermissionCheck(deps: PermissionCheckDeps, org: OrgRegistration): Promise<PermissionCheckResult> {
  const now = deps.now ?? Date.now;
  const run: Run = { runId: randomUUID(), orgId: org.orgId, kind: 'permissions', status: 'Running', startedAt: now(), endedAt: null, counters: {}, message: null, parameters: { org: org.name } };
  await deps.store.createRun(run);
  let report: PermissionReport;
  try {
    const client = await deps.connect();
    report = evaluatePermissions(await gatherPermissions(client, deps.store, org, run.startedAt));
    const apiCalls = client.usage().calls;
    const incomplete = report.sources.some((s) => s.status === 'unavailable');
    const status: RunStatus = report.summary.gap || incomplete ? 'CompletedWithErrors' : 'Succeeded';
    await deps.store.updateRun(run.runId, {
      status,
      endedAt: now(),
      counters: {
        objectsReadable: report.summary.objectsReadable,
        objectsUnreadable: report.summary.objectsUnreadable,
        objectsUnprotected: report.summary.objectsUnprotected,
        fieldsUnreadable: report.summary.fieldsUnreadable,
        requiredMissing: report.summary.requiredMissing.length,
        recommendedMissing: report.summary.recommendedMissing.length,
        apiCalls,
      },
      message: summaryLine(report, incomplete),
      parameters: { org: org.name, [REPORT_KEY]: report },
    });
    if (report.summary.gap && deps.notifier) await deps.notifier.notify(gapEvent(report, run.runId, now()));
    return { runId: run.runId, status, report };
  } catch (error) {
    await deps.store.updateRun(run.runId, { status: 'Failed', endedAt: now(), message: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}

/** The report a finished check run recorded, if the run is one. */
export function reportOfRun(run: Run): PermissionReport | undefined {
  if (run.kind !== 'permissions') return undefined;
  const report = run.parameters[REPORT_KEY] as PermissionReport | undefined;
  return report && typeof report === 'object' && Array.isArray(report.objects) ? report : undefined;
}

/** The latest finished check of an org, with its run. */
export async function latestPermissionReport(store: Pick<RunLog, 'listRuns'>, orgId: string): Promise<{ run: Run; report: PermissionReport } | undefined> {
  for (const run of await store.listRuns({ orgId, kind: 'permissions', limit: 20 })) {
    const report = reportOfRun(run);
    if (report) return { run, report };
  }
  return undefined;
}

function summaryLine(report: PermissionReport, incomplete: boolean): string {
  const s = report.summary;
  const parts = [
    s.requiredMissing.length ? `missing ${s.requiredMissing.join(', ')}` : '',
    s.objectsUnprotected ? `${s.objectsUnprotected} object(s) not protected` : '',
    s.fieldsUnreadable ? `${s.fieldsUnreadable} field(s) unreadable` : '',
    s.recommendedMissing.length ? `recommended missing: ${s.recommendedMissing.join(', ')}` : '',
    incomplete ? `not read: ${report.sources.filter((x) => x.status === 'unavailable').map((x) => x.source).join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'The API user has every permission orgvault needs.';
}

function gapEvent(report: PermissionReport, runId: string, at: number): NotificationEvent {
  const s = report.summary;
  const objects = report.objects.filter((o) => o.unprotected).map((o) => o.object);
  const fields = report.fields.filter((f) => f.objectReadable).map((f) => `${f.object}.${f.field}`);
  const lines = [
    s.requiredMissing.length ? `Missing user permissions: ${s.requiredMissing.join(', ')}.` : '',
    objects.length ? `Objects not protected: ${objects.slice(0, 20).join(', ')}${objects.length > 20 ? ` and ${objects.length - 20} more` : ''}.` : '',
    fields.length ? `Fields the API user cannot read: ${fields.slice(0, 20).join(', ')}${fields.length > 20 ? ` and ${fields.length - 20} more` : ''}.` : '',
    `Grant them (\`orgvault permissions set-file --org ${report.orgName} --out DIR\` writes a permission set that does) and run the check again.`,
  ].filter(Boolean);
  return {
    kind: 'permission-gap',
    orgName: report.orgName,
    orgId: report.orgId,
    at,
    runId,
    title: `orgvault: the API user of ${report.orgName} is missing permissions`,
    summary: lines.join('\n'),
    details: { requiredMissing: s.requiredMissing, recommendedMissing: s.recommendedMissing, objectsUnprotected: objects, fieldsUnreadable: fields, user: report.user.username },
  };
}
