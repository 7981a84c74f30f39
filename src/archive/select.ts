/**
 * What an archive would delete, read from the org: the records of one object matching a SOQL
 * condition, and below them the records Salesforce deletes with them (cascade: master-detail and
 * the standard cascades, such as an account's contacts) and the lookup children of objects the
 * admin names, down to MAX_CHILD_LEVELS. Each comes with its live SystemModstamp, for the vault
 * check. Children behind a restricted lookup (describe's restrictedDelete: an account's cases, a
 * product's invoice lines) make Salesforce refuse the delete, or take them along, depending on the
 * API user's rights: they are deleted only when their object is named, and otherwise their
 * parent is refused, so that nothing goes unchecked and nothing unrelated goes.
 */
import { SalesforceApiError, UsageError } from '../core/errors.ts';
import type { ObjectDescription, ObjectSummary, OrgClient, SObjectRecord } from '../core/org-client.ts';
import { parseSalesforceDatetime } from '../core/time.ts';

/** How far below the selected records children are looked for. */
export const MAX_CHILD_LEVELS = 5;
/** IDs in one `IN (…)` list: 200 IDs keep a query near 4 KB, far below SOQL's 100,000 characters. */
const IDS_PER_QUERY = 200;
/** Queries pooled in one queryBatch: five go in one composite call, which counts as one API call. */
const QUERIES_PER_BATCH = 25;

/**
 * Children never archived or checked: setup records (users, groups) are never deleted with a
 * record, and field history, sharing rows, feeds and the read-only views of files are kept by
 * Salesforce for the record and go with it on any delete; they cannot be written back either.
 * Big objects, external objects and events cannot be queried like records.
 */
const NEVER_CHILD_OBJECTS = new Set(['User', 'Group', 'RecordType', 'Profile', 'UserRole', 'Organization', 'BusinessHours', 'ContentDocument', 'ContentVersion']);
const NOT_ARCHIVED_CHILD = /(History|Share|Feed|ChangeEvent|__b|__x|__e|__mdt)$|^(AttachedContentDocument|CombinedAttachment|ProcessInstance|ProcessInstanceHistory|TopicAssignment|EntitySubscription|FeedItem|FeedComment)$/;

export interface ArchiveSelectionRequest {
  objectName: string;
  /** A SOQL condition, as it follows WHERE. */
  where: string;
  /** At most this many records of the object. */
  limit?: number;
  /** Archive the children too; without, a record that has any is refused (HAS_CHILDREN). */
  children: boolean;
  /** Objects whose lookup (or restricted lookup) children are archived too (with `children`). */
  childObjects: readonly string[];
}

/** A record the archive would delete. */
export interface ArchiveNode {
  objectName: string;
  recordId: string;
  /** Its live SystemModstamp; null for an object without one (which a backup cannot capture). */
  systemModstamp: number | null;
  /** The record it was found under; null for a selected record. */
  via: string | null;
  viaField: string | null;
  /** Salesforce deletes it with `via` (a cascade): it is not sent itself. */
  cascade: boolean;
  /** 0 for the selected records, then one more per level down. */
  level: number;
  /** A ContentDocumentLink's document, whose file must be in the vault too. */
  documentId: string | null;
}

export interface ArchiveSelection {
  /** The object's API name as the org spells it. */
  objectName: string;
  /** Selected records first, then each level of children; each record once. */
  nodes: ArchiveNode[];
  /**
   * Records refused while reading the org: their children could not be read (CHILDREN_UNREADABLE),
   * or records of an object not named point at them through a restricted lookup (DELETE_BLOCKED).
   */
  refusals: Map<string, { code: string; message: string }>;
  /** Child objects Salesforce would delete with the records but the API user cannot query: not checked. */
  unchecked: string[];
  /** The live describes of the objects met, by name. */
  describes: Map<string, ObjectDescription>;
}

/** Salesforce's answers to a condition it cannot run: the admin's to fix, so a usage error. */
const QUERY_ERRORS = new Set(['MALFORMED_QUERY', 'INVALID_FIELD', 'INVALID_QUERY_FILTER_OPERATOR', 'INVALID_TYPE', 'INVALID_FUNCTION', 'NON_SELECTIVE_QUERY']);

/** Reads from the org what an archive of `request` would delete. */
export async function selectForArchive(client: OrgClient, request: ArchiveSelectionRequest): Promise<ArchiveSelection> {
  const objects = new Map((await client.describeGlobal()).map((o) => [o.name.toLowerCase(), o]));
  const root = objects.get(request.objectName.toLowerCase());
  if (!root || !root.queryable) {
    throw new UsageError(`The org has no object ${request.objectName} that the API user can query: check the API name (\`orgvault status --all\` lists the objects backed up).`);
  }
  const requested = new Set<string>();
  for (const name of request.childObjects) {
    const child = objects.get(name.toLowerCase());
    if (!child) throw new UsageError(`--children ${name}: the org has no object ${name} that the API user can see; check the API name.`);
    requested.add(child.name);
  }
  const describes = new DescribeCache(client);
  const rootDescribe = (await describes.load([root.name])).get(root.name);
  if (!rootDescribe) throw new UsageError(`The API user cannot describe ${root.name}, so orgvault cannot archive it.`);
  if (!has(rootDescribe, 'SystemModstamp')) throw new UsageError(`${root.name} has no SystemModstamp: orgvault cannot back it up, so it cannot confirm its records are in the vault or archive them.`);

  const nodes: ArchiveNode[] = [];
  const seen = new Set<string>();
  const soql = `SELECT Id, SystemModstamp FROM ${root.name} WHERE (${request.where}) ORDER BY Id${request.limit === undefined ? '' : ` LIMIT ${request.limit}`}`;
  try {
    for await (const page of client.query(soql)) {
      for (const record of page) {
        const id = String(record.Id);
        if (seen.has(id)) continue;
        seen.add(id);
        nodes.push({ objectName: root.name, recordId: id, systemModstamp: stampOf(record), via: null, viaField: null, cascade: false, level: 0, documentId: null });
      }
    }
  } catch (error) {
    if (error instanceof SalesforceApiError && QUERY_ERRORS.has(error.statusCode)) {
      throw new UsageError(`--where ${JSON.stringify(request.where)}: Salesforce refused the query (${error.message}). Give a SOQL condition on ${root.name}'s fields, e.g. "CreatedDate < LAST_N_YEARS:3 AND IsClosed = true".`, { cause: error });
    }
    throw error;
  }

  const refusals = new Map<string, { code: string; message: string }>();
  const blockers = new Map<string, Map<string, number>>();
  const unchecked = new Set<string>();
  // Without --children one level is read, only to find the records that have children.
  const levels = request.children ? MAX_CHILD_LEVELS : 1;
  let frontier = nodes.slice();
  for (let level = 1; level <= levels && frontier.length > 0; level++) {
    const relations = await childRelations(describes, objects, frontier, request.children ? requested : new Set(), unchecked);
    const found = await readChildren(client, relations, frontier, level, refusals);
    frontier = [];
    for (const { node, blocking } of found) {
      if (blocking) {
        const counts = blockers.get(node.via!) ?? new Map<string, number>();
        counts.set(`${node.objectName}.${node.viaField}`, (counts.get(`${node.objectName}.${node.viaField}`) ?? 0) + 1);
        blockers.set(node.via!, counts);
        continue;
      }
      if (seen.has(node.recordId)) continue;
      seen.add(node.recordId);
      nodes.push(node);
      frontier.push(node);
    }
  }
  for (const [parent, counts] of blockers) {
    if (refusals.has(parent)) continue;
    const listed = [...counts].map(([rel, n]) => `${n} ${rel.split('.')[0]} (${rel.split('.')[1]})`).join(', ');
    const objects = [...new Set([...counts.keys()].map((rel) => rel.split('.')[0]))].join(',');
    refusals.set(parent, {
      code: 'DELETE_BLOCKED',
      message: `${listed} point at it through a restricted lookup: Salesforce refuses its delete, or deletes them with it, depending on the API user's rights. Name them to archive them with it (--children ${objects}), or archive them first.`,
    });
  }
  return { objectName: root.name, nodes, refusals, unchecked: [...unchecked].sort(), describes: describes.all() };
}

interface Relation {
  parentObject: string;
  childObject: string;
  field: string;
  cascade: boolean;
  /** A restricted lookup of an object not named: its records are found to refuse their parent, not archived. */
  blocking: boolean;
  hasIsDeleted: boolean;
  hasSystemModstamp: boolean;
}

/**
 * The child relationships a level follows, from the parents' live describes: cascades, lookups of
 * requested objects, and restricted lookups (to archive them when requested, else to refuse their
 * parents). Child objects the API user cannot query are noted as unchecked when Salesforce would
 * delete their records with the parent.
 */
async function childRelations(describes: DescribeCache, objects: ReadonlyMap<string, ObjectSummary>, frontier: readonly ArchiveNode[], requested: ReadonlySet<string>, unchecked: Set<string>): Promise<Relation[]> {
  const parents = [...new Set(frontier.map((n) => n.objectName))];
  const parentDescribes = await describes.load(parents);
  const wanted: { parentObject: string; childObject: string; field: string; cascade: boolean; blocking: boolean }[] = [];
  for (const parentObject of parents) {
    const describe = parentDescribes.get(parentObject);
    if (!describe) continue;
    const restricted = restrictedRelations(describe);
    for (const rel of describe.childRelationships) {
      if (NEVER_CHILD_OBJECTS.has(rel.childObject) || NOT_ARCHIVED_CHILD.test(rel.childObject)) continue;
      const blocks = restricted.has(`${rel.childObject}.${rel.field}`);
      if (!rel.cascadeDelete && !blocks && !requested.has(rel.childObject)) continue;
      const summary = objects.get(rel.childObject.toLowerCase());
      if (!summary || !summary.queryable) {
        if (rel.cascadeDelete || blocks) unchecked.add(rel.childObject);
        continue;
      }
      const named = requested.has(summary.name);
      wanted.push({ parentObject, childObject: summary.name, field: rel.field, cascade: rel.cascadeDelete && !blocks, blocking: blocks && !named });
    }
  }
  const childDescribes = await describes.load([...new Set(wanted.map((w) => w.childObject))]);
  const relations: Relation[] = [];
  for (const w of wanted) {
    const describe = childDescribes.get(w.childObject);
    if (!describe || !describe.fields.some((f) => f.name === w.field)) {
      if (w.cascade || w.blocking) unchecked.add(w.childObject);
      continue;
    }
    relations.push({ ...w, hasIsDeleted: has(describe, 'IsDeleted'), hasSystemModstamp: has(describe, 'SystemModstamp') });
  }
  return relations;
}

/**
 * The children of `frontier` through `relations`, pooled five queries to an API call. A first
 * page that is not the whole answer is read again in full. Archived activities are included
 * (queryAll, live records only): Salesforce deletes them with their parent too.
 */
async function readChildren(
  client: OrgClient,
  relations: readonly Relation[],
  frontier: readonly ArchiveNode[],
  level: number,
  refusals: Map<string, { code: string; message: string }>,
): Promise<{ node: ArchiveNode; blocking: boolean }[]> {
  const jobs: { relation: Relation; parents: string[]; soql: string }[] = [];
  for (const relation of relations) {
    const parents = frontier.filter((n) => n.objectName === relation.parentObject).map((n) => n.recordId);
    for (let at = 0; at < parents.length; at += IDS_PER_QUERY) {
      const chunk = parents.slice(at, at + IDS_PER_QUERY);
      const fields = ['Id', relation.field, ...(relation.hasSystemModstamp ? ['SystemModstamp'] : []), ...(relation.childObject === 'ContentDocumentLink' ? ['ContentDocumentId'] : [])];
      const soql = `SELECT ${[...new Set(fields)].join(', ')} FROM ${relation.childObject} WHERE ${relation.field} IN (${chunk.map((id) => `'${id}'`).join(',')})${relation.hasIsDeleted ? ' AND IsDeleted = false' : ''}`;
      jobs.push({ relation, parents: chunk, soql });
    }
  }
  const found: { node: ArchiveNode; blocking: boolean }[] = [];
  for (let at = 0; at < jobs.length; at += QUERIES_PER_BATCH) {
    const group = jobs.slice(at, at + QUERIES_PER_BATCH);
    const answers = await client.queryBatch(group.map((j) => ({ soql: j.soql, includeDeleted: j.relation.hasIsDeleted })));
    for (const [k, job] of group.entries()) {
      const answer = answers[k]!;
      let records: SObjectRecord[];
      if (!answer.ok) {
        // Children that cannot be read cannot be checked: their parents are refused, not deleted blind.
        const reason = { code: 'CHILDREN_UNREADABLE', message: `Its ${job.relation.childObject} children (${job.relation.field}) could not be read: ${answer.statusCode}: ${answer.message}` };
        for (const id of job.parents) if (!refusals.has(id)) refusals.set(id, reason);
        continue;
      }
      records = answer.records;
      if (answer.totalSize > records.length) {
        records = [];
        for await (const page of client.query(job.soql, { includeDeleted: job.relation.hasIsDeleted })) records.push(...page);
      }
      for (const record of records) {
        const parent = record[job.relation.field];
        if (typeof parent !== 'string') continue;
        found.push({
          node: {
            objectName: job.relation.childObject,
            recordId: String(record.Id),
            systemModstamp: stampOf(record),
            via: parent,
            viaField: job.relation.field,
            cascade: job.relation.cascade,
            level,
            documentId: typeof record.ContentDocumentId === 'string' ? record.ContentDocumentId : null,
          },
          blocking: job.relation.blocking,
        });
      }
    }
  }
  return found;
}

/** `Child.Field` of the relationships whose children block the parent's delete (restrictedDelete). */
function restrictedRelations(describe: ObjectDescription): Set<string> {
  const raw = describe.raw as { childRelationships?: unknown } | null;
  const list = raw && Array.isArray(raw.childRelationships) ? (raw.childRelationships as unknown[]) : [];
  const out = new Set<string>();
  for (const rel of list) {
    const r = rel as { childSObject?: unknown; field?: unknown; restrictedDelete?: unknown };
    if (r.restrictedDelete === true && typeof r.childSObject === 'string' && typeof r.field === 'string') out.add(`${r.childSObject}.${r.field}`);
  }
  return out;
}

const has = (describe: ObjectDescription, field: string): boolean => describe.fields.some((f) => f.name === field);
const stampOf = (record: SObjectRecord): number | null => parseSalesforceDatetime(record.SystemModstamp) ?? null;

/** Live describes, each read once, 25 to a composite call. */
class DescribeCache {
  private readonly known = new Map<string, ObjectDescription | null>();
  constructor(private readonly client: OrgClient) {}

  async load(names: readonly string[]): Promise<Map<string, ObjectDescription>> {
    const missing = names.filter((n) => !this.known.has(n));
    if (missing.length) {
      const fetched = await this.client.describeObjects(missing);
      for (const name of missing) this.known.set(name, fetched.get(name) ?? null);
    }
    const out = new Map<string, ObjectDescription>();
    for (const name of names) {
      const d = this.known.get(name);
      if (d) out.set(name, d);
    }
    return out;
  }

  all(): Map<string, ObjectDescription> {
    return new Map([...this.known].filter((e): e is [string, ObjectDescription] => e[1] !== null));
  }
}
