/**
 * The records a restore brings back besides the selected ones: their parents up to N levels and
 * their children down to M levels, found in the vault (the org may no longer have them), each at
 * the version that fits the selection (as of the same time, or the latest).
 */
import type { ObjectDescription } from '../core/org-client.ts';
import { isRecordId } from '../core/vault.ts';
import type { RecordVersion } from '../core/vault.ts';
import type { SchemaStore, VersionStore } from '../store/port.ts';
import { currentSchema } from './select.ts';
import type { SelectedVersion } from './select.ts';

export interface RestoreItem {
  objectName: string;
  originalId: string;
  /** The version whose fields are restored. */
  version: RecordVersion;
  role: 'selected' | 'parent' | 'child';
  /** The record this one was reached from (its child for a parent, its parent for a child). */
  via: string | null;
  /** The reference field that links the two. */
  viaField: string | null;
}

export interface RelatedOptions {
  parents: number;
  children: number;
  /** The point in time the selection restores to; related records are taken as of it too. */
  asOf?: number;
}

/**
 * Setup objects and fields a restore never brings back as related records: owners and audit
 * users are users, record types are metadata. Their references are checked, not restored.
 */
const NEVER_RELATED_OBJECTS = new Set(['User', 'Group', 'RecordType', 'Profile', 'UserRole', 'Organization', 'BusinessHours', 'Pricebook2', 'ContentDocument']);
const NOT_RESTORABLE_CHILD = /(History|Share|Feed|ChangeEvent)$|^(AttachedContentDocument|CombinedAttachment|ProcessInstance|TopicAssignment)$/;

/** The same records, and their related records, each once; selected records first. */
export async function gatherRelated(store: VersionStore & SchemaStore, orgId: string, objectName: string, selected: readonly SelectedVersion[], options: RelatedOptions): Promise<RestoreItem[]> {
  const items = new Map<string, RestoreItem>();
  for (const s of selected) items.set(s.recordId, { objectName, originalId: s.recordId, version: s.version, role: 'selected', via: null, viaField: null });
  const schemas = new SchemaCache(store, orgId);

  let frontier = [...items.values()];
  for (let level = 0; level < options.parents && frontier.length > 0; level++) {
    const next: RestoreItem[] = [];
    for (const item of frontier) {
      const schema = await schemas.get(item.objectName);
      if (!schema) continue;
      for (const field of schema.fields) {
        if (field.type !== 'reference' || field.name === 'Id' || field.referenceTo.every((t) => NEVER_RELATED_OBJECTS.has(t))) continue;
        const target = item.version.fields[field.name];
        if (typeof target !== 'string' || !isRecordId(target) || items.has(target)) continue;
        const version = await versionOf(store, orgId, target, options.asOf);
        if (!version || NEVER_RELATED_OBJECTS.has(version.objectName)) continue;
        const parent: RestoreItem = { objectName: version.objectName, originalId: target, version, role: 'parent', via: item.originalId, viaField: field.name };
        items.set(target, parent);
        next.push(parent);
      }
    }
    frontier = next;
  }

  frontier = [...items.values()].filter((i) => i.role === 'selected');
  for (let level = 0; level < options.children && frontier.length > 0; level++) {
    const byId = new Map(frontier.map((i) => [i.originalId, i]));
    // One scan of each child object per level, whichever parents and fields point at it.
    const childFields = new Map<string, Set<string>>();
    for (const objectName of new Set(frontier.map((i) => i.objectName))) {
      const schema = await schemas.get(objectName);
      for (const rel of schema?.childRelationships ?? []) {
        if (NOT_RESTORABLE_CHILD.test(rel.childObject) || NEVER_RELATED_OBJECTS.has(rel.childObject)) continue;
        if (!(await schemas.get(rel.childObject))) continue;
        const fields = childFields.get(rel.childObject) ?? new Set<string>();
        fields.add(rel.field);
        childFields.set(rel.childObject, fields);
      }
    }
    const next: RestoreItem[] = [];
    for (const [childObject, fields] of childFields) {
      for (const child of await childrenOf(store, orgId, childObject, fields, byId, options.asOf)) {
        if (items.has(child.originalId)) continue;
        items.set(child.originalId, child);
        next.push(child);
      }
    }
    frontier = next;
  }
  await relinkClearedLookups(store, orgId, items);
  return [...items.values()];
}

/**
 * The children of `parents` among the records of `childObject`. Without a point in time, every
 * version is searched, not only the latest: deleting a parent clears the lookups of children that
 * do not go with it (a file's FirstPublishLocationId), and those children still belong to the
 * restored parent; their latest version is taken with the cleared lookup set back.
 */
async function childrenOf(
  store: VersionStore,
  orgId: string,
  childObject: string,
  fields: ReadonlySet<string>,
  parents: ReadonlyMap<string, RestoreItem>,
  asOf: number | undefined,
): Promise<RestoreItem[]> {
  const found: RestoreItem[] = [];
  const child = (version: RecordVersion, parent: RestoreItem, field: string): RestoreItem => ({ objectName: childObject, originalId: version.recordId, version, role: 'child', via: parent.originalId, viaField: field });
  const pointsAt = (version: RecordVersion): { parent: RestoreItem; field: string } | undefined => {
    for (const field of fields) {
      const value = version.fields[field];
      const parent = typeof value === 'string' ? parents.get(value) : undefined;
      if (parent) return { parent, field };
    }
    return undefined;
  };
  if (asOf !== undefined) {
    for await (const version of store.stateAsOf(orgId, childObject, asOf, { includeDeleted: true })) {
      const hit = pointsAt(version);
      if (hit && belongsWith(version, hit.parent.version)) found.push(child(version, hit.parent, hit.field));
    }
    return found;
  }
  // Children that ever pointed at a parent, and their latest version: the versions come oldest
  // first, so the last one seen of a child is its latest.
  const pointed = new Map<string, { parent: RestoreItem; field: string; latest: RecordVersion }>();
  for await (const version of store.findVersions({ orgId, objectName: childObject })) {
    const hit = pointsAt(version);
    if (hit) pointed.set(version.recordId, { ...hit, latest: version });
    else {
      const known = pointed.get(version.recordId);
      if (known) known.latest = version;
    }
  }
  for (const { parent, field, latest } of pointed.values()) {
    if (latest.fields[field] === parent.originalId) {
      if (belongsWith(latest, parent.version)) found.push(child(latest, parent, field));
      continue;
    }
    // Cleared when the parent was deleted (not re-parented by someone): it goes back to its parent.
    const cleared = latest.fields[field] === null && parent.version.isDeleted && latest.systemModstamp >= parent.version.systemModstamp - CASCADE_SLACK_MS;
    if (cleared && belongsWith(latest, parent.version)) found.push(child({ ...latest, fields: { ...latest.fields, [field]: parent.originalId } }, parent, field));
  }
  return found;
}

/**
 * Deleting records clears the lookups that pointed at them from records that stay or go later in
 * the same cascade (a case's ContactId, a contact's ReportsToId), so a deleted version may lack a
 * reference its record had until the delete. When that reference points at a record this restore
 * brings back, it is taken from the record's last version before the delete.
 */
async function relinkClearedLookups(store: VersionStore, orgId: string, items: Map<string, RestoreItem>): Promise<void> {
  const deleted = new Map<string, RestoreItem[]>();
  for (const item of items.values()) if (item.version.isDeleted) deleted.set(item.objectName, [...(deleted.get(item.objectName) ?? []), item]);
  for (const [objectName, group] of deleted) {
    const byId = new Map(group.map((i) => [i.originalId, i]));
    const before = new Map<string, RecordVersion>();
    for await (const version of store.findVersions({ orgId, objectName, recordIds: [...byId.keys()] })) {
      const item = byId.get(version.recordId)!;
      if (!version.isDeleted && version.systemModstamp < item.version.systemModstamp) before.set(version.recordId, version);
    }
    for (const item of group) {
      const last = before.get(item.originalId);
      if (!last) continue;
      const relinked: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(last.fields)) {
        if (typeof value === 'string' && items.has(value) && value !== item.originalId && (item.version.fields[field] ?? null) === null && field in item.version.fields) relinked[field] = value;
      }
      if (Object.keys(relinked).length) items.set(item.originalId, { ...item, version: { ...item.version, fields: { ...item.version.fields, ...relinked } } });
    }
  }
}

/**
 * A deleted child comes back with its parent only when it went with it: the parent is restored
 * from a deleted state and the child was deleted at the same time or after (a cascade). A child
 * deleted on its own before its parent stays deleted.
 */
const CASCADE_SLACK_MS = 60_000;
function belongsWith(child: RecordVersion, parent: RecordVersion): boolean {
  if (!child.isDeleted) return true;
  return parent.isDeleted && child.systemModstamp >= parent.systemModstamp - CASCADE_SLACK_MS;
}

async function versionOf(store: VersionStore, orgId: string, recordId: string, asOf: number | undefined): Promise<RecordVersion | undefined> {
  const versions = await store.versionsOf(orgId, recordId);
  if (asOf === undefined) return versions[0];
  return versions.find((v) => v.systemModstamp <= asOf);
}

/** Each object's describe as last backed up, read once. */
export class SchemaCache {
  private readonly cache = new Map<string, Promise<ObjectDescription | undefined>>();
  constructor(
    private readonly store: SchemaStore,
    private readonly orgId: string,
  ) {}

  get(objectName: string): Promise<ObjectDescription | undefined> {
    let found = this.cache.get(objectName);
    if (!found) {
      found = currentSchema(this.store, this.orgId, objectName);
      this.cache.set(objectName, found);
    }
    return found;
  }
}
