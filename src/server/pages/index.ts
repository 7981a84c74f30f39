/**
 * The dashboard: server-rendered pages on the same use cases as the API. Signed in with the same
 * session cookie; every form that changes something carries the session's CSRF token. Pages:
 * organizations, an org's backup dashboard, the job log and a job's page, a record's history,
 * the restore wizard, and archiving.
 */
import type { Context, Next } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { isAllowed } from '../../core/users.ts';
import type { Action } from '../../core/users.ts';
import { sessionUser, signOut } from '../../users/index.ts';
import type { SignInThrottle } from '../../users/index.ts';
import type { ServerApp } from '../app.ts';
import type { ServerDeps, ServerEnv } from '../context.ts';
import type { BackgroundBackups } from '../jobs.ts';
import { SESSION_COOKIE, signInRequest } from '../sign-in.ts';
import { page } from './layout.ts';
import type { Html } from './layout.ts';
import { registerArchivePages } from './archive.ts';
import { registerOrgPages } from './orgs.ts';
import { registerNotificationPages } from './notifications.ts';
import { registerPermissionPages } from './permissions.ts';
import { registerMetadataPages } from './metadata.ts';
import { registerExportPages } from './exports.ts';
import { registerRestorePages } from './restore.ts';
import { registerRunPages } from './runs.ts';
import { registerSchedulePages } from './schedules.ts';
import { registerSearchPages } from './search.ts';
import { registerSettingsPages } from './settings.ts';

export interface PageContext {
  deps: ServerDeps;
  backups: BackgroundBackups;
}

/** Renders a page for the signed-in caller. */
export function render(c: Context<ServerEnv>, title: string, body: Html, status: 200 | 400 | 403 | 404 = 200): Response | Promise<Response> {
  const caller = c.get('caller');
  return c.html(page(title, caller?.user, caller?.via === 'session' ? caller.session.csrfToken : undefined, body), status);
}

/** The hidden field that carries the CSRF token in a form. */
export function csrfField(c: Context<ServerEnv>): Html {
  const caller = c.get('caller');
  return html`<input type="hidden" name="_csrf" value="${caller?.via === 'session' ? caller.session.csrfToken : ''}" />`;
}

/** Whether the caller's role allows an action (to show or hide a button). */
export function may(c: Context<ServerEnv>, action: Action): boolean {
  const caller = c.get('caller');
  return caller !== undefined && isAllowed(caller.user.role, action);
}

/** Ends the request with a 403 page unless the caller may do `action`. */
export function refuse(c: Context<ServerEnv>, action: Action): Response | Promise<Response> | undefined {
  if (may(c, action)) return undefined;
  return render(c, 'Not allowed', html`<h1>Not allowed</h1><p class="error">Your role (${c.get('caller')?.user.role}) may not do this.</p><p><a href="/">Back to the organizations</a></p>`, 403);
}

export function registerPages(app: ServerApp, deps: ServerDeps, backups: BackgroundBackups, throttle: SignInThrottle): void {
  const users = { store: deps.store, now: deps.now, actor: 'http' };
  const context: PageContext = { deps, backups };

  // Pages need a browser session; forms that change something need its CSRF token.
  const pages = async (c: Context<ServerEnv>, next: Next): Promise<Response | void> => {
    const path = c.req.path;
    if (path.startsWith('/api/') || path === '/openapi.json' || path === '/login') return next();
    const cookie = getCookie(c, SESSION_COOKIE);
    const found = cookie ? await sessionUser(users, cookie) : undefined;
    if (!found) return c.redirect(`/login?next=${encodeURIComponent(path + (new URL(c.req.url).search || ''))}`, 303);
    c.set('caller', { user: found.user, via: 'session', session: found.session });
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody();
      if (form._csrf !== found.session.csrfToken) return render(c, 'Expired form', html`<h1>This form has expired</h1><p class="error">Reload the page and try again.</p>`, 403);
    }
    return next();
  };
  app.use('*', pages);

  app.get('/login', (c) => c.html(loginPage(c.req.query('next') ?? '/', undefined)));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const name = typeof form.name === 'string' ? form.name : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const next = safeNext(typeof form.next === 'string' ? form.next : '/');
    const answer = await signInRequest(c, deps, throttle, name, password);
    if (!answer.ok) {
      const wait = answer.throttledMs;
      return c.html(loginPage(next, wait > 0 ? `Too many failed sign-ins; try again in ${Math.ceil(wait / 60_000)} minute(s).` : 'Wrong user name or password.'), wait > 0 ? 429 : 401);
    }
    return c.redirect(next, 303);
  });
  app.post('/logout', async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie) await signOut(users, cookie);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  registerOrgPages(app, context);
  registerRunPages(app, context);
  registerSearchPages(app, context);
  registerRestorePages(app, context);
  registerExportPages(app, context);
  registerArchivePages(app, context);
  registerSettingsPages(app, context);
  registerSchedulePages(app, context);
  registerNotificationPages(app, context);
  registerPermissionPages(app, context);
  registerMetadataPages(app, context);
}

/** Only a path of this site: a `next` that leaves it would make the sign-in an open redirect. */
function safeNext(next: string): string {
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function loginPage(next: string, error: string | undefined): Html {
  return page(
    'Sign in',
    undefined,
    undefined,
    html`<div class="panel" style="max-width: 420px; margin: 3rem auto">
      <h1>Sign in to orgvault</h1>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <form method="post" action="/login">
        <input type="hidden" name="next" value="${safeNext(next)}" />
        <label for="name">User name</label><input id="name" name="name" autocomplete="username" required autofocus />
        <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required />
        <p><button type="submit">Sign in</button></p>
      </form>
    </div>`,
  );
}
