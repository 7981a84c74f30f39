/**
 * Every request orgvault makes to an org goes through here, with fetch: the session's bearer token,
 * retries with backoff, one re-login when Salesforce says the session is gone, errors as
 * SalesforceApiError, and the count of calls Salesforce charges to DailyApiRequests. jsforce's own
 * request layer is not used because its retries, refreshes and errors are opaque to this count.
 */
import { AuthenticationError, SalesforceApiError } from '../core/errors.ts';
import type { ApiUsage } from '../core/org-client.ts';
import { apiError, isNetworkError, networkError, parseErrorBody, shouldResend, shouldRetry } from './api-errors.ts';
import type { Login, Session } from './auth.ts';
import { withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

/**
 * A body sent as it is (XML, CSV, multipart), its Content-Type given in `headers`. A list of chunks
 * is streamed in order with their total as Content-Length, without joining them into one copy.
 */
export type RawBody = string | Uint8Array | readonly Uint8Array[];

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /**
   * Sent instead of `body`. A function builds it for each attempt from the session of that attempt,
   * for bodies that carry the session themselves (SOAP's SessionHeader), so a renewed session is
   * sent after a re-login.
   */
  rawBody?: RawBody | ((session: Session) => RawBody);
  headers?: Record<string, string>;
  /**
   * false for requests that create data (a create, a Bulk upload): such a request is sent again only
   * when it surely was not processed (the connection was never made, or Salesforce answered with a
   * transient status, after which it has rolled back). Any other failure, once the request may
   * have reached Salesforce, is raised at once (a dropped connection as CONNECTION_ERROR, a time
   * limit as REQUEST_TIMEOUT), since sending it again could create the records twice. True unless
   * given.
   */
  idempotent?: boolean;
  /**
   * Error statuses whose answer `read` takes as a result rather than raising it: a one-record
   * write reports the record's own failure as a 400. `read` may still throw (apiError) to raise it.
   */
  resultStatuses?: readonly number[];
}

/** The client name Salesforce (and the emulator's statistics) attribute the calls to. */
const CALL_OPTIONS = 'client=orgvault';

/** The session one login gave, shared by a client and its scoped views, and renewed for all. */
export class SharedSession {
  current: Session;
  private renewing: Promise<Session> | undefined;

  constructor(
    private readonly login: Login,
    private readonly log: (line: string) => void,
  ) {
    this.current = login.session;
  }

  /**
   * Logs in again, once for all the calls that found `stale` dead at the same time. Raises
   * AuthenticationError when the flow cannot log in unattended.
   */
  async renew(stale: Session): Promise<void> {
    if (this.current !== stale) return;
    if (!this.login.renew) throw new AuthenticationError(this.login.cannotRenew);
    if (!this.renewing) {
      this.log('The session expired or was revoked; logging in again');
      this.renewing = this.login.renew().finally(() => {
        this.renewing = undefined;
      });
    }
    this.current = await this.renewing;
  }
}

export class OrgHttp {
  readonly apiVersion: string;
  /** This view's usage last; the views it was scoped from before it, each charged too. */
  private readonly meters: ApiUsage[];

  constructor(
    private readonly shared: SharedSession,
    apiVersion: string,
    readonly retry: RetryPolicy,
    readonly log: (line: string) => void,
    parents: ApiUsage[] = [],
  ) {
    this.apiVersion = apiVersion;
    this.meters = [...parents, { calls: 0, bulkQueryJobs: 0, orgUsed: null, orgMax: null }];
  }

  /** A view on the same session whose own usage counts only the calls made through it. */
  scoped(): OrgHttp {
    return new OrgHttp(this.shared, this.apiVersion, this.retry, this.log, this.meters);
  }

  get instanceUrl(): string {
    return this.shared.current.instanceUrl;
  }

  /** `/services/data/vXX.X` followed by `path`. */
  dataPath(path: string): string {
    return `/services/data/v${this.apiVersion}${path}`;
  }

  usage(): ApiUsage {
    return { ...this.meters[this.meters.length - 1]! };
  }

  countBulkJob(): void {
    for (const meter of this.meters) meter.bulkQueryJobs++;
  }

  /** A JSON request; `path` is absolute on the instance (`/services/…`). 204 gives undefined. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return this.send(method, path, options, 'application/json', async (response) => {
      const text = await response.text();
      return (text === '' ? undefined : JSON.parse(text)) as T;
    });
  }

  /**
   * A request whose successful response `read` consumes. Network failures, 5xx and transient
   * statuses are retried (`read` included, so a body cut mid-way is fetched again); a dead session
   * is renewed once per call.
   */
  async send<T>(method: string, path: string, options: RequestOptions, accept: string, read: (response: Response) => Promise<T>, streaming = false): Promise<T> {
    const what = `${method} ${path.split('?')[0]}`;
    const soap = isSoapPath(path);
    let renewed = false;
    try {
      return await withRetry(
        this.retry,
        async () => {
          for (;;) {
            const session = this.shared.current;
            // The time limit covers the whole exchange, or only the wait for the answer's headers
            // when the caller streams a body of any length.
            const controller = new AbortController();
            const timer = setTimeout(() => controller.abort(new DOMException(`No answer within ${this.retry.timeoutMs} ms`, 'TimeoutError')), this.retry.timeoutMs);
            let response: Response | undefined;
            try {
              const headers = this.headers(session, accept, options);
              response = await fetch(`${session.instanceUrl}${path}`, { method, headers, ...requestBody(options, session, headers), signal: controller.signal });
              if (streaming) clearTimeout(timer);
              // A SOAP fault is charged or not by its code, known once its body is read.
              if (!soap || response.ok) this.account(path, response);
              if (response.ok || options.resultStatuses?.includes(response.status)) return await read(response);
            } finally {
              if (!streaming || response === undefined) clearTimeout(timer);
            }
            const text = await response.text();
            const error = apiError(response.status, text, what);
            if (soap) this.account(path, response, parseErrorBody(response.status, text).soapFault ? error.statusCode : undefined);
            if (response.status === 401 || error.statusCode === 'INVALID_SESSION_ID') {
              if (renewed) throw new AuthenticationError(`Salesforce rejected the session right after logging in again (${error.message}). Check that the integration user may use the API.`, { cause: error });
              renewed = true;
              await this.shared.renew(session);
              continue;
            }
            throw error;
          }
        },
        options.idempotent === false ? shouldResend : shouldRetry,
        (error, attempt, delay) => this.log(`${what} failed (${describe(error)}); attempt ${attempt + 1} of ${this.retry.attempts} in ${delay} ms`),
      );
    } catch (error) {
      if (isNetworkError(error)) throw networkError(error, what);
      throw error;
    }
  }

  /** A successful response with its body unread, for the caller to stream. */
  open(method: string, path: string, accept: string, options: RequestOptions = {}): Promise<Response> {
    return this.send(method, path, options, accept, (response) => Promise.resolve(response), true);
  }

  headers(session: Session, accept: string, options: RequestOptions = {}): Record<string, string> {
    return {
      authorization: `Bearer ${session.accessToken}`,
      accept,
      'sforce-call-options': CALL_OPTIONS,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    };
  }

  /**
   * Salesforce charges the calls it answers under /services/data (error answers too) and says so
   * in `Sforce-Limit-Info`; OAuth, identity and dropped connections are free. SOAP API calls
   * (/services/Soap/) count against DailyApiRequests too, though Salesforce reports that in the
   * envelope's LimitInfoHeader (see `reportOrgUsage`) rather than in an HTTP header: a SOAP answer
   * is charged, a fault too unless it refused the call before running it (`soapFault`, its code).
   */
  account(path: string, response: Response, soapFault?: string): void {
    const info = response.headers.get('sforce-limit-info');
    const data = path.startsWith('/services/data/v');
    const soap = isSoapPath(path);
    const counted = info !== null || ((data || soap) && response.ok) || (soap && soapFault !== undefined && !UNCHARGED_SOAP_FAULTS.has(soapFault));
    const match = info === null ? null : /(?:^|[\s,;])api-usage=(\d+)\/(\d+)/.exec(info);
    for (const meter of this.meters) {
      if (counted) meter.calls++;
      if (match) {
        meter.orgUsed = Number(match[1]);
        meter.orgMax = Number(match[2]);
      }
    }
  }

  /** The org's DailyApiRequests usage as an answer reported it other than in `Sforce-Limit-Info`. */
  reportOrgUsage(used: number, max: number): void {
    for (const meter of this.meters) {
      meter.orgUsed = used;
      meter.orgMax = max;
    }
  }
}

/** SOAP faults that refuse a call before it runs, which Salesforce does not charge. */
const UNCHARGED_SOAP_FAULTS = new Set(['INVALID_SESSION_ID', 'REQUEST_LIMIT_EXCEEDED', 'UNSUPPORTED_API_VERSION', 'Client']);

function isSoapPath(path: string): boolean {
  return path.startsWith('/services/Soap/');
}

/** The fetch options that carry the request's body, for this attempt's session. */
function requestBody(options: RequestOptions, session: Session, headers: Record<string, string>): { body?: string | Uint8Array | ReadableStream<Uint8Array>; duplex?: 'half' } {
  if (options.rawBody === undefined) return options.body === undefined ? {} : { body: JSON.stringify(options.body) };
  const raw = typeof options.rawBody === 'function' ? options.rawBody(session) : options.rawBody;
  if (typeof raw === 'string' || raw instanceof Uint8Array) return { body: raw };
  const chunks = raw as readonly Uint8Array[];
  headers['content-length'] = String(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < chunks.length) controller.enqueue(chunks[next++]!);
      else controller.close();
    },
  });
  // fetch streams a body only half-duplex; the Content-Length set above replaces chunked encoding.
  return { body: stream, duplex: 'half' };
}

function describe(error: unknown): string {
  if (error instanceof SalesforceApiError) return error.message;
  return error instanceof Error ? `${error.message}${(error.cause as { code?: string })?.code ? ` ${(error.cause as { code: string }).code}` : ''}` : String(error);
}
