/**
 * The org use case: register an org (connect, read its identity, seal its credentials), list,
 * remove and test the registered ones, and open a client for one. It depends on ports only: the
 * catalog, the sealing key, and a `connect` function the shell passes in (src/salesforce's
 * connectOrg), so it never knows how an org is reached.
 */
import { UsageError } from '../core/errors.ts';
import type { OrgAuth, OrgAuthKind, OrgClient, OrgIdentity } from '../core/org-client.ts';
import type { AuditEntry, OrgRegistration } from '../core/vault.ts';
import type { OrgCatalog } from '../store/port.ts';
import { sealOrgAuth, unsealOrgAuth } from './sealed-auth.ts';
import type { SealingKeyring } from './sealed-auth.ts';

export { sealOrgAuth, unsealOrgAuth };
export type { SealingKeyring };

export type ConnectOrg = (auth: OrgAuth) => Promise<OrgClient>;

export interface OrgDeps {
  catalog: OrgCatalog;
  keyring: SealingKeyring;
  connect: ConnectOrg;
  /** Records registrations and removals in the vault's audit log, when given. */
  audit?: { appendAudit(entry: AuditEntry): Promise<void> };
  actor?: string;
  now?: () => number;
}

/** Names are used on command lines and in file names: letters, digits, `.`, `_`, `-`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function checkOrgName(name: string): void {
  if (!NAME.test(name)) {
    throw new UsageError(`"${name}" is not a usable org name: use 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. prod, uat-sandbox).`);
  }
}

export interface AddedOrg {
  registration: OrgRegistration;
  identity: OrgIdentity;
}

/** Connects with `auth`, reads the org's identity, and registers it under `name` with its credentials sealed. */
export async function addOrg(deps: OrgDeps, name: string, auth: OrgAuth): Promise<AddedOrg> {
  checkOrgName(name);
  const existing = await deps.catalog.getOrg(name);
  if (existing) {
    throw new UsageError(`An org named "${name}" is already registered (${existing.orgId}). Choose another name, or remove it first with \`orgvault org remove ${name}\`.`);
  }
  const client = await deps.connect(auth);
  const identity = await client.identity();
  const sameOrg = (await deps.catalog.listOrgs()).find((o) => sameId(o.orgId, identity.orgId));
  if (sameOrg) {
    throw new UsageError(`Org ${identity.orgId} is already registered as "${sameOrg.name}": back it up under that name, or remove that registration first with \`orgvault org remove ${sameOrg.name}\`.`);
  }
  const registration: OrgRegistration = {
    name,
    orgId: identity.orgId,
    instanceUrl: identity.instanceUrl,
    loginUrl: 'loginUrl' in auth ? auth.loginUrl : identity.instanceUrl,
    sealedAuth: sealOrgAuth(deps.keyring, identity.orgId, auth),
    createdAt: (deps.now ?? Date.now)(),
    settings: { authKind: auth.kind, username: identity.username },
  };
  await deps.catalog.putOrg(registration);
  await deps.audit?.appendAudit({ at: registration.createdAt, actor: deps.actor ?? 'cli', action: 'org.add', target: name, details: { orgId: identity.orgId, authKind: auth.kind, username: identity.username } });
  return { registration, identity };
}

export interface OrgSummary {
  name: string;
  orgId: string;
  instanceUrl: string;
  loginUrl: string;
  authKind: OrgAuthKind | null;
  username: string | null;
  createdAt: string;
}

export async function listOrgs(catalog: OrgCatalog): Promise<OrgSummary[]> {
  const orgs = await catalog.listOrgs();
  return orgs.map(summary).sort((a, b) => a.name.localeCompare(b.name));
}

function summary(org: OrgRegistration): OrgSummary {
  const settings = org.settings ?? {};
  return {
    name: org.name,
    orgId: org.orgId,
    instanceUrl: org.instanceUrl,
    loginUrl: org.loginUrl,
    authKind: typeof settings.authKind === 'string' ? (settings.authKind as OrgAuthKind) : null,
    username: typeof settings.username === 'string' ? settings.username : null,
    createdAt: new Date(org.createdAt).toISOString(),
  };
}

/** The registration under `name`, or a UsageError naming the registered ones. */
export async function getOrgOrFail(catalog: OrgCatalog, name: string): Promise<OrgRegistration> {
  const org = await catalog.getOrg(name);
  if (org) return org;
  const names = (await catalog.listOrgs()).map((o) => o.name);
  throw new UsageError(`No org named "${name}" in this vault${names.length ? ` (it holds ${names.join(', ')})` : ''}. \`orgvault org list\` shows the registered orgs; \`orgvault org add ${name} …\` registers one.`);
}

/** Removes the registration only: backed-up data stays in the vault. */
export async function removeOrg(deps: Pick<OrgDeps, 'catalog' | 'audit' | 'actor' | 'now'>, name: string): Promise<OrgSummary> {
  const org = await getOrgOrFail(deps.catalog, name);
  await deps.catalog.removeOrg(name);
  await deps.audit?.appendAudit({ at: (deps.now ?? Date.now)(), actor: deps.actor ?? 'cli', action: 'org.remove', target: name, details: { orgId: org.orgId } });
  return summary(org);
}

/** Unseals the org's credentials and connects. */
export async function openOrgClient(catalog: OrgCatalog, keyring: SealingKeyring, org: string | OrgRegistration, connect: ConnectOrg): Promise<OrgClient> {
  const registration = typeof org === 'string' ? await getOrgOrFail(catalog, org) : org;
  return connect(unsealOrgAuth(keyring, registration));
}

export interface OrgTestReport {
  name: string;
  identity: OrgIdentity;
  /** The org's DailyApiRequests over the last 24 hours. */
  apiUsage: { used: number; max: number; remaining: number };
  bulkQueryJobs: { used: number; max: number } | null;
  objects: { visible: number; queryable: number; retrieveable: number; custom: number };
  /** The API calls this test made. */
  callsMade: number;
  /** Set when the org answering is not the one registered under this name. */
  warning: string | null;
}

/** Connects to a registered org and reports who it is, its API usage and what the API user can see. */
export async function testOrg(deps: Pick<OrgDeps, 'catalog' | 'keyring' | 'connect'>, name: string): Promise<OrgTestReport> {
  const registration = await getOrgOrFail(deps.catalog, name);
  const client = await openOrgClient(deps.catalog, deps.keyring, registration, deps.connect);
  const identity = await client.identity();
  const [limits, objects] = await Promise.all([client.limits(), client.describeGlobal()]);
  const daily = limits.dailyApiRequests;
  const bulk = limits.dailyBulkV2QueryJobs;
  return {
    name,
    identity,
    apiUsage: { used: daily.max - daily.remaining, max: daily.max, remaining: daily.remaining },
    bulkQueryJobs: bulk ? { used: bulk.max - bulk.remaining, max: bulk.max } : null,
    objects: {
      visible: objects.length,
      queryable: objects.filter((o) => o.queryable).length,
      retrieveable: objects.filter((o) => o.retrieveable).length,
      custom: objects.filter((o) => o.custom).length,
    },
    callsMade: client.usage().calls,
    warning: sameId(identity.orgId, registration.orgId) ? null : `The credentials of "${name}" now reach org ${identity.orgId}, not ${registration.orgId} as registered.`,
  };
}

/** Org IDs compare on their 15-character case-sensitive form (18-character IDs add a checksum). */
function sameId(a: string, b: string): boolean {
  return a.slice(0, 15) === b.slice(0, 15);
}
