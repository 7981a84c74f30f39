/**
 * Logging in with each OrgAuth flow, on jsforce's OAuth2 (token endpoint) and, for orgs
 * authorised in the Salesforce CLI, on @salesforce/core. A login gives a session and, when the
 * flow can repeat it unattended, a way to log in again after the session expires or is revoked.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { OAuth2 } from '@jsforce/jsforce-node';
import { SignJWT } from 'jose';
import { AuthenticationError } from '../core/errors.ts';
import type { OrgAuth } from '../core/org-client.ts';
import { describeNetworkError, isNetworkError } from './api-errors.ts';
import { describeAuth } from './describe-auth.ts';
import { withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

export interface Session {
  accessToken: string;
  instanceUrl: string;
}

export interface Login {
  session: Session;
  /** Logs in again; undefined when the flow cannot (a bare access token). */
  renew: (() => Promise<Session>) | undefined;
  /** Why the session cannot be renewed, and what to do instead. */
  cannotRenew: string;
}

interface TokenAnswer {
  access_token: string;
  instance_url: string;
}

export async function logIn(auth: OrgAuth, retry: RetryPolicy): Promise<Login> {
  const described = describeAuth(auth);
  const renewable = (grant: () => Promise<Session>): Promise<Login> =>
    grant().then((session) => ({ session, renew: grant, cannotRenew: '' }));
  switch (auth.kind) {
    case 'password':
      return renewable(() => tokenGrant(auth.loginUrl, described, retry, auth.kind, (o) => o.authenticate(auth.username, auth.password), { clientId: auth.clientId, clientSecret: auth.clientSecret }));
    case 'client-credentials':
      return renewable(() => tokenGrant(auth.loginUrl, described, retry, auth.kind, (o) => o.requestToken({ grant_type: 'client_credentials' }), { clientId: auth.clientId, clientSecret: auth.clientSecret }));
    case 'jwt':
      return renewable(async () => {
        const assertion = await signAssertion(auth.privateKeyPem, auth.clientId, auth.username, auth.loginUrl);
        return tokenGrant(auth.loginUrl, described, retry, auth.kind, (o) => o.requestToken({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }), { clientId: auth.clientId });
      });
    case 'refresh-token':
      return renewable(() => tokenGrant(auth.loginUrl, described, retry, auth.kind, (o) => o.refreshToken(auth.refreshToken), { clientId: auth.clientId, clientSecret: auth.clientSecret }));
    case 'access-token':
      return {
        session: { accessToken: auth.accessToken, instanceUrl: trimSlash(auth.instanceUrl) },
        renew: undefined,
        cannotRenew: `The access token for ${trimSlash(auth.instanceUrl)} is no longer valid (it expired or was revoked), and a bare access token cannot be renewed: supply a new one (orgvault org add with --access-token), or register the org with a flow that can log in again (JWT with --private-key-file, client credentials, a refresh token, or username and password).`,
      };
    case 'sf-cli':
      return sfCliLogin(auth.alias, retry);
  }
}

/** One grant at the token endpoint, retried on network failures and 5xx answers only. */
async function tokenGrant(
  loginUrl: string,
  described: string,
  retry: RetryPolicy,
  kind: OrgAuth['kind'],
  grant: (oauth: OAuth2) => Promise<unknown>,
  client: { clientId: string; clientSecret?: string },
): Promise<Session> {
  const oauth = new OAuth2({ loginUrl: trimSlash(loginUrl), clientId: client.clientId, clientSecret: client.clientSecret });
  let answer: TokenAnswer;
  try {
    answer = (await withRetry(retry, () => grant(oauth), (e) => isNetworkError(e) || /^ERROR_HTTP_5\d\d$/.test((e as { name?: string }).name ?? ''))) as TokenAnswer;
  } catch (error) {
    throw new AuthenticationError(`Could not log in (${described}): ${loginFailure(error, kind, trimSlash(loginUrl))}`, { cause: error });
  }
  if (typeof answer?.access_token !== 'string' || typeof answer.instance_url !== 'string') {
    throw new AuthenticationError(`Could not log in (${described}): the token endpoint at ${trimSlash(loginUrl)} did not answer with an access token and instance URL. Check --login-url: it is https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL.`);
  }
  return { accessToken: answer.access_token, instanceUrl: trimSlash(answer.instance_url) };
}

/** Salesforce's OAuth error, and the fix for it, without any secret. */
function loginFailure(error: unknown, kind: OrgAuth['kind'], loginUrl: string): string {
  if (isNetworkError(error)) return `could not reach ${loginUrl} (${describeNetworkError(error)}). Check --login-url and the network.`;
  const code = (error as { name?: string }).name ?? 'error';
  const description = (error as { message?: string }).message ?? '';
  const said = `${code}: ${description}`;
  if (code === 'invalid_client_id') return `${said}. Check --client-id: it is the connected app's consumer key, and the app must be installed in this org.`;
  if (code === 'invalid_client') return `${said}. Check --client-secret (the connected app's consumer secret).`;
  if (code === 'unsupported_grant_type') return `${said}. This org or connected app does not allow the ${kind} flow: enable it on the connected app, or use another flow.`;
  if (/^ERROR_HTTP_404$/.test(code)) return `${said.slice(0, 200)}. ${loginUrl} has no OAuth token endpoint: check --login-url.`;
  if (code === 'invalid_grant') {
    if (/inactive/i.test(description)) return `${said}. The user is inactive: activate it, or use another integration user.`;
    if (/expired|revoked/i.test(description) || kind === 'refresh-token') return `${said}. The refresh token expired or was revoked: obtain a new one and register the org again.`;
    if (kind === 'jwt') return `${said}. Check that the certificate matching --private-key-file is uploaded to the connected app, the user is pre-authorised (admin-approved users), and --username and --login-url are right.`;
    if (kind === 'client-credentials') return `${said}. The connected app needs the client credentials flow enabled with a "Run As" user.`;
    if (kind === 'password') return `${said}. Check --username and the password (append the user's security token when the org asks for one), and that the user may log in from this address.`;
  }
  return said;
}

/** A JWT bearer assertion, valid for three minutes (Salesforce's maximum). */
async function signAssertion(privateKeyPem: string, clientId: string, username: string, loginUrl: string): Promise<string> {
  let key;
  try {
    // node:crypto reads PKCS#1 and PKCS#8 alike; jose on its own wants PKCS#8.
    key = createPrivateKey(privateKeyPem);
  } catch (error) {
    throw new AuthenticationError('The JWT private key is not a readable PEM private key: give --private-key-file the key (not the certificate) of the connected app.', { cause: error });
  }
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(clientId)
    .setSubject(username)
    .setAudience(jwtAudience(loginUrl))
    .setExpirationTime(Math.floor(Date.now() / 1000) + 180)
    .sign(key);
}

/** Salesforce wants its login host as the audience, whatever My Domain URL one logs in through. */
export function jwtAudience(loginUrl: string): string {
  const url = new URL(loginUrl);
  const host = url.hostname.toLowerCase();
  if (host === 'test.salesforce.com' || host.endsWith('.sandbox.my.salesforce.com')) return 'https://test.salesforce.com';
  if (host.endsWith('.salesforce.com') || host.endsWith('.force.com')) return 'https://login.salesforce.com';
  return url.origin;
}

/** An org authorised in the Salesforce CLI (`sf org login …`), by alias or username. */
async function sfCliLogin(alias: string, retry: RetryPolicy): Promise<Login> {
  // Loaded on use: @salesforce/core is large and only this flow needs it.
  const { AuthInfo, StateAggregator } = await import('@salesforce/core');
  let fields;
  try {
    const state = await StateAggregator.getInstance();
    const username = state.aliases.resolveUsername(alias);
    const info = await AuthInfo.create({ username });
    fields = info.getFields(true);
  } catch (error) {
    throw new AuthenticationError(`No org is authorised in the Salesforce CLI as "${alias}" (${(error as Error).message}). Run \`sf org list\` to see the aliases, or \`sf org login web --alias ${alias}\` to authorise it.`, { cause: error });
  }
  if (!fields.accessToken || !fields.instanceUrl) {
    throw new AuthenticationError(`The Salesforce CLI has no session for "${alias}": run \`sf org login web --alias ${alias}\` again.`);
  }
  const session = { accessToken: fields.accessToken, instanceUrl: trimSlash(fields.instanceUrl) };
  const loginUrl = fields.loginUrl ?? fields.instanceUrl;
  const described = `Salesforce CLI org "${alias}"`;
  const cannotRenew = `The Salesforce CLI's session for "${alias}" is no longer valid and it holds no refresh token or JWT key to renew it: run \`sf org login web --alias ${alias}\` (or \`sf org login jwt\`) again.`;
  if (fields.refreshToken) {
    const { refreshToken, clientId = 'PlatformCLI', clientSecret } = fields;
    return { session, cannotRenew, renew: () => tokenGrant(loginUrl, described, retry, 'refresh-token', (o) => o.refreshToken(refreshToken), { clientId, clientSecret }) };
  }
  if (fields.privateKey && fields.clientId && fields.username) {
    const { privateKey, clientId, username } = fields;
    return {
      session,
      cannotRenew,
      renew: async () => {
        const assertion = await signAssertion(await readFile(privateKey, 'utf8'), clientId, username, loginUrl);
        return tokenGrant(loginUrl, described, retry, 'jwt', (o) => o.requestToken({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }), { clientId });
      },
    };
  }
  return { session, renew: undefined, cannotRenew };
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
