/**
 * Notification rows to domain records, shared by both engines: a channel's sealed settings are
 * the same bytes on SQLite and PostgreSQL (sealed by src/notify), so the mapping does not depend
 * on the engine.
 */
import type { NotificationEventKind } from '../../core/notifications.ts';
import type { NotificationChannelRecord, NotificationChannelType, NotificationLogEntry } from '../port.ts';
import type { NotificationChannelsTable, NotificationLogTable } from '../schema/tables.ts';

/** A notification log row as reads select it: every column but the ordering `seq`. */
export type NotificationLogRow = Omit<NotificationLogTable, 'seq'>;

/** A `notification_channels` row as a channel record (settings still sealed). */
export const toChannel = (row: NotificationChannelsTable): NotificationChannelRecord => ({
  orgId: row.org_id,
  name: row.name,
  type: row.type as NotificationChannelType,
  events: JSON.parse(row.events) as NotificationEventKind[],
  enabled: row.enabled !== 0,
  sealedConfig: new Uint8Array(row.sealed_config),
  updatedAt: row.updated_at,
});

/** A `notification_log` row as a log entry. */
export const toLogEntry = (row: NotificationLogRow): NotificationLogEntry => ({
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
