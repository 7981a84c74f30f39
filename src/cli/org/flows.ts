/**
 * Which login flow `org add`'s flags describe. Secrets may come from flags or, to keep them out of
 * shell history, from ORGVAULT_CLIENT_SECRET, ORGVAULT_SF_PASSWORD, ORGVAULT_REFRESH_TOKEN and
 * ORGVAULT_ACCESS_TOKEN. A mix of two flows' flags, or a flow missing one, is a UsageError naming
 * what each flow needs.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../core/errors.ts';
import type { OrgAuth } from '../../core/org-client.ts';

export interface OrgAddFlags {
  loginUrl?: string;
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  privateKeyFile?: string;
  refreshToken?: string;
  accessToken?: string;
  instanceUrl?: string;
  sfAlias?: string;
}

type Flag = keyof OrgAddFlags;
type Kind = OrgAuth['kind'];

export const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';

export const FLOWS_HELP = [
  'Give the flags of one way to log in:',
  '  JWT bearer:          --client-id ID --username USER --private-key-file FILE [--login-url URL]',
  '  client credentials:  --client-id ID --client-secret SECRET --login-url https://MYDOMAIN.my.salesforce.com',
  '  refresh token:       --client-id ID --refresh-token TOKEN [--client-secret SECRET] [--login-url URL]',
  '  username-password:   --client-id ID --client-secret SECRET --username USER --password PASSWORD [--login-url URL]',
  '  access token:        --instance-url URL --access-token TOKEN',
  '  Salesforce CLI org:  --sf-alias ALIAS',
  'Secrets can come from ORGVAULT_CLIENT_SECRET, ORGVAULT_SF_PASSWORD, ORGVAULT_REFRESH_TOKEN and ORGVAULT_ACCESS_TOKEN instead, to keep them out of shell history.',
].join('\n');

const ALLOWED: Record<Kind, Flag[]> = {
  'sf-cli': ['sfAlias'],
  'access-token': ['instanceUrl', 'accessToken'],
  jwt: ['loginUrl', 'clientId', 'username', 'privateKeyFile'],
  password: ['loginUrl', 'clientId', 'clientSecret', 'username', 'password'],
  'refresh-token': ['loginUrl', 'clientId', 'clientSecret', 'refreshToken'],
  'client-credentials': ['loginUrl', 'clientId', 'clientSecret'],
};

const LABEL: Record<Kind, string> = {
  'sf-cli': 'the Salesforce CLI flow',
  'access-token': 'the access-token flow',
  jwt: 'the JWT bearer flow',
  password: 'the username-password flow',
  'refresh-token': 'the refresh-token flow',
  'client-credentials': 'the client credentials flow',
};

const option = (flag: Flag): string => `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The flow the flags name; which flag names it comes first. */
function chooseFlow(given: Set<Flag>, env: NodeJS.ProcessEnv): Kind {
  if (given.has('sfAlias')) return 'sf-cli';
  if (given.has('instanceUrl') || given.has('accessToken')) return 'access-token';
  if (given.has('privateKeyFile')) return 'jwt';
  if (given.has('refreshToken')) return 'refresh-token';
  if (given.has('username') || given.has('password')) return 'password';
  if (given.has('clientId') || given.has('clientSecret') || given.has('loginUrl')) return env.ORGVAULT_REFRESH_TOKEN ? 'refresh-token' : 'client-credentials';
  throw new UsageError(`\`org add\` needs to know how to log in to the org.\n${FLOWS_HELP}`);
}

export async function authFromFlags(flags: OrgAddFlags, env: NodeJS.ProcessEnv = process.env): Promise<OrgAuth> {
  const given = new Set((Object.keys(flags) as Flag[]).filter((k) => flags[k] !== undefined && k in ALLOWED_UNION));
  const kind = chooseFlow(given, env);
  const strays = [...given].filter((f) => !ALLOWED[kind].includes(f));
  if (strays.length > 0) {
    throw new UsageError(`${strays.map(option).join(', ')} cannot be combined with ${LABEL[kind]} (${ALLOWED[kind].map(option).join(', ')}): give the flags of one flow only.\n${FLOWS_HELP}`);
  }
  const missing: string[] = [];
  const need = (value: string | undefined, what: string): string => {
    if (value === undefined || value === '') missing.push(what);
    return value ?? '';
  };
  const loginUrl = checkUrl(flags.loginUrl ?? DEFAULT_LOGIN_URL, '--login-url');
  let auth: OrgAuth;
  switch (kind) {
    case 'sf-cli':
      auth = { kind, alias: need(flags.sfAlias, '--sf-alias') };
      break;
    case 'access-token':
      auth = { kind, instanceUrl: flags.instanceUrl ? checkUrl(flags.instanceUrl, '--instance-url') : need(undefined, '--instance-url'), accessToken: need(flags.accessToken ?? env.ORGVAULT_ACCESS_TOKEN, '--access-token (or ORGVAULT_ACCESS_TOKEN)') };
      break;
    case 'jwt': {
      const clientId = need(flags.clientId, '--client-id');
      const username = need(flags.username, '--username');
      const file = need(flags.privateKeyFile, '--private-key-file');
      if (missing.length) break;
      auth = { kind, loginUrl, clientId, username, privateKeyPem: await readKey(file) };
      return auth;
    }
    case 'password':
      auth = {
        kind,
        loginUrl,
        clientId: need(flags.clientId, '--client-id'),
        clientSecret: need(flags.clientSecret ?? env.ORGVAULT_CLIENT_SECRET, '--client-secret (or ORGVAULT_CLIENT_SECRET)'),
        username: need(flags.username, '--username'),
        password: need(flags.password ?? env.ORGVAULT_SF_PASSWORD, '--password (or ORGVAULT_SF_PASSWORD)'),
      };
      break;
    case 'refresh-token': {
      const clientSecret = flags.clientSecret ?? env.ORGVAULT_CLIENT_SECRET;
      auth = { kind, loginUrl, clientId: need(flags.clientId, '--client-id'), refreshToken: need(flags.refreshToken ?? env.ORGVAULT_REFRESH_TOKEN, '--refresh-token (or ORGVAULT_REFRESH_TOKEN)'), ...(clientSecret ? { clientSecret } : {}) };
      break;
    }
    case 'client-credentials':
      if (flags.loginUrl === undefined) missing.push("--login-url (the org's My Domain URL: Salesforce answers client credentials there only)");
      auth = { kind, loginUrl, clientId: need(flags.clientId, '--client-id'), clientSecret: need(flags.clientSecret ?? env.ORGVAULT_CLIENT_SECRET, '--client-secret (or ORGVAULT_CLIENT_SECRET)') };
      break;
  }
  if (missing.length > 0) throw new UsageError(`${LABEL[kind][0]!.toUpperCase()}${LABEL[kind].slice(1)} also needs ${missing.join(' and ')}.\n${FLOWS_HELP}`);
  return auth!;
}

const ALLOWED_UNION: Record<Flag, true> = {
  loginUrl: true,
  clientId: true,
  clientSecret: true,
  username: true,
  password: true,
  privateKeyFile: true,
  refreshToken: true,
  accessToken: true,
  instanceUrl: true,
  sfAlias: true,
};

function checkUrl(text: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} ${text} is not a URL: give e.g. https://login.salesforce.com, https://test.salesforce.com or https://MYDOMAIN.my.salesforce.com.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${flag} must be an https:// URL, not ${url.protocol}.`);
  return text.replace(/\/+$/, '');
}

async function readKey(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read --private-key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Give the PEM private key of the connected app's certificate.`, { cause: error });
  }
}
