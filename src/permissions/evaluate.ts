/**
 * The permission check's verdict from what was gathered: pure, so every rule is tested without an
 * org. Describe is what the API user actually sees (its profile and every permission set
 * together), so it decides what is readable; the profile and permission sets say why, and decide
 * the user permissions that describe cannot show.
 */
import { metadataList, metadataText } from '../core/org-client.ts';
import type { MetadataRecord, MetadataValue } from '../core/org-client.ts';
import type { ObjectStatus } from '../core/vault.ts';
import { USER_PERMISSION_REQUIREMENTS } from './requirements.ts';
import type { FieldPermissionRow, Grant, ObjectPermissionRow, PermissionReport, PermissionSummary, SourceNote, UserPermissionRow } from './requirements.ts';

/** A profile or permission set as readMetadata answered it, with the name it is reported under. */
export interface PermissionSource {
  /** `profile Admin` or `permission set OrgvaultBackup`. */
  label: string;
  record: MetadataRecord;
}

export interface GatheredPermissions {
  orgId: string;
  orgName: string;
  checkedAt: number;
  user: PermissionReport['user'];
  sources: SourceNote[];
  /** The profile then the permission sets that were read; empty when the Metadata API was not. */
  grants: PermissionSource[];
  /** The Metadata API refused the API user (INSUFFICIENT_ACCESS): it has neither Modify All Data nor Modify Metadata. */
  metadataRefused: boolean;
  /** Objects describeGlobal lists for the API user; null when it failed. */
  visibleObjects: string[] | null;
  /** Objects the org has that the Metadata API lists (CustomObject), readable or not. */
  metadataObjects: string[];
  /** Fields describe shows the API user now, for the objects described. */
  describedFields: Map<string, string[]>;
  /** Whether describe shows audit fields (CreatedDate) createable; null when nothing was described. */
  auditFieldsCreateable: boolean | null;
  /** The vault's objects: their status, and the fields of their latest stored describe. */
  vault: { objectName: string; status: ObjectStatus; storedFields: string[] }[];
}

/** Objects the vault never backs up: an unreadable one is not a gap. */
const NOT_BACKED_UP: ReadonlySet<ObjectStatus> = new Set(['Excluded', 'Unsupported']);
/** Custom metadata types, platform events, big and external objects: out of a backup's scope. */
const NEVER_BACKED_UP = /__(mdt|e|b|x)$/i;

const lower = (s: string): string => s.toLowerCase();
const byName = (a: string, b: string): number => (lower(a) < lower(b) ? -1 : lower(a) > lower(b) ? 1 : 0);

function records(value: MetadataValue | undefined): MetadataRecord[] {
  return metadataList(value).filter((v): v is MetadataRecord => typeof v === 'object' && !Array.isArray(v));
}

const isTrue = (value: MetadataValue | undefined): boolean => metadataText(value) === 'true';

export function evaluatePermissions(input: GatheredPermissions): PermissionReport {
  const profileRead = input.grants.length > 0;
  const userPermissions = evaluateUserPermissions(input, profileRead);
  const viewAllData = userPermissions.find((p) => p.name === 'ViewAllData')!.status;
  const objects = evaluateObjects(input, viewAllData, profileRead);
  const readable = new Set(objects.filter((o) => o.read).map((o) => lower(o.object)));
  const fields = evaluateFields(input, readable, profileRead);
  return {
    orgId: input.orgId,
    orgName: input.orgName,
    checkedAt: input.checkedAt,
    user: input.user,
    sources: input.sources,
    userPermissions,
    objects,
    fields,
    summary: summarize(userPermissions, objects, fields),
  };
}

function evaluateUserPermissions(input: GatheredPermissions, profileRead: boolean): UserPermissionRow[] {
  return USER_PERMISSION_REQUIREMENTS.map((requirement) => {
    const grantedBy = input.grants
      .filter((g) => records(g.record.userPermissions).some((p) => lower(metadataText(p.name) ?? '') === lower(requirement.name) && isTrue(p.enabled)))
      .map((g) => g.label);
    let status: Grant = profileRead ? (grantedBy.length ? 'granted' : 'missing') : 'unknown';
    let note: string | null = profileRead ? null : 'The profile could not be read (see the sources).';
    // Evidence of what the user can do beats what a profile says: it covers every permission set,
    // read or not, and org settings the profile does not show.
    if (requirement.name === 'ApiEnabled') {
      status = 'granted';
      note = grantedBy.length ? null : 'orgvault is calling the API as this user.';
    } else if (requirement.name === 'CreateAuditFields' && input.auditFieldsCreateable !== null) {
      const effective = input.auditFieldsCreateable;
      if (effective !== (status === 'granted')) note = effective ? 'Describe shows CreatedDate createable.' : 'Describe shows CreatedDate read-only: the permission, or the org setting "Enable Set Audit Fields upon Record Creation", is off.';
      status = effective ? 'granted' : 'missing';
    } else if (requirement.name === 'ModifyAllData' && input.metadataRefused && !profileRead) {
      status = 'missing';
      note = 'The Metadata API refused the API user, which Salesforce does without Modify All Data or Modify Metadata.';
    }
    return { ...requirement, status, grantedBy, note };
  });
}

interface ObjectGrant {
  read: boolean;
  viewAll: boolean;
  by: string[];
}

function objectGrants(input: GatheredPermissions): Map<string, ObjectGrant> {
  const out = new Map<string, ObjectGrant>();
  for (const g of input.grants) {
    for (const p of records(g.record.objectPermissions)) {
      const name = metadataText(p.object);
      if (!name) continue;
      const key = lower(name);
      const entry = out.get(key) ?? { read: false, viewAll: false, by: [] };
      if (isTrue(p.allowRead)) {
        entry.read = true;
        entry.by.push(g.label);
      }
      entry.viewAll ||= isTrue(p.viewAllRecords) || isTrue(p.modifyAllRecords);
      out.set(key, entry);
    }
  }
  return out;
}

function evaluateObjects(input: GatheredPermissions, viewAllData: Grant, profileRead: boolean): ObjectPermissionRow[] {
  const names = new Map<string, string>();
  const add = (name: string): void => {
    if (!names.has(lower(name))) names.set(lower(name), name);
  };
  input.visibleObjects?.forEach(add);
  input.metadataObjects.forEach(add);
  const grants = objectGrants(input);
  for (const g of input.grants) for (const p of records(g.record.objectPermissions)) if (metadataText(p.object)) add(metadataText(p.object)!);
  input.vault.forEach((v) => add(v.objectName));
  const permissioned = new Set<string>();
  for (const g of input.grants) {
    for (const p of records(g.record.objectPermissions)) permissioned.add(lower(metadataText(p.object) ?? ''));
    for (const p of records(g.record.fieldPermissions)) permissioned.add(lower((metadataText(p.field) ?? '').split('.')[0]!));
  }
  const visible = input.visibleObjects ? new Set(input.visibleObjects.map(lower)) : null;
  const vault = new Map(input.vault.map((v) => [lower(v.objectName), v]));
  return [...names.values()].sort(byName).map((object) => {
    const key = lower(object);
    const grant = grants.get(key);
    const vaultStatus = vault.get(key)?.status ?? null;
    const read = visible ? visible.has(key) : Boolean(grant?.read);
    let allRecords: boolean | null = null;
    if (read) {
      if (viewAllData === 'granted' || grant?.viewAll) allRecords = true;
      else if (viewAllData === 'missing' && profileRead) allRecords = false;
    }
    const backedUp = vaultStatus === null ? !NEVER_BACKED_UP.test(object) : !NOT_BACKED_UP.has(vaultStatus);
    // An unreadable object counts when something says it holds data the vault would back up: the
    // vault knows it, it is a custom object, or permissions exist for it. The Metadata API also
    // lists standard objects no API user ever sees, which are no gap.
    const matters = vaultStatus !== null || /__c$/i.test(object) || permissioned.has(key);
    const unprotected = backedUp && (read ? allRecords === false : matters);
    let note: string | null = null;
    if (!read) {
      note = grant?.read
        ? 'The profile grants Read, but describe does not list the object for the API user.'
        : profileRead
          ? 'No Read permission on the object in the profile or permission sets read.'
          : 'Describe does not list the object for the API user.';
      if (vaultStatus === 'Unavailable' || vaultStatus === 'NotVisible') note += ` The vault has it as ${vaultStatus}.`;
    } else if (allRecords === false) {
      note = 'Without View All Data or View All on the object, only records shared with the API user are backed up.';
    } else if (vaultStatus === 'Unavailable' || vaultStatus === 'NotVisible') {
      note = `Readable again: the vault has it as ${vaultStatus} until the next backup.`;
    }
    return { object, read, allRecords, grantedBy: grant?.by ?? (read && input.visibleObjects ? ['describe'] : []), vaultStatus, unprotected, note };
  });
}

function evaluateFields(input: GatheredPermissions, readable: ReadonlySet<string>, profileRead: boolean): FieldPermissionRow[] {
  // What the profile and permission sets say of each field, `Object.Field` lower case.
  const fls = new Map<string, { object: string; field: string; readable: boolean }>();
  for (const g of input.grants) {
    for (const p of records(g.record.fieldPermissions)) {
      const full = metadataText(p.field) ?? '';
      const dot = full.indexOf('.');
      if (dot <= 0) continue;
      const key = lower(full);
      const entry = fls.get(key) ?? { object: full.slice(0, dot), field: full.slice(dot + 1), readable: false };
      entry.readable ||= isTrue(p.readable);
      fls.set(key, entry);
    }
  }
  const described = new Map([...input.describedFields].map(([o, f]) => [lower(o), new Set(f.map(lower))]));
  const stored = new Map(input.vault.map((v) => [lower(v.objectName), new Set(v.storedFields.map(lower))]));
  const rows = new Map<string, FieldPermissionRow>();
  for (const [key, entry] of fls) {
    if (entry.readable) continue;
    const object = lower(entry.object);
    // Describe shows the field: something the check did not read grants it.
    if (described.get(object)?.has(lower(entry.field))) continue;
    rows.set(key, { object: entry.object, field: entry.field, objectReadable: readable.has(object), backedUpBefore: stored.get(object)?.has(lower(entry.field)) ?? false, source: 'profile' });
  }
  // Fields the vault captured before that describe no longer shows: lost since. With the profile
  // read, a field it does not list at all was deleted (or takes no permission), not hidden.
  for (const v of input.vault) {
    const object = lower(v.objectName);
    const now = described.get(object);
    if (!now || !readable.has(object)) continue;
    for (const field of v.storedFields) {
      const key = `${object}.${lower(field)}`;
      if (now.has(lower(field)) || rows.has(key)) continue;
      if (profileRead && !fls.has(key)) continue;
      rows.set(key, { object: v.objectName, field, objectReadable: true, backedUpBefore: true, source: 'describe' });
    }
  }
  return [...rows.values()].sort((a, b) => Number(b.objectReadable) - Number(a.objectReadable) || byName(a.object, b.object) || byName(a.field, b.field));
}

function summarize(userPermissions: UserPermissionRow[], objects: ObjectPermissionRow[], fields: FieldPermissionRow[]): PermissionSummary {
  const missing = (need: string): string[] => userPermissions.filter((p) => p.need === need && p.status === 'missing').map((p) => p.name);
  const requiredMissing = missing('required');
  const objectsUnprotected = objects.filter((o) => o.unprotected).length;
  const fieldsUnreadable = fields.filter((f) => f.objectReadable).length;
  return {
    objectsReadable: objects.filter((o) => o.read).length,
    objectsUnreadable: objects.filter((o) => !o.read).length,
    objectsUnprotected,
    fieldsUnreadable,
    requiredMissing,
    recommendedMissing: missing('recommended'),
    unknown: userPermissions.filter((p) => p.status === 'unknown').map((p) => p.name),
    gap: requiredMissing.length > 0 || objectsUnprotected > 0 || fieldsUnreadable > 0,
  };
}
