/** The job log: every run, and a run's page (All Objects / Objects with Errors, or a restore's records), live while it runs. */
import { html, raw } from 'hono/html';
import { jobsWithQueued, runLogOf } from '../../backup/index.ts';
import { UsageError } from '../../core/errors.ts';
import { restoreRecords } from '../../restore/index.ts';
import type { ServerApp } from '../app.ts';
import { badge, bytes, count, iso } from './layout.ts';
import { render } from './index.ts';
import type { PageContext } from './index.ts';

export function registerRunPages(app: ServerApp, { deps }: PageContext): void {
  app.get('/runs', async (c) => {
    const orgName = c.req.query('org');
    const org = orgName ? await deps.store.getOrg(orgName) : undefined;
    const runs = await jobsWithQueued(deps.store, deps.queue, { orgId: org?.orgId, limit: 100 });
    const body = html`<h1>Job log${org ? html` of ${org.name}` : ''}</h1>
      ${runs.length === 0
        ? html`<div class="empty">No jobs yet: back an org up to see its runs here.</div>`
        : html`<table>
            <thead><tr><th>Run ID</th><th>Kind</th><th>Org</th><th>Start</th><th>End</th><th>Status</th></tr></thead>
            <tbody>${runs.map((r) => html`<tr><td><a href="/runs/${r.runId}">${r.runId}</a></td><td>${r.kind}</td><td>${r.org ?? ''}</td><td>${iso(r.startedAt)}</td><td>${r.endedAt ? iso(r.endedAt) : r.status === 'Queued' ? '(queued)' : '(running)'}</td><td>${badge(r.status)}</td></tr>`)}</tbody>
          </table>`}`;
    return render(c, 'Job log', body);
  });

  app.get('/runs/:id', async (c) => {
    const runId = c.req.param('id');
    // A backup queued for the workers has no run yet: its page is drawn from the queue until it starts.
    const fromQueue = !(await deps.store.getRun(runId));
    const log = await runLogOf(deps.store, deps.queue, runId).catch((error: unknown) => {
      if (error instanceof UsageError) return undefined;
      throw error;
    });
    if (!log) return render(c, 'Not found', html`<h1>No run ${runId}</h1><p><a href="/runs">The job log</a></p>`, 404);
    const errorsOnly = c.req.query('tab') === 'errors';
    const base = `/runs/${runId}`;
    const tabs = (all: number, errors: number, labels: [string, string]) => html`<nav class="tabs" aria-label="Views">
      <a href="${base}" ${!errorsOnly ? raw('aria-current="page"') : ''}>${labels[0]} (${all})</a>
      <a href="${base}?tab=errors" ${errorsOnly ? raw('aria-current="page"') : ''}>${labels[1]} (${errors})</a>
    </nav>`;
    let detail;
    if (log.kind === 'restore') {
      const records = await restoreRecords(deps.store, runId);
      const failed = records.filter((r) => r.outcome === 'Failed');
      const shown = errorsOnly ? failed : records;
      detail = html`${tabs(records.length, failed.length, ['All records', 'Failed records'])}
        ${shown.length === 0
          ? html`<div class="empty">${errorsOnly ? 'No record failed.' : 'No records.'}</div>`
          : html`<table>
              <thead><tr><th>Object</th><th>Original ID</th><th>New ID</th><th>Outcome</th><th>Status code</th><th>Message</th><th>Cause and fix</th></tr></thead>
              <tbody>${shown.slice(0, 1000).map(
                (r) => html`<tr><td>${r.object}</td><td>${r.originalId}</td><td>${r.newId ?? ''}</td><td>${badge(r.outcome)}</td><td>${r.statusCode ? html`<code>${r.statusCode}</code>` : ''}</td><td>${r.message ?? ''}</td><td class="muted">${r.cause ? html`${r.cause} <b>Fix:</b> ${r.fix}` : ''}</td></tr>`,
              )}</tbody>
            </table>`}`;
    } else {
      const errors = log.objects.filter((o) => o.status !== 'Succeeded');
      // Added: records seen for the first time; changed: new versions of known records; removed: deletes.
      const numbers = (o: (typeof log.objects)[number]) => {
        const k = o.counters;
        const added = k.newRecords ?? 0;
        return { added, changed: Math.max(0, (k.versions ?? 0) - added - (k.deletes ?? 0)), removed: k.deletes ?? 0, rest: k.apiCalls ?? 0, bulk: k.bulkQueryJobs ?? 0, bytes: k.fileBytes ?? 0 };
      };
      const onlyChanged = c.req.query('changed') === '1';
      const minCalls = Number(c.req.query('minCalls') ?? 0) || 0;
      const shown = (errorsOnly ? errors : log.objects).filter((o) => {
        const n = numbers(o);
        return (!onlyChanged || n.added + n.changed + n.removed > 0) && n.rest + n.bulk >= minCalls;
      });
      detail = html`${tabs(log.objects.length, errors.length, ['All Objects', 'Objects with Errors'])}
        <form method="get" action="${base}" class="panel" style="border-radius: 0 8px 0 0">
          ${errorsOnly ? html`<input type="hidden" name="tab" value="errors" />` : ''}
          <label style="display:inline;font-weight:normal"><input type="checkbox" name="changed" value="1" style="min-width:0" ${onlyChanged ? 'checked' : ''} /> only objects with records added, changed or removed</label>
          <label for="minCalls" style="display:inline;margin-left:1rem">API calls at least</label> <input id="minCalls" name="minCalls" type="number" min="0" value="${minCalls || ''}" style="min-width:0;width:6rem" />
          <button class="secondary" type="submit">Filter</button>
        </form>
        ${shown.length === 0
          ? html`<div class="empty">${errorsOnly ? 'No object ended with an error.' : 'No objects match.'}</div>`
          : html`<table>
              <thead><tr><th>Object</th><th>Status</th><th class="num">Added</th><th class="num">Changed</th><th class="num">Removed</th><th class="num">REST calls</th><th class="num">Bulk jobs</th><th class="num">Files size</th><th>Status code, cause and fix</th></tr></thead>
              <tbody>${shown.map((o) => {
                const n = numbers(o);
                return html`<tr><td>${o.name}</td><td>${badge(o.status)}</td><td class="num">${count(n.added)}</td><td class="num">${count(n.changed)}</td><td class="num">${count(n.removed)}</td><td class="num">${count(n.rest)}</td><td class="num">${count(n.bulk)}</td><td class="num">${bytes(n.bytes)}</td><td>${o.statusCode ? html`<code>${o.statusCode}</code> ${o.message ?? ''}<br /><span class="muted">${o.cause} <b>Fix:</b> ${o.fix}</span>` : (o.message ?? '')}</td></tr>`;
              })}</tbody>
            </table>`}`;
    }
    const body = html`<h1>${log.kind === 'restore' ? 'Restore' : log.kind === 'backup' ? 'Backup' : log.kind} ${runId}</h1>
      <p>${badge(log.status)} <span id="run-status" data-status="${log.status}" class="muted">${log.org ?? ''} · ${log.status === 'Queued' ? 'queued' : 'started'} ${iso(log.startedAt)} · ${log.endedAt ? `ended ${iso(log.endedAt)}` : log.status === 'Queued' ? 'waiting for a worker…' : 'running…'}</span></p>
      ${log.message ? html`<p>${log.message}</p>` : ''}
      ${log.kind === 'archive' && log.org ? html`<p><a class="button secondary" href="/orgs/${encodeURIComponent(log.org)}/archive/${runId}">The archive's records</a></p>` : ''}
      <p class="muted">${Object.entries(log.counters).map(([k, v]) => `${k} ${count(v)}`).join(' · ')}</p>
      <p><a class="button secondary" href="/api/runs/${runId}/report.csv" download>Download CSV</a> <a class="button secondary" href="/api/runs/${runId}/report.csv?errors=true" download>Download errors (CSV)</a></p>
      ${detail}
      ${log.status === 'Running' || log.status === 'Queued'
        ? html`<script>
            // Follows the run live; the page is drawn again once its status changes, or, while the
            // page comes from the queue, once anything changes (a worker claimed it, the run began).
            const fromQueue = ${fromQueue ? 'true' : 'false'};
            const events = new EventSource('/api/runs/${raw(runId)}/events');
            let seen = 0;
            events.addEventListener('run', (e) => {
              const changed = fromQueue ? seen++ > 0 : JSON.parse(e.data).status !== 'Running';
              if (changed) { events.close(); location.reload(); }
            });
          </script>`
        : ''}`;
    return render(c, `Run ${runId}`, body);
  });
}
