/**
 * The port through which use cases reach a Salesforce org. `src/salesforce/` implements it on
 * jsforce; use cases see plain data and orgvault's errors only (SalesforceApiError carries
 * Salesforce's own status code). Records are plain objects of field values shaped as the REST API
 * returns them (numbers, booleans, strings, null), without `attributes`, whichever API read them.
 */
import { OrgvaultError } from './errors.ts';

/** How orgvault authenticates to an org: every flow a server-side tool uses. Sealed at rest. */
export type OrgAuth =
  | { kind: 'jwt'; loginUrl: string; clientId: string; username: string; privateKeyPem: string }
  | { kind: 'client-credentials'; loginUrl: string; clientId: string; clientSecret: string }
  | { kind: 'refresh-token'; loginUrl: string; clientId: string; clientSecret?: string; refreshToken: string }
  | { kind: 'password'; loginUrl: string; clientId: string; clientSecret: string; username: string; password: string }
  | { kind: 'access-token'; instanceUrl: string; accessToken: string }
  | { kind: 'sf-cli'; alias: string };

export type OrgAuthKind = OrgAuth['kind'];

export interface OrgIdentity {
  orgId: string;
  userId: string;
  username: string;
  displayName: string;
  instanceUrl: string;
}

/** An object as describeGlobal lists it. */
export interface ObjectSummary {
  name: string;
  label: string;
  custom: boolean;
  queryable: boolean;
  retrieveable: boolean;
  replicateable: boolean;
  keyPrefix: string | null;
}

/** The parts of a field's describe that backup and restore decide on. */
export interface FieldSummary {
  name: string;
  type: string;
  label: string;
  /** Formula and roll-up fields: captured as seen, never written back. */
  calculated: boolean;
  /** The compound field (an address or location) this field is a component of, if any. */
  compoundFieldName: string | null;
  referenceTo: string[];
  relationshipName: string | null;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  externalId: boolean;
  idLookup: boolean;
  /** Characters a text field holds (0 for other types). */
  length: number;
  restrictedPicklist: boolean;
  /** Active picklist values (empty for other types). */
  picklistValues: string[];
  /** Given a value by Salesforce when a create leaves it out (OwnerId, checkboxes, defaults). */
  defaultedOnCreate: boolean;
  /** A master-detail relationship: the parent must exist before the child is created. */
  masterDetail: boolean;
  cascadeDelete: boolean;
  autoNumber: boolean;
  unique: boolean;
}

/** A record type as describe lists it for the API user. */
export interface RecordTypeSummary {
  id: string;
  name: string;
  developerName: string;
  /** Assigned to the API user's profile: records may be created with it. */
  available: boolean;
  active: boolean;
  master: boolean;
  isDefault: boolean;
}

/** One object's describe: the summary fields, and the document as Salesforce returned it. */
export interface ObjectDescription {
  name: string;
  label: string;
  queryable: boolean;
  retrieveable: boolean;
  /** The API user may create, edit, undelete records of the object. */
  createable: boolean;
  updateable: boolean;
  undeletable: boolean;
  fields: FieldSummary[];
  /** Objects whose `field` looks up to this one. */
  childRelationships: { childObject: string; field: string; cascadeDelete: boolean }[];
  recordTypes: RecordTypeSummary[];
  /** The describe exactly as returned, stored as the schema version. */
  raw: unknown;
}

/** A limit from `/limits`. */
export interface Limit {
  max: number;
  remaining: number;
}

export interface OrgLimits {
  dailyApiRequests: Limit;
  dailyBulkV2QueryJobs: Limit | null;
  /** Every limit by its Salesforce name. */
  all: Record<string, Limit>;
}

export type SObjectRecord = Record<string, unknown>;

export interface QueryOptions {
  /** queryAll: include soft-deleted (IsDeleted) and archived records. */
  includeDeleted?: boolean;
}

/** A query answered inside a composite batch. */
export type BatchedQueryResult = { ok: true; totalSize: number; records: SObjectRecord[] } | { ok: false; statusCode: string; message: string };

/** What getDeleted reports for an object over a time span. */
export interface DeletedRecords {
  records: { id: string; deletedAt: number }[];
  /** The oldest time Salesforce still knows deletes from (records deleted before it are gone). */
  earliestDateAvailable: number;
  latestDateCovered: number;
}

/** API requests this client has made, as Salesforce counts them. */
export interface ApiUsage {
  /** Requests counted against DailyApiRequests by this client. */
  calls: number;
  bulkQueryJobs: number;
  /** The org's DailyApiRequests usage as last reported by Salesforce (`Sforce-Limit-Info`). */
  orgUsed: number | null;
  orgMax: number | null;
}

/** Salesforce's error for one record of a write (`errors[]` of a SaveResult). */
export interface RecordWriteError {
  statusCode: string;
  message: string;
  /** The fields Salesforce names as at fault, if any. */
  fields: string[];
}

/** One record's outcome of a write, in the order the records were given. */
export type RecordWriteResult = { ok: true; id: string } | { ok: false; errors: RecordWriteError[] };

export interface WriteOptions {
  /** Save records that a duplicate rule would block (`Sforce-Duplicate-Rule-Header: allowSave=true`). */
  allowDuplicates?: boolean;
}

/** A file body to upload with its record (ContentVersion.VersionData, Attachment.Body, Document.Body). */
export interface FileUpload {
  objectName: string;
  /** The record's other fields. */
  fields: SObjectRecord;
  /** The base64 field the body goes in. */
  bodyField: string;
  /** The body, streamed into the request. */
  body: () => AsyncIterable<Uint8Array>;
  fileName: string;
}

/** A Metadata API component as listMetadata names it (its FileProperties). */
export interface MetadataFileProperties {
  type: string;
  fullName: string;
  /** The component's ID; empty for standard objects, which have none. */
  id: string;
  fileName: string;
  createdById: string;
  createdDate: string;
  lastModifiedById: string;
  lastModifiedDate: string;
  manageableState: string | null;
  namespacePrefix: string | null;
}

/** One metadata type of describeMetadata. */
export interface MetadataTypeDescription {
  xmlName: string;
  directoryName: string;
  suffix: string | null;
  inFolder: boolean;
  metaFile: boolean;
  childXmlNames: string[];
}

/** A finished retrieve: its files (path → text, package root relative), FileProperties and messages. */
export interface MetadataRetrieveResult {
  files: Map<string, string>;
  fileProperties: MetadataFileProperties[];
  /** Problems Salesforce reports while the retrieve still succeeds (a member it cannot find). */
  messages: { fileName: string; problem: string }[];
}

/**
 * A readMetadata record as plain JSON: every element's text is a string ("true", "12"), a nested
 * element an object, and an element that occurred more than once an array. A list with one entry
 * is therefore an object, as the XML cannot tell them apart: read lists through `metadataList`.
 */
export type MetadataValue = string | MetadataRecord | MetadataValue[];
export interface MetadataRecord {
  [element: string]: MetadataValue;
}

/** A repeated metadata element as a list, whether it occurred zero, one or many times. */
export function metadataList(value: MetadataValue | undefined): MetadataValue[] {
  if (value === undefined || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

/** The text of a simple metadata element; undefined when absent or structured. */
export function metadataText(value: MetadataValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** An authenticated org. Tokens are refreshed (or the login repeated) when a session expires. */
export interface OrgClient {
  readonly instanceUrl: string;
  readonly apiVersion: string;
  identity(): Promise<OrgIdentity>;
  describeGlobal(): Promise<ObjectSummary[]>;
  describeObject(name: string): Promise<ObjectDescription>;
  /**
   * Several describes through composite requests, 25 to a call. Objects the org does not have,
   * or the API user cannot see, are absent from the answer.
   */
  describeObjects(names: readonly string[]): Promise<Map<string, ObjectDescription>>;
  limits(): Promise<OrgLimits>;
  /** Record counts from `/limits/recordCount`: one cheap call for many objects. */
  recordCounts(objects: readonly string[]): Promise<Map<string, number>>;
  /** A SOQL query through REST, page by page, following `nextRecordsUrl`. */
  query(soql: string, options?: QueryOptions): AsyncIterable<SObjectRecord[]>;
  /**
   * A SOQL query through a Bulk API 2.0 query job: created, polled to completion, its result
   * pages streamed and parsed with the types of `fields` into the same value shapes as REST. A job
   * that fails raises SalesforceApiError with the job's error message.
   */
  bulkQuery(soql: string, fields: readonly FieldSummary[], options?: QueryOptions): AsyncIterable<SObjectRecord[]>;
  /**
   * Several queries through composite requests, first pages only. Salesforce takes at most five
   * query subrequests in one composite request, which counts as one API call: five queries cost
   * one call, ten cost two. At most 25 queries.
   */
  queryBatch(queries: readonly { soql: string; includeDeleted?: boolean }[]): Promise<BatchedQueryResult[]>;
  /** Records deleted (and purged) between two times, from getDeleted. */
  getDeleted(objectName: string, startMs: number, endMs: number): Promise<DeletedRecords>;
  /** A base64 field's body (ContentVersion.VersionData, Attachment.Body, Document.Body), streamed. */
  downloadBody(objectName: string, recordId: string, field: string): AsyncIterable<Uint8Array>;
  /**
   * Creates records through sObject Collections (200 a call, allOrNone false): one result per
   * record, in order. A whole call that fails raises SalesforceApiError.
   */
  createRecords(objectName: string, records: readonly SObjectRecord[], options?: WriteOptions): Promise<RecordWriteResult[]>;
  /** Updates records (each with its `Id`) through sObject Collections, as createRecords. */
  updateRecords(objectName: string, records: readonly SObjectRecord[], options?: WriteOptions): Promise<RecordWriteResult[]>;
  /** Undeletes records from the Recycle Bin (SOAP `undelete`, 200 a call): one result per ID, in order. */
  undeleteRecords(recordIds: readonly string[]): Promise<RecordWriteResult[]>;
  /**
   * Deletes records into the Recycle Bin through sObject Collections (200 IDs a call, allOrNone
   * false; Salesforce cascades to master-detail children): one result per ID, in order. A record
   * already deleted fails with ENTITY_IS_DELETED. A whole call that fails raises SalesforceApiError.
   */
  deleteRecords(recordIds: readonly string[]): Promise<RecordWriteResult[]>;
  /**
   * Creates or updates records through one Bulk API 2.0 ingest job: values written as CSV with
   * the types of `fields`, null as `#N/A`; the job's successful and failed results are matched
   * back to the records, so one result per record, in order. A job that fails as a whole raises
   * SalesforceApiError.
   */
  ingest(objectName: string, operation: 'insert' | 'update', records: readonly SObjectRecord[], fields: readonly FieldSummary[]): Promise<RecordWriteResult[]>;
  /** Creates one record with its file body (a multipart insert). */
  createWithBody(upload: FileUpload, options?: WriteOptions): Promise<RecordWriteResult>;
  /**
   * Metadata API listMetadata: the components of the given types (three queries a call, as
   * Salesforce takes). Refused (INSUFFICIENT_ACCESS) to users without Modify All Data or Modify
   * Metadata.
   */
  listMetadata(queries: readonly { type: string; folder?: string }[]): Promise<MetadataFileProperties[]>;
  /**
   * Metadata API readMetadata: components of one type by fullName (ten a call), one answer per
   * name in order, null for a name the org does not have.
   */
  readMetadata(type: string, fullNames: readonly string[]): Promise<(MetadataRecord | null)[]>;
  /** Metadata API describeMetadata: the metadata types the org has, with where their files go. */
  describeMetadata(): Promise<MetadataTypeDescription[]>;
  /**
   * Metadata API retrieve of an unpackaged manifest (members may be `*`), polled with
   * checkRetrieveStatus until done; the zip's files come back as text by path (without the
   * `unpackaged/` prefix). A retrieve that fails raises SalesforceApiError with its message.
   */
  retrieveMetadata(types: readonly { name: string; members: readonly string[] }[]): Promise<MetadataRetrieveResult>;
  usage(): ApiUsage;
  /**
   * The same org and session, counting its own calls in its own usage() (and still in this
   * client's): so that work running side by side (objects of a backup) is charged exactly.
   */
  scoped(): OrgClient;
  /**
   * Subscribes to a Change Data Capture channel (`/data/AccountChangeEvent`, `/data/ChangeEvents`)
   * over the Streaming API from a replay ID (-1: new events only, -2: every retained event).
   * Resolves once subscribed; rejects with ReplayIdInvalidError when Salesforce no longer holds
   * the replay ID (older than its 72-hour retention). A dead session is renewed and the stream
   * resumed from the last event delivered.
   */
  subscribeChanges(request: ChangeSubscriptionRequest): Promise<ChangeSubscription>;
}

/** The change types of a change event: the record changes, and the gap and overflow events. */
export type ChangeEventType = 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE' | 'GAP_CREATE' | 'GAP_UPDATE' | 'GAP_DELETE' | 'GAP_UNDELETE' | 'GAP_OVERFLOW';

/** One change event as delivered: its header, and the record's fields as the event prints them. */
export interface ChangeEventMessage {
  channel: string;
  replayId: number;
  entityName: string;
  changeType: ChangeEventType;
  /** Several records when Salesforce merged identical changes; the empty ID for an overflow. */
  recordIds: string[];
  /** When the transaction committed (epoch ms). */
  commitTimestamp: number;
  commitUser: string;
  transactionKey: string;
  sequenceNumber: number;
  /** `Name.FirstName` for a compound's component, the API name otherwise. */
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
  /** The payload without its header: compound fields nest their components, datetimes end in Z. */
  fields: Record<string, unknown>;
}

export interface ChangeSubscriptionRequest {
  channel: string;
  replayId: number;
  /** Called for each event, in replay ID order. */
  onEvent: (event: ChangeEventMessage) => void;
  /** The stream ended and will not resume by itself (the session cannot be renewed). */
  onError: (error: Error) => void;
}

/** A live subscription. */
export interface ChangeSubscription {
  /** Disconnects; no event is delivered after it resolves. */
  close(): Promise<void>;
}

/** Salesforce no longer holds the replay ID a subscription asked for: events since it are lost. */
export class ReplayIdInvalidError extends OrgvaultError {
  constructor(
    readonly channel: string,
    readonly replayId: number,
    message: string,
  ) {
    super('REPLAY_ID_INVALID', message);
  }
}

/** The statuses Salesforce answers with that are worth retrying after a pause. */
export const TRANSIENT_STATUS_CODES: readonly string[] = ['UNABLE_TO_LOCK_ROW', 'QUERY_TIMEOUT', 'SERVER_UNAVAILABLE', 'REQUEST_RUNNING_TOO_LONG', 'UNKNOWN_EXCEPTION'];
