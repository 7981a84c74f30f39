/**
 * Reads what the permission check needs, over the org port and the vault's ports: who the API
 * user is (identity, then User.ProfileId), its profile through the Metadata API (listMetadata
 * finds the profile's fullName by ID, readMetadata reads it), its permission sets where
 * PermissionSetAssignment is queryable, describe (what it actually sees) and the vault's objects.
 * A source that cannot be read is noted with Salesforce's reason, never fatal: the check reports
 * what the others say.
 */
import { SalesforceApiError } from '../core/errors.ts';
import { metadataList, metadataText } from '../core/org-client.ts';
import type { OrgClient } from '../core/org-client.ts';
import { describeFromRaw } from '../core/describe.ts';
import { isRecordId } from '../core/vault.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { ObjectStateStore, SchemaStore } from '../store/port.ts';
import type { GatheredPermissions, PermissionSource } from './evaluate.ts';
import type { SourceNote } from './requirements.ts';

export type PermissionStore = Pick<ObjectStateStore, 'getObjectStates'> & Pick<SchemaStore, 'schemaHistory' | 'getSchema'>;

/** Objects whose describe shows whether audit fields are createable, tried in this order. */
const AUDIT_PROBES = ['Account', 'Contact', 'Case', 'Opportunity', 'Lead'];

const same15 = (a: string, b: string): boolean => a.slice(0, 15) === b.slice(0, 15);

function reason(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

function statusOf(error: unknown): string | undefined {
  return error instanceof SalesforceApiError ? error.statusCode : undefined;
}

/** SOQL string literal: IDs and API names only ever reach it, but quotes are escaped anyway. */
function soqlString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function firstPage(client: OrgClient, soql: string): Promise<Record<string, unknown>[]> {
  for await (const page of client.query(soql)) return page;
  return [];
}

export async function gatherPermissions(client: OrgClient, store: PermissionStore, org: OrgRegistration, checkedAt: number): Promise<GatheredPermissions> {
  const sources: SourceNote[] = [];
  const identity = await client.identity();
  const user: GatheredPermissions['user'] = { id: identity.userId, username: identity.username, profileId: null, profileName: null, profileFullName: null, permissionSets: [] };
  if (!isRecordId(identity.userId)) throw new SalesforceApiError('UNEXPECTED_RESPONSE', `The identity service named no user ID ("${identity.userId}")`);
  try {
    const [row] = await firstPage(client, `SELECT Id, Username, ProfileId, Profile.Name FROM User WHERE Id = ${soqlString(identity.userId)}`);
    user.profileId = typeof row?.ProfileId === 'string' ? row.ProfileId : null;
    const profile = row?.Profile as { Name?: unknown } | null | undefined;
    user.profileName = typeof profile?.Name === 'string' ? profile.Name : null;
    sources.push({ source: 'identity', status: 'read', detail: `API user ${identity.username} (${identity.userId})${user.profileName ? `, profile ${user.profileName}` : ''}.` });
  } catch (error) {
    sources.push({ source: 'identity', status: 'unavailable', detail: `The API user's profile could not be queried: ${reason(error)}` });
  }

  let visibleObjects: string[] | null = null;
  try {
    visibleObjects = (await client.describeGlobal()).map((o) => o.name);
  } catch (error) {
    sources.push({ source: 'describe', status: 'unavailable', detail: `describeGlobal failed: ${reason(error)}` });
  }

  // The Metadata API: the profile, the org's objects, then the permission sets.
  const grants: PermissionSource[] = [];
  let metadataObjects: string[] = [];
  let metadataRefused = false;
  const metadataFailed = (what: string, error: unknown): void => {
    const code = statusOf(error);
    if (code === 'INSUFFICIENT_ACCESS' || code === 'INSUFFICIENT_ACCESS_OR_READONLY') metadataRefused = true;
    sources.push({
      source: what === 'profile' ? 'profile' : 'permission-sets',
      status: 'unavailable',
      detail: `The Metadata API could not be read (${reason(error)})${metadataRefused ? ': the API user needs Modify All Data (or Modify Metadata Through Metadata API Functions) and View Setup and Configuration' : ''}. Object and field access below is what describe shows.`,
    });
  };
  try {
    const listed = await client.listMetadata([{ type: 'Profile' }, { type: 'CustomObject' }]);
    metadataObjects = listed.filter((p) => p.type === 'CustomObject').map((p) => p.fullName);
    const profile = user.profileId ? listed.find((p) => p.type === 'Profile' && p.id && same15(p.id, user.profileId!)) : undefined;
    if (!profile) {
      sources.push({ source: 'profile', status: 'unavailable', detail: user.profileId ? `listMetadata lists no profile with ID ${user.profileId}.` : 'The API user\'s profile is not known.' });
    } else {
      user.profileFullName = profile.fullName;
      const [record] = await client.readMetadata('Profile', [profile.fullName]);
      if (record) {
        grants.push({ label: `profile ${profile.fullName}`, record });
        sources.push({ source: 'profile', status: 'read', detail: `Profile ${profile.fullName} read through the Metadata API.` });
      } else {
        sources.push({ source: 'profile', status: 'unavailable', detail: `readMetadata found no profile ${profile.fullName}.` });
      }
    }
  } catch (error) {
    metadataFailed('profile', error);
  }

  if (!metadataRefused) await readPermissionSets(client, user, grants, sources);

  // Describe: the objects the vault backs up (to see which of their fields are gone), the objects
  // whose fields the profile hides (a permission set may show them), and one that tells whether
  // audit fields are createable.
  const states = await store.getObjectStates(org.orgId);
  const visible = new Set((visibleObjects ?? []).map((o) => o.toLowerCase()));
  const toDescribe = new Set<string>();
  const vault: GatheredPermissions['vault'] = [];
  for (const state of states) {
    if (state.status === 'Excluded' || state.status === 'Unsupported') continue;
    vault.push({ objectName: state.objectName, status: state.status, storedFields: await storedFields(store, org.orgId, state.objectName) });
    if (visible.has(state.objectName.toLowerCase())) toDescribe.add(state.objectName);
  }
  for (const state of states) if (state.status === 'Excluded' || state.status === 'Unsupported') vault.push({ objectName: state.objectName, status: state.status, storedFields: [] });
  for (const g of grants) {
    for (const p of metadataList(g.record.fieldPermissions)) {
      if (typeof p !== 'object' || Array.isArray(p) || metadataText(p.readable) === 'true') continue;
      const object = (metadataText(p.field) ?? '').split('.')[0]!;
      if (object && visible.has(object.toLowerCase())) toDescribe.add(object);
    }
  }
  const probe = AUDIT_PROBES.find((o) => visible.has(o.toLowerCase()));
  if (probe) toDescribe.add(probe);
  const describedFields = new Map<string, string[]>();
  let auditFieldsCreateable: boolean | null = null;
  if (toDescribe.size) {
    try {
      const described = await client.describeObjects([...toDescribe]);
      for (const [name, d] of described) {
        describedFields.set(name, d.fields.map((f) => f.name));
        const created = d.fields.find((f) => f.name === 'CreatedDate');
        if (created && d.createable) auditFieldsCreateable = (auditFieldsCreateable ?? false) || created.createable;
      }
      sources.push({ source: 'describe', status: 'read', detail: `${visibleObjects?.length ?? 0} objects listed by describeGlobal, ${described.size} described.` });
    } catch (error) {
      sources.push({ source: 'describe', status: 'unavailable', detail: `Describing the objects failed: ${reason(error)}` });
    }
  }
  sources.push({ source: 'vault', status: 'read', detail: `${states.length} objects known to the vault.` });
  return { orgId: org.orgId, orgName: org.name, checkedAt, user, sources, grants, metadataRefused, visibleObjects, metadataObjects, describedFields, auditFieldsCreateable, vault };
}

async function readPermissionSets(client: OrgClient, user: GatheredPermissions['user'], grants: PermissionSource[], sources: SourceNote[]): Promise<void> {
  let names: string[];
  try {
    const rows = await firstPage(client, `SELECT PermissionSet.Name FROM PermissionSetAssignment WHERE AssigneeId = ${soqlString(user.id)} AND PermissionSet.IsOwnedByProfile = false`);
    names = rows.map((r) => (r.PermissionSet as { Name?: unknown } | null)?.Name).filter((n): n is string => typeof n === 'string');
  } catch (error) {
    const code = statusOf(error);
    sources.push({
      source: 'permission-sets',
      status: code === 'INVALID_TYPE' ? 'not-supported' : 'unavailable',
      detail: code === 'INVALID_TYPE' ? 'PermissionSetAssignment is not queryable in this org: only the profile was read. Describe still shows what permission sets grant on objects and fields.' : `Permission set assignments could not be queried: ${reason(error)}. Only the profile was read.`,
    });
    return;
  }
  user.permissionSets = names;
  if (names.length === 0) {
    sources.push({ source: 'permission-sets', status: 'read', detail: 'No permission set is assigned to the API user.' });
    return;
  }
  try {
    const records = await client.readMetadata('PermissionSet', names);
    records.forEach((record, i) => {
      if (record) grants.push({ label: `permission set ${names[i]}`, record });
    });
    sources.push({ source: 'permission-sets', status: 'read', detail: `Permission sets read: ${names.join(', ')}.` });
  } catch (error) {
    sources.push({ source: 'permission-sets', status: 'unavailable', detail: `Permission sets ${names.join(', ')} could not be read: ${reason(error)}` });
  }
}

/** The field names of an object's latest stored describe; empty when the vault has none. */
async function storedFields(store: PermissionStore, orgId: string, objectName: string): Promise<string[]> {
  const history = await store.schemaHistory(orgId, objectName);
  const current = history.find((s) => s.validTo === null) ?? history[history.length - 1];
  if (!current) return [];
  try {
    return describeFromRaw(await store.getSchema(orgId, current.schemaId)).fields.map((f) => f.name);
  } catch {
    return [];
  }
}
