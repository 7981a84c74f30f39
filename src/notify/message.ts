/**
 * How an event reads in each channel: an email (plain text and simple HTML), a JSON webhook body,
 * and a Slack incoming-webhook payload (`text` for notifications and clients without blocks,
 * `blocks` for the message). Everything here comes from the event, which holds no field values.
 */
import type { NotificationEvent } from '../core/notifications.ts';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

const KIND_LABELS: Readonly<Record<string, string>> = {
  'job-failed': 'Backup job failed',
  'objects-in-error': 'Objects in error',
  'org-behind': 'Org behind',
  'permission-gap': 'Permission gap',
  'restore-finished': 'Restore finished',
  test: 'Test notification',
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

/** A test (`notify test`) says so rather than the kind it borrowed. */
const kindOf = (event: NotificationEvent): string => (event.details.test === true ? 'test' : event.kind);

function footer(event: NotificationEvent): string[] {
  return [
    `Org: ${event.orgName}${event.orgId ? ` (${event.orgId})` : ''}`,
    `When: ${new Date(event.at).toISOString()}`,
    ...(event.runId ? [`Job: ${event.runId} (details: orgvault logs ${event.runId})`] : []),
  ];
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function emailMessage(event: NotificationEvent): EmailMessage {
  const subject = `[orgvault] ${event.title}`;
  const why =
    kindOf(event) === 'test'
      ? `You receive this because this address is a notification channel of the org ${event.orgName}.`
      : `You receive this because the org ${event.orgName} sends "${kindLabel(event.kind)}" notifications to this address.`;
  const change = `Change it with \`orgvault notify set --org ${event.orgName}\` or on the org's Notifications page.`;
  const lines = [event.title, '', event.summary, '', ...footer(event), '', `${why} ${change}`];
  const paragraphs = event.summary.split(/\n{2,}/).map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`);
  const html = `<!doctype html><html><body style="font-family: system-ui, sans-serif; color: #1b1f24; max-width: 640px">
<h2 style="margin: 0 0 .75rem">${escapeHtml(event.title)}</h2>
${paragraphs.join('\n')}
<p style="color: #57606a; font-size: 90%">${footer(event).map(escapeHtml).join('<br>')}</p>
<p style="color: #57606a; font-size: 80%">${escapeHtml(why)} ${escapeHtml(change).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>
</body></html>`;
  return { subject, text: lines.join('\n'), html };
}

/** The JSON a webhook receives. */
export function webhookBody(event: NotificationEvent): Record<string, unknown> {
  return {
    source: 'orgvault',
    kind: kindOf(event),
    org: event.orgName,
    orgId: event.orgId,
    at: new Date(event.at).toISOString(),
    runId: event.runId,
    title: event.title,
    summary: event.summary,
    details: event.details,
  };
}

const cut = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
/** Slack's mrkdwn treats these three as markup. */
const escapeSlack = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming-webhook payload (also accepted by Mattermost and Rocket.Chat). */
export function slackPayload(event: NotificationEvent): { text: string; blocks: unknown[] } {
  return {
    text: cut(`${event.title}: ${event.summary.split('\n')[0] ?? ''}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: cut(event.title, 150), emoji: false } },
      { type: 'section', text: { type: 'mrkdwn', text: cut(escapeSlack(event.summary), 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: cut(escapeSlack(footer(event).join(' · ')), 3000) }] },
    ],
  };
}
