/**
 * Turning what Salesforce answers (REST and Bulk error arrays, OAuth error objects, SOAP faults,
 * the HTML pages its edge serves, dropped connections) into SalesforceApiError with Salesforce's
 * own status code, and deciding which of them are worth another attempt.
 */
import { SalesforceApiError } from '../core/errors.ts';
import { TRANSIENT_STATUS_CODES } from '../core/org-client.ts';

/** Errors worth retrying after a pause; INVALID_QUERY_LOCATOR and REQUEST_LIMIT_EXCEEDED never are. */
const transient = new WeakSet<object>();

export function isTransient(error: unknown): boolean {
  return typeof error === 'object' && error !== null && transient.has(error);
}

/** Codes the backup engine acts on itself: a retry would only waste calls or the cursor. */
const NEVER_RETRIED = new Set(['INVALID_QUERY_LOCATOR', 'REQUEST_LIMIT_EXCEEDED']);

/** Status code and message of an error response body, whichever of Salesforce's shapes it has. */
export function parseErrorBody(httpStatus: number, text: string): { statusCode: string; message: string; soapFault?: boolean } {
  const fault = parseSoapFault(text);
  if (fault) return { ...fault, soapFault: true };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const first = Array.isArray(body) ? (body[0] as unknown) : body;
  if (first && typeof first === 'object') {
    const o = first as Record<string, unknown>;
    if (typeof o.errorCode === 'string') return { statusCode: o.errorCode, message: typeof o.message === 'string' ? o.message : o.errorCode };
    if (typeof o.error === 'string') return { statusCode: o.error, message: typeof o.error_description === 'string' ? o.error_description : o.error };
  }
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  // The identity endpoints answer a dead session with plain text, not the REST error array.
  if (plain === 'Bad_OAuth_Token' || plain === 'Missing_OAuth_Token') return { statusCode: 'INVALID_SESSION_ID', message: plain };
  return { statusCode: `HTTP_${httpStatus}`, message: plain.slice(0, 300) || `HTTP ${httpStatus}` };
}

/**
 * A SOAP 1.1 fault (`<soapenv:Fault>`): the API's exception code from `faultcode` (`sf:INVALID_SESSION_ID`)
 * or the detail's `exceptionCode`, the message from `faultstring` without its `CODE: ` prefix.
 */
function parseSoapFault(text: string): { statusCode: string; message: string } | undefined {
  if (!text.trimStart().startsWith('<') || !/<(?:[\w-]+:)?Fault[\s>]/.test(text)) return undefined;
  const element = (name: string): string | undefined => {
    const m = new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`).exec(text);
    return m ? unescapeXml(m[1]!.trim()) : undefined;
  };
  const faultcode = element('faultcode');
  const code = element('exceptionCode') ?? faultcode?.replace(/^[\w-]+:/, '');
  if (!code) return undefined;
  const faultstring = element('faultstring') ?? element('exceptionMessage') ?? code;
  const message = faultstring.startsWith(`${code}: `) ? faultstring.slice(code.length + 2) : faultstring;
  return { statusCode: code, message };
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (entity, name: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
    if (name[0] !== '#') return named[name.toLowerCase()] ?? entity;
    return String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
  });
}

export function apiError(httpStatus: number, text: string, what: string): SalesforceApiError {
  const { statusCode, message, soapFault } = parseErrorBody(httpStatus, text);
  const error = new SalesforceApiError(statusCode, `${message} (${what}, HTTP ${httpStatus})`);
  // Every SOAP fault comes with HTTP 500, so only its code says whether it is transient.
  const serverSide = !soapFault && httpStatus >= 500;
  if (!NEVER_RETRIED.has(statusCode) && (serverSide || TRANSIENT_STATUS_CODES.includes(statusCode))) transient.add(error);
  return error;
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED']);

/** A failure of the connection itself (reset, refused, timed out, cut mid-body), not an answer. */
export function isNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, code, message } = e as { name?: unknown; code?: unknown; message?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (typeof message === 'string' && /fetch failed|socket hang up|terminated|other side closed|ECONNRESET/i.test(message)) return true;
  }
  return false;
}

/** A network failure that outlived its retries, as a SalesforceApiError the engine can report. */
export function networkError(error: unknown, what: string): SalesforceApiError {
  const timeout = (error as { name?: unknown }).name === 'TimeoutError';
  return new SalesforceApiError(timeout ? 'REQUEST_TIMEOUT' : 'CONNECTION_ERROR', `${describeNetworkError(error)} (${what})`, { cause: error });
}

export function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const text = typeof code === 'string' ? code : typeof message === 'string' ? message : '';
    if (text && !parts.includes(text)) parts.push(text);
  }
  return parts.join(': ') || String(error);
}

/** Whether a failed attempt deserves another: transient answers and network failures. */
export function shouldRetry(error: unknown): boolean {
  return isTransient(error) || isNetworkError(error);
}

/** Failures to connect at all: the request never left, so it cannot have been processed. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

function isConnectFailure(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code } = e as { code?: unknown };
    if (typeof code === 'string' && CONNECT_CODES.has(code)) return true;
  }
  return false;
}

/**
 * Whether a request that creates data may be sent again: only when it surely was not processed.
 * Salesforce rolls a request back when it answers with a transient status (UNABLE_TO_LOCK_ROW…),
 * and a 503 is served instead of the request; a failure to connect never sent it. A reset, a
 * timeout or a 500, 502 or 504 from the edge may come after Salesforce committed the records.
 */
export function shouldResend(error: unknown): boolean {
  if (error instanceof SalesforceApiError) return isTransient(error) && (TRANSIENT_STATUS_CODES.includes(error.statusCode) || error.statusCode === 'HTTP_503');
  return isConnectFailure(error);
}
