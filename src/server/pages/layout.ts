/**
 * The dashboard's frame: server-rendered HTML (hono/html escapes every interpolated value), one
 * small stylesheet, no script but where a page follows a run live. Nothing to build or download.
 */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { UserSummary } from '../../users/index.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STYLE = `
:root { --ink: #1d2433; --muted: #5b6476; --line: #d9dee7; --bg: #f5f7fa; --brand: #0b5cab; --ok: #2e7d32; --warn: #b26a00; --bad: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; color: var(--brand); text-decoration: none; font-size: 1.1rem; }
header nav a { margin-right: 1rem; color: var(--ink); text-decoration: none; }
header nav a:hover, header nav a:focus { text-decoration: underline; }
header .who { margin-left: auto; color: var(--muted); display: flex; gap: .8rem; align-items: center; }
main { max-width: 1200px; margin: 1.5rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .6rem; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 1rem; }
.tile, .panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; }
.tile h2 { margin: 0 0 .4rem; }
.tile a { color: inherit; text-decoration: none; }
.totals { display: flex; flex-wrap: wrap; gap: 1.5rem; margin: 1rem 0; }
.totals div { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .6rem 1rem; min-width: 140px; }
.totals b { display: block; font-size: 1.3rem; }
.banner { padding: .7rem 1rem; border-radius: 6px; margin-bottom: 1rem; font-weight: 600; }
.banner.good { background: #e8f5e9; color: var(--ok); } .banner.warn { background: #fff4e0; color: var(--warn); } .banner.bad { background: #fdecea; color: var(--bad); }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .85em; background: #eef1f6; }
.badge.Succeeded, .badge.Created, .badge.Updated, .badge.Undeleted, .badge.Waiting, .badge.Deleted, .badge.Ready { background: #e8f5e9; color: var(--ok); }
.badge.Failed, .badge.Error, .badge.Refused { background: #fdecea; color: var(--bad); }
.badge.CompletedWithErrors, .badge.Behind, .badge.Backfilling, .badge.Skipped, .badge.Running { background: #fff4e0; color: var(--warn); }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f3f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.tabs { display: flex; gap: .3rem; margin: 1rem 0 0; }
.tabs a { padding: .4rem .9rem; border: 1px solid var(--line); border-bottom: none; border-radius: 6px 6px 0 0; background: #eef1f6; color: var(--ink); text-decoration: none; }
.tabs a[aria-current="page"] { background: #fff; font-weight: 600; }
form.inline { display: inline; }
button, .button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--brand); background: var(--brand); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--brand); }
button:focus, a:focus, input:focus, select:focus { outline: 3px solid #8ab4f8; outline-offset: 1px; }
label { display: block; margin: .6rem 0 .2rem; font-weight: 600; }
input, select, textarea { font: inherit; padding: .4rem .5rem; border: 1px solid #b8c0cc; border-radius: 5px; min-width: 260px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 0 1.5rem; }
.muted { color: var(--muted); } .error { color: var(--bad); font-weight: 600; }
.empty { padding: 1.5rem; text-align: center; color: var(--muted); background: #fff; border: 1px dashed var(--line); border-radius: 8px; }
code { background: #eef1f6; padding: 0 .3rem; border-radius: 3px; }
mark { background: #fff1a8; padding: 0 .1rem; }
.diff del { background: #fdecea; text-decoration: none; } .diff ins { background: #e8f5e9; text-decoration: none; }
`;

/** A whole page: the header with navigation and the signed-in user, then `body`. */
export function page(title: string, user: UserSummary | undefined, csrf: string | undefined, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title} · orgvault</title>
    <style>${raw(STYLE)}</style>
  </head>
  <body>
    <header>
      <a class="brand" href="/">orgvault</a>
      ${user
        ? html`<nav aria-label="Main"><a href="/">Organizations</a><a href="/runs">Logs</a></nav>
            <form method="get" action="/search" role="search"><input name="q" aria-label="Search backups" placeholder="Search backups…" style="min-width: 220px" /></form>
            <div class="who">
              <span>${user.name} (${user.role})</span>
              <form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${csrf ?? ''}" /><button class="secondary" type="submit">Sign out</button></form>
            </div>`
        : ''}
    </header>
    <main>${body}</main>
  </body>
</html>`;
}

export const iso = (value: string | number | null | undefined): string => (value === null || value === undefined ? '—' : typeof value === 'number' ? new Date(value).toISOString().replace('T', ' ').slice(0, 19) : value.replace('T', ' ').slice(0, 19));
export const count = (n: number | undefined): string => (n ?? 0).toLocaleString('en-US');
export const badge = (status: string): Html => html`<span class="badge ${status.replace(/\s+/g, '')}">${status}</span>`;

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
