/**
 * An org's Notifications page: its channels (email, webhook, Slack) with the events each receives,
 * forms to add, change, test and remove them (administrators: the settings right), and the log of
 * what was sent. Secrets are write-only: a password or URL field left empty keeps what is stored,
 * and what is stored is shown masked.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { OrgvaultError } from '../../core/errors.ts';
import { NOTIFICATION_EVENT_KINDS } from '../../core/notifications.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { CHANNEL_TYPES, EVENT_DESCRIPTIONS, SMTP_SECURITY, channelViews, kindLabel, removeChannel, setChannel } from '../../notify/index.ts';
import type { ChannelChanges, ChannelView, DeliveryOutcome, SmtpSecurity } from '../../notify/index.ts';
import type { ServerApp } from '../app.ts';
import type { ServerEnv } from '../context.ts';
import { notifierOf } from '../routes/notifications.ts';
import { iso } from './layout.ts';
import type { Html } from './layout.ts';
import { csrfField, may, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';

type Form = Record<string, string | File | (string | File)[]>;

export function registerNotificationPages(app: ServerApp, { deps }: PageContext): void {
  const settingsDeps = (c: Context<ServerEnv>) => ({ store: deps.store, keyring: deps.keyring, audit: deps.store, actor: c.get('caller')!.user.name, now: deps.now });

  const show = async (c: Context<ServerEnv>, org: OrgRegistration, notice?: { error?: string; saved?: string; tested?: DeliveryOutcome[] }, status: 200 | 400 = 200): Promise<Response> => {
    const channels = await channelViews(deps, org);
    const log = await deps.store.listNotificationLog({ orgId: org.orgId, limit: 50 });
    const editable = may(c, 'settings');
    const base = `/orgs/${encodeURIComponent(org.name)}/notifications`;
    const body = html`<h1>Notifications of ${org.name}</h1>
      <p class="muted">Be told by email, a webhook or Slack when a backup job fails, objects end in error, the org falls behind, the permission check finds a gap, or a restore finishes. <a href="/orgs/${encodeURIComponent(org.name)}">Back to ${org.name}</a></p>
      ${notice?.error ? html`<p class="error" role="alert">${notice.error}</p>` : ''}
      ${notice?.saved ? html`<div class="banner good" role="status">${notice.saved}</div>` : ''}
      ${notice?.tested
        ? html`<div class="banner ${notice.tested.every((t) => t.outcome === 'sent') ? 'good' : 'bad'}" role="status">${notice.tested.map((t) => html`<div>Test to ${t.channel}: ${t.outcome === 'sent' ? 'sent' : `failed: ${t.error}`}</div>`)}</div>`
        : ''}
      <h2>Channels</h2>
      ${channels.length === 0
        ? html`<div class="empty">No channel yet: nothing is sent.${editable ? ' Add one below.' : ''}</div>`
        : html`<table>
            <thead><tr><th>Channel</th><th>Where</th><th>Events</th><th></th></tr></thead>
            <tbody>${channels.map((ch) => channelRow(c, base, ch, editable))}</tbody>
          </table>`}
      ${editable
        ? html`<h2>${channels.length ? 'Add a channel' : 'Add the first channel'}</h2>${channelForm(c, base, undefined)}
            ${channels.map((ch) => html`<details class="panel" style="margin-top: 1rem"><summary>Change ${ch.name}</summary>${channelForm(c, base, ch)}</details>`)}`
        : ''}
      <h2>Sent</h2>
      ${log.length === 0
        ? html`<div class="empty">No notification was sent for ${org.name} yet.</div>`
        : html`<table>
            <thead><tr><th>When</th><th>Event</th><th>Channel</th><th>Outcome</th><th>Job</th></tr></thead>
            <tbody>${log.map(
              (e) => html`<tr><td>${iso(e.at)}</td><td>${kindLabel(e.eventKind)}</td><td>${e.channel} <span class="muted">(${e.channelType})</span></td>
                <td><span class="badge ${e.outcome === 'sent' ? 'Succeeded' : 'Failed'}">${e.outcome}</span>${e.error ? html` <span class="muted">${e.error}</span>` : ''}</td>
                <td>${e.runId ? html`<a href="/runs/${e.runId}">${e.runId.slice(0, 8)}</a>` : ''}</td></tr>`,
            )}</tbody>
          </table>`}`;
    return render(c, `Notifications of ${org.name}`, body, status);
  };

  const orgOf = async (c: Context<ServerEnv>): Promise<OrgRegistration | Response> => {
    const org = await deps.store.getOrg(c.req.param('name') ?? '');
    return org ?? render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
  };

  app.get('/orgs/:name/notifications', async (c) => {
    const org = await orgOf(c);
    if (org instanceof Response) return org;
    const saved = c.req.query('saved');
    return show(c, org, saved ? { saved: `Channel ${saved} saved.` } : undefined);
  });

  app.post('/orgs/:name/notifications', async (c) => {
    const refused = refuse(c, 'settings');
    if (refused) return refused;
    const org = await orgOf(c);
    if (org instanceof Response) return org;
    const form = await c.req.parseBody({ all: true });
    try {
      const view = await setChannel(settingsDeps(c), org, changesOf(form));
      return c.redirect(`/orgs/${encodeURIComponent(org.name)}/notifications?saved=${encodeURIComponent(view.name)}`, 303);
    } catch (error) {
      if (!(error instanceof OrgvaultError)) throw error;
      return show(c, org, { error: error.message }, 400);
    }
  });

  app.post('/orgs/:name/notifications/remove', async (c) => {
    const refused = refuse(c, 'settings');
    if (refused) return refused;
    const org = await orgOf(c);
    if (org instanceof Response) return org;
    const form = await c.req.parseBody();
    await removeChannel(settingsDeps(c), org, text(form, 'channel'));
    return c.redirect(`/orgs/${encodeURIComponent(org.name)}/notifications`, 303);
  });

  app.post('/orgs/:name/notifications/test', async (c) => {
    const refused = refuse(c, 'settings');
    if (refused) return refused;
    const org = await orgOf(c);
    if (org instanceof Response) return org;
    const form = await c.req.parseBody();
    const tested = await notifierOf(deps).test(org, text(form, 'channel') || undefined);
    return show(c, org, { tested });
  });
}

function text(form: Form, key: string): string {
  const v = form[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first.trim() : '';
}

/** The form's fields as changes: an empty field keeps the stored value (secrets, above all). */
function changesOf(form: Form): ChannelChanges {
  const type = text(form, 'type') as ChannelChanges['type'];
  const raw = form.events;
  const events = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((e): e is string => typeof e === 'string');
  const optional = (key: string): string | undefined => text(form, key) || undefined;
  const port = optional('port');
  const email =
    type === 'email'
      ? {
          host: optional('host'),
          port: port === undefined ? undefined : /^\d+$/.test(port) ? Number(port) : -1,
          security: optional('security') as SmtpSecurity | undefined,
          user: optional('user'),
          password: optional('password'),
          from: optional('from'),
          to: optional('to')?.split(/[,;\s]+/).filter(Boolean),
        }
      : undefined;
  return {
    name: text(form, 'name'),
    type: type || undefined,
    // The form always shows the boxes: none ticked is a choice the check refuses with its message.
    events: form.eventsShown === '1' ? events : undefined,
    enabled: form.eventsShown === '1' ? form.enabled === 'on' : undefined,
    email,
    url: type === 'webhook' || type === 'slack' ? optional('url') : undefined,
  };
}

function channelRow(c: Context<ServerEnv>, base: string, ch: ChannelView, editable: boolean): Html {
  const s = ch.settings;
  const where =
    ch.type === 'email'
      ? html`Email to ${(s.to as string[]).join(', ')}<br /><span class="muted">from ${String(s.from)} through ${String(s.host)}:${String(s.port)} (${String(s.security)})${s.user ? html`, user ${String(s.user)}, password ${s.password ? '••••' : 'none'}` : ''}</span>`
      : html`${ch.type === 'slack' ? 'Slack' : 'Webhook'} <code>${String(s.url)}</code>`;
  return html`<tr>
    <td><b>${ch.name}</b>${ch.enabled ? '' : html` <span class="badge">disabled</span>`}</td>
    <td>${where}</td>
    <td>${ch.events.map((e) => kindLabel(e)).join(', ')}</td>
    <td>${editable
      ? html`<form method="post" action="${base}/test" class="inline">${csrfField(c)}<input type="hidden" name="channel" value="${ch.name}" /><button type="submit" class="secondary">Send a test</button></form>
          <form method="post" action="${base}/remove" class="inline">${csrfField(c)}<input type="hidden" name="channel" value="${ch.name}" /><button type="submit" class="secondary">Remove</button></form>`
      : ''}</td>
  </tr>`;
}

function channelForm(c: Context<ServerEnv>, base: string, ch: ChannelView | undefined): Html {
  const s = ch?.settings ?? {};
  const id = (field: string): string => `${ch ? `ch-${ch.name}` : 'new'}-${field}`;
  const value = (key: string): string => (s[key] === null || s[key] === undefined ? '' : Array.isArray(s[key]) ? (s[key] as string[]).join(', ') : String(s[key]));
  const chosen = new Set(ch?.events ?? NOTIFICATION_EVENT_KINDS);
  const typeField = ch
    ? html`<input type="hidden" name="type" value="${ch.type}" /><input type="hidden" name="name" value="${ch.name}" />`
    : html`<div class="grid2">
        <div><label for="${id('name')}">Channel name</label><input id="${id('name')}" name="name" required placeholder="ops-email" /></div>
        <div><label for="${id('type')}">Type</label><select id="${id('type')}" name="type">${CHANNEL_TYPES.map((t) => html`<option value="${t}">${t === 'email' ? 'Email (SMTP)' : t === 'slack' ? 'Slack incoming webhook' : 'Webhook (JSON POST)'}</option>`)}</select></div>
      </div>`;
  const emailFields = html`<fieldset><legend>Email (SMTP)</legend><div class="grid2">
      <div><label for="${id('to')}">Send to (addresses, comma-separated)</label><input id="${id('to')}" name="to" value="${value('to')}" placeholder="admin@example.com" /></div>
      <div><label for="${id('from')}">From</label><input id="${id('from')}" name="from" value="${value('from')}" placeholder="orgvault@example.com" /></div>
      <div><label for="${id('host')}">SMTP server</label><input id="${id('host')}" name="host" value="${value('host')}" placeholder="smtp.example.com" /></div>
      <div><label for="${id('port')}">Port</label><input id="${id('port')}" name="port" value="${value('port')}" placeholder="587" /></div>
      <div><label for="${id('security')}">Security</label><select id="${id('security')}" name="security">${SMTP_SECURITY.map((m) => html`<option value="${m}" ${value('security') === m ? 'selected' : ''}>${m === 'tls' ? 'TLS (port 465)' : m === 'starttls' ? 'STARTTLS (port 587)' : 'None (a relay on localhost)'}</option>`)}</select></div>
      <div><label for="${id('user')}">User</label><input id="${id('user')}" name="user" value="${value('user')}" autocomplete="off" /></div>
      <div><label for="${id('password')}">Password</label><input id="${id('password')}" name="password" type="password" autocomplete="new-password" placeholder="${s.password ? 'stored: leave empty to keep it' : ''}" /></div>
    </div></fieldset>`;
  const urlField = html`<div><label for="${id('url')}">${ch?.type === 'slack' ? 'Slack incoming-webhook URL' : 'Webhook URL (https)'}</label><input id="${id('url')}" name="url" type="password" autocomplete="off" placeholder="${ch ? 'stored: leave empty to keep it' : 'https://hooks.slack.com/services/…'}" /></div>`;
  return html`<form method="post" action="${base}" class="panel">
    ${csrfField(c)}
    ${typeField}
    ${!ch ? html`${emailFields}<fieldset><legend>Webhook or Slack</legend>${urlField}</fieldset>` : ch.type === 'email' ? emailFields : urlField}
    <input type="hidden" name="eventsShown" value="1" />
    <fieldset><legend>Events sent to this channel</legend>
      ${NOTIFICATION_EVENT_KINDS.map((k) => html`<label style="font-weight: normal"><input type="checkbox" name="events" value="${k}" ${chosen.has(k) ? 'checked' : ''} style="min-width: 0" /> ${kindLabel(k)} <span class="muted">: ${EVENT_DESCRIPTIONS[k]}</span></label>`)}
    </fieldset>
    <label style="font-weight: normal"><input type="checkbox" name="enabled" ${ch === undefined || ch.enabled ? 'checked' : ''} style="min-width: 0" /> Enabled</label>
    <p><button type="submit">${ch ? `Save ${ch.name}` : 'Add the channel'}</button></p>
  </form>`;
}
