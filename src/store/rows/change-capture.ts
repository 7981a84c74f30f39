/**
 * Change Data Capture rows to domain values, shared by both engines: stream states and recovery
 * points' object lists are the same JSON text on SQLite and PostgreSQL, so rows copy as they are.
 */
import type { RecoveryPoint, RecoveryPointObject, StreamObjectState } from '../port.ts';
import type { RecoveryPointsTable } from '../schema/tables.ts';

/** A `recovery_points` row as a recovery point. */
export function toRecoveryPoint(row: RecoveryPointsTable): RecoveryPoint {
  return { id: row.id, orgId: row.org_id, name: row.name, at: row.at, createdAt: row.created_at, createdBy: row.created_by, objects: JSON.parse(row.objects) as RecoveryPointObject[] };
}

/** A `stream_state.state` column as an object's stream state. */
export function toStreamState(row: { state: string }): StreamObjectState {
  return JSON.parse(row.state) as StreamObjectState;
}

/** A recovery point's column values in the order (id, org_id, name, at, created_at, created_by, objects). */
export function recoveryPointParams(point: RecoveryPoint): [string, string, string | null, number, number, string, string] {
  return [point.id, point.orgId, point.name, point.at, point.createdAt, point.createdBy, JSON.stringify(point.objects)];
}
