/**
 * The archive pages: which records to archive → a dry run, always first, whose page lists what
 * would go and what would be refused and why → the archive itself, confirmed from that page with
 * the dry run's own options → its report. Administrators only; anyone who may view reads reports.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { archiveReport, runArchive, storedSelection } from '../../archive/index.ts';
import type { ArchiveReport } from '../../archive/index.ts';
import { OrgvaultError, UsageError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import type { ServerApp } from '../app.ts';
import type { ServerEnv } from '../context.ts';
import { connectTo } from '../routes/shared.ts';
import { badge, count, iso } from './layout.ts';
import type { Html } from './layout.ts';
import { csrfField, may, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';

const OUTCOMES = ['Deleted', 'Ready', 'Refused', 'Skipped', 'Failed'] as const;

export function registerArchivePages(app: ServerApp, { deps }: PageContext): void {
  const orgOf = async (c: Context<ServerEnv>): Promise<OrgRegistration | undefined> => deps.store.getOrg(c.req.param('name') ?? '');
  const notFound = (c: Context<ServerEnv>): Response | Promise<Response> => render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);

  app.get('/orgs/:name/archive', async (c) => {
    const refused = refuse(c, 'archive');
    if (refused) return refused;
    const org = await orgOf(c);
    if (!org) return notFound(c);
    const base = `/orgs/${encodeURIComponent(org.name)}`;
    const runs = await deps.store.listRuns({ orgId: org.orgId, kind: 'archive', limit: 20 });
    const body = html`<h1>Archive from ${org.name}</h1>
      <p class="muted">Frees Salesforce storage: records that are safely in the vault (backed up as they are now, with their files) are deleted from Salesforce. They stay in the vault, marked archived, and can be restored like any deleted record. A dry run comes first and deletes nothing.</p>
      <form method="post" action="${base}/archive" class="panel">
        ${csrfField(c)}
        <input type="hidden" name="mode" value="dry-run" />
        <div class="grid2">
          <div><label for="object">Object</label><input id="object" name="object" placeholder="Case" required /></div>
          <div><label for="limit">At most (records)</label><input id="limit" name="limit" type="number" min="1" placeholder="no limit" /></div>
        </div>
        <label for="where">Which records (a SOQL condition)</label>
        <textarea id="where" name="where" rows="2" style="width:100%" placeholder="ClosedDate &lt; LAST_N_YEARS:2 AND IsClosed = true" required></textarea>
        <label style="font-weight:normal"><input type="checkbox" name="children" style="min-width:0" /> Archive each record's children with it (those Salesforce deletes with it: master-detail and cascades)</label>
        <label for="childObjects">Also their children in these objects (lookups, and restricted lookups that would block the delete)</label><input id="childObjects" name="childObjects" placeholder="Case, Task (needs the box above)" />
        <p><button type="submit">Dry run (deletes nothing)</button></p>
      </form>
      <h2>Archives of ${org.name}</h2>
      ${runs.length === 0
        ? html`<div class="empty">No archive yet.</div>`
        : html`<table>
            <thead><tr><th>Run</th><th>Started</th><th>Status</th><th>Result</th></tr></thead>
            <tbody>${runs.map((r) => html`<tr><td><a href="${base}/archive/${r.runId}">${r.runId.slice(0, 8)}</a></td><td>${iso(r.startedAt)}</td><td>${badge(r.status)}</td><td>${r.message ?? ''}</td></tr>`)}</tbody>
          </table>`}`;
    return render(c, 'Archive', body);
  });

  app.post('/orgs/:name/archive', async (c) => {
    const refused = refuse(c, 'archive');
    if (refused) return refused;
    const org = await orgOf(c);
    if (!org) return notFound(c);
    const form = await c.req.parseBody();
    const text = (k: string): string => (typeof form[k] === 'string' ? (form[k] as string).trim() : '');
    const caller = c.get('caller')!;
    try {
      let request;
      if (text('mode') === 'archive') {
        // The archive itself is confirmed from a dry run's page and runs with that dry run's options.
        const dry = await deps.store.getRun(text('from'));
        if (!dry || dry.kind !== 'archive' || dry.orgId !== org.orgId || dry.parameters.dryRun !== true) throw new UsageError('Start from a dry run of this org: its page has the button that archives.');
        if (text('confirm') !== 'on') throw new UsageError('Tick the box that confirms the records will be deleted from Salesforce, then archive.');
        request = { ...storedSelection(dry), dryRun: false, skipUnsafe: text('skipUnsafe') === 'on' };
      } else {
        const limit = text('limit');
        request = {
          objectName: text('object'),
          where: text('where'),
          limit: limit === '' ? undefined : Number(limit),
          children: text('children') === 'on',
          childObjects: text('childObjects').split(/[\s,]+/).filter(Boolean),
          dryRun: true,
          skipUnsafe: false,
        };
      }
      const report = await runArchive({ store: deps.store, blobs: deps.blobs, client: await connectTo(deps, org), now: deps.now }, { ...request, org, actor: caller.user.name });
      return c.redirect(`/orgs/${encodeURIComponent(org.name)}/archive/${report.runId}`, 303);
    } catch (error) {
      if (!(error instanceof OrgvaultError)) throw error;
      return render(c, 'Archive', html`<h1>Archive from ${org.name}</h1><p class="error" role="alert">${error.message}</p><p><a href="javascript:history.back()">Back</a></p>`, 400);
    }
  });

  app.get('/orgs/:name/archive/:runId', async (c) => {
    const refused = refuse(c, 'view');
    if (refused) return refused;
    const org = await orgOf(c);
    if (!org) return notFound(c);
    const run = await deps.store.getRun(c.req.param('runId'));
    if (!run || run.kind !== 'archive' || run.orgId !== org.orgId) return render(c, 'Not found', html`<h1>No archive ${c.req.param('runId')} of ${org.name}</h1>`, 404);
    const report = await archiveReport(deps.store, run.runId);
    return render(c, `Archive ${run.runId}`, reportPage(c, org, report));
  });
}

function reportPage(c: Context<ServerEnv>, org: OrgRegistration, report: ArchiveReport): Html {
  const base = `/orgs/${encodeURIComponent(org.name)}`;
  const problems = report.results.filter((r) => r.outcome === 'Refused' || r.outcome === 'Failed');
  const rows = [...problems, ...report.results.filter((r) => r.outcome !== 'Refused' && r.outcome !== 'Failed')].slice(0, 1000);
  const c0 = report.counts;
  const deleted = report.results.filter((r) => r.outcome === 'Deleted' && r.object === report.object);
  return html`<h1>${report.dryRun ? 'Dry run of an archive' : 'Archive'} of ${report.object} <span class="muted">${report.runId}</span></h1>
    <p>${badge(report.status)} <a href="/runs/${report.runId}">job log</a></p>
    <p>${report.message}</p>
    ${report.unchecked.length ? html`<p class="muted">Not checked (the API user cannot query them; Salesforce deletes their records with their parents): ${report.unchecked.join(', ')}.</p>` : ''}
    ${report.dryRun && c0.Ready > 0 && may(c, 'archive')
      ? html`<form method="post" action="${base}/archive" class="panel">
          ${csrfField(c)}
          <input type="hidden" name="mode" value="archive" /><input type="hidden" name="from" value="${report.runId}" />
          <h2 style="margin-top:0">Archive these records</h2>
          <p>Every record is checked in the vault again just before it is deleted.</p>
          ${c0.Refused > 0
            ? html`<label style="font-weight:normal"><input type="checkbox" name="skipUnsafe" style="min-width:0" /> Delete the ${count(c0.Ready)} safe record(s) even though ${count(c0.Refused)} are refused (otherwise nothing is deleted)</label>`
            : ''}
          <label style="font-weight:normal"><input type="checkbox" name="confirm" required style="min-width:0" /> I understand: these records will be deleted from Salesforce. They stay in the vault, and in Salesforce's Recycle Bin for 15 days.</label>
          <p><button type="submit">Archive ${count(c0.Ready)} record(s)</button></p>
        </form>`
      : ''}
    ${!report.dryRun && deleted.length > 0
      ? html`<p class="muted">To bring them back: <code>orgvault restore --org ${org.name} --object ${report.object} --archived ${report.runId} --children 5</code>${deleted.length <= 200 && may(c, 'restore')
          ? html`, or <a href="${base}/restore?object=${encodeURIComponent(report.object)}&amp;children=5&amp;ids=${deleted.map((r) => r.recordId).join(',')}">restore them in the wizard</a>`
          : ''}.</p>`
      : ''}
    <table>
      <thead><tr><th>Object</th>${OUTCOMES.map((o) => html`<th class="num">${report.dryRun && o === 'Ready' ? 'Would go' : o}</th>`)}</tr></thead>
      <tbody>${report.objects.map((o) => html`<tr><td>${o.object}</td>${OUTCOMES.map((k) => html`<td class="num">${count(o.counts[k])}</td>`)}</tr>`)}</tbody>
    </table>
    <h2>Records${problems.length ? html` (${count(problems.length)} refused or failed first)` : ''}</h2>
    ${rows.length === 0
      ? html`<div class="empty">No record matched.</div>`
      : html`<table>
          <thead><tr><th>Object</th><th>Record</th><th>Outcome</th><th>Status code</th><th>Why</th><th>Cause and fix</th></tr></thead>
          <tbody>${rows.map(
            (r) => html`<tr><td>${r.object}</td><td><a href="${base}/records/${r.recordId}">${r.recordId}</a>${r.via ? html`<br /><span class="muted">under ${r.via}</span>` : ''}</td><td>${badge(r.outcome)}</td><td>${r.statusCode ? html`<code>${r.statusCode}</code>` : ''}</td><td>${r.message ?? ''}</td><td class="muted">${r.cause ? html`${r.cause} <b>Fix:</b> ${r.fix}` : ''}</td></tr>`,
          )}</tbody>
        </table>
        ${report.results.length > rows.length ? html`<p class="muted">… and ${count(report.results.length - rows.length)} more: <code>orgvault logs ${report.runId}</code> or <a href="/api/orgs/${encodeURIComponent(org.name)}/archives/${report.runId}">the JSON report</a>.</p>` : ''}`}`;
}
