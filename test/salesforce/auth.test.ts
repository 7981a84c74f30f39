// Every OrgAuth flow against the emulator's OAuth endpoints, login failures as
// AuthenticationError naming cause and fix without a secret, and one re-login after Salesforce
// revokes or expires the session.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuthenticationError } from '../../src/core/errors.ts';
import type { OrgAuth } from '../../src/core/org-client.ts';
import { connectOrg, describeAuth, jwtAudience } from '../../src/salesforce/index.ts';
import { FAST, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface ConnectedApp {
  clientId: string;
  clientSecret: string;
  privateKeyPem: string;
}

describe('auth flows', () => {
  let h: Harness;
  let app: ConnectedApp;
  before(async () => {
    h = await startHarness('demo');
    app = await h.admin<ConnectedApp>('GET', '/connected-app');
  });
  after(() => h.close());

  const jwt = (): OrgAuth => ({ kind: 'jwt', loginUrl: h.emu.info.loginUrl, clientId: app.clientId, username: h.emu.info.username, privateKeyPem: app.privateKeyPem });
  const clientCredentials = (): OrgAuth => ({ kind: 'client-credentials', loginUrl: h.emu.info.loginUrl, clientId: app.clientId, clientSecret: app.clientSecret });

  /** Ends every session the way `how` says: revoked by an admin, or idle past the timeout. */
  async function endSessions(how: 'revoke' | 'expire'): Promise<void> {
    if (how === 'revoke') return void (await h.admin('POST', '/sessions/revoke'));
    const { sessionTimeoutSeconds } = await h.admin<{ sessionTimeoutSeconds: number }>('GET', '/limits');
    await h.admin('POST', '/clock', { advanceSeconds: sessionTimeoutSeconds + 60 });
  }

  async function connectsAndRenews(auth: OrgAuth, how: 'revoke' | 'expire' = 'revoke'): Promise<void> {
    const org = await connectOrg(auth, FAST);
    assert.equal((await org.identity()).orgId, h.emu.info.orgId, describeAuth(auth));
    // Revoked mid-query: the client logs in again and the cursor carries on.
    let pages = 0;
    let records = 0;
    for await (const page of org.query('SELECT Id FROM Contact')) {
      // Expiring a session takes hours of the org clock, which would expire the cursor as well.
      if (pages++ === 0 && how === 'revoke') await endSessions(how);
      records += page.length;
    }
    assert.ok(pages > 1);
    assert.equal(records, (await org.recordCounts(['Contact'])).get('Contact'));
    await endSessions(how);
    assert.equal((await org.identity()).username, h.emu.info.username, 'identity renews too');
  }

  test('username-password', () => connectsAndRenews(h.passwordAuth));
  test('JWT bearer, signed with the connected app key', () => connectsAndRenews(jwt()));
  test('client credentials', () => connectsAndRenews(clientCredentials()));

  test('refresh token, obtained through the OAuth web-server flow', async () => {
    const redirectUri = 'http://localhost:1717/OauthRedirect';
    const answer = await fetch(new URL('/services/oauth2/authorize', h.emu.info.loginUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ response_type: 'code', client_id: app.clientId, redirect_uri: redirectUri, scope: 'api refresh_token', username: h.emu.info.username, pw: h.emu.info.password }),
    });
    const location = answer.headers.get('location');
    assert.ok(location, `authorize redirects with a code (status ${answer.status})`);
    const code = new URL(location).searchParams.get('code');
    assert.ok(code);
    const token = await fetch(new URL('/services/oauth2/token', h.emu.info.loginUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: app.clientId, client_secret: app.clientSecret, redirect_uri: redirectUri }),
    });
    const body = (await token.json()) as { refresh_token?: string };
    assert.ok(body.refresh_token, JSON.stringify(body));
    // Revoking every session would revoke the refresh token too: the session expires instead.
    await connectsAndRenews({ kind: 'refresh-token', loginUrl: h.emu.info.loginUrl, clientId: app.clientId, clientSecret: app.clientSecret, refreshToken: body.refresh_token }, 'expire');
  });

  test('session expired on the org clock: logs in again', async () => {
    const org = await connectOrg(h.passwordAuth, FAST);
    await org.limits();
    const { sessionTimeoutSeconds } = await h.admin<{ sessionTimeoutSeconds: number }>('GET', '/limits');
    await h.admin('POST', '/clock', { advanceSeconds: sessionTimeoutSeconds + 60 });
    assert.ok((await org.limits()).dailyApiRequests.max > 0);
  });

  test('an access token works until revoked, then says to supply a new one', async () => {
    const token = h.emu.context.sessions.issue(h.emu.org.apiUserId, app.clientId).accessToken;
    const org = await connectOrg({ kind: 'access-token', instanceUrl: h.emu.info.instanceUrl, accessToken: token }, FAST);
    assert.equal((await org.identity()).orgId, h.emu.info.orgId);
    await h.admin('POST', '/sessions/revoke');
    await assert.rejects(org.limits(), (e: unknown) => e instanceof AuthenticationError && /new one/.test(e.message) && /refresh token/.test(e.message) && !e.message.includes(token));
  });

  test('login failures name the cause and the fix, never the secret', async () => {
    const cases: [OrgAuth, RegExp, string][] = [
      [{ ...h.passwordAuth, password: 'wrong-password-123' }, /authentication failure.*password/i, 'wrong-password-123'],
      [{ ...h.passwordAuth, clientId: 'not-a-client' }, /client-id/, h.passwordAuth.password],
      [{ ...h.passwordAuth, clientSecret: 'bad-secret-456' }, /client-secret/, 'bad-secret-456'],
      [{ ...h.passwordAuth, loginUrl: 'http://127.0.0.1:9' }, /could not reach.*login-url/i, h.passwordAuth.password],
      [{ ...(jwt() as OrgAuth & { kind: 'jwt' }), username: 'nobody@example.com' }, /user|username/i, 'PRIVATE KEY'],
      [{ kind: 'refresh-token', loginUrl: h.emu.info.loginUrl, clientId: app.clientId, clientSecret: app.clientSecret, refreshToken: '5Aep861-expired-token' }, /refresh token.*new one/i, '5Aep861-expired-token'],
      [{ kind: 'jwt', loginUrl: h.emu.info.loginUrl, clientId: app.clientId, username: h.emu.info.username, privateKeyPem: 'not a key' }, /private-key-file/, 'not a key'],
    ];
    for (const [auth, pattern, secret] of cases) {
      await assert.rejects(connectOrg(auth, { retry: { attempts: 1 } }), (e: unknown) => {
        assert.ok(e instanceof AuthenticationError, String(e));
        assert.match(e.message, pattern);
        assert.equal(e.message.includes(secret), false, e.message);
        return true;
      });
    }
  });

  test('describeAuth is one secret-free line', () => {
    const line = describeAuth(h.passwordAuth);
    assert.match(line, /username-password as .* via http/);
    assert.equal(line.includes(h.passwordAuth.password), false);
    assert.equal(line.includes(h.passwordAuth.clientSecret), false);
    assert.equal(describeAuth({ kind: 'sf-cli', alias: 'prod' }), 'Salesforce CLI org "prod"');
  });

  test('JWT audience is the Salesforce login host, or the emulator itself', () => {
    assert.equal(jwtAudience('https://acme.my.salesforce.com'), 'https://login.salesforce.com');
    assert.equal(jwtAudience('https://acme--uat.sandbox.my.salesforce.com'), 'https://test.salesforce.com');
    assert.equal(jwtAudience('https://test.salesforce.com/'), 'https://test.salesforce.com');
    assert.equal(jwtAudience('http://127.0.0.1:4999/'), 'http://127.0.0.1:4999');
  });

  test('an org authorised in the Salesforce CLI, by alias', async () => {
    const token = h.emu.context.sessions.issue(h.emu.org.apiUserId, app.clientId).accessToken;
    const home = mkdtempSync(join(tmpdir(), 'orgvault-sf-'));
    try {
      // Not spawnSync: the emulator runs in this process and must keep answering.
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'test/salesforce/sf-cli-connect.ts'), h.emu.info.instanceUrl, token, 'emulated'], {
        cwd: home,
        env: { ...process.env, HOME: home, SF_USE_GENERIC_UNIX_KEYCHAIN: 'true', SFDX_USE_GENERIC_UNIX_KEYCHAIN: 'true', SF_DISABLE_TELEMETRY: 'true', SF_AUTOUPDATE_DISABLE: 'true', SF_LOG_LEVEL: 'fatal' },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      const result = { status, stdout, stderr };
      assert.equal(result.status, 0, result.stderr);
      const out = JSON.parse(result.stdout.trim().split('\n').pop()!) as { identity: { orgId: string; username: string }; accounts: number; unknownAlias: string };
      assert.equal(out.identity.orgId, h.emu.info.orgId);
      assert.equal(out.identity.username, h.emu.info.username);
      assert.ok(out.accounts > 0);
      assert.match(out.unknownAlias, /no-such-alias.*sf org login/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
