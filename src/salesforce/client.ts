/** `connectOrg`: logs in with any OrgAuth flow and returns the OrgClient port. */
import type { OrgAuth, OrgClient } from '../core/org-client.ts';
import { logIn } from './auth.ts';
import { DEFAULT_BULK, bulkQuery } from './bulk.ts';
import type { BulkTuning } from './bulk.ts';
import { downloadBody } from './files.ts';
import { OrgHttp, SharedSession } from './http.ts';
import { ingest } from './ingest.ts';
import { describeMetadata, listMetadata, readMetadata, retrieveMetadata } from './metadata.ts';
import * as rest from './rest.ts';
import { retryPolicy } from './retry.ts';
import type { RetryPolicy } from './retry.ts';
import { subscribeChanges } from './streaming.ts';
import * as writes from './writes.ts';

export const API_VERSION = '62.0';

export interface ConnectOptions {
  /** `62.0` unless given. */
  apiVersion?: string;
  retry?: Partial<RetryPolicy>;
  bulk?: Partial<BulkTuning>;
  /** Progress and retry lines (never a secret). */
  log?: (line: string) => void;
}

/** Logs in and returns the org; a login that fails raises AuthenticationError naming cause and fix. */
export async function connectOrg(auth: OrgAuth, options: ConnectOptions = {}): Promise<OrgClient> {
  const retry = retryPolicy(options.retry);
  const log = options.log ?? (() => {});
  const login = await logIn(auth, retry);
  const shared = new SharedSession(login, log);
  const http = new OrgHttp(shared, (options.apiVersion ?? API_VERSION).replace(/^v/, ''), retry, log);
  return client(http, { ...DEFAULT_BULK, ...options.bulk }, shared);
}

function client(http: OrgHttp, tuning: BulkTuning, shared: SharedSession): OrgClient {
  return {
    get instanceUrl() {
      return http.instanceUrl;
    },
    apiVersion: http.apiVersion,
    identity: () => rest.identity(http),
    describeGlobal: () => rest.describeGlobal(http),
    describeObject: (name) => rest.describeObject(http, name),
    describeObjects: (names) => rest.describeObjects(http, names),
    limits: () => rest.limits(http),
    recordCounts: (objects) => rest.recordCounts(http, objects),
    query: (soql, queryOptions) => rest.query(http, soql, queryOptions),
    bulkQuery: (soql, fields, queryOptions) => bulkQuery(http, tuning, soql, fields, queryOptions),
    queryBatch: (queries) => rest.queryBatch(http, queries),
    getDeleted: (objectName, startMs, endMs) => rest.getDeleted(http, objectName, startMs, endMs),
    downloadBody: (objectName, recordId, field) => downloadBody(http, objectName, recordId, field),
    createRecords: (objectName, records, writeOptions) => writes.createRecords(http, objectName, records, writeOptions),
    updateRecords: (objectName, records, writeOptions) => writes.updateRecords(http, objectName, records, writeOptions),
    undeleteRecords: (recordIds) => writes.undeleteRecords(http, recordIds),
    deleteRecords: (recordIds) => writes.deleteRecords(http, recordIds),
    ingest: (objectName, operation, records, fields) => ingest(http, tuning, objectName, operation, records, fields),
    createWithBody: (upload, writeOptions) => writes.createWithBody(http, upload, writeOptions),
    listMetadata: (queries) => listMetadata(http, queries),
    readMetadata: (type, fullNames) => readMetadata(http, type, fullNames),
    describeMetadata: () => describeMetadata(http),
    retrieveMetadata: (types) => retrieveMetadata(http, types),
    usage: () => http.usage(),
    scoped: () => client(http.scoped(), tuning, shared),
    subscribeChanges: (request) => subscribeChanges(shared, http.apiVersion, request, http.log),
  };
}
