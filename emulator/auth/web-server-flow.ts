/**
 * The OAuth 2.0 web-server flow (authorization code grant, with optional PKCE): the
 * `/services/oauth2/authorize` login page and the authorization codes it hands out, which the token
 * endpoint redeems for an access token and a refresh token. It is how a client obtains a refresh
 * token from a real org, so orgvault's "connect an org" path can run against the emulator.
 *
 * The connected app is pre-authorized for its users ("Admin approved users are pre-authorized"),
 * so there is no consent screen: a correct login redirects straight back with a code.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { ConnectedApp, Org } from '../org/org.ts';
import type { AppEnv, EmulatorContext } from '../server/context.ts';

/**
 * Callback URLs of the emulator's connected app when it names none: the Salesforce CLI's local
 * listener, and Salesforce's own success page that desktop tools use.
 */
export const DEFAULT_CALLBACK_URLS: readonly string[] = ['http://localhost:1717/OauthRedirect', 'https://login.salesforce.com/services/oauth2/success'];
/** OAuth scopes the connected app allows. `openid` is not among them: the emulator issues no ID tokens. */
export const CONNECTED_APP_SCOPES: readonly string[] = ['api', 'web', 'full', 'id', 'refresh_token', 'offline_access'];
/** What a request that names no scope is granted: the app's selected scopes. */
const DEFAULT_SCOPES = ['refresh_token', 'api'];
/** Salesforce's authorization codes expire 15 minutes after they are issued. */
const CODE_LIFETIME_MS = 15 * 60_000;
const LOGIN_ERROR = "Please check your username and password. If you still can't log in, contact your Salesforce administrator.";

/** An issued authorization code: who logged in, for which app, and what the token request must repeat. */
export interface AuthorizationGrant {
  userId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** The PKCE challenge (S256, base64url) the token request's code_verifier must hash to. */
  codeChallenge?: string;
  expiresMs: number;
}

/** Single-use authorization codes of one org, kept in memory like sessions. */
class AuthorizationCodes {
  private readonly codes = new Map<string, AuthorizationGrant>();

  issue(grant: AuthorizationGrant, nowMs: number): string {
    for (const [code, g] of this.codes) if (g.expiresMs <= nowMs) this.codes.delete(code);
    // Salesforce's codes are base64 with padding (`aPrx…==`); clients must URL-encode them.
    const code = `aPrx${randomBytes(60).toString('base64')}`;
    this.codes.set(code, grant);
    return code;
  }

  /** Takes a code out of the store: whatever happens next, it cannot be used again. */
  redeem(code: string): AuthorizationGrant | undefined {
    const grant = this.codes.get(code);
    this.codes.delete(code);
    return grant;
  }
}

const stores = new WeakMap<Org, AuthorizationCodes>();

/** The authorization codes of an org. */
export function authorizationCodes(org: Org): AuthorizationCodes {
  let store = stores.get(org);
  if (!store) {
    store = new AuthorizationCodes();
    stores.set(org, store);
  }
  return store;
}

/** The callback URLs a redirect_uri must equal, exactly, as Salesforce matches them. */
export function callbackUrls(app: ConnectedApp): readonly string[] {
  return app.callbackUrls?.length ? app.callbackUrls : DEFAULT_CALLBACK_URLS;
}

/** Whether a refresh token comes with these scopes (Salesforce needs refresh_token, offline_access or full). */
export function grantsRefreshToken(scopes: readonly string[]): boolean {
  return scopes.some((s) => s === 'refresh_token' || s === 'offline_access' || s === 'full');
}

/** The base64url SHA-256 of a PKCE code verifier: what S256 compares with the challenge. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

type Params = Record<string, string>;

/** A request the authorize endpoint answers on its own error page, not by redirecting (the redirect URI is not trusted yet). */
interface PageError {
  error: string;
  description: string;
}

/** `GET` shows the login form; `POST` checks the credentials and redirects with a code. */
export function registerWebServerFlow(app: Hono<AppEnv>, ctx: EmulatorContext, login: (username: string, password: string) => { userId: string } | undefined): void {
  app.get('/services/oauth2/authorize', (c) => {
    const params = c.req.query();
    const checked = checkRequest(ctx, params);
    if ('error' in checked) return checked.error;
    return loginPage(c, params, undefined);
  });

  app.post('/services/oauth2/authorize', async (c) => {
    const params: Params = { ...c.req.query() };
    const body = await c.req.parseBody();
    for (const [key, value] of Object.entries(body)) if (typeof value === 'string') params[key] = value;
    const checked = checkRequest(ctx, params);
    if ('error' in checked) return checked.error;
    // Salesforce's own login form names the password `pw`; `password` is accepted too.
    const user = login(params.username ?? '', params.pw ?? params.password ?? '');
    if (!user) return loginPage(c, params, LOGIN_ERROR);
    const org = ctx.org;
    const code = authorizationCodes(org).issue(
      {
        userId: user.userId,
        clientId: checked.app.clientId,
        redirectUri: checked.redirectUri,
        scopes: checked.scopes,
        ...(params.code_challenge ? { codeChallenge: params.code_challenge } : {}),
        expiresMs: org.clock.nowMs() + CODE_LIFETIME_MS,
      },
      org.clock.nowMs(),
    );
    return redirectTo(c, checked.redirectUri, { code, state: params.state });
  });
}

/**
 * Checks the authorize parameters in Salesforce's order: the client and its callback URL first
 * (answered on an error page, since the redirect URI cannot be trusted yet), then the rest
 * (answered by redirecting back with `error`).
 */
function checkRequest(ctx: EmulatorContext, params: Params): { app: ConnectedApp; redirectUri: string; scopes: string[] } | { error: Response } {
  const app = ctx.org.connectedApp;
  const fail = (e: PageError): { error: Response } => ({ error: errorPage(e) });
  if (!app || params.client_id !== app.clientId) return fail({ error: 'invalid_client_id', description: 'client identifier invalid' });
  const redirectUri = params.redirect_uri ?? '';
  if (!callbackUrls(app).includes(redirectUri)) return fail({ error: 'redirect_uri_mismatch', description: 'redirect_uri must match configuration' });
  const back = (error: string, description: string): { error: Response } => ({
    error: new Response(null, { status: 302, headers: { Location: withQuery(redirectUri, { error, error_description: description, state: params.state }) } }),
  });
  if (params.response_type !== 'code') return back('unsupported_response_type', 'response type not supported');
  const requested = (params.scope ?? '').split(/[\s+]+/).filter(Boolean);
  if (requested.some((s) => !CONNECTED_APP_SCOPES.includes(s))) return back('invalid_scope', 'the requested scope is not allowed');
  // Salesforce supports S256 only, and assumes it when no method is named.
  if (params.code_challenge_method !== undefined && params.code_challenge_method !== 'S256') return back('invalid_request', 'invalid code_challenge_method');
  if (params.code_challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge)) return back('invalid_request', 'invalid code_challenge');
  return { app, redirectUri, scopes: requested.length ? [...new Set(requested)] : [...DEFAULT_SCOPES] };
}

function withQuery(url: string, params: Record<string, string | undefined>): string {
  const target = new URL(url);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) target.searchParams.set(key, value);
  return target.toString();
}

function redirectTo(c: Context<AppEnv>, url: string, params: Record<string, string | undefined>): Response {
  c.header('Cache-Control', 'no-cache,must-revalidate,max-age=0,no-store,private');
  return c.redirect(withQuery(url, params), 302);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);

/** Salesforce's remote-access error page: the error in the query-string form clients log. */
function errorPage(e: PageError): Response {
  const text = `error=${e.error}&error_description=${e.description}`;
  const html = `<!DOCTYPE html><html><head><title>Remote Access Error</title></head><body><h1>Remote Access Error</h1><p id="error">${escapeHtml(text)}</p></body></html>`;
  return new Response(html, { status: 400, headers: { 'Content-Type': 'text/html;charset=UTF-8' } });
}

/** The login form. Every authorize parameter travels back in a hidden field. */
function loginPage(c: Context<AppEnv>, params: Params, error: string | undefined): Response {
  const hidden = Object.entries(params)
    .filter(([key]) => !['username', 'pw', 'password'].includes(key))
    .map(([key, value]) => `<input type="hidden" name="${escapeHtml(key)}" value="${escapeHtml(value)}">`)
    .join('');
  const html =
    '<!DOCTYPE html><html><head><title>Login | Salesforce</title></head><body>' +
    (error ? `<div id="error" class="loginError">${escapeHtml(error)}</div>` : '') +
    '<form id="login_form" name="login" method="post" action="/services/oauth2/authorize">' +
    hidden +
    `<label for="username">Username</label><input id="username" name="username" type="email" value="${escapeHtml(params.username ?? '')}">` +
    '<label for="password">Password</label><input id="password" name="pw" type="password">' +
    '<input id="Login" name="Login" type="submit" value="Log In"></form></body></html>';
  c.header('Cache-Control', 'no-cache,must-revalidate,max-age=0,no-store,private');
  return c.html(html, 200);
}
