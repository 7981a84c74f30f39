/**
 * Record writes of the port: creates, updates and deletes through sObject Collections, undeletes through
 * the SOAP Partner API (REST has no undelete), and one record with its file body as a multipart
 * insert. Per-record failures are results, in the order the records were given; only a failure of
 * a whole call raises SalesforceApiError. Creates are never sent twice once they may have reached
 * Salesforce (`idempotent: false`): a second copy would create the records twice.
 */
import { randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { SalesforceApiError } from '../core/errors.ts';
import { TRANSIENT_STATUS_CODES } from '../core/org-client.ts';
import type { FileUpload, RecordWriteError, RecordWriteResult, SObjectRecord, WriteOptions } from '../core/org-client.ts';
import { apiError } from './api-errors.ts';
import type { OrgHttp } from './http.ts';

/** Records per sObject Collections call, and IDs per SOAP undelete call: Salesforce's limits. */
export const RECORDS_PER_CALL = 200;

/** An error of a SaveResult as REST answers it (`statusCode` in Collections, `errorCode` elsewhere). */
interface AnsweredError {
  statusCode?: string;
  errorCode?: string;
  message?: string;
  fields?: string[];
}

interface SaveResult {
  id?: string | null;
  success: boolean;
  errors?: AnsweredError[];
}

export function createRecords(http: OrgHttp, objectName: string, records: readonly SObjectRecord[], options: WriteOptions = {}): Promise<RecordWriteResult[]> {
  return writeCollection(http, 'POST', objectName, records, options);
}

export function updateRecords(http: OrgHttp, objectName: string, records: readonly SObjectRecord[], options: WriteOptions = {}): Promise<RecordWriteResult[]> {
  return writeCollection(http, 'PATCH', objectName, records, options);
}

async function writeCollection(http: OrgHttp, method: 'POST' | 'PATCH', objectName: string, records: readonly SObjectRecord[], options: WriteOptions): Promise<RecordWriteResult[]> {
  const results: RecordWriteResult[] = [];
  for (let at = 0; at < records.length; at += RECORDS_PER_CALL) {
    const chunk = records.slice(at, at + RECORDS_PER_CALL);
    const answer = await http.json<SaveResult[]>(method, http.dataPath('/composite/sobjects'), {
      body: { allOrNone: false, records: chunk.map((record) => withType(objectName, record)) },
      headers: writeHeaders(options),
      // An update written twice leaves the record as once; a create would make two.
      idempotent: method !== 'POST',
    });
    if (!Array.isArray(answer) || answer.length !== chunk.length) {
      throw new SalesforceApiError('UNEXPECTED_RESPONSE', `sObject Collections answered ${Array.isArray(answer) ? answer.length : 'no'} results for ${chunk.length} ${objectName} records`);
    }
    for (const saved of answer) results.push(saveResult(saved));
  }
  return results;
}

/**
 * Deletes through sObject Collections: `DELETE /composite/sobjects?ids=…&allOrNone=false`, 200 IDs
 * a call (18 characters each, so the URL stays far below Salesforce's 16,384-character limit).
 * A delete sent twice is refused per record the second time (ENTITY_IS_DELETED), never doubled,
 * so it is retried like a read.
 */
export async function deleteRecords(http: OrgHttp, recordIds: readonly string[]): Promise<RecordWriteResult[]> {
  const results: RecordWriteResult[] = [];
  for (let at = 0; at < recordIds.length; at += RECORDS_PER_CALL) {
    const ids = recordIds.slice(at, at + RECORDS_PER_CALL);
    const query = new URLSearchParams({ ids: ids.join(','), allOrNone: 'false' });
    const answer = await http.json<SaveResult[]>('DELETE', http.dataPath(`/composite/sobjects?${query.toString()}`));
    if (!Array.isArray(answer) || answer.length !== ids.length) {
      throw new SalesforceApiError('UNEXPECTED_RESPONSE', `sObject Collections answered ${Array.isArray(answer) ? answer.length : 'no'} results for ${ids.length} deletes`);
    }
    // A failed delete's result may carry no ID: the one sent stands for it.
    answer.forEach((saved, i) => results.push(saveResult({ ...saved, id: saved.id ?? ids[i]! })));
  }
  return results;
}

/** The record as Collections take it: `attributes.type` first, then its fields. */
function withType(objectName: string, record: SObjectRecord): SObjectRecord {
  const out: SObjectRecord = { attributes: { type: objectName } };
  for (const key in record) if (key !== 'attributes') out[key] = record[key];
  return out;
}

function writeHeaders(options: WriteOptions): Record<string, string> {
  return options.allowDuplicates ? { 'sforce-duplicate-rule-header': 'allowSave=true' } : {};
}

function saveResult(saved: SaveResult): RecordWriteResult {
  if (saved.success && typeof saved.id === 'string') return { ok: true, id: saved.id };
  const errors = (saved.errors ?? []).map(writeError);
  return { ok: false, errors: errors.length ? errors : [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce reported a failure without an error', fields: [] }] };
}

function writeError(e: AnsweredError): RecordWriteError {
  const statusCode = e.statusCode ?? e.errorCode ?? 'UNKNOWN_EXCEPTION';
  return { statusCode, message: e.message ?? statusCode, fields: Array.isArray(e.fields) ? e.fields.map(String) : [] };
}

// ------------------------------------------------------------------------------------ undelete

const PARTNER_NS = 'urn:partner.soap.sforce.com';

/**
 * SOAP `undelete` through the Partner API, 200 IDs a call. The OAuth access token is a session ID,
 * sent in the envelope's SessionHeader (built per attempt, so a renewed session is the one sent).
 * An undelete repeated is refused per record (UNDELETE_FAILED), never doubled, so it is retried
 * like a read.
 */
export async function undeleteRecords(http: OrgHttp, recordIds: readonly string[]): Promise<RecordWriteResult[]> {
  const results: RecordWriteResult[] = [];
  for (let at = 0; at < recordIds.length; at += RECORDS_PER_CALL) {
    const ids = recordIds.slice(at, at + RECORDS_PER_CALL);
    const xml = await http.send(
      'POST',
      `/services/Soap/u/${http.apiVersion}`,
      { rawBody: (session) => undeleteEnvelope(session.accessToken, ids), headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: '""' } },
      'text/xml',
      (response) => response.text(),
    );
    results.push(...undeleteResults(http, xml, ids));
  }
  return results;
}

function undeleteEnvelope(sessionId: string, ids: readonly string[]): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="${PARTNER_NS}">` +
    `<soapenv:Header><urn:SessionHeader><urn:sessionId>${escapeXml(sessionId)}</urn:sessionId></urn:SessionHeader>` +
    // The client name Salesforce attributes the call to, as Sforce-Call-Options does for REST.
    `<urn:CallOptions><urn:client>orgvault</urn:client></urn:CallOptions></soapenv:Header>` +
    `<soapenv:Body><urn:undelete>${ids.map((id) => `<urn:ids>${escapeXml(id)}</urn:ids>`).join('')}</urn:undelete></soapenv:Body></soapenv:Envelope>`
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const REPEATED = new Set(['result', 'errors', 'fields', 'limitInfo']);
const soapParser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, trimValues: true, isArray: (name) => REPEATED.has(name) });

type XmlObject = Record<string, unknown>;

/** The `<result>`s of an undeleteResponse, in the order of the IDs sent; the usage the header reports. */
function undeleteResults(http: OrgHttp, xml: string, ids: readonly string[]): RecordWriteResult[] {
  let envelope: XmlObject | undefined;
  try {
    envelope = (soapParser.parse(xml) as XmlObject).Envelope as XmlObject | undefined;
  } catch (error) {
    throw new SalesforceApiError('UNEXPECTED_RESPONSE', `The undelete answer is not XML: ${(error as Error).message.split('\n')[0]}`);
  }
  const header = envelope?.Header as XmlObject | undefined;
  const limits = ((header?.LimitInfoHeader as XmlObject | undefined)?.limitInfo ?? []) as XmlObject[];
  const api = limits.find((l) => text(l.type) === 'API REQUESTS');
  if (api && Number.isFinite(Number(text(api.current))) && Number.isFinite(Number(text(api.limit)))) http.reportOrgUsage(Number(text(api.current)), Number(text(api.limit)));
  const response = (envelope?.Body as XmlObject | undefined)?.undeleteResponse as XmlObject | string | undefined;
  const results = (typeof response === 'object' ? (response.result ?? []) : []) as XmlObject[];
  if (results.length !== ids.length) throw new SalesforceApiError('UNEXPECTED_RESPONSE', `undelete answered ${results.length} results for ${ids.length} IDs`);
  return results.map((result, i) => {
    if (text(result.success) === 'true') return { ok: true, id: text(result.id) || ids[i]! };
    const errors = ((result.errors ?? []) as XmlObject[]).map((e) => ({
      statusCode: text(e.statusCode) || 'UNKNOWN_EXCEPTION',
      message: text(e.message),
      fields: ((e.fields ?? []) as unknown[]).map(text).filter((f) => f !== ''),
    }));
    return { ok: false, errors: errors.length ? errors : [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce reported a failure without an error', fields: [] }] };
  });
}

/** An element's text; empty for a nil or structured element. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

// ------------------------------------------------------------------------------------ file bodies

/**
 * One record with its body, as Salesforce's Insert Blob Data takes it: multipart/form-data with the
 * fields as JSON (`entity_content`) and the bytes in a part named after the body field. The body is
 * read once into its chunks (never joined, never base64) and streamed from them with its
 * Content-Length, so a re-login or a retry after a transient answer sends the same bytes again.
 * A 400 is the record's own failure (a validation rule, a duplicate): a result, not a throw.
 */
export async function createWithBody(http: OrgHttp, upload: FileUpload, options: WriteOptions = {}): Promise<RecordWriteResult> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of upload.body()) chunks.push(chunk);
  const boundary = `orgvault-${randomUUID()}`;
  const fields: SObjectRecord = {};
  for (const [key, value] of Object.entries(upload.fields)) {
    if (key !== 'attributes' && key.toLowerCase() !== upload.bodyField.toLowerCase()) fields[key] = value;
  }
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="entity_content"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(fields)}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="${upload.bodyField}"; filename="${quotedFileName(upload.fileName)}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const encoder = new TextEncoder();
  const what = `POST ${upload.objectName} with its ${upload.bodyField}`;
  return http.send<RecordWriteResult>(
    'POST',
    http.dataPath(`/sobjects/${encodeURIComponent(upload.objectName)}/`),
    {
      rawBody: [encoder.encode(head), ...chunks, encoder.encode(tail)],
      headers: { 'content-type': `multipart/form-data; boundary="${boundary}"`, ...writeHeaders(options) },
      idempotent: false,
      resultStatuses: [400],
    },
    'application/json',
    async (response) => {
      const body = await response.text();
      if (response.status === 400) return recordFailure(body, what);
      const saved = JSON.parse(body) as SaveResult;
      return saveResult(saved);
    },
  );
}

/**
 * A 400 answer's error array as the record's failure. A transient status (UNABLE_TO_LOCK_ROW) is
 * raised instead, so that the request is sent again, and an answer that is no error array is
 * raised as the failure of the call.
 */
function recordFailure(body: string, what: string): RecordWriteResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  // Salesforce answers an array; its older documentation shows a single error object.
  const list = (Array.isArray(parsed) ? parsed : parsed && typeof parsed === 'object' ? [parsed] : []) as AnsweredError[];
  const errors = list.filter((e) => e && typeof e === 'object' && typeof (e.errorCode ?? e.statusCode) === 'string').map(writeError);
  if (errors.length === 0 || errors.some((e) => TRANSIENT_STATUS_CODES.includes(e.statusCode))) throw apiError(400, body, what);
  return { ok: false, errors };
}

/**
 * A file name inside a quoted Content-Disposition parameter: UTF-8 as it is (RFC 7578), with the
 * quote and line breaks percent-encoded as browsers send them (the HTML standard's form encoding).
 */
function quotedFileName(name: string): string {
  return name.replace(/["\r\n]/g, (c) => (c === '"' ? '%22' : c === '\r' ? '%0D' : '%0A'));
}
