/**
 * Component versions. A component's version moves when its content does, whoever changed it:
 * each sync renders the components and compares digests, so a field added through
 * `org.defineObject` elsewhere is noticed as surely as one added through the admin API (whose ops
 * sync at once, so their dates are exact; other changes are dated when next observed).
 *
 * Components present when an org's metadata is first looked at are dated back into its history:
 * records carry their own dates, the rest get stable dates between the org's creation and now.
 */
import { createHash } from 'node:crypto';
import type { Org } from '../org/org.ts';
import type { StoredRecord } from '../org/schema.ts';
import { parseDatetime } from '../org/values.ts';
import { listComponents } from './components.ts';
import type { Component } from './components.ts';
import { metadataState } from './model.ts';
import type { ComponentVersion } from './model.ts';
import { IMPLEMENTED } from './types.ts';
import type { ImplementedType } from './types.ts';
import { renderCompact } from './xml.ts';
import type { XmlRecord } from './xml.ts';

const DAY_MS = 86_400_000;
const EPOCH = '1970-01-01T00:00:00.000Z';

export interface VersionedComponent {
  component: Component;
  version: ComponentVersion;
}

export function versionKey(type: string, fullName: string): string {
  return `${type}:${fullName.toLowerCase()}`;
}

function digest(component: Component): string {
  const hash = createHash('sha256').update(renderCompact(component.body)).update('\0').update(component.source ?? '');
  // Only documents have bytes: other digests stay as state files saved before folders recorded them.
  if (component.binary !== undefined) hash.update('\0').update(component.binary);
  return hash.digest('hex');
}

/** A number in [0, n) derived from a string, for stable back-dating. */
function spread(text: string, n: number): number {
  return n <= 0 ? 0 : createHash('sha1').update(text).digest().readUInt32BE(0) % n;
}

/**
 * The user metadata changes are attributed to: the org's Salesforce administrator (an active
 * System Administrator other than the integration user), else the API user.
 */
export function metadataAdmin(org: Org): string {
  const admins = new Set([...org.records('Profile')].filter((p) => p.PermissionsModifyAllData === true).map((p) => p.Id));
  for (const user of org.records('User')) {
    if (user.Id !== org.apiUserId && user.IsActive !== false && admins.has(String(user.ProfileId))) return user.Id;
  }
  return org.apiUserId;
}

function orgCreatedMs(org: Org): number {
  const created = parseDatetime(String(org.get(org.orgId)?.CreatedDate ?? ''));
  return Number.isNaN(created) ? org.clock.nowMs() - 365 * DAY_MS : created;
}

/**
 * Brings the versions of the given types up to date and returns their components with versions.
 * `actor` is who a detected change is attributed to (default: the org's administrator).
 */
export function syncVersions(org: Org, types: readonly ImplementedType[] = IMPLEMENTED, actor?: string): VersionedComponent[] {
  const state = metadataState(org);
  if (!state.initialized) {
    // The first look dates everything there is back into the org's history, all types at once.
    state.initialized = true;
    syncVersions(org, IMPLEMENTED, actor);
  }
  const now = org.clock.nowMs();
  const who = actor ?? metadataAdmin(org);
  const baseline = state.versions.size === 0;
  const out: VersionedComponent[] = [];
  for (const type of types) {
    const seen = new Set<string>();
    for (const component of listComponents(org, state, type)) {
      const key = versionKey(type, component.fullName);
      seen.add(key);
      const hash = digest(component);
      let version = state.versions.get(key);
      if (!version) {
        version = baseline ? backdated(org, component, hash, who, now) : { id: component.id, version: 1, hash, createdMs: now, createdById: who, lastModifiedMs: now, lastModifiedById: who };
        state.versions.set(key, version);
      } else if (version.hash !== hash) {
        Object.assign(version, { version: version.version + 1, hash, lastModifiedMs: now, lastModifiedById: who });
      }
      version.id = component.id;
      out.push({ component, version });
    }
    for (const key of state.versions.keys()) if (key.startsWith(`${type}:`) && !seen.has(key)) state.versions.delete(key);
  }
  return out;
}

function backdated(org: Org, component: Component, hash: string, who: string, now: number): ComponentVersion {
  if (component.known) return { id: component.id, version: 1, hash, ...component.known };
  const created = orgCreatedMs(org);
  const key = versionKey(component.type, component.fullName);
  // Configuration happened in the org's first month; later edits anywhere up to a day ago.
  const createdMs = Math.min(now, created + DAY_MS + spread(`${key}:created`, 30 * DAY_MS));
  const lastModifiedMs = Math.max(createdMs, Math.min(now - DAY_MS, createdMs + spread(`${key}:modified`, Math.max(1, now - DAY_MS - createdMs))));
  return { id: component.id, version: 1, hash, createdMs, createdById: who, lastModifiedMs, lastModifiedById: who };
}

function userName(org: Org, id: string): string {
  const user: StoredRecord | undefined = org.get(id);
  return user ? [user.FirstName, user.LastName].filter((p) => typeof p === 'string' && p).join(' ') : '';
}

/**
 * FileProperties of a component, as listMetadata and checkRetrieveStatus report them. Standard
 * objects have no ID, epoch dates and no manageable state; `fileName` takes a package prefix in
 * retrieve results (`unpackaged/objects/Account.object`).
 */
export function fileProperties(org: Org, { component, version }: VersionedComponent, prefix = ''): XmlRecord {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    createdById: version.createdById,
    createdByName: userName(org, version.createdById),
    createdDate: component.standard ? EPOCH : iso(version.createdMs),
    fileName: `${prefix}${component.fileName}`,
    fullName: component.fullName,
    id: component.id,
    lastModifiedById: version.lastModifiedById,
    lastModifiedByName: userName(org, version.lastModifiedById),
    lastModifiedDate: component.standard ? EPOCH : iso(version.lastModifiedMs),
    manageableState: component.standard ? undefined : 'unmanaged',
    namespacePrefix: component.standard ? '' : undefined,
    type: component.type,
  };
}
