/**
 * What the org holds now for the records a restore touches: read by ID (or by an alternate key)
 * with queryAll, so records in the Recycle Bin show as deleted. Queries go five to a composite
 * call: a thousand records cost one API call.
 */
import { SalesforceApiError } from '../core/errors.ts';
import type { OrgClient, SObjectRecord } from '../core/org-client.ts';
import { parseSalesforceDatetime } from '../core/time.ts';

export interface LiveRecord {
  id: string;
  isDeleted: boolean;
  /** 0 when the object has no SystemModstamp. */
  systemModstamp: number;
  fields: SObjectRecord;
}

/** IDs (or key values) per query: keeps each SOQL statement near 5 KB. */
const VALUES_PER_QUERY = 200;

const quote = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The records of `objectName` whose `keyField` (Id unless given) is one of `values`, with
 * `fieldNames` read; keyed by the key's value (the first record wins when a key is not unique).
 * `filterField` filters on another field than the key: ContentDocumentLink can only be queried
 * by its document or its linked record, never by Id alone.
 */
export async function readLive(
  client: OrgClient,
  objectName: string,
  values: readonly string[],
  fieldNames: readonly string[],
  options: { keyField?: string; filterField?: string; hasIsDeleted?: boolean; hasSystemModstamp?: boolean } = {},
): Promise<Map<string, LiveRecord>> {
  const keyField = options.keyField ?? 'Id';
  const filterField = options.filterField ?? keyField;
  const system = [...(options.hasIsDeleted === false ? [] : ['IsDeleted']), ...(options.hasSystemModstamp === false ? [] : ['SystemModstamp'])];
  const select = [...new Set(['Id', keyField, filterField, ...system, ...fieldNames])].join(', ');
  const unique = [...new Set(values)];
  const statements: string[] = [];
  for (let i = 0; i < unique.length; i += VALUES_PER_QUERY) {
    statements.push(`SELECT ${select} FROM ${objectName} WHERE ${filterField} IN (${unique.slice(i, i + VALUES_PER_QUERY).map(quote).join(',')})`);
  }
  const found = new Map<string, LiveRecord>();
  const keep = (record: SObjectRecord): void => {
    const key = keyField === 'Id' ? String(record.Id) : record[keyField];
    if (key === null || key === undefined || found.has(String(key))) return;
    found.set(String(key), {
      id: String(record.Id),
      isDeleted: record.IsDeleted === true,
      systemModstamp: parseSalesforceDatetime(record.SystemModstamp) ?? 0,
      fields: record,
    });
  };
  for (let i = 0; i < statements.length; i += 25) {
    const chunk = statements.slice(i, i + 25);
    const answers = await client.queryBatch(chunk.map((soql) => ({ soql, includeDeleted: true })));
    for (const [k, answer] of answers.entries()) {
      if (!answer.ok) throw new SalesforceApiError(answer.statusCode, `Reading ${objectName} from the org failed: ${answer.message}`);
      if (answer.records.length >= answer.totalSize) {
        for (const record of answer.records) keep(record);
        continue;
      }
      // Large records make Salesforce return a short first page: read the rest by cursor.
      for await (const page of client.query(chunk[k]!, { includeDeleted: true })) for (const record of page) keep(record);
    }
  }
  return found;
}

/** Which users among `userIds` are active, and which exist at all. */
export async function readUsers(client: OrgClient, userIds: readonly string[]): Promise<{ active: Set<string>; known: Set<string> }> {
  const users = await readLive(client, 'User', userIds.filter((id) => id.startsWith('005')), ['IsActive'], { hasIsDeleted: false });
  const active = new Set<string>();
  for (const [id, user] of users) if (user.fields.IsActive === true) active.add(id);
  return { active, known: new Set(users.keys()) };
}
