/** An org's backup settings: what it backs up (mode, exclusions, toggles) and how hard it may press (API budget, concurrency). */
import { html } from 'hono/html';
import { BACKUP_MODES, resolveSettings, storedSettings, updateBackupSettings } from '../../backup/index.ts';
import type { BackupSettings } from '../../backup/index.ts';
import { OrgvaultError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { dataLakeTargetText } from '../../export/data-lake.ts';
import type { ServerApp } from '../app.ts';
import type { Html } from './layout.ts';
import { csrfField, may, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';
import { registerRetentionPages, retentionSection } from './retention.ts';

const TOGGLES = [
  ['includeFeeds', 'Back up Chatter feeds (objects ending in Feed)'],
  ['includeShares', 'Back up sharing objects (ending in Share)'],
  ['includeHistory', 'Back up field history objects (ending in History)'],
  ['includeEventLogs', 'Back up event-log objects'],
] as const;

export function registerSettingsPages(app: ServerApp, context: PageContext): void {
  const { deps } = context;
  registerRetentionPages(app, context);
  app.get('/orgs/:name/settings', async (c) => {
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    return render(c, `Settings of ${org.name}`, settingsPage(org, resolveSettings(storedSettings(org)), may(c, 'settings'), csrfField(c), c.req.query('saved') === '1' ? 'Saved.' : undefined));
  });

  app.post('/orgs/:name/settings', async (c) => {
    const refused = refuse(c, 'settings');
    if (refused) return refused;
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const form = await c.req.parseBody();
    const text = (k: string): string => (typeof form[k] === 'string' ? (form[k] as string) : '');
    const changes: Record<string, unknown> = {
      mode: text('mode'),
      exclude: text('exclude').split(/[\s,]+/).filter(Boolean),
      apiBudgetShare: Number(text('apiBudgetPercent')) / 100,
      concurrency: Number(text('concurrency')),
      bulkThreshold: Number(text('bulkThreshold')),
      dataLake: text('dataLake').trim() ? (/^s3:\/\//i.test(text('dataLake').trim()) ? { url: text('dataLake').trim() } : { folder: text('dataLake').trim() }) : null,
      ...Object.fromEntries(TOGGLES.map(([k]) => [k, form[k] === 'on'])),
    };
    try {
      await updateBackupSettings({ catalog: deps.store, audit: deps.store, actor: c.get('caller')!.user.name, now: deps.now }, org, changes);
      return c.redirect(`/orgs/${encodeURIComponent(org.name)}/settings?saved=1`, 303);
    } catch (error) {
      if (!(error instanceof OrgvaultError)) throw error;
      return render(c, `Settings of ${org.name}`, settingsPage(org, resolveSettings(storedSettings(org)), true, csrfField(c), undefined, error.message), 400);
    }
  });
}

function settingsPage(org: OrgRegistration, s: BackupSettings, editable: boolean, csrf: Html, saved?: string, error?: string): Html {
  const disabled = editable ? '' : 'disabled';
  return html`<h1>Settings of ${org.name}</h1>
    ${saved ? html`<p class="banner good" role="status">${saved}</p>` : ''}
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    ${editable ? '' : html`<p class="muted">Only administrators change settings.</p>`}
    <form method="post" action="/orgs/${encodeURIComponent(org.name)}/settings" class="panel">
      ${csrf}
      <label for="mode">What to back up</label>
      <select id="mode" name="mode" ${disabled}>${BACKUP_MODES.map((m) => html`<option value="${m}" ${m === s.mode ? 'selected' : ''}>${m}</option>`)}</select>
      <label for="exclude">Excluded objects (API names, one per line)</label>
      <textarea id="exclude" name="exclude" rows="4" ${disabled}>${s.exclude.join('\n')}</textarea>
      ${TOGGLES.map(([k, label]) => html`<label style="font-weight:normal"><input type="checkbox" name="${k}" style="min-width:0" ${s[k] ? 'checked' : ''} ${disabled} /> ${label}</label>`)}
      <div class="grid2">
        <div><label for="apiBudgetPercent">Share of the org's daily API requests (%)</label><input id="apiBudgetPercent" name="apiBudgetPercent" type="number" min="1" max="100" value="${Math.round(s.apiBudgetShare * 100)}" ${disabled} /></div>
        <div><label for="concurrency">Objects backed up at once</label><input id="concurrency" name="concurrency" type="number" min="1" max="32" value="${s.concurrency}" ${disabled} /></div>
        <div><label for="bulkThreshold">Bulk API from this many records</label><input id="bulkThreshold" name="bulkThreshold" type="number" min="0" value="${s.bulkThreshold}" ${disabled} /></div>
      </div>
      <label for="dataLake">Data lake: a folder (absolute path) or an S3 bucket (s3://bucket/prefix?region=…); empty: off</label>
      <input id="dataLake" name="dataLake" type="text" value="${s.dataLake ? dataLakeTargetText(s.dataLake) : ''}" placeholder="/srv/lake or s3://bucket/lake" ${disabled} />
      <p class="muted">Each backup run also writes its new versions there as Parquet files, partitioned by org, object and day, for DuckDB, Athena or Spark.</p>
      ${editable ? html`<p><button type="submit">Save</button></p>` : ''}
    </form>
    ${retentionSection(org, editable, csrf)}`;
}
