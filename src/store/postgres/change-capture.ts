/**
 * Change Data Capture's bookkeeping on PostgreSQL (migration 9): the stream's state per object and
 * recovery points, as the SQLite adapter keeps them (the same JSON text, so rows copy between
 * engines as they are). Nothing here holds a field value: object names, replay IDs, times and
 * counters only. `storedVersionKeys`, which reads the record versions, lives with them.
 *
 * Concurrency: each write is one statement. A stream state is an upsert on (org, object), whole
 * (never a mix of two writes): the org's capture service writes its objects' states one after
 * another, and the last write is the state it resumes from, as in SQLite.
 * A recovery point is inserted once; a second point with the same ID fails on the primary key,
 * as in SQLite, rather than replacing the first.
 */
import type { ChangeCaptureStore, RecoveryPoint, StreamObjectState } from '../port.ts';
import { recoveryPointParams, toRecoveryPoint, toStreamState } from '../rows/change-capture.ts';
import type { RecoveryPointsTable } from '../schema/tables.ts';
import type { PgConnections } from './connection.ts';

/** The part of ChangeCaptureStore kept here (storedVersionKeys is the versions module's). */
export type PgChangeCaptureStore = Omit<ChangeCaptureStore, 'storedVersionKeys'>;

export class PgChangeCapture implements PgChangeCaptureStore {
  constructor(private readonly conns: PgConnections) {}

  async getStreamStates(orgId: string): Promise<StreamObjectState[]> {
    // Byte order, as SQLite sorts, whatever the database's collation.
    const rows = await this.conns.query<{ state: string }>('SELECT state FROM stream_state WHERE org_id = $1 ORDER BY object_name COLLATE "C"', [orgId]);
    return rows.map(toStreamState);
  }

  async putStreamState(orgId: string, state: StreamObjectState): Promise<void> {
    await this.conns.query(
      `INSERT INTO stream_state (org_id, object_name, state, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (org_id, object_name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      [orgId, state.objectName, JSON.stringify(state), state.updatedAt],
    );
  }

  async putRecoveryPoint(point: RecoveryPoint): Promise<void> {
    await this.conns.query('INSERT INTO recovery_points (id, org_id, name, at, created_at, created_by, objects) VALUES ($1, $2, $3, $4, $5, $6, $7)', recoveryPointParams(point));
  }

  async getRecoveryPoint(id: string): Promise<RecoveryPoint | undefined> {
    const [row] = await this.conns.query<RecoveryPointsTable>('SELECT * FROM recovery_points WHERE id = $1', [id]);
    return row && toRecoveryPoint(row);
  }

  async listRecoveryPoints(orgId: string): Promise<RecoveryPoint[]> {
    const rows = await this.conns.query<RecoveryPointsTable>('SELECT * FROM recovery_points WHERE org_id = $1 ORDER BY created_at DESC, id COLLATE "C"', [orgId]);
    return rows.map(toRecoveryPoint);
  }
}
