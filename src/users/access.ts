/**
 * Signing in, browser sessions and API tokens. A session cookie and a token's secret are 256
 * random bits, returned once and stored only as their SHA-256 (a slow hash adds nothing to a
 * secret that cannot be guessed); a stolen catalog therefore opens no session and no token.
 *
 * A session or token is live while it has not expired and was made after its user's last password
 * change (passwordChangedAt), so a new password shuts out whoever held an old one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { OrgvaultError, UsageError } from '../core/errors.ts';
import type { ApiTokenRecord, SessionRecord, UserRecord } from '../core/users.ts';
import { audit, clock, requireUser, summary } from './accounts.ts';
import type { UserSummary, UsersDeps } from './accounts.ts';
import { spendPasswordCheck, verifyPassword } from './passwords.ts';

const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;
/**
 * lastSeenAt and lastUsedAt are written at most once a minute: a write per request would make
 * every request queue behind a backup writing to the same catalog.
 */
const TOUCH_EVERY_MS = 60_000;

const SECRET_BYTES = 32;
/** 32 bytes in base64url, unpadded. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;
/** `ovt_` and 16 hex digits: the public ID, which the token begins with. */
const TOKEN = /^(ovt_[0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const MAX_LABEL_LENGTH = 100;

const newSecret = (): string => randomBytes(SECRET_BYTES).toString('base64url');
const sha256 = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

/** Whether a session or token made at `createdAt` predates its user's last password change. */
const predatesPassword = (createdAt: number, user: UserRecord): boolean => createdAt < user.passwordChangedAt;

function checkDuration(value: number | undefined, what: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new UsageError(`${what} must be a positive number of milliseconds, not ${value}.`);
}

/** Signs in: a new session; undefined for a wrong name or password (same time either way: verify against a dummy hash when the user is unknown). */
export async function signIn(
  deps: UsersDeps,
  name: string,
  password: string,
  options: { ttlMs?: number } = {},
): Promise<{ cookie: string; session: SessionRecord; user: UserSummary } | undefined> {
  checkDuration(options.ttlMs, 'The session lifetime');
  const user = await deps.store.getUser(name);
  let ok = false;
  if (user) ok = await verifyPassword(password, user.passwordHash);
  else await spendPasswordCheck(password);
  if (!user || !ok) {
    // An unknown name is not recorded as typed: it is often the password, entered in the wrong field.
    await audit(deps, 'user.sign-in.failed', user ? user.name : null, { reason: user ? 'wrong password' : 'unknown user' });
    return undefined;
  }
  const now = clock(deps);
  const cookie = newSecret();
  const session: SessionRecord = {
    idHash: sha256(cookie),
    userName: user.name,
    csrfToken: newSecret(),
    createdAt: now,
    expiresAt: now + (options.ttlMs ?? DEFAULT_SESSION_TTL_MS),
    lastSeenAt: now,
  };
  try {
    await deps.store.putSession(session);
  } catch (error) {
    // Removed while its password was being checked: as if it had never existed.
    if (error instanceof OrgvaultError && error.code === 'USER_NOT_FOUND') return undefined;
    throw error;
  }
  await audit(deps, 'user.sign-in', user.name, { expiresAt: session.expiresAt });
  return { cookie, session, user: summary(user) };
}

/** The user of a session cookie, if the session is live (not expired, not older than the password); slides lastSeenAt. */
export async function sessionUser(deps: UsersDeps, cookie: string): Promise<{ user: UserSummary; session: SessionRecord } | undefined> {
  if (!SECRET.test(cookie)) return undefined;
  // Looked up by hash: how long the lookup takes says nothing usable about the secret.
  const session = await deps.store.getSession(sha256(cookie));
  if (!session) return undefined;
  const now = clock(deps);
  const user = await deps.store.getUser(session.userName);
  if (!user || session.expiresAt <= now || predatesPassword(session.createdAt, user)) {
    await deps.store.deleteSessions({ idHash: session.idHash });
    return undefined;
  }
  let live = session;
  if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
    live = { ...session, lastSeenAt: now };
    await deps.store.putSession(live);
  }
  return { user: summary(user), session: live };
}

export async function signOut(deps: UsersDeps, cookie: string): Promise<void> {
  if (!SECRET.test(cookie)) return;
  const session = await deps.store.getSession(sha256(cookie));
  if (!session) return;
  await deps.store.deleteSessions({ idHash: session.idHash });
  await audit(deps, 'user.sign-out', session.userName);
}

/** A new API token for a user: the secret is returned once (`ovt_<id>_<secret>`), only its hash is kept. */
export async function createApiToken(
  deps: UsersDeps,
  userName: string,
  label: string,
  options: { expiresInMs?: number } = {},
): Promise<{ token: string; record: ApiTokenRecord }> {
  checkDuration(options.expiresInMs, 'The token lifetime');
  const trimmed = label.trim();
  if (trimmed === '' || [...trimmed].length > MAX_LABEL_LENGTH || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new UsageError(`The token label must be 1 to ${MAX_LABEL_LENGTH} printable characters saying what the token is for (e.g. "nightly export").`);
  }
  const user = await requireUser(deps.store, userName);
  const now = clock(deps);
  const id = `ovt_${randomBytes(8).toString('hex')}`;
  const secret = newSecret();
  const record: ApiTokenRecord = {
    id,
    secretHash: sha256(secret),
    userName: user.name,
    label: trimmed,
    createdAt: now,
    expiresAt: options.expiresInMs === undefined ? null : now + options.expiresInMs,
    lastUsedAt: null,
  };
  try {
    await deps.store.putApiToken(record);
  } catch (error) {
    if (error instanceof OrgvaultError && error.code === 'USER_NOT_FOUND') throw new UsageError(`No user named "${userName}".`, { cause: error });
    throw error;
  }
  await audit(deps, 'user.token.create', user.name, { tokenId: id, label: record.label, expiresAt: record.expiresAt });
  return { token: `${id}_${secret}`, record };
}

/** The user of an API token, if it is live (known, secret right, not expired, not older than the password); updates lastUsedAt. */
export async function tokenUser(deps: UsersDeps, token: string): Promise<{ user: UserSummary; token: ApiTokenRecord } | undefined> {
  const match = TOKEN.exec(token);
  if (!match) return undefined;
  // The ID is public (listings show it); only the secret must be compared in constant time.
  const record = await deps.store.getApiToken(match[1]!);
  if (!record) return undefined;
  const expected = Buffer.from(record.secretHash, 'hex');
  const actual = Buffer.from(sha256(match[2]!), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  const now = clock(deps);
  if (record.expiresAt !== null && record.expiresAt <= now) return undefined;
  const user = await deps.store.getUser(record.userName);
  if (!user || predatesPassword(record.createdAt, user)) return undefined;
  let used = record;
  if (record.lastUsedAt === null || now - record.lastUsedAt >= TOUCH_EVERY_MS) {
    used = { ...record, lastUsedAt: now };
    await deps.store.putApiToken(used);
  }
  return { user: summary(user), token: used };
}

export async function revokeApiToken(deps: UsersDeps, id: string): Promise<boolean> {
  const record = await deps.store.getApiToken(id);
  if (!record) return false;
  const removed = await deps.store.removeApiToken(id);
  if (removed) await audit(deps, 'user.token.revoke', record.userName, { tokenId: id, label: record.label });
  return removed;
}
