/**
 * What orgvault tells admins about, and the port that tells them. Use cases raise events; the
 * channels (email, webhook, Slack) live in src/notify and are wired by the shells. An event names
 * objects, record counts, status codes and run IDs, never field values or secrets: it leaves the
 * vault in clear.
 */

/** The events an admin can be notified of, per org (the words of the seeds' notification settings). */
export type NotificationEventKind = 'job-failed' | 'objects-in-error' | 'org-behind' | 'permission-gap' | 'restore-finished';

export const NOTIFICATION_EVENT_KINDS: readonly NotificationEventKind[] = ['job-failed', 'objects-in-error', 'org-behind', 'permission-gap', 'restore-finished'];

export interface NotificationEvent {
  kind: NotificationEventKind;
  /** The admin's name for the org. */
  orgName: string;
  orgId: string | null;
  /** When it happened, epoch ms. */
  at: number;
  /** The run it is about (a backup, a restore, a permission check), if any. */
  runId: string | null;
  /** One line, the subject of an email. */
  title: string;
  /** A few lines of plain text: what happened, and what to do. */
  summary: string;
  /** JSON-compatible facts for webhooks: object names, counts, status codes. Never field values. */
  details: Record<string, unknown>;
}

/**
 * Sends an event to the org's channels. It never throws and never waits on a slow channel longer
 * than its own time limit: a failing channel must not affect the backup or restore that raised it.
 */
export interface Notifier {
  notify(event: NotificationEvent): Promise<void>;
}
