/** The REST resources of the port: identity, describe, limits, queries, composite, getDeleted. */
import { describeFromRaw } from '../core/describe.ts';
import { SalesforceApiError } from '../core/errors.ts';
import type { BatchedQueryResult, DeletedRecords, Limit, ObjectDescription, ObjectSummary, OrgIdentity, OrgLimits, QueryOptions, SObjectRecord } from '../core/org-client.ts';
import type { OrgHttp } from './http.ts';
import { formatIsoSeconds, parseSalesforceTime, stripAttributes } from './records.ts';

interface UserInfo {
  organization_id: string;
  user_id: string;
  preferred_username: string;
  name: string;
}

/** OpenID Connect userinfo: who the session is, without spending an API call. */
export async function identity(http: OrgHttp): Promise<OrgIdentity> {
  const info = await http.json<UserInfo>('GET', '/services/oauth2/userinfo');
  return {
    orgId: info.organization_id,
    userId: info.user_id,
    username: info.preferred_username,
    displayName: info.name,
    instanceUrl: http.instanceUrl,
  };
}

interface GlobalDescribe {
  sobjects: { name: string; label: string; custom: boolean; queryable: boolean; retrieveable: boolean; replicateable: boolean; keyPrefix: string | null }[];
}

export async function describeGlobal(http: OrgHttp): Promise<ObjectSummary[]> {
  const body = await http.json<GlobalDescribe>('GET', http.dataPath('/sobjects'));
  return body.sobjects.map((s) => ({
    name: s.name,
    label: s.label,
    custom: s.custom,
    queryable: s.queryable,
    retrieveable: s.retrieveable,
    replicateable: s.replicateable,
    keyPrefix: s.keyPrefix ?? null,
  }));
}

export async function describeObject(http: OrgHttp, name: string): Promise<ObjectDescription> {
  return describeFromRaw(await http.json<unknown>('GET', http.dataPath(`/sobjects/${encodeURIComponent(name)}/describe`)));
}

/** Subrequests Salesforce takes in one composite request. */
const SUBREQUESTS_PER_COMPOSITE = 25;

export async function describeObjects(http: OrgHttp, names: readonly string[]): Promise<Map<string, ObjectDescription>> {
  const found = new Map<string, ObjectDescription>();
  for (let i = 0; i < names.length; i += SUBREQUESTS_PER_COMPOSITE) {
    const chunk = names.slice(i, i + SUBREQUESTS_PER_COMPOSITE);
    const answer = await http.json<CompositeAnswer>('POST', http.dataPath('/composite'), {
      body: { allOrNone: false, compositeRequest: chunk.map((name, k) => ({ method: 'GET', url: http.dataPath(`/sobjects/${encodeURIComponent(name)}/describe`), referenceId: `d${k}` })) },
    });
    const byRef = new Map(answer.compositeResponse.map((r) => [r.referenceId, r]));
    chunk.forEach((name, k) => {
      const sub = byRef.get(`d${k}`);
      if (!sub) throw new SalesforceApiError('UNEXPECTED_RESPONSE', `The composite response lacks the describe of ${name}`);
      if (sub.httpStatusCode === 404) return;
      if (sub.httpStatusCode >= 400) {
        const first = (Array.isArray(sub.body) ? sub.body[0] : sub.body) as { errorCode?: string; message?: string } | undefined;
        if (first?.errorCode === 'NOT_FOUND' || first?.errorCode === 'INVALID_TYPE') return;
        throw new SalesforceApiError(first?.errorCode ?? `HTTP_${sub.httpStatusCode}`, `Describing ${name} failed: ${first?.message ?? ''}`);
      }
      found.set(name, describeFromRaw(sub.body));
    });
  }
  return found;
}

export async function limits(http: OrgHttp): Promise<OrgLimits> {
  const body = await http.json<Record<string, { Max?: unknown; Remaining?: unknown }>>('GET', http.dataPath('/limits'));
  const all: Record<string, Limit> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value?.Max === 'number' && typeof value.Remaining === 'number') all[name] = { max: value.Max, remaining: value.Remaining };
  }
  const daily = all.DailyApiRequests;
  if (!daily) throw new SalesforceApiError('UNEXPECTED_RESPONSE', '/limits did not report DailyApiRequests');
  return { dailyApiRequests: daily, dailyBulkV2QueryJobs: all.DailyBulkV2QueryJobs ?? null, all };
}

/** Names per recordCount call, so the URL stays well under Salesforce's 16 KB. */
const COUNT_CHUNK = 100;

export async function recordCounts(http: OrgHttp, objects: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < objects.length; i += COUNT_CHUNK) {
    const names = objects.slice(i, i + COUNT_CHUNK).map(encodeURIComponent).join(',');
    const body = await http.json<{ sObjects: { name: string; count: number }[] }>('GET', http.dataPath(`/limits/recordCount?sObjects=${names}`));
    for (const s of body.sObjects) counts.set(s.name, s.count);
  }
  return counts;
}

interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

/** Page by page through `nextRecordsUrl`; a cursor that expires raises INVALID_QUERY_LOCATOR. */
export async function* query(http: OrgHttp, soql: string, options: QueryOptions = {}): AsyncIterable<SObjectRecord[]> {
  let path: string | undefined = http.dataPath(`/${options.includeDeleted ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`);
  while (path) {
    const page: QueryPage = await http.json<QueryPage>('GET', path);
    if (page.records.length > 0) yield page.records.map(stripAttributes);
    path = page.done ? undefined : page.nextRecordsUrl;
  }
}

/**
 * Salesforce allows 25 subrequests in a composite request but only 5 of them queries, so the
 * batch is sent as composite requests of 5 queries, each one API call.
 */
const QUERIES_PER_COMPOSITE = 5;
export const MAX_BATCHED_QUERIES = 25;

interface CompositeAnswer {
  compositeResponse: { body: unknown; httpStatusCode: number; referenceId: string }[];
}

export async function queryBatch(http: OrgHttp, queries: readonly { soql: string; includeDeleted?: boolean }[]): Promise<BatchedQueryResult[]> {
  if (queries.length > MAX_BATCHED_QUERIES) throw new RangeError(`queryBatch takes at most ${MAX_BATCHED_QUERIES} queries, not ${queries.length}`);
  const results: BatchedQueryResult[] = [];
  for (let i = 0; i < queries.length; i += QUERIES_PER_COMPOSITE) {
    const chunk = queries.slice(i, i + QUERIES_PER_COMPOSITE);
    const answer = await http.json<CompositeAnswer>('POST', http.dataPath('/composite'), {
      body: {
        allOrNone: false,
        compositeRequest: chunk.map((q, k) => ({
          method: 'GET',
          url: http.dataPath(`/${q.includeDeleted ? 'queryAll' : 'query'}?q=${encodeURIComponent(q.soql)}`),
          referenceId: `q${k}`,
        })),
      },
    });
    const byRef = new Map(answer.compositeResponse.map((r) => [r.referenceId, r]));
    chunk.forEach((_q, k) => {
      const sub = byRef.get(`q${k}`);
      if (!sub) {
        results.push({ ok: false, statusCode: 'UNEXPECTED_RESPONSE', message: 'The composite response lacks this subrequest' });
      } else if (sub.httpStatusCode >= 400) {
        const first = (Array.isArray(sub.body) ? sub.body[0] : sub.body) as { errorCode?: string; message?: string } | undefined;
        results.push({ ok: false, statusCode: first?.errorCode ?? `HTTP_${sub.httpStatusCode}`, message: first?.message ?? '' });
      } else {
        const page = sub.body as QueryPage;
        results.push({ ok: true, totalSize: page.totalSize, records: page.records.map(stripAttributes) });
      }
    });
  }
  return results;
}

interface DeletedAnswer {
  deletedRecords: { id: string; deletedDate: string }[];
  earliestDateAvailable: string;
  latestDateCovered: string;
}

export async function getDeleted(http: OrgHttp, objectName: string, startMs: number, endMs: number): Promise<DeletedRecords> {
  const path = http.dataPath(`/sobjects/${encodeURIComponent(objectName)}/deleted/?start=${encodeURIComponent(formatIsoSeconds(startMs))}&end=${encodeURIComponent(formatIsoSeconds(endMs))}`);
  const body = await http.json<DeletedAnswer>('GET', path);
  return {
    records: body.deletedRecords.map((r) => ({ id: r.id, deletedAt: parseSalesforceTime(r.deletedDate) })),
    earliestDateAvailable: parseSalesforceTime(body.earliestDateAvailable),
    latestDateCovered: parseSalesforceTime(body.latestDateCovered),
  };
}
