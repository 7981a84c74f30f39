/**
 * What a restore would bring back: the versions of one object that pass Salesforce Backup's
 * filters (change type, a date range on the activity date or the backup date, record IDs, last
 * modified by, advanced conditions), and which version of each record (the latest that matched,
 * the one current at a point in time, or one chosen per record).
 */
import { describeFromRaw } from '../core/describe.ts';
import { UsageError } from '../core/errors.ts';
import type { FieldSummary, ObjectDescription } from '../core/org-client.ts';
import type { ChangeType, RecordVersion } from '../core/vault.ts';
import type { SchemaStore, VersionStore } from '../store/port.ts';
import { matches, parseCondition, parseLogic } from './filters.ts';
import type { Condition, Logic } from './filters.ts';

export interface SelectionRequest {
  orgId: string;
  objectName: string;
  changeTypes?: ChangeType[];
  from?: number;
  to?: number;
  /** `activity`: the record's SystemModstamp (the default); `backup`: when it was captured. */
  dateBy?: 'activity' | 'backup';
  recordIds?: string[];
  lastModifiedById?: string;
  /** `--where` conditions, as typed. */
  where?: string[];
  /** `all` (default), `any`, or custom logic such as `1 AND (2 OR 3)`. */
  match?: string;
  /** Which version of each selected record. */
  /**
   * `chosen`: the version at exactly the given SystemModstamp for the records named, and for the
   * others the one current at `defaultAt` (when given) or their latest match.
   */
  version?: { kind: 'latest' } | { kind: 'asOf'; at: number } | { kind: 'chosen'; systemModstamps: ReadonlyMap<string, number>; defaultAt?: number };
}

export interface SelectedVersion {
  recordId: string;
  version: RecordVersion;
  /** The version that matched the filters (may differ from `version` with `asOf`). */
  matched: RecordVersion;
}

/** The object's describe as last backed up, if the vault holds one. */
export async function currentSchema(store: SchemaStore, orgId: string, objectName: string): Promise<ObjectDescription | undefined> {
  const history = await store.schemaHistory(orgId, objectName);
  const current = history.find((s) => s.validTo === null) ?? history[history.length - 1];
  return current ? describeFromRaw(await store.getSchema(orgId, current.schemaId)) : undefined;
}

/** The fields of the object as last backed up, to check filters against. */
export async function schemaFields(store: SchemaStore, orgId: string, objectName: string): Promise<FieldSummary[]> {
  const schema = await currentSchema(store, orgId, objectName);
  if (!schema) throw new UsageError(`No backup of ${objectName} in this vault for that org: check the object's API name, or back it up first (\`orgvault status\` lists the objects).`);
  return schema.fields;
}

/** The selected versions, one per record, in record ID order. */
export async function selectVersions(store: VersionStore & SchemaStore, request: SelectionRequest): Promise<SelectedVersion[]> {
  const fields = await schemaFields(store, request.orgId, request.objectName);
  const conditions: Condition[] = (request.where ?? []).map((text, i) => parseCondition(text, fields, i + 1));
  const logic: Logic | undefined = parseLogic(request.match, conditions.length);
  if (request.from !== undefined && request.to !== undefined && request.from > request.to) {
    throw new UsageError(`The date range ends (${new Date(request.to).toISOString()}) before it starts (${new Date(request.from).toISOString()}).`);
  }
  const latestMatch = new Map<string, RecordVersion>();
  const found = store.findVersions({
    orgId: request.orgId,
    objectName: request.objectName,
    from: request.from,
    to: request.to,
    by: request.dateBy === 'backup' ? 'capturedAt' : 'systemModstamp',
    changeTypes: request.changeTypes,
    recordIds: request.recordIds,
    lastModifiedById: request.lastModifiedById,
  });
  for await (const version of found) {
    if (!matches(version.fields, conditions, logic)) continue;
    // Versions arrive oldest first: the last one kept per record is its latest match.
    latestMatch.set(version.recordId, version);
  }
  const selected: SelectedVersion[] = [];
  const chosen = request.version?.kind === 'chosen' ? request.version.systemModstamps : undefined;
  for (const [recordId, matched] of [...latestMatch].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let version: RecordVersion | undefined = matched;
    const defaultAt = request.version?.kind === 'asOf' ? request.version.at : request.version?.kind === 'chosen' ? request.version.defaultAt : undefined;
    if (chosen?.has(recordId)) {
      const stamp = chosen.get(recordId)!;
      version = (await store.versionsOf(request.orgId, recordId)).find((v) => v.systemModstamp === stamp);
      if (!version) throw new UsageError(`Record ${recordId} has no version at ${new Date(stamp).toISOString()}; \`orgvault history ${recordId}\` lists its versions.`);
    } else if (defaultAt !== undefined) version = await store.versionAsOf(request.orgId, request.objectName, recordId, defaultAt);
    if (version) selected.push({ recordId, version, matched });
  }
  return selected;
}
