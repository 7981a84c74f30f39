/**
 * Notification channels and the notification log on SQLite (migration 10). A channel's settings
 * arrive sealed by src/notify and are stored as they are; the log holds outcomes and error
 * messages src/notify wrote without secrets. Plain prepared SQL: these tables are small.
 */
import type { NotificationChannelRecord, NotificationLogEntry, NotificationStore } from '../port.ts';
import { toChannel, toLogEntry } from '../rows/notifications.ts';
import type { NotificationLogRow } from '../rows/notifications.ts';
import type { NotificationChannelsTable } from '../schema/tables.ts';
import type { Connections } from './connection.ts';
import { statement } from './connection.ts';

export class SqliteNotifications implements NotificationStore {
  constructor(private readonly conns: Connections) {}

  async putNotificationChannel(c: NotificationChannelRecord): Promise<void> {
    // Durable: a channel removed or a secret replaced must not come back after a power cut.
    await this.conns.transaction(
      (db) =>
        statement(
          db,
          `INSERT INTO notification_channels (org_id, name, type, events, enabled, sealed_config, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (org_id, name) DO UPDATE SET type = excluded.type, events = excluded.events, enabled = excluded.enabled, sealed_config = excluded.sealed_config, updated_at = excluded.updated_at`,
        ).run(c.orgId, c.name, c.type, JSON.stringify(c.events), c.enabled ? 1 : 0, Buffer.from(c.sealedConfig), c.updatedAt),
      { durable: true },
    );
  }

  async removeNotificationChannel(orgId: string, name: string): Promise<boolean> {
    return this.conns.transaction((db) => statement(db, 'DELETE FROM notification_channels WHERE org_id = ? AND name = ?').run(orgId, name).changes > 0, { durable: true });
  }

  async notificationChannels(orgId: string): Promise<NotificationChannelRecord[]> {
    return (statement(this.conns.read, 'SELECT * FROM notification_channels WHERE org_id = ? ORDER BY name').all(orgId) as NotificationChannelsTable[]).map(toChannel);
  }

  async appendNotificationLog(e: NotificationLogEntry): Promise<void> {
    await this.conns.transaction((db) =>
      statement(
        db,
        'INSERT INTO notification_log (at, org_id, org_name, event_kind, run_id, channel, channel_type, outcome, error, attempts, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(e.at, e.orgId, e.orgName, e.eventKind, e.runId, e.channel, e.channelType, e.outcome, e.error, e.attempts, Math.round(e.durationMs)),
    );
  }

  async listNotificationLog(options: { orgId?: string; limit?: number } = {}): Promise<NotificationLogEntry[]> {
    const limit = options.limit ?? 100;
    const rows =
      options.orgId === undefined
        ? statement(this.conns.read, 'SELECT * FROM notification_log ORDER BY seq DESC LIMIT ?').all(limit)
        : statement(this.conns.read, 'SELECT * FROM notification_log WHERE org_id = ? ORDER BY seq DESC LIMIT ?').all(options.orgId, limit);
    return (rows as NotificationLogRow[]).map(toLogEntry);
  }
}
