/** The retention section of an org's settings page: the policy `orgvault forget` applies, shown and edited. */
import { html } from 'hono/html';
import { OrgvaultError, UsageError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { clearRetentionPolicy, describePolicy, storedPolicy, updateRetentionPolicy } from '../../retention/index.ts';
import type { PolicyKey, RetentionPolicy } from '../../retention/index.ts';
import type { ServerApp } from '../app.ts';
import type { Html } from './layout.ts';
import { csrfField, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';

/** The form's fields: the count rules (0 keeps none), then the rules of their own (empty: off). */
const COUNTS: readonly [PolicyKey, string][] = [
  ['keepAllDays', 'Keep every version for (days)'],
  ['keepDaily', 'Then keep daily versions'],
  ['keepWeekly', 'Weekly versions'],
  ['keepMonthly', 'Monthly versions'],
  ['keepYearly', 'Yearly versions'],
];
const OPTIONAL: readonly [PolicyKey, string, string][] = [
  ['keepDeletedDays', 'Keep deleted records for (days after deletion)', 'forever'],
  ['keepFileDays', 'Keep every file version for (days)', 'no rule'],
  ['keepFileVersions', 'Keep the last file versions of each record', 'no rule'],
];

export function registerRetentionPages(app: ServerApp, { deps }: PageContext): void {
  app.post('/orgs/:name/settings/retention', async (c) => {
    const refused = refuse(c, 'settings');
    if (refused) return refused;
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const form = await c.req.parseBody();
    const text = (k: string): string => (typeof form[k] === 'string' ? (form[k] as string).trim() : '');
    const policyDeps = { catalog: deps.store, audit: deps.store, actor: c.get('caller')!.user.name, now: deps.now };
    try {
      if (form.clear === 'on') {
        await clearRetentionPolicy(policyDeps, org);
      } else {
        const changes: Partial<Record<PolicyKey, number | null>> = {};
        const value = (key: PolicyKey, label: string): number => {
          if (!/^\d+$/.test(text(key))) throw new UsageError(`${label}: "${text(key)}" is not a whole number.`);
          return Number(text(key));
        };
        for (const [key, label] of COUNTS) changes[key] = text(key) === '' ? 0 : value(key, label);
        for (const [key, label] of OPTIONAL) changes[key] = text(key) === '' ? null : value(key, label);
        await updateRetentionPolicy(policyDeps, org, changes);
      }
      return c.redirect(`/orgs/${encodeURIComponent(org.name)}/settings?saved=1`, 303);
    } catch (error) {
      if (!(error instanceof OrgvaultError)) throw error;
      return render(c, `Settings of ${org.name}`, html`<h1>Settings of ${org.name}</h1>${retentionSection(org, true, csrfField(c), error.message)}`, 400);
    }
  });
}

/** The section: what the policy keeps in words, and a form to change it (read-only without the settings right). */
export function retentionSection(org: OrgRegistration, editable: boolean, csrf: Html, error?: string): Html {
  let policy: RetentionPolicy | undefined;
  let stored: string | undefined;
  try {
    policy = storedPolicy(org);
  } catch (e) {
    stored = e instanceof Error ? e.message : String(e);
  }
  const disabled = editable ? '' : 'disabled';
  const number = (key: PolicyKey): string => {
    const v = policy?.[key];
    return v === null || v === undefined ? '' : String(v);
  };
  return html`<h2 id="retention">Retention</h2>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    ${stored ? html`<p class="error">${stored}</p>` : ''}
    <p>${policy ? describePolicy(policy) : 'No retention policy: every version is kept.'}
      <span class="muted">\`orgvault forget --org ${org.name} --dry-run\` shows what it would remove; \`orgvault prune\` then reclaims the space.</span></p>
    <form method="post" action="/orgs/${encodeURIComponent(org.name)}/settings/retention" class="panel">
      ${csrf}
      <div class="grid">
        ${COUNTS.map(([key, label]) => html`<div><label for="${key}">${label}</label><input id="${key}" name="${key}" type="number" min="0" value="${number(key)}" placeholder="0" ${disabled} /></div>`)}
        ${OPTIONAL.map(([key, label, empty]) => html`<div><label for="${key}">${label}</label><input id="${key}" name="${key}" type="number" min="0" value="${number(key)}" placeholder="${empty}" ${disabled} /></div>`)}
      </div>
      <p class="muted">The latest version of every record and metadata component is always kept, and the files of kept versions. Record versions are grouped by their SystemModstamp, metadata versions by when they were captured, in UTC days, ISO weeks, months and years.</p>
      ${editable
        ? html`<p><label><input type="checkbox" name="clear" /> Remove the policy (keep every version)</label></p>
            <p><button type="submit">Save retention</button></p>`
        : ''}
    </form>`;
}
