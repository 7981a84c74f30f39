/**
 * Notification channels and the notification log on SQLite (migration 10). A channel's settings
 * arrive sealed by src/notify and are stored as they are; the log holds outcomes and error
 * messages src/notify wrote without secrets. Plain prepared SQL: these tables are small.
 */
import type { NotificationEventKind } from '../../core/notifications.ts';
import type { NotificationChannelRecord, NotificationChannelType, NotificationLogEntry, NotificationStore } from '../port.ts';
import type { Connections } from './connection.ts';
import { statement } from './connection.ts';

interface ChannelRow {
  org_id: string;
  name: string;
  type: string;
  events: string;
  enabled: number;
  sealed_config: Uint8Array;
  updated_at: number;
}

interface LogRow {
  at: number;
  org_id: string | null;
  org_name: string;
  event_kind: string;
  run_id: string | null;
  channel: string;
  channel_type: string;
  outcome: string;
  error: string | null;
  attempts: number;
  duration_ms: number;
}

const toChannel = (row: ChannelRow): NotificationChannelRecord => ({
  orgId: row.org_id,
  name: row.name,
  type: row.type as NotificationChannelType,
  events: JSON.parse(row.events) as NotificationEventKind[],
  enabled: row.enabled !== 0,
  sealedConfig: new Uint8Array(row.sealed_config),
  updatedAt: row.updated_at,
});

const toEntry = (row: LogRow): NotificationLogEntry => ({
  at: row.at,
  orgId: row.org_id,
  orgName: row.org_name,
  eventKind: row.event_kind as NotificationLogEntry['eventKind'],
  runId: row.run_id,
  channel: row.channel,
  channelType: row.channel_type as NotificationChannelType,
  outcome: row.outcome as NotificationLogEntry['outcome'],
  error: row.error,
  attempts: row.attempts,
  durationMs: row.duration_ms,
});

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
    return (statement(this.conns.read, 'SELECT * FROM notification_channels WHERE org_id = ? ORDER BY name').all(orgId) as ChannelRow[]).map(toChannel);
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
    return (rows as LogRow[]).map(toEntry);
  }
}
