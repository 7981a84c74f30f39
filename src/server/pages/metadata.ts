/**
 * An org's Metadata tab: the metadata types its backups hold (components, deletions, last change),
 * the metadata backups, the compare view (two backups, or a backup and the live org: components
 * added, removed and changed, each changed one with its diff) and, for those who may export, a
 * deployable zip of the metadata as of a backup.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { OrgvaultError, UsageError } from '../../core/errors.ts';
import type { MetadataRunSummary } from '../../core/metadata.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { compareMetadata, liveMetadata, parseMetadataPoint } from '../../metadata/compare.ts';
import { metadataInventory } from '../../metadata/read-model.ts';
import type { MetadataComparison, MetadataPoint } from '../../metadata/compare.ts';
import { metadataPackageAt, zipMetadataPackage } from '../../metadata/export-package.ts';
import { profileDisplayName } from '../../metadata/profile-names.ts';
import type { ServerApp } from '../app.ts';
import type { ServerEnv } from '../context.ts';
import { connectTo } from '../routes/shared.ts';
import { badge, count, iso } from './layout.ts';
import type { Html } from './layout.ts';
import { may, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';

const CHANGE_BADGE: Record<string, string> = { added: 'Created', removed: 'Failed', changed: 'Updated' };

const componentName = (type: string, fullName: string): string => (type === 'Profile' ? profileDisplayName(fullName) : fullName);

function runOptions(runs: readonly MetadataRunSummary[], selected: string | undefined): Html[] {
  return runs.map((r) => html`<option value="${r.runId}" ${r.runId === selected ? 'selected' : ''}>${iso(r.capturedAt)} — ${count(r.changed)} change(s) (${r.runId.slice(0, 8)})</option>`);
}

function compareForm(base: string, runs: readonly MetadataRunSummary[], from: string | undefined, to: string | undefined, type: string | undefined): Html {
  return html`<form method="get" action="${base}/metadata/compare" class="panel">
    <div class="grid2">
      <div><label for="from">From (older)</label><select id="from" name="from">${runOptions(runs, from ?? runs[1]?.runId)}</select></div>
      <div><label for="to">To (newer)</label><select id="to" name="to"><option value="live" ${to === 'live' ? 'selected' : ''}>The live org, now</option>${runOptions(runs, to ?? runs[0]?.runId)}</select></div>
      <div><label for="type">Only this type</label><input id="type" name="type" value="${type ?? ''}" placeholder="every type, or: CustomField" /></div>
    </div>
    <p><button type="submit">Compare</button></p>
  </form>`;
}

function comparisonBody(result: MetadataComparison): Html {
  const { added, removed, changed, unchanged } = result.counts;
  const changedOnes = result.changes.filter((c) => c.change === 'changed');
  return html`<p><b>${result.from.label}</b> → <b>${result.to.label}</b></p>
    <div class="totals">
      <div><b>${count(added)}</b>added</div><div><b>${count(removed)}</b>removed</div><div><b>${count(changed)}</b>changed</div><div><b>${count(unchanged)}</b>unchanged</div>
    </div>
    ${result.changes.length === 0
      ? html`<div class="empty">No component differs.</div>`
      : html`<table>
          <thead><tr><th>Change</th><th>Type</th><th>Component</th><th>Files</th><th>Last modified (before → after)</th></tr></thead>
          <tbody>
            ${result.changes.map(
              (c, i) => html`<tr>
                <td>${badge(CHANGE_BADGE[c.change] ?? c.change)} <span class="muted">${c.change}</span></td>
                <td>${c.type}</td>
                <td>${c.change === 'changed' ? html`<a href="#diff-${i}">${componentName(c.type, c.fullName)}</a>` : componentName(c.type, c.fullName)}</td>
                <td>${c.files.map((f) => html`<code>${f.path}</code> `)}</td>
                <td>${iso(c.before?.lastModifiedDate)} → ${iso(c.after?.lastModifiedDate)}</td>
              </tr>`,
            )}
          </tbody>
        </table>`}
    ${changedOnes.length ? html`<h2>Differences</h2>` : ''}
    ${result.changes.map((c, i) =>
      c.change === 'changed'
        ? html`<section class="panel" id="diff-${i}" style="margin-bottom:1rem">
            <h3 style="margin-top:0">${c.type}: ${componentName(c.type, c.fullName)}</h3>
            <pre class="diff" style="overflow-x:auto">${c.diff.split('\n').map((line) => (line.startsWith('+') && !line.startsWith('+++') ? html`<ins>${line}</ins>\n` : line.startsWith('-') && !line.startsWith('---') ? html`<del>${line}</del>\n` : html`${line}\n`))}</pre>
          </section>`
        : '',
    )}`;
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

export function registerMetadataPages(app: ServerApp, { deps }: PageContext): void {
  const orgOrPage = async (c: Context<ServerEnv>): Promise<OrgRegistration | Response> => {
    const org = await deps.store.getOrg(c.req.param('name') ?? '');
    return org ?? render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
  };

  app.get('/orgs/:name/metadata', async (c) => {
    const org = await orgOrPage(c);
    if (org instanceof Response) return org;
    const base = `/orgs/${encodeURIComponent(org.name)}`;
    const [{ types }, runs] = await Promise.all([metadataInventory(deps.store, org.orgId), deps.store.metadataRuns(org.orgId)]);
    const total = types.reduce((n, t) => n + t.components, 0);
    return render(
      c,
      `Metadata of ${org.name}`,
      html`<h1>Metadata of ${org.name}</h1>
        <p><a class="button secondary" href="${base}">Back to ${org.name}</a></p>
        ${runs.length === 0
          ? html`<div class="empty">No metadata backup yet. Each backup job captures the org's metadata (custom fields, picklists, validation rules, Apex, profiles…) unless it is turned off in the org's settings.</div>`
          : html`<div class="totals">
                <div><b>${count(total)}</b>components</div><div><b>${count(types.length)}</b>types</div><div><b>${count(runs.length)}</b>metadata backups</div><div><b>${iso(runs[0]!.capturedAt)}</b>last captured</div>
              </div>
              <h2>Compare</h2>
              ${compareForm(base, runs, undefined, undefined, undefined)}
              <h2>Types</h2>
              <table>
                <thead><tr><th>Type</th><th class="num">Components</th><th class="num">Deleted</th><th>Last modified in Salesforce</th><th>Last change backed up</th></tr></thead>
                <tbody>
                  ${types.map(
                    (t) =>
                      html`<tr><td>${t.type}</td><td class="num">${count(t.components)}</td><td class="num">${count(t.deleted)}</td><td>${iso(t.lastModified)}</td><td>${iso(t.lastChangeCaptured)} <a href="/runs/${encodeURIComponent(t.lastChangeRunId)}" class="muted">run</a></td></tr>`,
                  )}
                </tbody>
              </table>
              <h2>Metadata backups</h2>
              <table>
                <thead><tr><th>Captured</th><th>Run</th><th class="num">Components</th><th class="num">Changed</th><th class="num">Deleted</th>${may(c, 'export') ? html`<th>Deployable zip</th>` : ''}</tr></thead>
                <tbody>
                  ${runs.map(
                    (r) => html`<tr><td>${iso(r.capturedAt)}</td><td><a href="/runs/${encodeURIComponent(r.runId)}"><code>${r.runId}</code></a></td><td class="num">${count(r.components)}</td><td class="num">${count(r.changed)}</td><td class="num">${count(r.deleted)}</td>${may(c, 'export') ? html`<td><a href="${base}/metadata/export.zip?run=${encodeURIComponent(r.runId)}">Download</a></td>` : ''}</tr>`,
                  )}
                </tbody>
              </table>`}`,
    );
  });

  app.get('/orgs/:name/metadata/compare', async (c) => {
    const org = await orgOrPage(c);
    if (org instanceof Response) return org;
    const base = `/orgs/${encodeURIComponent(org.name)}`;
    const from = c.req.query('from') || undefined;
    const to = c.req.query('to') || undefined;
    const type = c.req.query('type')?.trim() || undefined;
    const runs = await deps.store.metadataRuns(org.orgId);
    const head = html`<h1>Metadata compare of ${org.name}</h1>
      <p><a class="button secondary" href="${base}/metadata">Back to the metadata of ${org.name}</a></p>
      ${runs.length ? compareForm(base, runs, from, to, type) : ''}`;
    try {
      const points: { from?: MetadataPoint; to?: MetadataPoint } = {};
      if (from) points.from = parseMetadataPoint(from, 'From');
      if (to) points.to = parseMetadataPoint(to, 'To');
      const result = await compareMetadata({ store: deps.store, live: liveMetadata(() => connectTo(deps, org), org, type) }, org, points, type ? { type } : {});
      return render(c, `Metadata compare of ${org.name}`, html`${head}${comparisonBody(result)}`);
    } catch (error) {
      if (!(error instanceof OrgvaultError)) throw error;
      return render(c, `Metadata compare of ${org.name}`, html`${head}<p class="error">${error.message}</p>`, error instanceof UsageError ? 400 : 200);
    }
  });

  app.get('/orgs/:name/metadata/export.zip', async (c) => {
    const refused = refuse(c, 'export');
    if (refused) return refused;
    const org = await orgOrPage(c);
    if (org instanceof Response) return org;
    const run = c.req.query('run') || undefined;
    try {
      const { pkg, point } = await metadataPackageAt(deps.store, org, run ? { runId: run } : {});
      const bytes = await zipMetadataPackage(pkg);
      const stamp = point.at.slice(0, 16).replace(/:/g, '');
      return c.body(bytes, 200, {
        'content-type': 'application/zip',
        'content-disposition': `attachment; filename="orgvault-${fileSafe(org.name)}-metadata-${stamp}Z.zip"`,
        'cache-control': 'no-store',
      });
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return render(c, 'No metadata', html`<h1>No metadata to export</h1><p class="error">${error.message}</p><p><a href="/orgs/${encodeURIComponent(org.name)}/metadata">Back</a></p>`, 400);
    }
  });
}
