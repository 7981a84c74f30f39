/**
 * Notification channels and the notification log on PostgreSQL (migration 10), as the SQLite
 * adapter keeps them. A channel's settings arrive sealed by src/notify (bound to the org and
 * channel by its associated data) and are stored as the same bytes, so a channel copies between
 * engines and opens on both; the log holds outcomes and error messages without secrets.
 *
 * Concurrency: each write is one statement. A channel is an upsert on its key, so two
 * administrators saving one channel at once leave one of the two whole, never a mix; log entries
 * are appended with their own identity `seq`, which orders "newest first".
 */
import type { NotificationChannelRecord, NotificationLogEntry, NotificationStore } from '../port.ts';
import { toChannel, toLogEntry } from '../rows/notifications.ts';
import type { NotificationLogRow } from '../rows/notifications.ts';
import type { NotificationChannelsTable } from '../schema/tables.ts';
import type { PgConnections } from './connection.ts';

const LOG_COLUMNS = 'at, org_id, org_name, event_kind, run_id, channel, channel_type, outcome, error, attempts, duration_ms';

export class PgNotifications implements NotificationStore {
  constructor(private readonly conns: PgConnections) {}

  async putNotificationChannel(c: NotificationChannelRecord): Promise<void> {
    await this.conns.query(
      `INSERT INTO notification_channels (org_id, name, type, events, enabled, sealed_config, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (org_id, name) DO UPDATE SET type = excluded.type, events = excluded.events, enabled = excluded.enabled,
         sealed_config = excluded.sealed_config, updated_at = excluded.updated_at`,
      [c.orgId, c.name, c.type, JSON.stringify(c.events), c.enabled ? 1 : 0, Buffer.from(c.sealedConfig), c.updatedAt],
    );
  }

  async removeNotificationChannel(orgId: string, name: string): Promise<boolean> {
    return (await this.conns.query('DELETE FROM notification_channels WHERE org_id = $1 AND name = $2 RETURNING name', [orgId, name])).length > 0;
  }

  async notificationChannels(orgId: string): Promise<NotificationChannelRecord[]> {
    // Byte order, as SQLite sorts, whatever the database's collation.
    return (await this.conns.query<NotificationChannelsTable>('SELECT * FROM notification_channels WHERE org_id = $1 ORDER BY name COLLATE "C"', [orgId])).map(toChannel);
  }

  async appendNotificationLog(e: NotificationLogEntry): Promise<void> {
    await this.conns.query(`INSERT INTO notification_log (${LOG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
      e.at,
      e.orgId,
      e.orgName,
      e.eventKind,
      e.runId,
      e.channel,
      e.channelType,
      e.outcome,
      e.error,
      e.attempts,
      Math.round(e.durationMs),
    ]);
  }

  async listNotificationLog(options: { orgId?: string; limit?: number } = {}): Promise<NotificationLogEntry[]> {
    const limit = options.limit ?? 100;
    const rows =
      options.orgId === undefined
        ? await this.conns.query<NotificationLogRow>(`SELECT ${LOG_COLUMNS} FROM notification_log ORDER BY seq DESC LIMIT $1`, [limit])
        : await this.conns.query<NotificationLogRow>(`SELECT ${LOG_COLUMNS} FROM notification_log WHERE org_id = $1 ORDER BY seq DESC LIMIT $2`, [options.orgId, limit]);
    return rows.map(toLogEntry);
  }
}
