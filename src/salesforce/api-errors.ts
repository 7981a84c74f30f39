/**
 * Turning what Salesforce answers (REST and Bulk error arrays, OAuth error objects, the HTML pages
 * its edge serves, dropped connections) into SalesforceApiError with Salesforce's own status code,
 * and deciding which of them are worth another attempt.
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
export function parseErrorBody(httpStatus: number, text: string): { statusCode: string; message: string } {
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

export function apiError(httpStatus: number, text: string, what: string): SalesforceApiError {
  const { statusCode, message } = parseErrorBody(httpStatus, text);
  const error = new SalesforceApiError(statusCode, `${message} (${what}, HTTP ${httpStatus})`);
  if (!NEVER_RETRIED.has(statusCode) && (httpStatus >= 500 || TRANSIENT_STATUS_CODES.includes(statusCode))) transient.add(error);
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
