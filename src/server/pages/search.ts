/** The dashboard's global search: the header's search box lands here; each hit links to the record's history. */
import { html } from 'hono/html';
import { UsageError } from '../../core/errors.ts';
import type { SearchHit, SearchMatch, SearchResult } from '../../search/index.ts';
import type { ServerApp } from '../app.ts';
import { SearchQuery, historyLinks, searchFromQuery } from '../routes/search.ts';
import { badge, bytes, count, iso } from './layout.ts';
import type { Html } from './layout.ts';
import { render } from './index.ts';
import type { PageContext } from './index.ts';

export function registerSearchPages(app: ServerApp, { deps }: PageContext): void {
  app.get('/search', async (c) => {
    const params = c.req.query();
    const orgs = (await deps.store.listOrgs()).sort((a, b) => a.name.localeCompare(b.name));
    const org = params.org ? orgs.find((o) => o.name === params.org) : orgs.length === 1 ? orgs[0] : undefined;
    const q = params.q ?? '';
    let result: SearchResult | undefined;
    let error: string | undefined;
    if (params.org && !org) error = `No org named "${params.org}" in this vault.`;
    else if (q.trim() !== '' && !org) error = 'Choose the org to search.';
    else if (q.trim() !== '' && org) {
      const parsed = SearchQuery.safeParse(params);
      if (!parsed.success) {
        error = `The search is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`;
      } else {
        try {
          result = await searchFromQuery(deps, org, parsed.data);
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          error = e.message;
        }
      }
    }
    const checked = (name: string): string => (params[name] === 'true' ? 'checked' : '');
    const body = html`<h1>Search backups</h1>
      <form method="get" action="/search" class="panel" role="search">
        <div class="grid2">
          <div><label for="search-q">Words</label><input id="search-q" name="q" value="${q}" placeholder="a name, email, phone number, street, file name…" required /></div>
          <div>
            <label for="search-org">Org</label>
            <select id="search-org" name="org">
              ${orgs.map((o) => html`<option value="${o.name}" ${o.name === org?.name ? 'selected' : ''}>${o.name}</option>`)}
            </select>
          </div>
          <div><label for="search-object">Objects</label><input id="search-object" name="object" value="${params.object ?? ''}" placeholder="all (or Account,Contact)" /></div>
          <div><label for="search-from">Modified from</label><input id="search-from" name="from" type="date" value="${params.from ?? ''}" /></div>
          <div><label for="search-to">Modified to</label><input id="search-to" name="to" type="date" value="${params.to ?? ''}" /></div>
        </div>
        <p>
          <label class="inline"><input type="checkbox" name="deletedOnly" value="true" ${checked('deletedOnly')} style="min-width:0" /> Deleted records only</label>
          <label class="inline"><input type="checkbox" name="latestOnly" value="true" ${checked('latestOnly')} style="min-width:0" /> Latest versions only</label>
        </p>
        <p><button type="submit">Search</button></p>
      </form>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${orgs.length === 0 ? html`<div class="empty">No org is connected yet: there is nothing to search.</div>` : ''}
      ${result && org ? results(result, org.name) : ''}`;
    return render(c, q ? `Search: ${q}` : 'Search', body, error ? 400 : 200);
  });
}

function results(result: SearchResult, orgName: string): Html {
  const summary = html`<p class="muted" role="status">${result.hits.length === 0 ? 'No record matches' : `${count(result.hits.length)} record(s) match`} “${result.text}” in ${orgName}, latest first.
    ${result.cutShort
      ? html`Stopped after checking ${count(result.verified)} of ${count(result.candidates)} candidate records: add words or narrow the objects or dates.`
      : result.more
        ? 'More records may match: narrow the search.'
        : ''}</p>`;
  if (result.hits.length === 0) return html`${summary}<div class="empty">Nothing in the backups holds every one of these words. Try fewer words, or another spelling.</div>`;
  return html`${summary}
    <table>
      <thead><tr><th>Record</th><th>Matched in</th><th>Where</th><th>State</th></tr></thead>
      <tbody>${result.hits.map((hit) => row(hit, orgName))}</tbody>
    </table>`;
}

function row(hit: SearchHit, orgName: string): Html {
  const links = historyLinks(orgName, hit.recordId);
  const filesBase = `${links.page}/files`;
  return html`<tr>
    <td><a href="${links.page}">${hit.name ?? hit.recordId}</a><br /><span class="muted">${hit.objectName} · ${hit.recordId}</span></td>
    <td>${hit.matchedIn === 'latest' ? html`latest version<br /><span class="muted">${iso(hit.version.systemModstamp)}</span>` : html`an older version (${iso(hit.version.systemModstamp)})<br /><span class="muted">changed since: latest ${iso(hit.latest.systemModstamp)}</span>`}</td>
    <td>
      ${hit.matches.map((m) => html`<div><b>${m.field}</b>: ${marked(m)}</div>`)}
      ${hit.files.map((f) => html`<div>File: <a href="${filesBase}/${f.address}">${f.fileName ?? f.field}</a> <span class="muted">(${bytes(f.size)})</span></div>`)}
    </td>
    <td>${hit.archived ? badge('archived') : hit.isDeleted ? badge('deleted') : badge('live')}</td>
  </tr>`;
}

/** A snippet with its matching words in <mark>; every piece escaped. */
function marked(match: SearchMatch): Html {
  const parts: Html[] = [];
  let at = 0;
  for (const [start, end] of match.marks) {
    if (start < at) continue;
    parts.push(html`${match.snippet.slice(at, start)}<mark>${match.snippet.slice(start, end)}</mark>`);
    at = end;
  }
  parts.push(html`${match.snippet.slice(at)}`);
  return html`${parts}`;
}
