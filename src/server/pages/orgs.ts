/** Organizations, an org's backup dashboard, "Back up now", and a record's history with its files. */
import { html, raw } from 'hono/html';
import { recordHistory, resolveSettings, statusReport, storedSettings, updateBackupSettings } from '../../backup/index.ts';
import type { StatusObject, StatusReport } from '../../backup/index.ts';
import { isRecordId } from '../../core/vault.ts';
import type { Run } from '../../core/vault.ts';
import type { ServerApp } from '../app.ts';
import { badge, bytes, count, iso } from './layout.ts';
import type { Html } from './layout.ts';
import { csrfField, may, refuse, render } from './index.ts';
import { permissionFlags } from './permissions.ts';
import { backupScheduleOf, scheduleSummary } from './schedules.ts';
import type { ScheduleView } from '../../schedule/index.ts';
import type { PageContext } from './index.ts';

const BANNER: Record<string, 'good' | 'warn' | 'bad'> = { 'Running Continuously': 'good', Backfilling: 'warn', Behind: 'warn', Paused: 'warn', Error: 'bad', 'Never backed up': 'warn' };

export function registerOrgPages(app: ServerApp, { deps, backups }: PageContext): void {
  app.get('/', async (c) => {
    const orgs = await deps.store.listOrgs();
    const hidden = new Set((c.req.query('hidden') ?? '').split(',').filter(Boolean));
    const reports = await Promise.all(orgs.sort((a, b) => a.name.localeCompare(b.name)).map((o) => statusReport(deps.store, o)));
    const schedules = new Map(await Promise.all(orgs.map(async (o) => [o.name, await backupScheduleOf(deps, o)] as const)));
    const shown = reports.filter((r) => !hidden.has(r.org));
    const body = html`<h1>Organizations</h1>
      ${reports.length === 0
        ? html`<div class="empty">No org is connected yet. Connect one with <code>orgvault org add NAME …</code> (or <code>POST /api/orgs</code>), then back it up.</div>`
        : html`<div class="tiles">${shown.map((r) => tile(r, schedules.get(r.org)))}</div>
            ${hidden.size ? html`<p class="muted">${hidden.size} hidden: <a href="/">show all</a></p>` : ''}`}`;
    return render(c, 'Organizations', body);
  });

  app.get('/orgs/:name', async (c) => {
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const report = await statusReport(deps.store, org);
    const tab = c.req.query('tab') ?? 'backed-up';
    const filter = (c.req.query('q') ?? '').toLowerCase();
    const sort = c.req.query('sort') ?? 'name';
    const groups: Record<string, StatusObject[]> = {
      'backed-up': report.objects.filter((o) => o.status !== 'Excluded' && o.status !== 'Unsupported' && o.status !== 'NotVisible'),
      excluded: report.objects.filter((o) => o.status === 'Excluded'),
      unsupported: report.objects.filter((o) => o.status === 'Unsupported' || o.status === 'NotVisible'),
    };
    const rows = (groups[tab] ?? groups['backed-up']!).filter((o) => !filter || o.name.toLowerCase().includes(filter) || o.status.toLowerCase().includes(filter)).sort(sorter(sort));
    const runs = (await deps.store.listRuns({ orgId: org.orgId, kind: 'backup', limit: 30 })).reverse();
    const base = `/orgs/${encodeURIComponent(org.name)}`;
    const filesOn = resolveSettings(storedSettings(org)).mode === 'objects-and-files';
    const flags = await permissionFlags(deps.store, org);
    const active = await backups.active(org);
    const body = html`<h1>${org.name} <span class="muted">${org.orgId}</span></h1>
      <div class="banner ${BANNER[report.status] ?? 'warn'}" role="status">${report.status}${report.lastRun?.status === 'CompletedWithErrors' || report.status === 'Error' ? html` · <a href="/runs/${report.lastRun?.runId ?? ''}?tab=errors">see the errors</a>` : ''}</div>
      ${flags.banner}
      ${scheduleSummary(org, await backupScheduleOf(deps, org), may(c, 'settings'))}
      <div class="totals">
        <div><b>${count(report.totals.records)}</b>records</div>
        <div><b>${count(report.totals.versions)}</b>versions</div>
        <div><b>${count(report.totals.files)}</b>files (${bytes(report.totals.fileBytes)})</div>
        <div><b>${count(report.totals.objectsBackedUp)}</b>of ${count(report.totals.objects)} objects backed up</div>
        <div><b>${iso(report.covered.from).slice(0, 10)} → ${iso(report.covered.to).slice(0, 10)}</b>period covered</div>
        ${report.totals.archived ? html`<div><b>${count(report.totals.archived)}</b>archived (deleted from Salesforce)</div>` : ''}
      </div>
      <p>
        ${may(c, 'backup')
          ? html`<form class="inline" method="post" action="${base}/backup">${csrfField(c)}<button type="submit" ${active ? 'disabled' : ''}>Back up now</button>
              <input name="objects" aria-label="Only these objects" placeholder="all objects, or: Account, Contact" style="min-width:16rem" /></form>`
          : ''}
        ${active ? html`<span class="muted" role="status">A backup is ${active.queued ? 'queued for the workers' : 'running'}${active.runId ? html`: <a href="/runs/${active.runId}">follow it</a>` : ''}.</span>` : ''}
        ${may(c, 'settings')
          ? html`<form class="inline" method="post" action="${base}/files">${csrfField(c)}<input type="hidden" name="files" value="${filesOn ? 'off' : 'on'}" /><button class="secondary" type="submit" aria-pressed="${filesOn ? 'true' : 'false'}">Files: ${filesOn ? 'backed up (turn off)' : 'not backed up (turn on)'}</button></form>`
          : html`<span class="muted">Files: ${filesOn ? 'backed up' : 'not backed up'}</span>`}
        ${may(c, 'restore') ? html`<a class="button secondary" href="${base}/restore">Restore…</a>` : ''}
        ${may(c, 'export') ? html`<a class="button secondary" href="${base}/export">Export…</a>` : ''}
        ${may(c, 'archive') ? html`<a class="button secondary" href="${base}/archive">Archive…</a>` : ''}
        <a class="button secondary" href="/runs?org=${encodeURIComponent(org.name)}">Job log</a>
        <a class="button secondary" href="${base}/settings">Settings</a>
        <a class="button secondary" href="${base}/notifications">Notifications</a>
        <a class="button secondary" href="${base}/permissions">Permissions</a>
        <a class="button secondary" href="${base}/metadata">Metadata</a>
      </p>
      <h2>Versions captured, per backup run</h2>
      ${chart(runs)}
      <nav class="tabs" aria-label="Objects">
        ${(['backed-up', 'excluded', 'unsupported'] as const).map((t) => html`<a href="${base}?tab=${t}" ${t === tab ? raw('aria-current="page"') : ''}>${t === 'backed-up' ? 'Objects' : t === 'excluded' ? 'Excluded' : 'Unsupported'} (${groups[t]!.length})</a>`)}
      </nav>
      <form method="get" action="${base}" class="panel" style="border-radius: 0 8px 0 0">
        <input type="hidden" name="tab" value="${tab}" />
        <label for="q">Filter</label><input id="q" name="q" value="${filter}" placeholder="object or status" />
        <select name="sort" aria-label="Sort by">${['name', 'status', 'records', 'versions', 'last backup'].map((s) => html`<option value="${s}" ${s === sort ? 'selected' : ''}>sort by ${s}</option>`)}</select>
        <button class="secondary" type="submit">Apply</button>
      </form>
      ${rows.length === 0
        ? html`<div class="empty">No objects here.</div>`
        : html`<table>
            <thead><tr><th>Object</th><th>Status</th><th class="num">Records</th><th class="num">Versions</th>${report.totals.archived ? html`<th class="num">Archived</th>` : ''}<th>Last backup</th><th>Reason</th></tr></thead>
            <tbody>${rows.map((o) => html`<tr><td>${o.name}</td><td>${badge(o.status)}${o.statusCode ? html` <code>${o.statusCode}</code>` : ''}</td><td class="num">${count(o.recordCount)}</td><td class="num">${count(o.versionCount)}</td>${report.totals.archived ? html`<td class="num">${o.archived ? count(o.archived) : ''}</td>` : ''}<td>${iso(o.lastBackupAt)}</td><td class="muted">${o.reason ?? ''}${permissionNote(flags, o.name)}</td></tr>`)}</tbody>
          </table>`}
      <h2>Find a record</h2>
      <form method="get" action="${base}/records"><label for="record">Record ID</label><input id="record" name="id" placeholder="001…" /> <button class="secondary" type="submit">History</button></form>`;
    return render(c, org.name, body);
  });

  app.post('/orgs/:name/backup', async (c) => {
    const refused = refuse(c, 'backup');
    if (refused) return refused;
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    // All objects, or the ones named: "Back up now" for chosen objects.
    const named = (await c.req.parseBody()).objects;
    const objects = typeof named === 'string' ? named.split(/[\s,]+/).filter(Boolean) : [];
    const wrong = objects.find((o) => !/^[A-Za-z][A-Za-z0-9_]*$/.test(o));
    if (wrong) return render(c, 'Not an object name', html`<h1>Back up now</h1><p class="error">"${wrong}" is not an object API name (letters, digits, underscores), such as Account or Invoice__c.</p>`, 400);
    const runId = await backups.start(org, c.get('caller')!.user.name, objects.length ? { objects } : {});
    return c.redirect(runId ? `/runs/${runId}` : `/orgs/${encodeURIComponent(org.name)}`, 303);
  });

  // The files toggle: objects and files, or objects only (file bodies paused).
  app.post('/orgs/:name/files', async (c) => {
    const refused = refuse(c, 'settings');
    if (refused) return refused;
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const on = (await c.req.parseBody()).files === 'on';
    await updateBackupSettings({ catalog: deps.store, audit: deps.store, actor: c.get('caller')!.user.name, now: deps.now }, org, { mode: on ? 'objects-and-files' : 'objects-only' });
    return c.redirect(`/orgs/${encodeURIComponent(org.name)}`, 303);
  });

  app.get('/orgs/:name/records', (c) => c.redirect(`/orgs/${encodeURIComponent(c.req.param('name'))}/records/${encodeURIComponent((c.req.query('id') ?? '').trim())}`, 303));

  app.get('/orgs/:name/records/:id', async (c) => {
    const org = await deps.store.getOrg(c.req.param('name'));
    const id = c.req.param('id');
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    if (!isRecordId(id)) return render(c, 'Not a record ID', html`<h1>Record history</h1><p class="error">"${id}" is not a Salesforce record ID (15 or 18 letters and digits).</p>`, 400);
    const history = await recordHistory(deps.store, org, id);
    const files = await deps.store.filesOf(org.orgId, id);
    const base = `/orgs/${encodeURIComponent(org.name)}`;
    const body = html`<h1>${history.objectName ?? 'Record'} ${id}</h1>
      ${history.archived
        ? html`<div class="banner ${history.archived.restored ? 'good' : 'warn'}" role="status">Archived by <a href="${base}/archive/${history.archived.runId}">run ${history.archived.runId.slice(0, 8)}</a> at ${iso(history.archived.archivedAt)}: ${history.archived.restored ? 'restored since.' : 'deleted from Salesforce, kept in the vault.'}</div>`
        : ''}
      ${history.versions.length === 0
        ? html`<div class="empty">The vault holds no version of this record.</div>`
        : html`<p class="muted">${history.versions.length} version(s), newest first.${may(c, 'restore') && history.objectName ? html` <a href="${base}/restore?object=${encodeURIComponent(history.objectName)}&amp;ids=${id}">Restore this record…</a>` : ''}</p>
            <ol class="timeline" style="padding-left: 1.2rem">${history.versions.map((v, i) => version(v, history.versions[i + 1]))}</ol>`}
      <h2>Files</h2>
      ${files.length === 0
        ? html`<div class="empty">No backed-up file bodies for this record.</div>`
        : html`<table><thead><tr><th>File</th><th>Version</th><th class="num">Size</th><th></th></tr></thead><tbody>${files.map(
            (f) => html`<tr><td>${f.fileName ?? f.field}</td><td>${iso(f.systemModstamp)}</td><td class="num">${bytes(f.size)}</td><td><a href="${base}/records/${id}/files/${f.address}">Download</a></td></tr>`,
          )}</tbody></table>`}`;
    return render(c, `History of ${id}`, body);
  });

  app.get('/orgs/:name/records/:id/files/:address', async (c) => {
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return c.text('No such org', 404);
    const file = (await deps.store.filesOf(org.orgId, c.req.param('id'))).find((f) => f.address === c.req.param('address'));
    if (!file) return c.text('No such file', 404);
    const chunks: Buffer[] = [];
    for await (const chunk of deps.blobs.get(file.address)) chunks.push(chunk);
    const name = (file.fileName ?? `${file.field}.bin`).replace(/["\r\n]/g, '_');
    return c.body(Buffer.concat(chunks), 200, { 'Content-Type': file.contentType ?? 'application/octet-stream', 'Content-Disposition': `attachment; filename="${name}"` });
  });
}

function tile(r: StatusReport, schedule: ScheduleView | undefined): Html {
  return html`<article class="tile">
    <h2><a href="/orgs/${encodeURIComponent(r.org)}">${r.org}</a></h2>
    <p>${badge(r.status)}</p>
    <p class="muted">Last backup: ${r.lastRun ? html`${badge(r.lastRun.status)} ${iso(r.lastRun.endedAt ?? r.lastRun.startedAt)}` : 'never'}<br />Next: ${schedule?.nextRun ? html`${iso(schedule.nextRun)} UTC (${schedule.description})` : 'not scheduled'}</p>
    <p>${count(r.totals.records)} records · ${count(r.totals.versions)} versions</p>
    <p><a href="/?hidden=${encodeURIComponent(r.org)}" class="muted">Hide</a></p>
  </article>`;
}

function sorter(by: string): (a: StatusObject, b: StatusObject) => number {
  if (by === 'records') return (a, b) => b.recordCount - a.recordCount;
  if (by === 'versions') return (a, b) => b.versionCount - a.versionCount;
  if (by === 'status') return (a, b) => a.status.localeCompare(b.status) || a.name.localeCompare(b.name);
  if (by === 'last backup') return (a, b) => (b.lastBackupAt ?? '').localeCompare(a.lastBackupAt ?? '');
  return (a, b) => a.name.localeCompare(b.name);
}

/** Bars of versions captured by each run, oldest left: an SVG drawn on the server. */
function chart(runs: readonly Run[]): Html {
  if (runs.length === 0) return html`<div class="empty">No backup yet.</div>`;
  const max = Math.max(1, ...runs.map((r) => r.counters.versions ?? 0));
  const width = 720;
  const bar = Math.max(4, Math.floor(width / runs.length) - 4);
  return html`<svg role="img" aria-label="Versions captured per backup run" width="${width}" height="140" style="background:#fff;border:1px solid var(--line);border-radius:8px">
    ${runs.map((r, i) => {
      const h = Math.round(((r.counters.versions ?? 0) / max) * 110);
      return html`<rect x="${8 + i * (bar + 4)}" y="${125 - h}" width="${bar}" height="${h}" fill="#0b5cab"><title>${iso(r.startedAt)}: ${count(r.counters.versions)} versions (${r.status})</title></rect>`;
    })}
  </svg>`;
}

function version(v: { systemModstamp: string; changeType: string; capturedAt: string; runId: string; isDeleted: boolean; changedFields: string[]; fields: Record<string, unknown> }, older: { fields: Record<string, unknown> } | undefined): Html {
  const show = (value: unknown): string => (value === null || value === undefined ? '∅' : typeof value === 'object' ? JSON.stringify(value) : String(value));
  return html`<li class="panel" style="margin-bottom: .6rem">
    <b>${iso(v.systemModstamp)}</b> ${badge(v.changeType)} ${v.isDeleted ? badge('deleted') : ''} <span class="muted">backed up ${iso(v.capturedAt)} by run <a href="/runs/${v.runId}">${v.runId.slice(0, 8)}</a></span>
    ${v.changedFields.length === 0
      ? html`<p class="muted">No field changed.</p>`
      : html`<table class="diff" style="margin-top: .4rem"><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead><tbody>${v.changedFields
          .slice(0, 60)
          .map((f) => html`<tr><td>${f}</td><td>${older ? html`<del>${show(older.fields[f])}</del>` : ''}</td><td><ins>${show(v.fields[f])}</ins></td></tr>`)}</tbody></table>`}
  </li>`;
}

/** A flag in an object's row: the API user cannot read it, or some of its fields (the last permission check). */
function permissionNote(flags: { objects: Set<string>; fields: Map<string, string[]> }, object: string): Html | string {
  const fields = flags.fields.get(object);
  if (!flags.objects.has(object) && !fields) return '';
  return html` <span class="badge Failed" title="${fields ? `Unreadable: ${fields.join(', ')}` : ''}">${flags.objects.has(object) ? 'not protected: missing permission' : `${fields!.length} field(s) unreadable`}</span>`;
}
