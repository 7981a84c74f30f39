/**
 * SOAP 1.1 envelopes as Salesforce's Partner and Metadata APIs exchange them. Requests are read
 * namespace-blind (jsforce puts its arguments in a made-up `ns1` namespace); responses use the
 * API's namespace as the default one, as Salesforce's do, because clients such as jsforce find
 * the result by the `soapenv:` prefix and bare element names.
 */
import { XMLParser } from 'fast-xml-parser';
import { METADATA_NS, node, renderCompact } from '../metadata/xml.ts';
import type { XmlNode } from '../metadata/xml.ts';

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const PARTNER_NS = 'urn:partner.soap.sforce.com';
const PARTNER_FAULT_NS = 'urn:fault.partner.soap.sforce.com';

export type SoapApi = 'partner' | 'metadata';

/** The key under which a parsed record keeps its `xsi:type` attribute; no element can be named so. */
export const XSI_TYPE = '@xsi:type';

/** A parsed request element: text, or child elements by local name (repeated ones as arrays). */
export type SoapValue = string | { [name: string]: SoapValue | SoapValue[] };

export interface SoapRequest {
  operation: string;
  args: Record<string, SoapValue | SoapValue[]>;
  sessionId: string | undefined;
  /** CallOptions `client`, for attributing API usage. */
  client: string | undefined;
}

/**
 * A call answered with a SOAP fault. `code` is the API's exception code (faultcode `sf:<code>`,
 * faultstring `<code>: <message>`); client errors (malformed envelopes, unknown operations) use
 * `soapenv:Client` with the bare message.
 */
export class SoapFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: 'api' | 'client' = 'api',
    /** The partner API's fault type in `<detail>`. */
    readonly detail: 'UnexpectedErrorFault' | 'LoginFault' | 'InvalidIdFault' = 'UnexpectedErrorFault',
  ) {
    super(message);
  }
}

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, trimValues: true });

function clean(value: unknown): SoapValue | SoapValue[] {
  if (Array.isArray(value)) return value.map((v) => clean(v) as SoapValue);
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  const out: Record<string, SoapValue | SoapValue[]> = {};
  let text: string | undefined;
  let type: string | undefined;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === '#text') text = String(v);
    else if (key === '@_type') type = String(v);
    else if (!key.startsWith('@_')) out[key] = clean(v);
  }
  if (Object.keys(out).length === 0 && text !== undefined) return text;
  // `xsi:type` says which Metadata type a createMetadata/updateMetadata record is.
  if (type !== undefined) out[XSI_TYPE] = type;
  return out;
}

export function parseEnvelope(text: string): SoapRequest {
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text, true) as Record<string, unknown>;
  } catch (error) {
    throw new SoapFault('Client', `Unable to parse the request: ${(error as Error).message.split('\n')[0]}`, 'client');
  }
  const envelope = parsed.Envelope as Record<string, unknown> | undefined;
  const body = envelope?.Body;
  if (!envelope || typeof body !== 'object' || body === null) throw new SoapFault('Client', 'The request is not a SOAP envelope: no soapenv:Body.', 'client');
  const operation = Object.keys(body).find((k) => !k.startsWith('@_'));
  if (!operation) throw new SoapFault('Client', 'The SOAP body names no operation.', 'client');
  const args = clean((body as Record<string, unknown>)[operation]);
  const header = clean(envelope.Header);
  const session = typeof header === 'object' && !Array.isArray(header) ? header.SessionHeader : undefined;
  const options = typeof header === 'object' && !Array.isArray(header) ? header.CallOptions : undefined;
  return {
    operation,
    args: typeof args === 'object' && !Array.isArray(args) ? args : {},
    sessionId: textOf(typeof session === 'object' && !Array.isArray(session) ? session.sessionId : undefined),
    client: textOf(typeof options === 'object' && !Array.isArray(options) ? options.client : undefined),
  };
}

/** The text of a simple element; undefined when absent or structured. */
export function textOf(value: SoapValue | SoapValue[] | undefined): string | undefined {
  if (Array.isArray(value)) return textOf(value[0]);
  return typeof value === 'string' ? value : undefined;
}

/** A repeated element as a list, whether it appeared zero, one or many times. */
export function listOf(value: SoapValue | SoapValue[] | undefined): SoapValue[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function recordOf(value: SoapValue | SoapValue[] | undefined): Record<string, SoapValue | SoapValue[]> {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'object' ? v : {};
}

function namespaceOf(api: SoapApi): string {
  return api === 'partner' ? PARTNER_NS : METADATA_NS;
}

/** `<operation>Response` in the API's envelope, with optional SOAP headers. */
export function responseEnvelope(api: SoapApi, operation: string, content: XmlNode[], headers: XmlNode[] = []): string {
  const header = headers.length ? `<soapenv:Header>${renderCompact(headers)}</soapenv:Header>` : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns="${namespaceOf(api)}" xmlns:xsi="${XSI}">` +
    `${header}<soapenv:Body>${renderCompact([node(`${operation}Response`, content)])}</soapenv:Body></soapenv:Envelope>`
  );
}

export function faultEnvelope(api: SoapApi, fault: SoapFault): string {
  const faultNs = api === 'partner' ? PARTNER_FAULT_NS : METADATA_NS;
  const faultcode = fault.kind === 'client' ? 'soapenv:Client' : `sf:${fault.code}`;
  const faultstring = fault.kind === 'client' ? fault.message : `${fault.code}: ${fault.message}`;
  // The partner WSDL types its faults; the Metadata API sends code and string only.
  const detail =
    fault.kind === 'api' && api === 'partner'
      ? [node('detail', [node(`sf:${fault.detail}`, [node('sf:exceptionCode', fault.code), node('sf:exceptionMessage', fault.message)], { 'xsi:type': `sf:${fault.detail}` })])]
      : [];
  return (
    `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns:sf="${faultNs}" xmlns:xsi="${XSI}">` +
    `<soapenv:Body>${renderCompact([node('soapenv:Fault', [node('faultcode', faultcode), node('faultstring', faultstring), ...detail])])}</soapenv:Body></soapenv:Envelope>`
  );
}
