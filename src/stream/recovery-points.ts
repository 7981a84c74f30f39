/**
 * Recovery points (AvePoint's "generate a recovery point"): a named time for chosen objects. The
 * snapshot is the vault's versions as of that time (versions are immutable, so the point needs no
 * copy); what is recorded is which objects, when, how many live records each had, and whether
 * the vault had every change of each object up to that time: a scan that finished after it, or
 * the stream having applied events committed after it. A point past that coverage is refused
 * unless asked for anyway, and then kept marked incomplete.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../core/errors.ts';
import { isoTime } from '../core/time.ts';
import type { AuditEntry, OrgRegistration } from '../core/vault.ts';
import type { ChangeCaptureStore, ObjectStateStore, RecoveryPoint, RecoveryPointObject, VersionStore } from '../store/port.ts';

export type RecoveryPointStore = ChangeCaptureStore & ObjectStateStore & VersionStore & { appendAudit(entry: AuditEntry): Promise<void> };

export interface RecoveryPointRequest {
  org: OrgRegistration;
  objects: readonly string[];
  /** The point in time; when absent, the latest time the vault covers every chosen object to. */
  at?: number;
  name?: string;
  actor: string;
  /** Keep a point some object is not covered up to, marked incomplete, instead of refusing it. */
  allowIncomplete?: boolean;
}

/** Creates and stores a recovery point; a UsageError when an object is unknown or not covered. */
export async function createRecoveryPoint(store: RecoveryPointStore, request: RecoveryPointRequest, now: () => number = Date.now): Promise<RecoveryPoint> {
  const { org } = request;
  if (!request.objects.length) throw new UsageError('Name the objects of the recovery point with --objects Account,Contact.');
  const states = await store.getObjectStates(org.orgId);
  const streams = await store.getStreamStates(org.orgId);
  const coverage: { objectName: string; covered: number | null }[] = [];
  for (const raw of request.objects) {
    const state = states.find((s) => s.objectName.toLowerCase() === raw.toLowerCase());
    const stream = streams.find((s) => s.objectName.toLowerCase() === raw.toLowerCase());
    if (!state && !stream) throw new UsageError(`${raw} has never been backed up in ${org.name}: back it up (or stream it) before making a recovery point of it.`);
    // A scan reads every change committed before it ends; the stream every change up to its last event.
    const coveredThrough = Math.max(state?.lastBackupAt ?? Number.NEGATIVE_INFINITY, stream?.coveredThrough ?? Number.NEGATIVE_INFINITY);
    coverage.push({ objectName: state?.objectName ?? stream!.objectName, covered: Number.isFinite(coveredThrough) ? coveredThrough : null });
  }
  const latest = coverage.every((c) => c.covered !== null) ? Math.min(...coverage.map((c) => c.covered!)) : undefined;
  if (request.at === undefined && latest === undefined) {
    throw new UsageError(`${coverage.filter((c) => c.covered === null).map((c) => c.objectName).join(', ')} has no completed backup yet: run one, or give --at.`);
  }
  const at = request.at ?? latest!;
  const objects: RecoveryPointObject[] = [];
  const uncovered: string[] = [];
  for (const { objectName, covered } of coverage) {
    let records = 0;
    for await (const version of store.stateAsOf(org.orgId, objectName, at)) if (!version.isDeleted) records++;
    const complete = covered !== null && covered >= at;
    if (!complete) uncovered.push(`${objectName} (covered through ${covered === null ? 'never' : isoTime(covered)})`);
    objects.push({ objectName, records, coveredThrough: covered, complete });
  }
  if (uncovered.length && !request.allowIncomplete) {
    throw new UsageError(
      `The vault does not hold every change up to ${isoTime(at)} of ${uncovered.join(', ')}. Run a backup (or keep \`orgvault stream\` running) and try again, choose an earlier --at, or add --allow-incomplete to keep the point marked incomplete.`,
    );
  }
  const point: RecoveryPoint = { id: randomUUID(), orgId: org.orgId, name: request.name?.trim() || null, at, createdAt: now(), createdBy: request.actor, objects };
  await store.putRecoveryPoint(point);
  await store.appendAudit({ at: point.createdAt, actor: request.actor, action: 'recovery-point.create', target: org.name, details: { id: point.id, at: isoTime(at), objects: objects.map((o) => o.objectName), complete: uncovered.length === 0 } });
  return point;
}

/** The org's recovery points, newest first. */
export async function listRecoveryPoints(store: Pick<ChangeCaptureStore, 'listRecoveryPoints'>, org: OrgRegistration): Promise<RecoveryPoint[]> {
  return store.listRecoveryPoints(org.orgId);
}

/** A recovery point of the org by ID (or a unique ID prefix, or its name), or a UsageError saying what exists. */
export async function findRecoveryPoint(store: Pick<ChangeCaptureStore, 'listRecoveryPoints' | 'getRecoveryPoint'>, org: OrgRegistration, ref: string): Promise<RecoveryPoint> {
  const wanted = ref.trim();
  const exact = await store.getRecoveryPoint(wanted);
  if (exact && exact.orgId === org.orgId) return exact;
  const points = await store.listRecoveryPoints(org.orgId);
  const matches = points.filter((p) => p.id.startsWith(wanted) || p.name === wanted);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UsageError(`"${wanted}" names ${matches.length} recovery points of ${org.name}: give more of the ID (\`orgvault recovery-point list --org ${org.name}\`).`);
  throw new UsageError(`No recovery point "${wanted}" in ${org.name}: \`orgvault recovery-point list --org ${org.name}\` lists them.`);
}
