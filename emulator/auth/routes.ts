import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { decodeJwt, importSPKI, importX509, jwtVerify } from 'jose';
import type { CryptoKey } from 'jose';
import { API_VERSIONS, LATEST_API_VERSION } from '../server/context.ts';
import type { AppEnv, EmulatorContext, Session } from '../server/context.ts';
import type { ConnectedApp } from '../org/org.ts';
import { toId18 } from '../org/ids.ts';
import type { StoredRecord } from '../org/schema.ts';
import { parseDatetime } from '../org/values.ts';
import { accessTokenOf } from './middleware.ts';
import type { OAuthSessions } from './sessions.ts';
import { authorizationCodes, grantsRefreshToken, pkceChallenge, registerWebServerFlow } from './web-server-flow.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Login hosts a JWT assertion may name as its audience, besides the emulator itself. */
const LOGIN_AUDIENCES = ['https://login.salesforce.com', 'https://test.salesforce.com'];
/** A security token appended to a password: 24 or 25 letters and digits. */
const SECURITY_TOKEN = /^[A-Za-z0-9]{24,25}$/;

type Params = Record<string, string>;

/** A failed token request, answered as Salesforce's `{"error","error_description"}` with 400. */
class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string) {
    super(description);
  }
}

const authFailure = (): OAuthError => new OAuthError('invalid_grant', 'authentication failure');
const inactiveUser = (): OAuthError => new OAuthError('invalid_grant', 'inactive user');
const invalidAssertion = (): OAuthError => new OAuthError('invalid_grant', 'invalid assertion');

/**
 * The OAuth 2.0 endpoints (token, revoke, OpenID Connect userinfo) and the identity URL, with
 * Salesforce's bodies and error descriptions so that jsforce and the Salesforce CLI work unchanged.
 */
export function registerOAuthRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const sessions = ctx.sessions;

  // The authorize endpoint's login form checks credentials as the password grant does.
  registerWebServerFlow(app, ctx, (username, password) => {
    const user = userByUsername(ctx, username);
    if (!user || user.IsActive === false || !passwordMatches(ctx, String(user.Username), password)) return undefined;
    return { userId: user.Id };
  });

  app.post('/services/oauth2/token', async (c) => {
    noStore(c);
    const params = await requestParams(c);
    try {
      const body = await grantToken(ctx, sessions, params, c);
      return c.json(body);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return c.json({ error: error.error, error_description: error.description }, 400);
    }
  });

  app.on(['GET', 'POST'], '/services/oauth2/revoke', async (c) => {
    noStore(c);
    const token = (await requestParams(c)).token ?? '';
    const outcome = token ? sessions.revoke(token) : 'unsupported';
    if (outcome === 'revoked') return c.body(null, 200);
    // Unlike the token endpoint, revoke reports errors form-encoded; jsforce parses them that way.
    const [error, description] = outcome === 'invalid'
      ? ['invalid_token', 'invalid token']
      : ['unsupported_token_type', 'this token type is not supported'];
    const body = new URLSearchParams({ error, error_description: description }).toString().replace(/\+/g, '%20');
    return c.body(body, 400, { 'Content-Type': 'application/x-www-form-urlencoded' });
  });

  app.on(['GET', 'POST'], '/services/oauth2/userinfo', (c) => {
    const session = identitySession(ctx, c);
    if (typeof session === 'string') return c.text(session, 403);
    const user = ctx.org.get(session.userId);
    if (!user) return c.text('Bad_Id', 404);
    return c.json(userInfoBody(ctx, user, c.req.query('version')));
  });

  app.on(['GET', 'POST'], '/id/:orgId/:userId', (c) => {
    const session = identitySession(ctx, c);
    if (typeof session === 'string') return c.text(session, 403);
    if (toId18(c.req.param('orgId')) !== toId18(ctx.org.orgId)) return c.text('Wrong_Org', 403);
    const userId = toId18(c.req.param('userId'));
    const user = userId ? ctx.org.get(userId) : undefined;
    if (!user || !user.Id.startsWith('005')) return c.text('Bad_Id', 404);
    if (user.IsActive === false) return c.text('Inactive', 404);
    return c.json(identityBody(ctx, user, session, c.req.query('version')));
  });
}


// ---------------------------------------------------------------- token endpoint

async function grantToken(ctx: EmulatorContext, sessions: OAuthSessions, params: Params, c: Context): Promise<object> {
  const connectedApp = ctx.org.connectedApp;
  switch (params.grant_type) {
    case 'password': {
      const app = checkClient(connectedApp, params, c, true);
      const user = userByUsername(ctx, params.username ?? '');
      if (!user || !passwordMatches(ctx, String(user.Username), params.password ?? '')) throw authFailure();
      if (user.IsActive === false) throw inactiveUser();
      const session = sessions.issue(user.Id, app.clientId);
      const token = tokenFields(ctx, session, app);
      return { access_token: token.access_token, instance_url: token.instance_url, id: token.id, token_type: 'Bearer', issued_at: token.issued_at, signature: token.signature };
    }
    case 'authorization_code':
      return redeemCode(ctx, sessions, checkClient(connectedApp, params, c, true), params);
    case 'refresh_token': {
      const app = checkClient(connectedApp, params, c, false);
      const grant = sessions.refreshGrant(params.refresh_token ?? '');
      if (!grant || grant.clientId !== app.clientId) throw new OAuthError('invalid_grant', 'expired access/refresh token');
      if (ctx.org.get(grant.userId)?.IsActive === false) throw inactiveUser();
      const session = sessions.issue(grant.userId, app.clientId, { refreshToken: params.refresh_token });
      const token = tokenFields(ctx, session, app);
      return { access_token: token.access_token, signature: token.signature, scope: grant.scopes.join(' '), instance_url: token.instance_url, id: token.id, token_type: 'Bearer', issued_at: token.issued_at };
    }
    case 'client_credentials': {
      const app = checkClient(connectedApp, params, c, true);
      // The connected app's "Run As" user is the org's API user.
      const user = ctx.org.apiUserId ? ctx.org.get(ctx.org.apiUserId) : undefined;
      if (!user) throw new OAuthError('invalid_grant', 'no client credentials user enabled');
      if (user.IsActive === false) throw inactiveUser();
      const session = sessions.issue(user.Id, app.clientId);
      const token = tokenFields(ctx, session, app);
      return { access_token: token.access_token, signature: token.signature, scope: 'api', instance_url: token.instance_url, id: token.id, token_type: 'Bearer', issued_at: token.issued_at };
    }
    case JWT_BEARER: {
      const app = await verifyAssertion(ctx, connectedApp, params.assertion ?? '', c);
      const user = userByUsername(ctx, app.subject);
      if (!user) throw invalidAssertion();
      if (user.IsActive === false) throw inactiveUser();
      const session = sessions.issue(user.Id, app.clientId);
      const token = tokenFields(ctx, session, app);
      return { access_token: token.access_token, scope: 'api', instance_url: token.instance_url, id: token.id, token_type: 'Bearer' };
    }
    default:
      throw new OAuthError('unsupported_grant_type', 'grant type not supported');
  }
}

/**
 * The web-server flow's second step: an authorization code (single use, 15 minutes on the org
 * clock) for an access token and, when the scopes allow, a refresh token. The redirect URI must be
 * the one the code was issued for, and a PKCE challenge must be answered by its code verifier.
 */
function redeemCode(ctx: EmulatorContext, sessions: OAuthSessions, app: ConnectedApp, params: Params): object {
  const grant = authorizationCodes(ctx.org).redeem(params.code ?? '');
  if (!grant || grant.clientId !== app.clientId) throw new OAuthError('invalid_grant', 'invalid authorization code');
  if (grant.expiresMs <= ctx.org.clock.nowMs()) throw new OAuthError('invalid_grant', 'expired authorization code');
  if (params.redirect_uri !== grant.redirectUri) throw new OAuthError('redirect_uri_mismatch', 'redirect_uri must match configuration');
  // A challenge without a verifier is invalid_grant; a verifier that does not match, invalid_request.
  const verifier = params.code_verifier;
  if (grant.codeChallenge !== undefined && !verifier) throw new OAuthError('invalid_grant', 'invalid code verifier');
  if (verifier !== undefined && (grant.codeChallenge === undefined || !sameSecret(pkceChallenge(verifier), grant.codeChallenge))) {
    throw new OAuthError('invalid_request', 'invalid code verifier');
  }
  if (ctx.org.get(grant.userId)?.IsActive === false) throw inactiveUser();
  const refresh = grantsRefreshToken(grant.scopes);
  const session = sessions.issue(grant.userId, app.clientId, { refreshToken: refresh, scopes: grant.scopes });
  const token = tokenFields(ctx, session, app);
  return {
    access_token: token.access_token,
    ...(refresh ? { refresh_token: session.refreshToken } : {}),
    signature: token.signature,
    scope: grant.scopes.join(' '),
    instance_url: token.instance_url,
    id: token.id,
    token_type: 'Bearer',
    issued_at: token.issued_at,
  };
}

/** Checks the client ID and, when given or required, the secret (form fields or HTTP Basic). */
function checkClient(app: ConnectedApp | undefined, params: Params, c: Context, secretRequired: boolean): ConnectedApp {
  const basic = basicCredentials(c);
  const clientId = params.client_id ?? basic?.id;
  const clientSecret = params.client_secret ?? basic?.secret;
  if (!app || !clientId || !sameSecret(clientId, app.clientId)) throw new OAuthError('invalid_client_id', 'client identifier invalid');
  if ((secretRequired || clientSecret !== undefined) && !(clientSecret && sameSecret(clientSecret, app.clientSecret))) {
    throw new OAuthError('invalid_client', 'invalid client credentials');
  }
  return app;
}

/** Verifies a JWT bearer assertion the way Salesforce does: issuer, signature, expiry, audience. */
async function verifyAssertion(ctx: EmulatorContext, app: ConnectedApp | undefined, assertion: string, c: Context): Promise<ConnectedApp & { subject: string }> {
  let claims;
  try {
    claims = decodeJwt(assertion);
  } catch {
    throw invalidAssertion();
  }
  if (!app || typeof claims.iss !== 'string' || claims.iss !== app.clientId) throw new OAuthError('invalid_client_id', 'client identifier invalid');
  try {
    await jwtVerify(assertion, await verificationKey(app.certificatePem), {
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'sub'],
      currentDate: ctx.org.clock.now(),
    });
  } catch {
    throw invalidAssertion();
  }
  const audiences = new Set([...LOGIN_AUDIENCES, ctx.instanceUrl(), new URL(c.req.url).origin].map(trimSlash));
  const claimed: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!claimed.some((aud) => typeof aud === 'string' && audiences.has(trimSlash(aud)))) {
    throw new OAuthError('invalid_grant', 'Audience validation failed');
  }
  return { ...app, subject: String(claims.sub) };
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function verificationKey(pem: string): Promise<CryptoKey> {
  let key = keyCache.get(pem);
  if (!key) {
    // A connected app holds an X.509 certificate; a bare SPKI public key is accepted as well.
    key = pem.includes('BEGIN CERTIFICATE') ? importX509(pem, 'RS256') : importSPKI(pem, 'RS256');
    keyCache.set(pem, key);
    key.catch(() => keyCache.delete(pem));
  }
  return key;
}

function tokenFields(ctx: EmulatorContext, session: Session, app: ConnectedApp) {
  const id = identityUrl(ctx, session.userId);
  const issuedAt = String(session.issuedAtMs);
  // Salesforce signs id + issued_at with the consumer secret so a client can check the response.
  const signature = createHmac('sha256', app.clientSecret).update(id + issuedAt).digest('base64');
  return { access_token: session.accessToken, instance_url: ctx.instanceUrl(), id, issued_at: issuedAt, signature };
}

function userByUsername(ctx: EmulatorContext, username: string): StoredRecord | undefined {
  if (!username) return undefined;
  const wanted = username.toLowerCase();
  for (const user of ctx.org.records('User')) {
    if (typeof user.Username === 'string' && user.Username.toLowerCase() === wanted) return user;
  }
  return undefined;
}

/** The bare password, or the password followed by the user's security token. */
function passwordMatches(ctx: EmulatorContext, username: string, given: string): boolean {
  let stored = ctx.org.credentials.get(username);
  if (stored === undefined) {
    const wanted = username.toLowerCase();
    for (const [name, password] of ctx.org.credentials) if (name.toLowerCase() === wanted) stored = password;
  }
  if (stored === undefined || !given) return false;
  if (given.length === stored.length) return sameSecret(given, stored);
  return given.length > stored.length && sameSecret(given.slice(0, stored.length), stored) && SECURITY_TOKEN.test(given.slice(stored.length));
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function basicCredentials(c: Context): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(c.req.header('Authorization') ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

/** Form fields, with query-string parameters as a fallback: Salesforce accepts both. */
async function requestParams(c: Context): Promise<Params> {
  const params: Params = { ...c.req.query() };
  const type = c.req.header('Content-Type') ?? '';
  if (c.req.method === 'POST' && (type.includes('application/x-www-form-urlencoded') || type.includes('multipart/form-data'))) {
    const body = await c.req.parseBody();
    for (const [key, value] of Object.entries(body)) if (typeof value === 'string') params[key] = value;
  }
  return params;
}

function noStore(c: Context): void {
  c.header('Cache-Control', 'no-cache,must-revalidate,max-age=0,no-store,private');
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

// ---------------------------------------------------------------- identity and userinfo

/** The session of an identity or userinfo request, or the plain-text error Salesforce answers. */
function identitySession(ctx: EmulatorContext, c: Context): Session | string {
  const token = accessTokenOf(c) ?? c.req.query('oauth_token') ?? c.req.query('access_token');
  if (!token) return 'Missing_OAuth_Token';
  return ctx.sessions.authenticate(token) ?? 'Bad_OAuth_Token';
}

function identityUrl(ctx: EmulatorContext, userId: string): string {
  return `${ctx.instanceUrl()}/id/${ctx.org.orgId}/${userId}`;
}

/** Endpoint URLs of the identity and userinfo responses, with `{version}` unless one was asked for. */
function endpointUrls(ctx: EmulatorContext, userId: string, requested: string | undefined): Record<string, string> {
  const base = ctx.instanceUrl();
  const org15 = ctx.org.orgId.slice(0, 15);
  const wanted = requested === 'latest' ? LATEST_API_VERSION : requested;
  const v = wanted && API_VERSIONS.includes(wanted) ? wanted : '{version}';
  return {
    enterprise: `${base}/services/Soap/c/${v}/${org15}`,
    metadata: `${base}/services/Soap/m/${v}/${org15}`,
    partner: `${base}/services/Soap/u/${v}/${org15}`,
    rest: `${base}/services/data/v${v}/`,
    sobjects: `${base}/services/data/v${v}/sobjects/`,
    search: `${base}/services/data/v${v}/search/`,
    query: `${base}/services/data/v${v}/query/`,
    recent: `${base}/services/data/v${v}/recent/`,
    tooling_soap: `${base}/services/Soap/T/${v}/${org15}`,
    tooling_rest: `${base}/services/data/v${v}/tooling/`,
    profile: `${base}/${userId}`,
    feeds: `${base}/services/data/v${v}/chatter/feeds`,
    groups: `${base}/services/data/v${v}/chatter/groups`,
    users: `${base}/services/data/v${v}/chatter/users`,
    feed_items: `${base}/services/data/v${v}/chatter/feed-items`,
    feed_elements: `${base}/services/data/v${v}/chatter/feed-elements`,
    custom_domain: base,
  };
}

interface UserFacts {
  username: string;
  nickname: string;
  displayName: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  timeZone: string;
  locale: string;
  language: string;
  userType: string;
  active: boolean;
  utcOffset: number;
  /** LastModifiedDate as `2018-10-09T13:47:02Z`. */
  modified: string | null;
  photos: { picture: string; thumbnail: string };
  country: string | null;
  mobilePhone: string | null;
}

function userFacts(ctx: EmulatorContext, user: StoredRecord): UserFacts {
  const text = (field: string): string | null => (typeof user[field] === 'string' && user[field] !== '' ? (user[field] as string) : null);
  const username = text('Username') ?? '';
  const timeZone = text('TimeZoneSidKey') ?? 'America/Los_Angeles';
  const modifiedMs = parseDatetime(text('LastModifiedDate') ?? '');
  const base = ctx.instanceUrl();
  return {
    username,
    nickname: text('CommunityNickname') ?? username.split('@')[0]!,
    displayName: text('Name') ?? [text('FirstName'), text('LastName')].filter(Boolean).join(' '),
    email: text('Email'),
    firstName: text('FirstName'),
    lastName: text('LastName'),
    timeZone,
    locale: text('LocaleSidKey') ?? 'en_US',
    language: text('LanguageLocaleKey') ?? 'en_US',
    userType: (text('UserType') ?? 'Standard').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(),
    active: user.IsActive !== false,
    utcOffset: utcOffsetMs(timeZone, ctx.org.clock.nowMs()),
    modified: Number.isNaN(modifiedMs) ? null : new Date(modifiedMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    photos: { picture: `${base}/profilephoto/005/F`, thumbnail: `${base}/profilephoto/005/T` },
    country: text('Country'),
    mobilePhone: text('MobilePhone'),
  };
}

/** The identity URL's response, field for field as Salesforce sends it. */
function identityBody(ctx: EmulatorContext, user: StoredRecord, session: Session, version: string | undefined): object {
  const f = userFacts(ctx, user);
  return {
    id: identityUrl(ctx, user.Id),
    asserted_user: user.Id === session.userId,
    user_id: user.Id,
    organization_id: ctx.org.orgId,
    username: f.username,
    nick_name: f.nickname,
    display_name: f.displayName,
    email: f.email,
    email_verified: true,
    first_name: f.firstName,
    last_name: f.lastName,
    timezone: f.timeZone,
    photos: f.photos,
    addr_street: typeof user.Street === 'string' ? user.Street : null,
    addr_city: typeof user.City === 'string' ? user.City : null,
    addr_state: typeof user.State === 'string' ? user.State : null,
    addr_country: f.country,
    addr_zip: typeof user.PostalCode === 'string' ? user.PostalCode : null,
    mobile_phone: f.mobilePhone,
    mobile_phone_verified: false,
    is_lightning_login_user: false,
    status: { created_date: null, body: null },
    urls: endpointUrls(ctx, user.Id, version),
    active: f.active,
    user_type: f.userType,
    language: f.language,
    locale: f.locale,
    utcOffset: f.utcOffset,
    last_modified_date: f.modified,
    is_app_installed: true,
  };
}

/** The OpenID Connect userinfo response with Salesforce's additions. */
function userInfoBody(ctx: EmulatorContext, user: StoredRecord, version: string | undefined): object {
  const f = userFacts(ctx, user);
  return {
    sub: identityUrl(ctx, user.Id),
    user_id: user.Id,
    organization_id: ctx.org.orgId,
    preferred_username: f.username,
    nickname: f.nickname,
    name: f.displayName,
    email: f.email,
    email_verified: true,
    given_name: f.firstName,
    family_name: f.lastName,
    zoneinfo: f.timeZone,
    photos: f.photos,
    profile: `${ctx.instanceUrl()}/${user.Id}`,
    picture: f.photos.picture,
    ...(f.mobilePhone ? { phone_number: f.mobilePhone, phone_number_verified: false } : {}),
    address: f.country ? { country: f.country } : {},
    is_salesforce_integration_user: false,
    urls: endpointUrls(ctx, user.Id, version),
    active: f.active,
    user_type: f.userType,
    language: f.language,
    locale: f.locale,
    utcOffset: f.utcOffset,
    updated_at: f.modified,
    is_app_installed: true,
  };
}

/** The zone's offset from UTC in milliseconds at an instant (daylight saving included). */
function utcOffsetMs(timeZone: string, atMs: number): number {
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(atMs)
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{1,2})(?::(\d{2}))?/.exec(name);
    if (!m) return 0;
    const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
    return (m[1] === '-' ? -1 : 1) * minutes * 60_000;
  } catch {
    return 0;
  }
}
