/**
 * The dashboard's Export page for an org: which objects, the format, the scope (the latest state,
 * as of a time, every version, changes since the last export or a backup run), deleted records
 * and files; then an export into the server's exports folder (followed on its run page) or an
 * AES-256 zip downloaded at once.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { ExportFlags } from '../../export/request.ts';
import { OrgvaultError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { FORMAT_NAMES, MIN_ZIP_PASSWORD, SQL_DIALECTS } from '../../export/index.ts';
import type { ServerApp } from '../app.ts';
import type { ServerEnv } from '../context.ts';
import { downloadName, serverExports, zipResponse } from '../routes/exports.ts';
import { iso } from './layout.ts';
import type { Html } from './layout.ts';
import { csrfField, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';

const SCOPES = {
  latest: 'The latest state of each record',
  asOf: 'Each record as it was at a time',
  allVersions: 'Every version of each record',
  sinceLastExport: 'What changed since the last export',
  sinceRun: 'The versions one backup run captured',
} as const;
type ScopeChoice = keyof typeof SCOPES;

/** What the form holds, kept to draw it again after a refusal. */
interface ExportForm {
  objects: string[];
  format: string;
  dialect: string;
  scope: ScopeChoice;
  asOf: string;
  sinceRun: string;
  includeDeleted: boolean;
  files: boolean;
}

const EMPTY: ExportForm = { objects: [], format: 'csv', dialect: 'postgres', scope: 'latest', asOf: '', sinceRun: '', includeDeleted: false, files: false };

function flagsOf(f: ExportForm): ExportFlags {
  return {
    object: f.objects.length ? f.objects : undefined,
    format: f.format,
    dialect: f.format === 'sql' ? f.dialect : undefined,
    asOf: f.scope === 'asOf' ? f.asOf : undefined,
    allVersions: f.scope === 'allVersions',
    sinceLastExport: f.scope === 'sinceLastExport',
    sinceRun: f.scope === 'sinceRun' ? f.sinceRun : undefined,
    includeDeleted: f.includeDeleted,
    files: f.files,
  };
}

export function registerExportPages(app: ServerApp, { deps }: PageContext): void {
  const exports = serverExports(deps);
  const orgOf = async (c: Context<ServerEnv>): Promise<OrgRegistration | undefined> => deps.store.getOrg(c.req.param('name') ?? '');

  const form = async (c: Context<ServerEnv>, org: OrgRegistration, f: ExportForm, error?: string): Promise<Html> => {
    const objects: string[] = [];
    for (const state of await deps.store.getObjectStates(org.orgId)) {
      if ((await deps.store.countVersions(org.orgId, state.objectName)).versions > 0) objects.push(state.objectName);
    }
    objects.sort();
    const backups = (await deps.store.listRuns({ orgId: org.orgId, kind: 'backup', limit: 50 })).filter((r) => r.endedAt !== null);
    const base = `/orgs/${encodeURIComponent(org.name)}`;
    const radio = (value: ScopeChoice, extra: Html | string = ''): Html =>
      html`<label style="font-weight:normal"><input type="radio" name="scope" value="${value}" style="min-width:0" ${f.scope === value ? 'checked' : ''} /> ${SCOPES[value]} ${extra}</label>`;
    return html`<h1>Export from ${org.name}</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <form method="post" action="${base}/export" class="panel">
        ${csrfField(c)}
        <div class="grid2">
          <div>
            <label for="objects">Objects</label>
            <select id="objects" name="objects" multiple size="12">${objects.map((o) => html`<option value="${o}" ${f.objects.includes(o) ? 'selected' : ''}>${o}</option>`)}</select>
            <p class="muted">None selected: every object with records in the vault.</p>
          </div>
          <div>
            <label for="format">Format</label>
            <select id="format" name="format">${FORMAT_NAMES.map((n) => html`<option value="${n}" ${f.format === n ? 'selected' : ''}>${n === 'csv' ? 'CSV (Data Loader)' : n === 'sql' ? 'SQL (CREATE TABLE and INSERTs)' : 'Parquet (with a DuckDB script)'}</option>`)}</select>
            <label for="dialect">SQL dialect</label>
            <select id="dialect" name="dialect">${SQL_DIALECTS.map((d) => html`<option value="${d}" ${f.dialect === d ? 'selected' : ''}>${d === 'postgres' ? 'PostgreSQL' : 'MySQL'}</option>`)}</select>
            <label style="font-weight:normal"><input type="checkbox" name="includeDeleted" style="min-width:0" ${f.includeDeleted ? 'checked' : ''} /> Include deleted records (latest state or as of a time)</label>
            <label style="font-weight:normal"><input type="checkbox" name="files" style="min-width:0" ${f.files ? 'checked' : ''} /> Include file bodies (ContentVersion, Attachment, Document)</label>
          </div>
        </div>
        <fieldset style="border:0;padding:0;margin:1rem 0 0">
          <legend style="font-weight:600">Scope</legend>
          ${radio('latest')}
          ${radio('asOf', html`<input name="asOf" aria-label="As of" value="${f.asOf}" placeholder="2026-01-15T10:00:00Z" />`)}
          ${radio('allVersions')}
          ${radio('sinceLastExport')}
          ${radio(
            'sinceRun',
            html`<select name="sinceRun" aria-label="Backup run"><option value="">choose a backup run</option>${backups.map(
              (r) => html`<option value="${r.runId}" ${f.sinceRun === r.runId ? 'selected' : ''}>${iso(r.startedAt)} · ${r.status} · ${r.runId.slice(0, 8)}</option>`,
            )}</select>`,
          )}
        </fieldset>
        <div class="grid2" style="margin-top:1rem">
          <div class="panel">
            <h2 style="margin-top:0">To the server</h2>
            <p class="muted">Into a new folder under the vault's <code>exports</code> folder, followed on the run's page. The files there are not encrypted: fetch them and remove the folder.</p>
            <button type="submit" name="mode" value="folder" ${deps.exportsDir ? '' : 'disabled'}>Export to the server</button>
          </div>
          <div class="panel">
            <h2 style="margin-top:0">As an encrypted zip</h2>
            <label for="password">Zip password (AES-256, at least ${MIN_ZIP_PASSWORD} characters)</label>
            <input id="password" name="password" type="password" autocomplete="new-password" minlength="${MIN_ZIP_PASSWORD}" />
            <p class="muted">File and folder names in a zip stay readable; their contents need the password.</p>
            <button type="submit" name="mode" value="zip" class="secondary">Download the zip</button>
          </div>
        </div>
      </form>`;
  };

  app.get('/orgs/:name/export', async (c) => {
    const refused = refuse(c, 'export');
    if (refused) return refused;
    const org = await orgOf(c);
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    return render(c, 'Export', await form(c, org, { ...EMPTY, objects: c.req.queries('object') ?? [] }));
  });

  app.post('/orgs/:name/export', async (c) => {
    const refused = refuse(c, 'export');
    if (refused) return refused;
    const org = await orgOf(c);
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const body = await c.req.parseBody({ all: true });
    const text = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
    const list = (k: string): string[] => [body[k] ?? []].flat().filter((v): v is string => typeof v === 'string' && v !== '');
    const scope = (text('scope') in SCOPES ? text('scope') : 'latest') as ScopeChoice;
    const f: ExportForm = { objects: list('objects'), format: text('format') || 'csv', dialect: text('dialect') || 'postgres', scope, asOf: text('asOf'), sinceRun: text('sinceRun'), includeDeleted: text('includeDeleted') === 'on', files: text('files') === 'on' };
    const user = c.get('caller')!.user.name;
    try {
      if (text('mode') === 'zip') {
        const started = await exports.toZip(org, flagsOf(f), text('password'), user);
        return zipResponse(started, downloadName(org, (deps.now ?? Date.now)()));
      }
      const started = await exports.toFolder(org, flagsOf(f), user);
      return c.redirect(`/runs/${started.runId}`, 303);
    } catch (error) {
      if (!(error instanceof OrgvaultError)) throw error;
      return render(c, 'Export', await form(c, org, f, error.message), 400);
    }
  });
}
