/** Signing in from the API or the sign-in page: the throttle, the check, and the session cookie. */
import type { Context } from 'hono';
import { setCookie } from 'hono/cookie';
import { signIn } from '../users/index.ts';
import type { SignInThrottle, UserSummary } from '../users/index.ts';
import { clientAddress } from './client-address.ts';
import type { ServerDeps } from './context.ts';

export const SESSION_COOKIE = 'orgvault_session';
export const SESSION_TTL_MS = 12 * 3600_000;

export type SignInAnswer = { ok: true; user: UserSummary; csrfToken: string } | { ok: false; throttledMs: number };

/** Checks the name and password (unless the throttle refuses them first) and sets the session cookie. */
export async function signInRequest(c: Context, deps: ServerDeps, throttle: SignInThrottle, name: string, password: string): Promise<SignInAnswer> {
  const key = `${name.toLowerCase()}|${clientAddress(c, deps.trustProxy)}`;
  const wait = throttle.blocked(key);
  if (wait > 0) return { ok: false, throttledMs: wait };
  const signedIn = name && password ? await signIn({ store: deps.store, now: deps.now, actor: 'http' }, name, password, { ttlMs: SESSION_TTL_MS }) : undefined;
  if (!signedIn) {
    throttle.failed(key);
    return { ok: false, throttledMs: 0 };
  }
  throttle.succeeded(key);
  setCookie(c, SESSION_COOKIE, signedIn.cookie, { httpOnly: true, sameSite: 'Strict', secure: deps.secureCookies, path: '/', maxAge: SESSION_TTL_MS / 1000 });
  return { ok: true, user: signedIn.user, csrfToken: signedIn.session.csrfToken };
}
