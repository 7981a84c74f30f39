import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { SignJWT, importPKCS8 } from 'jose';
import { Connection, OAuth2 } from '@jsforce/jsforce-node';
import { createEmulator } from '../../emulator/index.ts';
import { OAuthSessions } from '../../emulator/auth/sessions.ts';
import { registerOAuthRoutes } from '../../emulator/auth/routes.ts';
import { requireSession } from '../../emulator/auth/middleware.ts';
import { ApiUsage, countApiUsage, registerLimitsRoutes } from '../../emulator/rest/limits.ts';
import { apiVersionGuard, registerVersionRoutes } from '../../emulator/rest/versions.ts';
import { Org } from '../../emulator/org/org.ts';
import { standardCatalog } from '../../emulator/org/catalog/index.ts';
import type { AppEnv, EmulatorContext } from '../../emulator/server/context.ts';

const CLIENT_ID = '3MVG9emulatorClientIdForOrgvaultTests';
const CLIENT_SECRET = 'E7C9D1F0A2B34C5D6E7F8091A2B3C4D5E6F708192A3B4C5D';
const API_USERNAME = 'api@acme.example';
const PASSWORD = 'Passw0rd!';
const INACTIVE_USERNAME = 'gone@acme.example';
const START = new Date('2025-03-10T12:00:00Z');
// RSA key generation is slow; every fixture shares one connected-app key pair.
const KEYS = generateKeyPairSync('rsa', { modulusLength: 2048 });

interface Fixture {
  org: Org;
  ctx: EmulatorContext;
  sessions: OAuthSessions;
  apiUserId: string;
  inactiveUserId: string;
  privateKeyPem: string;
}

function buildFixture(instanceUrl: () => string = () => 'http://127.0.0.1:9'): Fixture {
  const org = new Org(standardCatalog(), { now: START });
  const stampMs = org.clock.nowMs();
  const apiUserId = org.ids.next('005');
  org.load('User', {
    Id: apiUserId, Username: API_USERNAME, IsActive: true, Email: 'api@acme.example', FirstName: 'Ada',
    LastName: 'Integration', Name: 'Ada Integration', CommunityNickname: 'ada', TimeZoneSidKey: 'America/Los_Angeles',
    LocaleSidKey: 'en_US', LanguageLocaleKey: 'en_US', UserType: 'Standard',
  }, { userId: apiUserId, stampMs });
  const inactive = org.load('User', {
    Username: INACTIVE_USERNAME, IsActive: false, Email: 'gone@acme.example', LastName: 'Gone', Name: 'Gone',
    TimeZoneSidKey: 'Europe/Paris', LocaleSidKey: 'fr_FR', LanguageLocaleKey: 'fr', UserType: 'Standard',
  }, { userId: apiUserId, stampMs });
  org.apiUserId = apiUserId;
  org.credentials.set(API_USERNAME, PASSWORD);
  org.credentials.set(INACTIVE_USERNAME, PASSWORD);
  const privateKeyPem = KEYS.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  org.connectedApp = {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    certificatePem: KEYS.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem,
  };
  const sessions = new OAuthSessions(org);
  const ctx: EmulatorContext = { org, sessions, usage: new ApiUsage(org), adminToken: 'admin', instanceUrl };
  return { org, ctx, sessions, apiUserId, inactiveUserId: inactive.Id, privateKeyPem };
}

/** The routes under test, wired the way emulator/server/app.ts wires them. */
function buildApp(ctx: EmulatorContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  registerOAuthRoutes(app, ctx);
  registerVersionRoutes(app, ctx);
  const data = new Hono<AppEnv>();
  data.use('*', requireSession(ctx));
  data.use('*', apiVersionGuard());
  data.use('*', countApiUsage(ctx));
  registerLimitsRoutes(data, ctx);
  data.get('/sobjects', (c) => c.json({ encoding: 'UTF-8', maxBatchSize: 200, sobjects: [], version: c.get('apiVersion'), user: c.get('session').userId }));
  app.route('/services/data/:version', data);
  return app;
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

async function assertion(privateKeyPem: string, claims: Record<string, unknown>, expSeconds: number): Promise<string> {
  const key = await importPKCS8(privateKeyPem, 'RS256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setExpirationTime(expSeconds).sign(key);
}

const nowSeconds = (org: Org): number => Math.floor(org.clock.nowMs() / 1000);

describe('token endpoint', () => {
  test('password grant answers in Salesforce shape with a real-looking token and a valid signature', async () => {
    const { org, ctx, apiUserId } = buildFixture(() => 'https://acme.my.salesforce.com');
    const res = await buildApp(ctx).request('/services/oauth2/token', form({ grant_type: 'password', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, username: API_USERNAME, password: PASSWORD }));
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, string>;
    assert.deepEqual(Object.keys(body), ['access_token', 'instance_url', 'id', 'token_type', 'issued_at', 'signature']);
    assert.match(body.access_token!, /^00D5g00000EmUL8![A-Za-z0-9._]{90,}$/);
    assert.equal(body.instance_url, 'https://acme.my.salesforce.com');
    assert.equal(body.id, `https://acme.my.salesforce.com/id/${org.orgId}/${apiUserId}`);
    assert.equal(body.token_type, 'Bearer');
    assert.ok(Math.abs(Number(body.issued_at) - org.clock.nowMs()) < 5_000, 'issued_at comes from the org clock');
    assert.equal(body.signature, createHmac('sha256', CLIENT_SECRET).update(body.id! + body.issued_at!).digest('base64'));
  });

  test('password grant accepts a security token appended to the password', async () => {
    const { ctx } = buildFixture();
    const res = await buildApp(ctx).request('/services/oauth2/token', form({ grant_type: 'password', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, username: API_USERNAME, password: `${PASSWORD}aBcDeFgHiJkLmNoPqRsTuVwX` }));
    assert.equal(res.status, 200);
  });

  test('credential and client failures answer with Salesforce error bodies', async () => {
    const { ctx } = buildFixture();
    const app = buildApp(ctx);
    const cases: [Record<string, string>, string, string][] = [
      [{ grant_type: 'password', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, username: API_USERNAME, password: 'wrong' }, 'invalid_grant', 'authentication failure'],
      [{ grant_type: 'password', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, username: 'nobody@acme.example', password: PASSWORD }, 'invalid_grant', 'authentication failure'],
      [{ grant_type: 'password', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, username: INACTIVE_USERNAME, password: PASSWORD }, 'invalid_grant', 'inactive user'],
      [{ grant_type: 'password', client_id: 'nope', client_secret: CLIENT_SECRET, username: API_USERNAME, password: PASSWORD }, 'invalid_client_id', 'client identifier invalid'],
      [{ grant_type: 'password', client_id: CLIENT_ID, client_secret: 'nope', username: API_USERNAME, password: PASSWORD }, 'invalid_client', 'invalid client credentials'],
      [{ grant_type: 'authorization_code', code: 'x' }, 'invalid_client_id', 'client identifier invalid'],
      [{ grant_type: 'authorization_code', code: 'x', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, 'invalid_grant', 'invalid authorization code'],
      [{ grant_type: 'implicit', client_id: CLIENT_ID }, 'unsupported_grant_type', 'grant type not supported'],
      [{ client_id: CLIENT_ID }, 'unsupported_grant_type', 'grant type not supported'],
      [{ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: '5Aep861notAToken' }, 'invalid_grant', 'expired access/refresh token'],
    ];
    for (const [fields, error, description] of cases) {
      const res = await app.request('/services/oauth2/token', form(fields));
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.deepEqual(await res.json(), { error, error_description: description });
    }
  });

  test('refresh_token grant mints a new access token for the grant', async () => {
    const { ctx, sessions, apiUserId } = buildFixture();
    const refreshToken = sessions.issue(apiUserId, CLIENT_ID, { refreshToken: true }).refreshToken!;
    assert.match(refreshToken, /^5Aep861[A-Za-z0-9._]{70,}$/);
    const res = await buildApp(ctx).request('/services/oauth2/token', form({ grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: refreshToken }));
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, string>;
    assert.deepEqual(Object.keys(body), ['access_token', 'signature', 'scope', 'instance_url', 'id', 'token_type', 'issued_at']);
    assert.equal(sessions.authenticate(body.access_token!)?.userId, apiUserId);
  });

  test('client_credentials runs as the API user and needs one', async () => {
    const { org, ctx, sessions, apiUserId } = buildFixture();
    const app = buildApp(ctx);
    const res = await app.request('/services/oauth2/token', form({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, string>;
    assert.deepEqual(Object.keys(body), ['access_token', 'signature', 'scope', 'instance_url', 'id', 'token_type', 'issued_at']);
    assert.equal(sessions.authenticate(body.access_token!)?.userId, apiUserId);

    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
    const viaBasic = await app.request('/services/oauth2/token', { ...form({ grant_type: 'client_credentials' }), headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${basic}` } });
    assert.equal(viaBasic.status, 200);

    org.apiUserId = '';
    const none = await app.request('/services/oauth2/token', form({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
    assert.deepEqual(await none.json(), { error: 'invalid_grant', error_description: 'no client credentials user enabled' });
  });

  test('JWT bearer verifies signature, issuer, audience and expiry on the org clock', async () => {
    const { org, ctx, sessions, apiUserId, privateKeyPem } = buildFixture(() => 'http://127.0.0.1:4999');
    const app = buildApp(ctx);
    const grant = async (jwt: string) => {
      const res = await app.request('/services/oauth2/token', form({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }));
      return { status: res.status, body: await res.json() as Record<string, string> };
    };
    const claims = { iss: CLIENT_ID, sub: API_USERNAME, aud: 'https://login.salesforce.com' };

    const ok = await grant(await assertion(privateKeyPem, claims, nowSeconds(org) + 180));
    assert.equal(ok.status, 200);
    assert.deepEqual(Object.keys(ok.body), ['access_token', 'scope', 'instance_url', 'id', 'token_type']);
    assert.equal(sessions.authenticate(ok.body.access_token!)?.userId, apiUserId);

    for (const aud of ['https://test.salesforce.com', 'http://127.0.0.1:4999/']) {
      assert.equal((await grant(await assertion(privateKeyPem, { ...claims, aud }, nowSeconds(org) + 180))).status, 200, aud);
    }

    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.deepEqual((await grant(await assertion(otherKey, claims, nowSeconds(org) + 180))).body, { error: 'invalid_grant', error_description: 'invalid assertion' });
    assert.deepEqual((await grant(await assertion(privateKeyPem, { ...claims, iss: 'someone-else' }, nowSeconds(org) + 180))).body, { error: 'invalid_client_id', error_description: 'client identifier invalid' });
    assert.deepEqual((await grant(await assertion(privateKeyPem, { ...claims, aud: 'https://evil.example' }, nowSeconds(org) + 180))).body, { error: 'invalid_grant', error_description: 'Audience validation failed' });
    assert.deepEqual((await grant(await assertion(privateKeyPem, { ...claims, sub: INACTIVE_USERNAME }, nowSeconds(org) + 180))).body, { error: 'invalid_grant', error_description: 'inactive user' });
    assert.deepEqual((await grant('not-a-jwt')).body, { error: 'invalid_grant', error_description: 'invalid assertion' });

    // Valid by the host's clock, expired by the org's: the org clock decides.
    const soon = await assertion(privateKeyPem, claims, nowSeconds(org) + 120);
    org.clock.advance(600);
    assert.deepEqual((await grant(soon)).body, { error: 'invalid_grant', error_description: 'invalid assertion' });
  });
});

describe('revoke', () => {
  test('revoking an access token ends its session; a refresh token takes its access tokens along', async () => {
    const { ctx, sessions, apiUserId } = buildFixture();
    const app = buildApp(ctx);
    const plain = sessions.issue(apiUserId, CLIENT_ID);
    assert.equal((await app.request('/services/oauth2/revoke', form({ token: plain.accessToken }))).status, 200);
    assert.equal(sessions.authenticate(plain.accessToken), undefined);

    const withRefresh = sessions.issue(apiUserId, CLIENT_ID, { refreshToken: true });
    const res = await app.request('/services/oauth2/revoke', form({ token: withRefresh.refreshToken! }));
    assert.equal(res.status, 200);
    assert.equal(sessions.authenticate(withRefresh.accessToken), undefined);
    const refresh = await app.request('/services/oauth2/token', form({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: withRefresh.refreshToken! }));
    assert.equal((await refresh.json() as { error: string }).error, 'invalid_grant');
  });

  test('unknown tokens answer 400 form-encoded like Salesforce', async () => {
    const { ctx, org } = buildFixture();
    const app = buildApp(ctx);
    const garbage = await app.request('/services/oauth2/revoke', form({ token: 'garbage' }));
    assert.equal(garbage.status, 400);
    assert.equal(await garbage.text(), 'error=unsupported_token_type&error_description=this%20token%20type%20is%20not%20supported');
    const stale = await app.request('/services/oauth2/revoke', form({ token: `${org.orgId.slice(0, 15)}!AQnotLive` }));
    assert.equal(stale.status, 400);
    assert.equal(new URLSearchParams(await stale.text()).get('error'), 'invalid_token');
  });
});

describe('sessions and requireSession', () => {
  test('Bearer and OAuth headers both authenticate; missing or bad tokens get INVALID_SESSION_ID', async () => {
    const { ctx, sessions, apiUserId } = buildFixture();
    const app = buildApp(ctx);
    const { accessToken } = sessions.issue(apiUserId, CLIENT_ID);
    for (const scheme of ['Bearer', 'OAuth']) {
      const res = await app.request('/services/data/v59.0/sobjects', { headers: { Authorization: `${scheme} ${accessToken}` } });
      assert.equal(res.status, 200, scheme);
      assert.deepEqual(await res.json(), { encoding: 'UTF-8', maxBatchSize: 200, sobjects: [], version: '59.0', user: apiUserId });
    }
    for (const headers of [{}, { Authorization: 'Bearer 00D5g00000EmUL8!AQnope' }] as Record<string, string>[]) {
      const res = await app.request('/services/data/v59.0/sobjects', { headers });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    }
  });

  test('sessions expire after sessionTimeoutSeconds of inactivity on the org clock', async () => {
    const { org, sessions, apiUserId } = buildFixture();
    org.settings.sessionTimeoutSeconds = 3600;
    const { accessToken } = sessions.issue(apiUserId, CLIENT_ID);
    org.clock.advance(3000);
    assert.ok(sessions.authenticate(accessToken), 'use resets the idle timer');
    org.clock.advance(3000);
    assert.ok(sessions.authenticate(accessToken));
    org.clock.advance(3600);
    assert.equal(sessions.authenticate(accessToken), undefined);
  });

  test('deactivating a user ends their sessions; revokeAll ends every session', async () => {
    const { org, sessions, apiUserId } = buildFixture();
    const first = sessions.issue(apiUserId, CLIENT_ID);
    sessions.revokeAll();
    assert.equal(sessions.authenticate(first.accessToken), undefined);
    const second = sessions.issue(apiUserId, CLIENT_ID);
    org.update('User', apiUserId, { IsActive: false }, { userId: apiUserId, system: true });
    assert.equal(sessions.authenticate(second.accessToken), undefined);
  });
});

describe('identity and userinfo', () => {
  test('userinfo answers OpenID Connect claims with Salesforce additions', async () => {
    const { org, ctx, sessions, apiUserId } = buildFixture(() => 'https://acme.my.salesforce.com');
    const { accessToken } = sessions.issue(apiUserId, CLIENT_ID);
    const res = await buildApp(ctx).request('/services/oauth2/userinfo', { headers: { Authorization: `Bearer ${accessToken}` } });
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.sub, `https://acme.my.salesforce.com/id/${org.orgId}/${apiUserId}`);
    assert.equal(body.user_id, apiUserId);
    assert.equal(body.organization_id, org.orgId);
    assert.equal(body.preferred_username, API_USERNAME);
    assert.equal(body.name, 'Ada Integration');
    assert.equal(body.given_name, 'Ada');
    assert.equal(body.family_name, 'Integration');
    assert.equal(body.zoneinfo, 'America/Los_Angeles');
    assert.equal(body.utcOffset, -7 * 3_600_000, 'Pacific daylight time on 10 March 2025');
    assert.equal(body.user_type, 'STANDARD');
    assert.equal(body.active, true);
    assert.equal(body.is_app_installed, true);
    assert.match(String(body.updated_at), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal((body.urls as Record<string, string>).rest, 'https://acme.my.salesforce.com/services/data/v{version}/');
  });

  test('identity URL answers the identity service shape, with {version} placeholders or a version', async () => {
    const { org, ctx, sessions, apiUserId, inactiveUserId } = buildFixture(() => 'https://acme.my.salesforce.com');
    const app = buildApp(ctx);
    const { accessToken } = sessions.issue(apiUserId, CLIENT_ID);
    const res = await app.request(`/id/${org.orgId}/${apiUserId}?format=json&oauth_token=${encodeURIComponent(accessToken)}`);
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), [
      'id', 'asserted_user', 'user_id', 'organization_id', 'username', 'nick_name', 'display_name', 'email',
      'email_verified', 'first_name', 'last_name', 'timezone', 'photos', 'addr_street', 'addr_city', 'addr_state',
      'addr_country', 'addr_zip', 'mobile_phone', 'mobile_phone_verified', 'is_lightning_login_user', 'status',
      'urls', 'active', 'user_type', 'language', 'locale', 'utcOffset', 'last_modified_date', 'is_app_installed',
    ]);
    assert.equal(body.asserted_user, true);
    assert.equal(body.nick_name, 'ada');
    const urls = body.urls as Record<string, string>;
    assert.deepEqual(Object.keys(urls), ['enterprise', 'metadata', 'partner', 'rest', 'sobjects', 'search', 'query', 'recent', 'tooling_soap', 'tooling_rest', 'profile', 'feeds', 'groups', 'users', 'feed_items', 'feed_elements', 'custom_domain']);
    assert.equal(urls.partner, `https://acme.my.salesforce.com/services/Soap/u/{version}/${org.orgId.slice(0, 15)}`);

    const versioned = await app.request(`/id/${org.orgId.slice(0, 15)}/${apiUserId}?version=59.0`, { headers: { Authorization: `OAuth ${accessToken}` } });
    assert.equal(((await versioned.json() as { urls: Record<string, string> }).urls).sobjects, 'https://acme.my.salesforce.com/services/data/v59.0/sobjects/');

    const inactive = await app.request(`/id/${org.orgId}/${inactiveUserId}`, { headers: { Authorization: `Bearer ${accessToken}` } });
    assert.equal(inactive.status, 404);
  });

  test('identity and userinfo refuse bad tokens the way Salesforce does', async () => {
    const { org, ctx, sessions, apiUserId } = buildFixture();
    const app = buildApp(ctx);
    const { accessToken } = sessions.issue(apiUserId, CLIENT_ID);
    const expect = async (path: string, headers: Record<string, string>, status: number, text: string) => {
      const res = await app.request(path, { headers });
      assert.equal(res.status, status, path);
      assert.equal(await res.text(), text, path);
    };
    await expect(`/id/${org.orgId}/${apiUserId}`, {}, 403, 'Missing_OAuth_Token');
    await expect(`/id/${org.orgId}/${apiUserId}`, { Authorization: 'Bearer nope' }, 403, 'Bad_OAuth_Token');
    await expect('/services/oauth2/userinfo', { Authorization: 'Bearer nope' }, 403, 'Bad_OAuth_Token');
    await expect(`/id/00D000000000001AAA/${apiUserId}`, { Authorization: `Bearer ${accessToken}` }, 403, 'Wrong_Org');
    await expect(`/id/${org.orgId}/005000000000001AAA`, { Authorization: `Bearer ${accessToken}` }, 404, 'Bad_Id');
  });
});

describe('versions', () => {
  test('GET /services/data lists 31.0 to 66.0 with their release names, without authentication', async () => {
    const { ctx } = buildFixture();
    const res = await buildApp(ctx).request('/services/data');
    assert.equal(res.status, 200);
    const list = await res.json() as { label: string; url: string; version: string }[];
    assert.equal(list.length, 36);
    assert.deepEqual(list[0], { label: "Summer '14", url: '/services/data/v31.0', version: '31.0' });
    assert.deepEqual(list[1], { label: "Winter '15", url: '/services/data/v32.0', version: '32.0' });
    assert.deepEqual(list.at(-3), { label: "Summer '25", url: '/services/data/v64.0', version: '64.0' });
    assert.deepEqual(list.at(-1), { label: "Spring '26", url: '/services/data/v66.0', version: '66.0' });
    assert.equal(ctx.usage.used(), 0, 'the versions list is not counted');
  });

  test('GET /services/data/vXX.X needs a session, lists resources and counts', async () => {
    const { org, ctx, sessions, apiUserId } = buildFixture(() => 'https://acme.my.salesforce.com');
    const app = buildApp(ctx);
    assert.equal((await app.request('/services/data/v59.0')).status, 401);
    const { accessToken } = sessions.issue(apiUserId, CLIENT_ID);
    const res = await app.request('/services/data/v59.0', { headers: { Authorization: `Bearer ${accessToken}` } });
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, string>;
    assert.equal(body.sobjects, '/services/data/v59.0/sobjects');
    assert.equal(body.jobs, '/services/data/v59.0/jobs');
    assert.equal(body.identity, `https://acme.my.salesforce.com/id/${org.orgId}/${apiUserId}`);
    assert.equal(res.headers.get('Sforce-Limit-Info'), 'api-usage=1/100000');
    const latest = await app.request('/services/data/latest/sobjects', { headers: { Authorization: `Bearer ${accessToken}` } });
    assert.equal((await latest.json() as { version: string }).version, '66.0');
  });

  test('versions outside 31.0-66.0 are NOT_FOUND', async () => {
    const { ctx, sessions, apiUserId } = buildFixture();
    const app = buildApp(ctx);
    const { accessToken } = sessions.issue(apiUserId, CLIENT_ID);
    for (const version of ['v30.0', 'v67.0', 'v59', '59.0']) {
      for (const path of [`/services/data/${version}`, `/services/data/${version}/sobjects`]) {
        const res = await app.request(path, { headers: { Authorization: `Bearer ${accessToken}` } });
        assert.equal(res.status, 404, path);
        assert.deepEqual(await res.json(), [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
      }
    }
  });
});

describe('unmodified jsforce against the emulator', () => {
  let fixture: Fixture;
  let url = '';
  let server: ReturnType<typeof serve>;

  before(async () => {
    fixture = buildFixture(() => url);
    server = await new Promise((resolve) => {
      const s = serve({ fetch: buildApp(fixture.ctx).fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const oauth2 = () => ({ loginUrl: url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });

  test('conn.login by username and password', async () => {
    const conn = new Connection({ oauth2: oauth2(), loginUrl: url, version: '59.0' });
    const info = await conn.login(API_USERNAME, PASSWORD);
    assert.equal(info.id, fixture.apiUserId);
    assert.equal(info.organizationId, fixture.org.orgId);
    assert.equal(conn.instanceUrl, url);
    const describe = await conn.request<{ user: string }>('/sobjects');
    assert.equal(describe.user, fixture.apiUserId);
  });

  test('a refresh token connection refreshes once its session expires on the org clock', async () => {
    const { refreshToken } = fixture.sessions.issue(fixture.apiUserId, CLIENT_ID, { refreshToken: true });
    const conn = new Connection({ oauth2: oauth2(), instanceUrl: url, refreshToken, version: '59.0' });
    let refreshes = 0;
    conn.on('refresh', () => refreshes++);
    await conn.limits();
    assert.equal(refreshes, 1, 'no access token yet: the first call refreshes');
    const firstToken = conn.accessToken;
    fixture.org.clock.advance(fixture.org.settings.sessionTimeoutSeconds + 1);
    const limits = await conn.limits();
    assert.equal(refreshes, 2);
    assert.notEqual(conn.accessToken, firstToken);
    assert.ok(limits.DailyApiRequests.Remaining <= limits.DailyApiRequests.Max);
  });

  test('client credentials via conn.authorize', async () => {
    const conn = new Connection({ oauth2: oauth2(), version: '59.0' });
    const info = await conn.authorize({ grant_type: 'client_credentials' });
    assert.equal(info.id, fixture.apiUserId);
    assert.equal(conn.instanceUrl, url);
  });

  test('JWT bearer via conn.authorize with an assertion signed by the connected app key', async () => {
    const jwt = await assertion(fixture.privateKeyPem, { iss: CLIENT_ID, sub: API_USERNAME, aud: 'https://login.salesforce.com' }, nowSeconds(fixture.org) + 180);
    const conn = new Connection({ oauth2: { loginUrl: url, clientId: CLIENT_ID }, version: '59.0' });
    const info = await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt });
    assert.equal(info.id, fixture.apiUserId);
    const identity = await conn.identity();
    assert.equal(identity.username, API_USERNAME);
    assert.equal(identity.user_id, fixture.apiUserId);
    assert.equal(identity.organization_id, fixture.org.orgId);
    assert.equal(identity.urls.rest, `${url}/services/data/v{version}/`);
  });

  test('conn.identity() finds the identity URL through the resources list when it has none', async () => {
    const { accessToken } = fixture.sessions.issue(fixture.apiUserId, CLIENT_ID);
    const conn = new Connection({ instanceUrl: url, accessToken, version: '59.0' });
    const identity = await conn.identity();
    assert.equal(identity.display_name, 'Ada Integration');
  });

  test('conn.limits() reads the limits route and Sforce-Limit-Info', async () => {
    const conn = new Connection({ oauth2: oauth2(), loginUrl: url, version: '59.0' });
    await conn.login(API_USERNAME, PASSWORD);
    const limits = await conn.limits();
    const used = fixture.ctx.usage.used();
    assert.deepEqual({ Max: limits.DailyApiRequests.Max, Remaining: limits.DailyApiRequests.Remaining }, { Max: 100_000, Remaining: 100_000 - used });
    assert.deepEqual(conn.limitInfo.apiUsage, { used, limit: 100_000 });
  });

  test('conn.logout() revokes the token through /services/oauth2/revoke', async () => {
    const conn = new Connection({ oauth2: oauth2(), loginUrl: url, version: '59.0' });
    await conn.login(API_USERNAME, PASSWORD);
    const token = conn.accessToken!;
    await conn.logout();
    assert.equal(fixture.sessions.authenticate(token), undefined);
    await assert.rejects(new Connection({ instanceUrl: url, accessToken: token, version: '59.0' }).limits(), { errorCode: 'INVALID_SESSION_ID' });
  });

  test('an expired session without a way to refresh fails with INVALID_SESSION_ID', async () => {
    const { accessToken } = fixture.sessions.issue(fixture.apiUserId, CLIENT_ID);
    const conn = new Connection({ instanceUrl: url, accessToken, version: '59.0' });
    await conn.limits();
    fixture.org.clock.advance(fixture.org.settings.sessionTimeoutSeconds);
    await assert.rejects(conn.limits(), (error: Error & { errorCode?: string }) => {
      assert.equal(error.errorCode, 'INVALID_SESSION_ID');
      assert.equal(error.message, 'Session expired or invalid');
      return true;
    });
  });
});

describe('web-server flow (authorization code)', () => {
  const CALLBACK = 'http://localhost:1717/OauthRedirect';
  const authorizeQuery = (extra: Record<string, string> = {}): string =>
    new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: CALLBACK, state: 'xyz', ...extra }).toString();

  /** Logs in through the form and returns the redirect's query parameters. */
  async function logIn(app: Hono<AppEnv>, extra: Record<string, string> = {}, credentials = { username: API_USERNAME, pw: PASSWORD }): Promise<URLSearchParams> {
    const res = await app.request(`/services/oauth2/authorize?${authorizeQuery(extra)}`, form(credentials));
    assert.equal(res.status, 302, await res.clone().text());
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
    return location.searchParams;
  }

  const exchange = (app: Hono<AppEnv>, code: string, extra: Record<string, string> = {}) =>
    app.request('/services/oauth2/token', form({ grant_type: 'authorization_code', code, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: CALLBACK, ...extra }));

  test('GET authorize answers a login form carrying the request in hidden fields', async () => {
    const app = buildApp(buildFixture().ctx);
    const res = await app.request(`/services/oauth2/authorize?${authorizeQuery({ scope: 'api refresh_token' })}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.match(html, /<form[^>]+method="post"[^>]+action="\/services\/oauth2\/authorize"/);
    assert.match(html, /name="username"/);
    assert.match(html, /name="pw" type="password"/);
    assert.match(html, /<input type="hidden" name="state" value="xyz">/);
    assert.match(html, /<input type="hidden" name="scope" value="api refresh_token">/);
  });

  test('a correct login redirects with a code and the state; the code buys tokens in Salesforce shape', async () => {
    const fixture = buildFixture();
    const app = buildApp(fixture.ctx);
    const params = await logIn(app);
    assert.equal(params.get('state'), 'xyz');
    const code = params.get('code')!;
    assert.match(code, /^aPrx[A-Za-z0-9+/]+=*$/);
    const res = await exchange(app, code);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, string>;
    assert.deepEqual(Object.keys(body), ['access_token', 'refresh_token', 'signature', 'scope', 'instance_url', 'id', 'token_type', 'issued_at']);
    assert.match(body.access_token!, /^00D5g00000EmUL8!AQ/);
    assert.match(body.refresh_token!, /^5Aep861/);
    assert.equal(body.scope, 'refresh_token api');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.id, `http://127.0.0.1:9/id/${fixture.org.orgId}/${fixture.apiUserId}`);
    assert.equal(body.signature, createHmac('sha256', CLIENT_SECRET).update(body.id! + body.issued_at!).digest('base64'));
    const me = await app.request('/services/data/v59.0/sobjects', { headers: { Authorization: `Bearer ${body.access_token!}` } });
    assert.equal(((await me.json()) as { user: string }).user, fixture.apiUserId);

    // Single use.
    const again = await exchange(app, code);
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), { error: 'invalid_grant', error_description: 'invalid authorization code' });

    // The refresh token works with the refresh_token grant and keeps the scopes.
    const refreshed = await app.request('/services/oauth2/token', form({ grant_type: 'refresh_token', refresh_token: body.refresh_token!, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));
    assert.equal(refreshed.status, 200);
    assert.equal(((await refreshed.json()) as { scope: string }).scope, 'refresh_token api');
  });

  test('scopes without refresh_token give no refresh token; unknown scopes redirect with invalid_scope', async () => {
    const app = buildApp(buildFixture().ctx);
    const code = (await logIn(app, { scope: 'api web' })).get('code')!;
    const body = (await (await exchange(app, code)).json()) as Record<string, string>;
    assert.equal(body.scope, 'api web');
    assert.equal(body.refresh_token, undefined);
    const bad = await logIn(app, { scope: 'api chatter_api' });
    assert.deepEqual(Object.fromEntries(bad), { error: 'invalid_scope', error_description: 'the requested scope is not allowed', state: 'xyz' });
  });

  test('an unknown client or callback URL gets the error page; a bad login shows the form again', async () => {
    const app = buildApp(buildFixture().ctx);
    const badClient = await app.request(`/services/oauth2/authorize?${authorizeQuery({ client_id: 'nope' })}`);
    assert.equal(badClient.status, 400);
    assert.match(await badClient.text(), /error=invalid_client_id&amp;error_description=client identifier invalid/);
    const badRedirect = await app.request(`/services/oauth2/authorize?${authorizeQuery({ redirect_uri: 'https://evil.example/cb' })}`);
    assert.equal(badRedirect.status, 400);
    assert.match(await badRedirect.text(), /error=redirect_uri_mismatch&amp;error_description=redirect_uri must match configuration/);
    const badType = await app.request(`/services/oauth2/authorize?${authorizeQuery({ response_type: 'token' })}`);
    assert.equal(badType.status, 302);
    assert.match(badType.headers.get('location')!, /error=unsupported_response_type/);

    for (const credentials of [{ username: API_USERNAME, pw: 'wrong' }, { username: 'nobody@acme.example', pw: PASSWORD }, { username: INACTIVE_USERNAME, pw: PASSWORD }]) {
      const res = await app.request(`/services/oauth2/authorize?${authorizeQuery()}`, form(credentials));
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /Please check your username and password/);
      assert.match(html, /<form/);
    }
  });

  test('token requests check the secret, the redirect URI and the code expiry on the org clock', async () => {
    const fixture = buildFixture();
    const app = buildApp(fixture.ctx);
    const noSecret = await app.request('/services/oauth2/token', form({ grant_type: 'authorization_code', code: (await logIn(app)).get('code')!, client_id: CLIENT_ID, redirect_uri: CALLBACK }));
    assert.deepEqual(await noSecret.json(), { error: 'invalid_client', error_description: 'invalid client credentials' });
    const wrongRedirect = await exchange(app, (await logIn(app)).get('code')!, { redirect_uri: 'https://login.salesforce.com/services/oauth2/success' });
    assert.deepEqual(await wrongRedirect.json(), { error: 'redirect_uri_mismatch', error_description: 'redirect_uri must match configuration' });
    const wrongClient = await exchange(app, (await logIn(app)).get('code')!, { client_id: 'someone-else' });
    assert.deepEqual(await wrongClient.json(), { error: 'invalid_client_id', error_description: 'client identifier invalid' });

    const late = (await logIn(app)).get('code')!;
    fixture.org.clock.advance(14 * 60);
    assert.equal((await exchange(app, (await logIn(app)).get('code')!)).status, 200);
    fixture.org.clock.advance(60);
    assert.deepEqual(await (await exchange(app, late)).json(), { error: 'invalid_grant', error_description: 'expired authorization code' });
  });

  test('PKCE: the verifier must hash to the challenge', async () => {
    const app = buildApp(buildFixture().ctx);
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const pkce = { code_challenge: challenge, code_challenge_method: 'S256' };
    const missing = await exchange(app, (await logIn(app, pkce)).get('code')!);
    assert.deepEqual(await missing.json(), { error: 'invalid_grant', error_description: 'invalid code verifier' });
    const wrong = await exchange(app, (await logIn(app, pkce)).get('code')!, { code_verifier: `${verifier}x` });
    assert.deepEqual(await wrong.json(), { error: 'invalid_request', error_description: 'invalid code verifier' });
    const right = await exchange(app, (await logIn(app, pkce)).get('code')!, { code_verifier: verifier });
    assert.equal(right.status, 200);
    const plain = await logIn(app, { code_challenge: challenge, code_challenge_method: 'plain' });
    assert.equal(plain.get('error'), 'invalid_request');
  });

  test('jsforce: getAuthorizationUrl, conn.authorize(code) and OAuth2.refreshToken', async () => {
    const fixture = buildFixture(() => url);
    let url = '';
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: buildApp(fixture.ctx).fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const oauth2 = new OAuth2({ loginUrl: url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: CALLBACK });
      const verifier = 'x'.repeat(43);
      const authorizeUrl = oauth2.getAuthorizationUrl({ scope: 'api refresh_token', state: 's1', code_challenge: createHash('sha256').update(verifier).digest('base64url') });
      const page = await fetch(authorizeUrl);
      assert.equal(page.status, 200);
      const posted = await fetch(authorizeUrl, { ...form({ username: API_USERNAME, pw: PASSWORD }), redirect: 'manual' });
      assert.equal(posted.status, 302);
      const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;

      const conn = new Connection({ oauth2, version: '59.0' });
      const info = await conn.authorize(code, { code_verifier: verifier });
      assert.equal(info.id, fixture.apiUserId);
      assert.equal(conn.instanceUrl, url);
      assert.match(conn.refreshToken ?? '', /^5Aep861/);
      assert.equal((await conn.request<{ user: string }>('/sobjects')).user, fixture.apiUserId);

      const refreshed = await oauth2.refreshToken(conn.refreshToken!);
      assert.match(refreshed.access_token, /^00D5g00000EmUL8!AQ/);
      assert.notEqual(refreshed.access_token, conn.accessToken);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('POST /__emulator/oauth/refresh-token', () => {
  test('hands out a refresh token for the API user or a named active user', async () => {
    const emu = createEmulator({ profile: 'empty' }, 'http://emulator.test');
    const admin = (body: unknown, token = emu.context.adminToken) =>
      emu.app.request('/__emulator/oauth/refresh-token', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await admin({}, 'wrong')).status, 401);
    const res = await admin({});
    assert.equal(res.status, 200);
    const body = (await res.json()) as { refreshToken: string; clientId: string; clientSecret: string; loginUrl: string };
    assert.deepEqual(Object.keys(body), ['refreshToken', 'clientId', 'clientSecret', 'loginUrl']);
    assert.equal(body.clientId, emu.org.connectedApp!.clientId);
    assert.equal(body.loginUrl, 'http://emulator.test');
    const token = await emu.app.request('/services/oauth2/token', form({ grant_type: 'refresh_token', refresh_token: body.refreshToken, client_id: body.clientId, client_secret: body.clientSecret }));
    assert.equal(token.status, 200);
    const { access_token: accessToken, id } = (await token.json()) as { access_token: string; id: string };
    assert.ok(id.endsWith(`/${emu.org.apiUserId}`));
    assert.equal((await emu.app.request('/services/data/v59.0/limits', { headers: { Authorization: `Bearer ${accessToken}` } })).status, 200);

    const inactive = [...emu.org.records('User')].find((u) => u.IsActive === false)!;
    const refused = await admin({ username: inactive.Username });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { field: string }).field, 'username');
    assert.equal((await admin({ username: 'nobody@nowhere.example' })).status, 400);
    assert.equal((await admin({ user: 'x' })).status, 400);
  });
});
