/**
 * The Metadata API's synchronous reads (`/services/Soap/m/XX.X`): listMetadata and readMetadata,
 * answered as plain JSON. SOAP rather than jsforce's metadata client so that every call goes
 * through OrgHttp (its retries, re-login and the count of calls Salesforce charges), as the SOAP
 * undelete does. Both are reads, so they are retried like any read.
 */
import JSZip from 'jszip';
import { XMLParser } from 'fast-xml-parser';
import { SalesforceApiError } from '../core/errors.ts';
import { metadataFileText } from '../core/metadata.ts';
import type { MetadataFileProperties, MetadataRecord, MetadataRetrieveResult, MetadataTypeDescription, MetadataValue } from '../core/org-client.ts';
import type { OrgHttp } from './http.ts';

const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

/** Salesforce's limits: three ListMetadataQuery a listMetadata call, ten names a readMetadata call. */
export const LIST_QUERIES_PER_CALL = 3;
export const READ_NAMES_PER_CALL = 10;

export async function listMetadata(http: OrgHttp, queries: readonly { type: string; folder?: string }[]): Promise<MetadataFileProperties[]> {
  const out: MetadataFileProperties[] = [];
  for (let at = 0; at < queries.length; at += LIST_QUERIES_PER_CALL) {
    const batch = queries.slice(at, at + LIST_QUERIES_PER_CALL);
    const body = batch
      .map((q) => `<m:queries>${q.folder === undefined ? '' : `<m:folder>${escapeXml(q.folder)}</m:folder>`}<m:type>${escapeXml(q.type)}</m:type></m:queries>`)
      .join('');
    const response = await call(http, 'listMetadata', `${body}<m:asOfVersion>${escapeXml(http.apiVersion)}</m:asOfVersion>`);
    for (const result of asList(response.result)) {
      if (typeof result !== 'object' || Array.isArray(result)) continue;
      out.push(fileProperties(result));
    }
  }
  return out;
}

export async function readMetadata(http: OrgHttp, type: string, fullNames: readonly string[]): Promise<(MetadataRecord | null)[]> {
  const out: (MetadataRecord | null)[] = [];
  for (let at = 0; at < fullNames.length; at += READ_NAMES_PER_CALL) {
    const names = fullNames.slice(at, at + READ_NAMES_PER_CALL);
    const response = await call(http, 'readMetadata', `<m:type>${escapeXml(type)}</m:type>${names.map((n) => `<m:fullNames>${escapeXml(n)}</m:fullNames>`).join('')}`);
    const result = asList(response.result)[0];
    const records = typeof result === 'object' && !Array.isArray(result) ? asList(result.records) : [];
    // Salesforce answers one record per name, a nil one for a name it does not have; some
    // versions leave those out instead, so answers are matched back to the names by fullName.
    const byName = new Map<string, MetadataRecord>();
    for (const record of records) {
      if (typeof record === 'object' && !Array.isArray(record) && typeof record.fullName === 'string') byName.set(record.fullName.toLowerCase(), record);
    }
    if (records.length === names.length) {
      names.forEach((name, i) => {
        const record = records[i];
        out.push(typeof record === 'object' && !Array.isArray(record) ? record : (byName.get(name.toLowerCase()) ?? null));
      });
    } else {
      for (const name of names) out.push(byName.get(name.toLowerCase()) ?? null);
    }
  }
  return out;
}

export async function describeMetadata(http: OrgHttp): Promise<MetadataTypeDescription[]> {
  const response = await call(http, 'describeMetadata', `<m:asOfVersion>${escapeXml(http.apiVersion)}</m:asOfVersion>`);
  const result = asList(response.result)[0];
  const objects = typeof result === 'object' && !Array.isArray(result) ? asList(result.metadataObjects) : [];
  return objects
    .filter((o): o is MetadataRecord => typeof o === 'object' && !Array.isArray(o))
    .map((o) => ({
      xmlName: str(o.xmlName),
      directoryName: str(o.directoryName),
      suffix: str(o.suffix) || null,
      inFolder: str(o.inFolder) === 'true',
      metaFile: str(o.metaFile) === 'true',
      childXmlNames: asList(o.childXmlNames).map(str).filter(Boolean),
    }))
    .filter((t) => t.xmlName);
}

/** Polling of a retrieve: quick at first (small retrieves finish in a second), then every few seconds. */
const RETRIEVE_POLL_FIRST_MS = 250;
const RETRIEVE_POLL_MAX_MS = 5_000;
/** Salesforce keeps a retrieve running for at most this long before it is given up on. */
const RETRIEVE_TIMEOUT_MS = 30 * 60_000;

export async function retrieveMetadata(http: OrgHttp, types: readonly { name: string; members: readonly string[] }[]): Promise<MetadataRetrieveResult> {
  const manifest = types
    .map((t) => `<m:types>${t.members.map((m) => `<m:members>${escapeXml(m)}</m:members>`).join('')}<m:name>${escapeXml(t.name)}</m:name></m:types>`)
    .join('');
  const request =
    `<m:retrieveRequest><m:apiVersion>${escapeXml(http.apiVersion)}</m:apiVersion><m:singlePackage>true</m:singlePackage>` +
    `<m:unpackaged>${manifest}<m:version>${escapeXml(http.apiVersion)}</m:version></m:unpackaged></m:retrieveRequest>`;
  const started = asList((await call(http, 'retrieve', request)).result)[0];
  const id = typeof started === 'object' && !Array.isArray(started) ? str(started.id) : '';
  if (!id) throw new SalesforceApiError('UNEXPECTED_RESPONSE', 'The retrieve answer has no job ID');
  const deadline = Date.now() + RETRIEVE_TIMEOUT_MS;
  let delay = RETRIEVE_POLL_FIRST_MS;
  for (;;) {
    const status = asList((await call(http, 'checkRetrieveStatus', `<m:id>${escapeXml(id)}</m:id><m:includeZip>true</m:includeZip>`)).result)[0];
    const result = typeof status === 'object' && !Array.isArray(status) ? status : {};
    if (str(result.done) === 'true') {
      if (str(result.status) !== 'Succeeded' && str(result.success) !== 'true') {
        throw new SalesforceApiError(str(result.errorStatusCode) || 'RETRIEVE_FAILED', `The metadata retrieve ${id} ended ${str(result.status) || 'without success'}: ${str(result.errorMessage) || 'no message'}`);
      }
      return {
        files: await unzip(str(result.zipFile)),
        fileProperties: asList(result.fileProperties)
          .filter((p): p is MetadataRecord => typeof p === 'object' && !Array.isArray(p))
          .map(fileProperties)
          .map((p) => ({ ...p, fileName: withoutPackageFolder(p.fileName) })),
        messages: asList(result.messages)
          .filter((m): m is MetadataRecord => typeof m === 'object' && !Array.isArray(m))
          .map((m) => ({ fileName: withoutPackageFolder(str(m.fileName)), problem: str(m.problem) })),
      };
    }
    if (Date.now() > deadline) throw new SalesforceApiError('RETRIEVE_TIMEOUT', `The metadata retrieve ${id} did not finish within ${RETRIEVE_TIMEOUT_MS / 60_000} minutes`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, RETRIEVE_POLL_MAX_MS);
  }
}

/** A retrieve of several packages puts each under its folder; an unpackaged one, under `unpackaged/` unless singlePackage. */
function withoutPackageFolder(path: string): string {
  return path.startsWith('unpackaged/') ? path.slice('unpackaged/'.length) : path;
}

async function unzip(base64: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  if (!base64) return files;
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(Buffer.from(base64, 'base64'));
  } catch (error) {
    throw new SalesforceApiError('UNEXPECTED_RESPONSE', `The retrieve's zip does not open: ${(error as Error).message}`);
  }
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    // Static resources and documents are binary: kept as base64, never decoded as text.
    files.set(withoutPackageFolder(entry.name), metadataFileText(await entry.async('uint8array')));
  }
  return files;
}

// ------------------------------------------------------------------------------------ the wire

async function call(http: OrgHttp, operation: string, args: string): Promise<MetadataRecord> {
  const xml = await http.send(
    'POST',
    `/services/Soap/m/${http.apiVersion}`,
    { rawBody: (session) => envelope(session.accessToken, operation, args), headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: '""' } },
    'text/xml',
    (response) => response.text(),
  );
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(xml) as Record<string, unknown>;
  } catch (error) {
    throw new SalesforceApiError('UNEXPECTED_RESPONSE', `The ${operation} answer is not XML: ${(error as Error).message.split('\n')[0]}`);
  }
  const body = (parsed.Envelope as Record<string, unknown> | undefined)?.Body as Record<string, unknown> | undefined;
  const response = body?.[`${operation}Response`];
  if (response === undefined) throw new SalesforceApiError('UNEXPECTED_RESPONSE', `The ${operation} answer has no ${operation}Response`);
  const value = clean(response);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function envelope(sessionId: string, operation: string, args: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="${METADATA_NS}">` +
    `<soapenv:Header><m:SessionHeader><m:sessionId>${escapeXml(sessionId)}</m:sessionId></m:SessionHeader>` +
    `<m:CallOptions><m:client>orgvault</m:client></m:CallOptions></soapenv:Header>` +
    `<soapenv:Body><m:${operation}>${args}</m:${operation}></soapenv:Body></soapenv:Envelope>`
  );
}

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, trimValues: true });

/** The parser's output as MetadataValues: attributes dropped, `xsi:nil` elements as null (then dropped). */
function clean(value: unknown): MetadataValue | null {
  if (Array.isArray(value)) return value.map(clean).map((v) => v ?? '');
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.some(([k, v]) => k === '@_nil' && v === 'true')) return null;
  const out: MetadataRecord = {};
  let text: string | undefined;
  for (const [key, v] of entries) {
    if (key === '#text') text = String(v);
    else if (!key.startsWith('@_')) {
      const cleaned = clean(v);
      if (cleaned !== null) out[key] = cleaned;
    }
  }
  if (Object.keys(out).length === 0) return text ?? '';
  return out;
}

function asList(value: MetadataValue | undefined): MetadataValue[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function str(value: MetadataValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

function fileProperties(r: MetadataRecord): MetadataFileProperties {
  return {
    type: str(r.type),
    fullName: str(r.fullName),
    id: str(r.id),
    fileName: str(r.fileName),
    createdById: str(r.createdById),
    createdDate: str(r.createdDate),
    lastModifiedById: str(r.lastModifiedById),
    lastModifiedDate: str(r.lastModifiedDate),
    manageableState: str(r.manageableState) || null,
    namespacePrefix: str(r.namespacePrefix) || null,
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
