/**
 * Change Data Capture's bookkeeping on SQLite (migration 9): the stream's state per object, the
 * lookup telling which scanned versions the stream had already stored, and recovery points. Nothing
 * here holds a field value: object names, record IDs, replay IDs, times and counters only.
 */
import type { RecoveryPoint, StreamObjectState, ChangeCaptureStore } from '../port.ts';
import { recoveryPointParams, toRecoveryPoint, toStreamState } from '../rows/change-capture.ts';
import type { RecoveryPointsTable } from '../schema/tables.ts';
import type { Connections } from './connection.ts';
import { statement } from './connection.ts';

/** Pairs per lookup: well under SQLite's bound-parameter limit. */
const KEYS_PER_QUERY = 300;

export class SqliteChangeCapture implements ChangeCaptureStore {
  constructor(private readonly conns: Connections) {}

  async getStreamStates(orgId: string): Promise<StreamObjectState[]> {
    const rows = statement(this.conns.read, 'SELECT state FROM stream_state WHERE org_id = ? ORDER BY object_name').all(orgId) as { state: string }[];
    return rows.map(toStreamState);
  }

  async putStreamState(orgId: string, state: StreamObjectState): Promise<void> {
    await this.conns.transaction(
      (db) => {
        statement(db, 'INSERT INTO stream_state (org_id, object_name, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (org_id, object_name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at').run(
          orgId,
          state.objectName,
          JSON.stringify(state),
          state.updatedAt,
        );
      },
      { durable: true },
    );
  }

  async storedVersionKeys(orgId: string, objectName: string, keys: readonly { recordId: string; systemModstamp: number }[]): Promise<Set<string>> {
    const found = new Set<string>();
    const object = statement(this.conns.read, 'SELECT object_key FROM objects WHERE org_id = ? AND name = ?').get(orgId, objectName) as { object_key: number } | undefined;
    if (!object || !keys.length) return found;
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      // The (object_key, system_modstamp) index finds each pair without a per-record index.
      const sql = `SELECT record_id, system_modstamp FROM record_versions WHERE object_key = ? AND (${chunk.map(() => '(system_modstamp = ? AND record_id = ?)').join(' OR ')})`;
      const rows = statement(this.conns.read, sql).all(object.object_key, ...chunk.flatMap((k) => [k.systemModstamp, k.recordId])) as { record_id: string; system_modstamp: number }[];
      for (const row of rows) found.add(`${row.record_id}@${row.system_modstamp}`);
    }
    return found;
  }

  async putRecoveryPoint(point: RecoveryPoint): Promise<void> {
    await this.conns.transaction(
      (db) => {
        statement(db, 'INSERT INTO recovery_points (id, org_id, name, at, created_at, created_by, objects) VALUES (?, ?, ?, ?, ?, ?, ?)').run(...recoveryPointParams(point));
      },
      { durable: true },
    );
  }

  async getRecoveryPoint(id: string): Promise<RecoveryPoint | undefined> {
    const row = statement(this.conns.read, 'SELECT * FROM recovery_points WHERE id = ?').get(id) as RecoveryPointsTable | undefined;
    return row && toRecoveryPoint(row);
  }

  async listRecoveryPoints(orgId: string): Promise<RecoveryPoint[]> {
    const rows = statement(this.conns.read, 'SELECT * FROM recovery_points WHERE org_id = ? ORDER BY created_at DESC, id').all(orgId) as RecoveryPointsTable[];
    return rows.map(toRecoveryPoint);
  }
}
