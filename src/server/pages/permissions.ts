/**
 * An org's permission check page (AvePoint's permission report): the API user's user permissions
 * with what each is for, the objects and fields not protected because of a missing permission,
 * every object's access, and what the check could not read; "Check now", the CSV and the
 * permission set to deploy. `permissionFlags` is the banner the org's dashboard shows.
 */
import { html } from 'hono/html';
import type { Context } from 'hono';
import { OrgvaultError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { latestPermissionReport, PERMISSION_SET_NAME, permissionSetXml, reportCsv, runPermissionCheck } from '../../permissions/index.ts';
import type { PermissionReport } from '../../permissions/index.ts';
import type { RunLog } from '../../store/port.ts';
import type { ServerApp } from '../app.ts';
import type { ServerEnv } from '../context.ts';
import { connectTo } from '../routes/shared.ts';
import { badge, iso } from './layout.ts';
import type { Html } from './layout.ts';
import { csrfField, may, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';

const STATUS_BADGE: Record<string, string> = { granted: 'Succeeded', missing: 'Failed', unknown: 'Skipped' };

export function registerPermissionPages(app: ServerApp, { deps }: PageContext): void {
  const orgOrPage = async (c: Context<ServerEnv>): Promise<OrgRegistration | Response> => {
    const org = await deps.store.getOrg(c.req.param('name') ?? '');
    return org ?? render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
  };

  app.get('/orgs/:name/permissions', async (c) => {
    const org = await orgOrPage(c);
    if (org instanceof Response) return org;
    const latest = await latestPermissionReport(deps.store, org.orgId);
    const base = `/orgs/${encodeURIComponent(org.name)}`;
    const checkButton = may(c, 'backup') ? html`<form class="inline" method="post" action="${base}/permissions/check">${csrfField(c)}<button type="submit">Check now</button></form>` : '';
    if (!latest) {
      return render(
        c,
        `Permissions of ${org.name}`,
        html`<h1>Permissions of ${org.name}</h1>
          <div class="empty">No permission check yet. It reads the API user's profile and what it can see, and says which objects, fields and user permissions backup and restore are missing.</div>
          <p>${checkButton} <a class="button secondary" href="${base}">Back to ${org.name}</a></p>`,
      );
    }
    return render(c, `Permissions of ${org.name}`, reportPage(org, latest.report, latest.run.runId, checkButton, c.req.query('error')));
  });

  app.post('/orgs/:name/permissions/check', async (c) => {
    const refused = refuse(c, 'backup');
    if (refused) return refused;
    const org = await orgOrPage(c);
    if (org instanceof Response) return org;
    const base = `/orgs/${encodeURIComponent(org.name)}/permissions`;
    try {
      await runPermissionCheck({ store: deps.store, connect: () => connectTo(deps, org), now: deps.now }, org);
      return c.redirect(base, 303);
    } catch (error) {
      if (!(error instanceof OrgvaultError)) throw error;
      // The failed run is in the job log; the page says why.
      return c.redirect(`${base}?error=${encodeURIComponent(error.message)}`, 303);
    }
  });

  app.get('/orgs/:name/permissions.csv', async (c) => {
    const org = await orgOrPage(c);
    if (org instanceof Response) return org;
    const latest = await latestPermissionReport(deps.store, org.orgId);
    if (!latest) return render(c, 'Not found', html`<h1>No permission check of ${org.name} yet</h1>`, 404);
    return c.body(reportCsv(latest.report), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${fileSafe(org.name)}-permissions.csv"` });
  });

  app.get(`/orgs/:name/${PERMISSION_SET_NAME}.permissionset-meta.xml`, async (c) => {
    const org = await orgOrPage(c);
    if (org instanceof Response) return org;
    const latest = await latestPermissionReport(deps.store, org.orgId);
    if (!latest) return render(c, 'Not found', html`<h1>No permission check of ${org.name} yet</h1>`, 404);
    return c.body(permissionSetXml(latest.report), 200, { 'content-type': 'application/xml; charset=utf-8', 'content-disposition': `attachment; filename="${PERMISSION_SET_NAME}.permissionset-meta.xml"` });
  });
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

function reportPage(org: OrgRegistration, report: PermissionReport, runId: string, checkButton: Html | string, error: string | undefined): Html {
  const base = `/orgs/${encodeURIComponent(org.name)}`;
  const s = report.summary;
  const unprotected = report.objects.filter((o) => o.unprotected);
  const fields = report.fields.filter((f) => f.objectReadable);
  const notRead = report.sources.filter((x) => x.status !== 'read');
  const u = report.user;
  return html`<h1>Permissions of ${org.name}</h1>
    ${error ? html`<p class="error" role="alert">The check failed: ${error}</p>` : ''}
    <div class="banner ${s.gap ? 'bad' : s.recommendedMissing.length || notRead.length ? 'warn' : 'good'}" role="status">
      ${s.gap
        ? `Gaps: ${[s.requiredMissing.length ? `${s.requiredMissing.length} required permission(s) missing` : '', unprotected.length ? `${unprotected.length} object(s) not protected` : '', fields.length ? `${fields.length} field(s) unreadable` : ''].filter(Boolean).join(', ')}`
        : 'The API user has every required permission and reads every object and field the vault backs up.'}
    </div>
    <p>API user <b>${u.username}</b> <span class="muted">${u.id}</span>${u.profileName ? html`, profile <b>${u.profileName}</b>` : ''}${u.permissionSets.length ? html`, permission sets ${u.permissionSets.join(', ')}` : ''}.
      Checked ${iso(report.checkedAt)} (<a href="/runs/${runId}">run</a>).</p>
    <p>${checkButton}
      <a class="button secondary" href="${base}/permissions.csv">Download CSV</a>
      <a class="button secondary" href="${base}/${PERMISSION_SET_NAME}.permissionset-meta.xml">Download the permission set</a>
      <a class="button secondary" href="${base}">Back to ${org.name}</a></p>
    <h2>User permissions</h2>
    <table>
      <thead><tr><th>Permission</th><th>Status</th><th>Need</th><th>For</th><th>What it is for</th><th>Without it</th></tr></thead>
      <tbody>${report.userPermissions.map(
        (p) => html`<tr><td>${p.label} <code>${p.name}</code></td><td><span class="badge ${STATUS_BADGE[p.status]}">${p.status}</span></td><td>${p.need}</td><td>${p.neededFor}</td><td>${p.purpose}</td><td class="muted">${p.affects}${p.note ? html`<br />${p.note}` : ''}</td></tr>`,
      )}</tbody>
    </table>
    <h2 id="unprotected">Objects not protected (${unprotected.length})</h2>
    ${unprotected.length
      ? html`<table><thead><tr><th>Object</th><th>Access</th><th>In the vault</th><th>Why</th></tr></thead>
          <tbody>${unprotected.map((o) => html`<tr><td>${o.object}</td><td>${o.read ? 'shared records only' : 'none'}</td><td>${o.vaultStatus ? badge(o.vaultStatus) : '—'}</td><td class="muted">${o.note ?? ''}</td></tr>`)}</tbody></table>`
      : html`<div class="empty">None.</div>`}
    <h2 id="fields">Fields the API user cannot read (${fields.length})</h2>
    ${fields.length
      ? html`<table><thead><tr><th>Object</th><th>Field</th><th>Backed up before</th><th>Found by</th></tr></thead>
          <tbody>${fields.map((f) => html`<tr><td>${f.object}</td><td>${f.field}</td><td>${f.backedUpBefore ? 'yes: later versions miss it' : 'no'}</td><td class="muted">${f.source === 'profile' ? 'field-level security' : 'describe'}</td></tr>`)}</tbody></table>`
      : html`<div class="empty">None.</div>`}
    ${notRead.length ? html`<h2>Not read</h2><ul>${notRead.map((x) => html`<li><b>${x.source}</b>: ${x.detail}</li>`)}</ul>` : ''}
    <h2>Every object (${report.objects.length}: ${s.objectsReadable} readable)</h2>
    <details><summary>Show the object permissions</summary>
      <table><thead><tr><th>Object</th><th>Read</th><th>All records</th><th>Granted by</th><th>In the vault</th></tr></thead>
        <tbody>${report.objects.map((o) => html`<tr><td>${o.object}</td><td>${o.read ? 'yes' : 'no'}</td><td>${o.allRecords === null ? '—' : o.allRecords ? 'yes' : 'shared only'}</td><td class="muted">${o.grantedBy.join(', ')}</td><td>${o.vaultStatus ?? ''}</td></tr>`)}</tbody>
      </table>
    </details>
    <p class="muted">Grant what is missing with the permission set above (<code>orgvault permissions set-file --org ${org.name} --out DIR</code> writes it as a project for <code>sf project deploy start</code>), assign it to ${u.username}, and check again.</p>`;
}

/**
 * The org dashboard's flag: objects and fields the last check found unprotected because of a
 * missing permission, linking to the report. Empty when the last check found no gap, or none ran.
 */
export async function permissionFlags(store: Pick<RunLog, 'listRuns'>, org: OrgRegistration): Promise<{ banner: Html | string; objects: Set<string>; fields: Map<string, string[]> }> {
  const latest = await latestPermissionReport(store, org.orgId);
  const objects = new Set<string>();
  const fields = new Map<string, string[]>();
  if (!latest || !latest.report.summary.gap) return { banner: '', objects, fields };
  const report = latest.report;
  for (const o of report.objects) if (o.unprotected) objects.add(o.object);
  for (const f of report.fields) if (f.objectReadable) fields.set(f.object, [...(fields.get(f.object) ?? []), f.field]);
  const link = `/orgs/${encodeURIComponent(org.name)}/permissions`;
  const names = [...objects].slice(0, 10);
  const fieldNames = [...fields].flatMap(([o, fs]) => fs.map((f) => `${o}.${f}`)).slice(0, 10);
  const banner = html`<div class="banner bad" role="alert">Not protected because of missing permissions (check of ${iso(report.checkedAt)}):
      ${report.summary.requiredMissing.length ? html`missing ${report.summary.requiredMissing.join(', ')}; ` : ''}
      ${objects.size ? html`objects ${names.join(', ')}${objects.size > names.length ? ` and ${objects.size - names.length} more` : ''}; ` : ''}
      ${fieldNames.length ? html`fields ${fieldNames.join(', ')}${report.summary.fieldsUnreadable > fieldNames.length ? ` and ${report.summary.fieldsUnreadable - fieldNames.length} more` : ''}. ` : ''}
      <a href="${link}">See the permission check</a></div>`;
  return { banner, objects, fields };
}
