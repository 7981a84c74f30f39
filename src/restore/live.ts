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

export interface LiveRequest {
  objectName: string;
  /** IDs, or values of `filterField`. */
  values: readonly string[];
  fieldNames: readonly string[];
  /** What the answer is keyed by (Id unless given). */
  keyField?: string;
  /**
   * The field filtered on, when not the key: ContentDocumentLink can only be queried by its
   * document or its linked record, never by Id alone.
   */
  filterField?: string;
  hasIsDeleted?: boolean;
  hasSystemModstamp?: boolean;
}

/**
 * The records each request asks for, keyed by the key's value (the first record wins when a key
 * is not unique). Queries of every request share composite calls: five queries of 200 values each
 * to a call, whatever their objects.
 */
export async function readLiveMany(client: OrgClient, requests: readonly LiveRequest[]): Promise<Map<string, LiveRecord>[]> {
  const answers = requests.map(() => new Map<string, LiveRecord>());
  const statements: { soql: string; request: number }[] = [];
  requests.forEach((request, r) => {
    const keyField = request.keyField ?? 'Id';
    const filterField = request.filterField ?? keyField;
    const system = [...(request.hasIsDeleted === false ? [] : ['IsDeleted']), ...(request.hasSystemModstamp === false ? [] : ['SystemModstamp'])];
    const select = [...new Set(['Id', keyField, filterField, ...system, ...request.fieldNames])].join(', ');
    const unique = [...new Set(request.values)];
    for (let i = 0; i < unique.length; i += VALUES_PER_QUERY) {
      statements.push({ soql: `SELECT ${select} FROM ${request.objectName} WHERE ${filterField} IN (${unique.slice(i, i + VALUES_PER_QUERY).map(quote).join(',')})`, request: r });
    }
  });
  const keep = (r: number, record: SObjectRecord): void => {
    const keyField = requests[r]!.keyField ?? 'Id';
    const key = keyField === 'Id' ? String(record.Id) : record[keyField];
    const found = answers[r]!;
    if (key === null || key === undefined || found.has(String(key))) return;
    found.set(String(key), { id: String(record.Id), isDeleted: record.IsDeleted === true, systemModstamp: parseSalesforceDatetime(record.SystemModstamp) ?? 0, fields: record });
  };
  for (let i = 0; i < statements.length; i += 25) {
    const chunk = statements.slice(i, i + 25);
    const results = await client.queryBatch(chunk.map(({ soql }) => ({ soql, includeDeleted: true })));
    for (const [k, answer] of results.entries()) {
      const { soql, request } = chunk[k]!;
      if (!answer.ok) throw new SalesforceApiError(answer.statusCode, `Reading ${requests[request]!.objectName} from the org failed: ${answer.message}`);
      if (answer.records.length >= answer.totalSize) {
        for (const record of answer.records) keep(request, record);
        continue;
      }
      // Large records make Salesforce return a short first page: read the rest by cursor.
      for await (const page of client.query(soql, { includeDeleted: true })) for (const record of page) keep(request, record);
    }
  }
  return answers;
}

/** readLiveMany for one request. */
export async function readLive(client: OrgClient, objectName: string, values: readonly string[], fieldNames: readonly string[], options: Omit<LiveRequest, 'objectName' | 'values' | 'fieldNames'> = {}): Promise<Map<string, LiveRecord>> {
  return (await readLiveMany(client, [{ objectName, values, fieldNames, ...options }]))[0]!;
}
