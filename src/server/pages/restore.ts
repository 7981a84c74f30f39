/**
 * The restore wizard: object and filters → the matching records and versions, with related
 * records nested under them and a compare with the live record → options → dry run or restore →
 * the report (the run's page, with its CSV).
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { levels, restoreRequestOf, selectionOf } from '../../restore/request.ts';
import type { RestoreFlags } from '../../restore/request.ts';
import { compareWithLive } from '../../compare/index.ts';
import { OrgvaultError } from '../../core/errors.ts';
import { CHANGE_TYPES } from '../../core/vault.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { gatherRelated, runRestore, selectVersions } from '../../restore/index.ts';
import type { RestoreItem } from '../../restore/index.ts';
import type { ServerApp } from '../app.ts';
import type { ServerEnv } from '../context.ts';
import { notifierOf } from '../routes/notifications.ts';
import { connectTo } from '../routes/shared.ts';
import { badge, iso } from './layout.ts';
import type { Html } from './layout.ts';
import { csrfField, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';

/** The wizard's fields, carried from step to step in the query string and the final form. */
const FIELDS = ['object', 'changeTypes', 'from', 'to', 'dateBy', 'ids', 'modifiedBy', 'where', 'match', 'asOf', 'parents', 'children'] as const;
type Fields = Partial<Record<(typeof FIELDS)[number], string>>;

function flagsOf(f: Fields, options: Record<string, string | undefined> = {}): RestoreFlags {
  const lines = (text: string | undefined): string[] | undefined => {
    const list = (text ?? '').split(/[\r\n]+/).map((l) => l.trim()).filter(Boolean);
    return list.length ? list : undefined;
  };
  return {
    object: f.object,
    changeType: f.changeTypes ? f.changeTypes.split(',').filter(Boolean) : undefined,
    from: f.from || undefined,
    to: f.to || undefined,
    dateBy: f.dateBy === 'backup' ? 'backup' : 'activity',
    id: lines(f.ids?.replace(/[,\s]+/g, '\n')),
    modifiedBy: f.modifiedBy || undefined,
    where: lines(f.where),
    match: f.match || undefined,
    asOf: f.asOf || undefined,
    parents: f.parents || '0',
    children: f.children || '0',
    overwriteNewer: options.overwriteNewer === 'on',
    writeNulls: options.writeNulls === 'on',
    inactiveOwner: options.inactiveOwner || 'fail',
    recordType: options.recordType || 'fail',
    allowDuplicates: options.allowDuplicates === 'on',
    bulkThreshold: '2000',
  };
}

export function registerRestorePages(app: ServerApp, { deps }: PageContext): void {
  const orgOf = async (c: Context<ServerEnv>): Promise<OrgRegistration | undefined> => deps.store.getOrg(c.req.param('name') ?? '');

  app.get('/orgs/:name/restore', async (c) => {
    const refused = refuse(c, 'restore');
    if (refused) return refused;
    const org = await orgOf(c);
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const query = c.req.queries();
    const f: Fields = Object.fromEntries(FIELDS.map((k) => [k, k === 'changeTypes' ? (query[k] ?? []).join(',') : c.req.query(k)]));
    let preview: Html = html``;
    if (f.object) {
      try {
        const selection = await selectionOf(flagsOf(f));
        const selected = await selectVersions(deps.store, { ...selection, orgId: org.orgId });
        const items = await gatherRelated(deps.store, org.orgId, selection.objectName, selected, {
          parents: levels(f.parents || '0', 'parents'),
          children: levels(f.children || '0', 'children'),
          asOf: selection.version?.kind === 'asOf' ? selection.version.at : undefined,
        });
        // A version to choose per record (the first 200), listed newest first.
        const choices = new Map<string, { systemModstamp: number; changeType: string }[]>();
        for (const item of items.filter((i) => i.role === 'selected').slice(0, 200)) choices.set(item.originalId, (await deps.store.versionsOf(org.orgId, item.originalId)).map((v) => ({ systemModstamp: v.systemModstamp, changeType: v.changeType })));
        preview = previewOf(c, org, f, items, selected.length, choices);
      } catch (error) {
        if (!(error instanceof OrgvaultError)) throw error;
        preview = html`<p class="error" role="alert">${error.message}</p>`;
      }
    }
    const body = html`<h1>Restore from ${org.name}</h1>
      <form method="get" action="/orgs/${encodeURIComponent(org.name)}/restore" class="panel">
        <h2 style="margin-top:0">1. What to restore</h2>
        <div class="grid2">
          <div><label for="object">Object</label><input id="object" name="object" value="${f.object ?? ''}" placeholder="Account" required /></div>
          <div><label for="ids">Record IDs</label><textarea id="ids" name="ids" rows="2" placeholder="one per line">${f.ids ?? ''}</textarea></div>
          <div><label>Change type</label>${CHANGE_TYPES.map((t) => html`<label style="display:inline;font-weight:normal;margin-right:.6rem"><input type="checkbox" name="changeTypes" value="${t}" style="min-width:0" ${(f.changeTypes ?? '').split(',').includes(t) ? 'checked' : ''} /> ${t}</label>`)}</div>
          <div><label for="dateBy">Dates apply to</label><select id="dateBy" name="dateBy"><option value="activity">the activity date (SystemModstamp)</option><option value="backup" ${f.dateBy === 'backup' ? 'selected' : ''}>the backup date</option></select></div>
          <div><label for="from">From</label><input id="from" name="from" value="${f.from ?? ''}" placeholder="2026-11-01" /></div>
          <div><label for="to">To</label><input id="to" name="to" value="${f.to ?? ''}" placeholder="2026-11-22T18:00:00Z" /></div>
          <div><label for="modifiedBy">Last modified by (user ID)</label><input id="modifiedBy" name="modifiedBy" value="${f.modifiedBy ?? ''}" /></div>
          <div><label for="where">Conditions</label><textarea id="where" name="where" rows="2" placeholder="Industry = Banking">${f.where ?? ''}</textarea></div>
          <div><label for="match">Conditions combine</label><input id="match" name="match" value="${f.match ?? ''}" placeholder="all, any, or 1 AND (2 OR 3)" /></div>
          <div><label for="asOf">Version: as of</label><input id="asOf" name="asOf" value="${f.asOf ?? ''}" placeholder="latest (default), or a time" /></div>
          <div><label for="parents">Parents, levels up</label><input id="parents" name="parents" type="number" min="0" max="10" value="${f.parents ?? '0'}" /></div>
          <div><label for="children">Children, levels down</label><input id="children" name="children" type="number" min="0" max="10" value="${f.children ?? '0'}" /></div>
        </div>
        <p><button type="submit">Find records</button></p>
      </form>
      ${preview}`;
    return render(c, 'Restore', body);
  });

  app.get('/orgs/:name/records/:id/compare', async (c) => {
    const refused = refuse(c, 'restore');
    if (refused) return refused;
    const org = await orgOf(c);
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const comparison = await compareWithLive({ store: deps.store, connect: () => connectTo(deps, org), now: deps.now }, org, c.req.param('id'));
    const show = (v: unknown): string => (v === null || v === undefined ? '∅' : String(v));
    const body = html`<h1>Backed up vs live: ${comparison.objectName} ${comparison.record}</h1>
      <p class="muted">${comparison.left.label} ${iso(comparison.left.systemModstamp)} · ${comparison.right.label} ${comparison.right.state === 'live' ? iso(comparison.right.systemModstamp) : comparison.right.state === 'deleted' ? 'in the Recycle Bin' : 'not in the org'}</p>
      ${comparison.changes.length === 0
        ? html`<div class="empty">A restore would change nothing: the live record has the backed-up values.</div>`
        : html`<table class="diff"><thead><tr><th>Field</th><th>Backed up</th><th>Live</th></tr></thead><tbody>${comparison.changes.map((ch) => html`<tr><td>${ch.field}</td><td><ins>${show(ch.left)}</ins></td><td><del>${show(ch.right)}</del></td></tr>`)}</tbody></table>`}
      <p><a href="javascript:history.back()">Back</a></p>`;
    return render(c, 'Compare', body);
  });

  app.post('/orgs/:name/restore', async (c) => {
    const refused = refuse(c, 'restore');
    if (refused) return refused;
    const org = await orgOf(c);
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const form = await c.req.parseBody();
    const text = (k: string): string | undefined => (typeof form[k] === 'string' ? (form[k] as string) : undefined);
    const f: Fields = Object.fromEntries(FIELDS.map((k) => [k, text(k)]));
    const flags = flagsOf(f, { overwriteNewer: text('overwriteNewer'), writeNulls: text('writeNulls'), inactiveOwner: text('inactiveOwner'), recordType: text('recordType'), allowDuplicates: text('allowDuplicates') });
    const picks = Object.entries(form).flatMap(([k, v]) => (k.startsWith('pick_') && typeof v === 'string' && v ? [`${k.slice(5)}=${v}`] : []));
    if (picks.length) flags.pick = picks;
    try {
      flags.dryRun = text('mode') !== 'restore';
      const report = await runRestore({ store: deps.store, blobs: deps.blobs, client: await connectTo(deps, org), now: deps.now, notifier: notifierOf(deps) }, await restoreRequestOf(flags, { org, maskKey: deps.maskKey }));
      const caller = c.get('caller')!;
      await deps.store.appendAudit({ at: (deps.now ?? Date.now)(), actor: caller.user.name, action: text('mode') === 'restore' ? 'restore' : 'restore.dry-run', target: org.name, details: { runId: report.runId, object: f.object, counts: report.counts } });
      return c.redirect(`/runs/${report.runId}`, 303);
    } catch (error) {
      if (!(error instanceof OrgvaultError)) throw error;
      return render(c, 'Restore', html`<h1>Restore from ${org.name}</h1><p class="error" role="alert">${error.message}</p><p><a href="javascript:history.back()">Back</a></p>`, 400);
    }
  });
}

function previewOf(c: Context<ServerEnv>, org: OrgRegistration, f: Fields, items: readonly RestoreItem[], selected: number, choices: ReadonlyMap<string, { systemModstamp: number; changeType: string }[]>): Html {
  const base = `/orgs/${encodeURIComponent(org.name)}`;
  const under = new Map<string, RestoreItem[]>();
  for (const i of items) if (i.via) under.set(i.via, [...(under.get(i.via) ?? []), i]);
  const rows: Html[] = [];
  const add = (i: RestoreItem, depth: number): void => {
    rows.push(html`<tr>
      <td style="padding-left:${0.6 + depth * 1.4}rem">${depth ? (i.role === 'parent' ? '↑ ' : '└ ') : ''}<a href="${base}/records/${i.originalId}">${i.originalId}</a></td>
      <td>${i.objectName}</td><td>${iso(i.version.systemModstamp)}</td><td>${badge(i.version.changeType)}</td><td>${i.version.isDeleted ? 'deleted' : ''}</td>
      <td>${String(i.version.fields.Name ?? i.version.fields.Subject ?? '')}</td>
      <td>${choices.has(i.originalId)
        ? html`<select name="pick_${i.originalId}" aria-label="Version of ${i.originalId}" style="min-width:0"><option value="">as filtered</option>${choices
            .get(i.originalId)!
            .map((v) => html`<option value="${new Date(v.systemModstamp).toISOString()}">${iso(v.systemModstamp)} ${v.changeType}</option>`)}</select>`
        : ''}</td>
      <td><a href="${base}/records/${i.originalId}/compare">Compare with live</a></td>
    </tr>`);
    for (const next of under.get(i.originalId) ?? []) add(next, depth + 1);
  };
  for (const i of items.filter((x) => x.role === 'selected')) add(i, 0);
  if (selected === 0) return html`<div class="empty">No backed-up version matches these filters.</div>`;
  return html`<form method="post" action="${base}/restore">
    <h2>2. ${selected} record(s) match${items.length > selected ? html`, with ${items.length - selected} related record(s)` : ''}</h2>
    <p class="muted">Each record comes back as its version shown (the latest match, or as of the time given); choose another version per record if needed.</p>
    <table><thead><tr><th>Record</th><th>Object</th><th>Version</th><th>Change</th><th></th><th>Name</th><th>Version to restore</th><th></th></tr></thead><tbody>${rows}</tbody></table>
    <div class="panel" style="margin-top:1rem">
      <h2 style="margin-top:0">3. How to restore</h2>
      ${csrfField(c)}
      ${FIELDS.map((k) => html`<input type="hidden" name="${k}" value="${f[k] ?? ''}" />`)}
      <label style="font-weight:normal"><input type="checkbox" name="overwriteNewer" style="min-width:0" /> Overwrite records changed in the org after the version restored</label>
      <label style="font-weight:normal"><input type="checkbox" name="writeNulls" style="min-width:0" /> Clear fields the backed-up version has empty</label>
      <label style="font-weight:normal"><input type="checkbox" name="allowDuplicates" style="min-width:0" /> Save records a duplicate rule would block</label>
      <div class="grid2">
        <div><label for="inactiveOwner">Records owned by inactive users</label><input id="inactiveOwner" name="inactiveOwner" value="fail" placeholder="fail, or a user ID" /></div>
        <div><label for="recordType">Record types no longer offered</label><input id="recordType" name="recordType" value="fail" placeholder="fail, default, or a record type ID" /></div>
      </div>
      <p>
        <button type="submit" name="mode" value="dry-run" class="secondary">4. Dry run (writes nothing)</button>
        <button type="submit" name="mode" value="restore">5. Restore</button>
      </p>
    </div>
    </form>`;
}
