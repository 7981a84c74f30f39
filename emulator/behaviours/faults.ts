/**
 * Injected faults, for reliability tests: per endpoint pattern, error responses (some with the
 * HTML pages Salesforce's edge serves), latency, dropped connections, sessions revoked or expired
 * mid-run, REQUEST_LIMIT_EXCEEDED, query cursors expiring early, QUERY_TIMEOUT, and Bulk jobs that
 * fail or never finish. Whether a call is hit depends only on the fault's seed and the call's
 * position among the calls the fault matched, so a seed fails the same calls every run.
 */
import type { Org } from '../org/org.ts';
import { draw } from './rules.ts';
import { SpecError, checkKeys, oneOf, optionalInteger, optionalNumber, optionalString, seedOf } from './spec.ts';
import type { Spec } from './spec.ts';

export const FAULT_KINDS = ['error', 'latency', 'drop', 'revokeSessions', 'expireSessions', 'requestLimit', 'invalidQueryLocator', 'queryTimeout', 'bulkJob'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What the middleware does for one call. */
export type FaultEffect =
  | { type: 'respond'; status: number; body: string; contentType: string }
  | { type: 'drop' }
  | { type: 'revokeSessions' }
  | { type: 'expireSessions' };

interface Pattern {
  method: string | undefined;
  segments: string[];
  /** Without a trailing `$`, a pattern matches the paths it is a prefix of. */
  exact: boolean;
}

interface Fault {
  name: string;
  kind: FaultKind;
  spec: Spec;
  pattern: Pattern | undefined;
  rate: number;
  seed: string | number;
  after: number | undefined;
  every: number | undefined;
  times: number | undefined;
  calls: number;
  fired: number;
  /** Query locators this fault expired: they stay expired, as a real cursor would. */
  expired: Set<string>;
}

const states = new WeakMap<Org, Map<string, Fault>>();

function faultsOf(org: Org): Map<string, Fault> {
  let faults = states.get(org);
  if (!faults) {
    faults = new Map();
    states.set(org, faults);
  }
  return faults;
}

// ------------------------------------------------------------------------------------ specs

const DEFAULT_MATCH: Partial<Record<FaultKind, string>> = {
  invalidQueryLocator: 'GET /services/data/*/query/*',
  queryTimeout: 'GET /services/data/*/query',
};

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** A method (or `*`) and a path: a `*` or `:name` segment matches any one segment, `**` all the rest. */
function parsePattern(text: string): Pattern {
  const parts = text.trim().split(/\s+/);
  if (parts.length > 2) throw new SpecError('match', '"match" is "METHOD /path" or "/path".');
  const [method, path] = parts.length === 2 ? [parts[0]!.toUpperCase(), parts[1]!] : [undefined, parts[0]!];
  if (method !== undefined && method !== '*' && !METHODS.includes(method)) throw new SpecError('match', `Unknown method "${method}".`);
  if (!path.startsWith('/')) throw new SpecError('match', 'The path of "match" starts with "/".');
  const exact = path.endsWith('$');
  const segments = (exact ? path.slice(0, -1) : path).split('/').filter((s) => s !== '');
  return { method: method === '*' ? undefined : method, segments, exact };
}

function matches(pattern: Pattern, method: string, segments: string[]): boolean {
  if (pattern.method && pattern.method !== method) return false;
  for (let i = 0; i < pattern.segments.length; i++) {
    const p = pattern.segments[i]!;
    if (p === '**') return true;
    const s = segments[i];
    if (s === undefined) return false;
    if (p !== '*' && !p.startsWith(':') && p !== s) return false;
  }
  return !pattern.exact || segments.length === pattern.segments.length;
}

const KEYS: Record<FaultKind, string[]> = {
  error: ['status', 'body', 'contentType', 'rate'],
  latency: ['ms', 'minMs', 'maxMs', 'rate'],
  drop: ['rate'],
  revokeSessions: ['after', 'every'],
  expireSessions: ['after', 'every'],
  requestLimit: ['after'],
  invalidQueryLocator: ['rate'],
  queryTimeout: ['rate'],
  bulkJob: ['mode', 'object', 'operation', 'rate'],
};

function parseFault(raw: unknown): Fault {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('', 'A fault must be a JSON object with a "kind".');
  const spec = raw as Spec;
  const kind = oneOf(spec, 'kind', FAULT_KINDS);
  checkKeys(spec, ['kind', 'name', 'match', 'seed', 'times', ...KEYS[kind]]);
  const matchText = optionalString(spec, 'match') ?? DEFAULT_MATCH[kind];
  if (!matchText && kind !== 'bulkJob') throw new SpecError('match', '"match" is required: "METHOD /path", e.g. "GET /services/data/*/query".');
  const pattern = matchText ? parsePattern(matchText) : undefined;
  const after = optionalInteger(spec, 'after', 0, Number.MAX_SAFE_INTEGER);
  const every = optionalInteger(spec, 'every', 1, Number.MAX_SAFE_INTEGER);
  if ((kind === 'revokeSessions' || kind === 'expireSessions') && after === undefined && every === undefined) {
    throw new SpecError('after', `"${kind}" needs "after" (calls before it happens once) or "every".`);
  }
  if (kind === 'requestLimit' && after === undefined) throw new SpecError('after', '"requestLimit" needs "after": the calls allowed before the limit is hit.');
  if (kind === 'error') {
    const status = optionalInteger(spec, 'status', 400, 599);
    if (status === undefined) throw new SpecError('status', '"status" is required, e.g. 500, 502 or 503.');
    if (spec.body !== undefined && typeof spec.body !== 'string') throw new SpecError('body', '"body" is "json", "html" or the body text.');
  }
  if (kind === 'latency') {
    const ms = optionalNumber(spec, 'ms', 0, 600_000);
    const min = optionalNumber(spec, 'minMs', 0, 600_000);
    const max = optionalNumber(spec, 'maxMs', 0, 600_000);
    if (ms === undefined && (min === undefined || max === undefined)) throw new SpecError('ms', 'Give "ms" (fixed) or "minMs" and "maxMs" (uniform).');
    if (min !== undefined && max !== undefined && max < min) throw new SpecError('maxMs', '"maxMs" must be at least "minMs".');
  }
  if (kind === 'bulkJob') oneOf(spec, 'mode', ['fail', 'hang'] as const);
  const rate = optionalNumber(spec, 'rate', 0, 1) ?? 1;
  const name = optionalString(spec, 'name') ?? `${kind}${matchText ? ` ${matchText}` : ''}`;
  const normalized: Spec = { ...spec, name, seed: seedOf(spec) };
  if (matchText) normalized.match = matchText;
  if (KEYS[kind].includes('rate')) normalized.rate = rate;
  return {
    name,
    kind,
    spec: normalized,
    pattern,
    rate,
    seed: seedOf(spec),
    after,
    every,
    times: optionalInteger(spec, 'times', 1, Number.MAX_SAFE_INTEGER),
    calls: 0,
    fired: 0,
    expired: new Set(),
  };
}

/** Adds faults (one spec or a list), replacing those of the same name; all are checked first. */
export function addFaults(org: Org, specs: unknown): Spec[] {
  const list = Array.isArray(specs) ? specs : [specs];
  const parsed = list.map((raw, i) => {
    try {
      return parseFault(raw);
    } catch (error) {
      throw error instanceof SpecError ? error.under(Array.isArray(specs) ? `[${i}]` : '') : error;
    }
  });
  const faults = faultsOf(org);
  for (const fault of parsed) {
    faults.delete(fault.name);
    faults.set(fault.name, fault);
  }
  return parsed.map(listing);
}

function listing(fault: Fault): Spec {
  return { ...fault.spec, calls: fault.calls, fired: fault.fired };
}

/** The org's faults with how many calls each matched and how often it fired. */
export function listFaults(org: Org): Spec[] {
  return [...(states.get(org)?.values() ?? [])].map(listing);
}

export function removeFault(org: Org, name: string): boolean {
  return states.get(org)?.delete(name) ?? false;
}

export function clearFaults(org: Org): void {
  states.get(org)?.clear();
}

// ------------------------------------------------------------------------------------ evaluation

/**
 * What a Bulk job should do, for the Bulk API module to read when it runs a job: `'fail'` (the job
 * ends Failed), `'hang'` (it stays InProgress and never finishes) or undefined (run normally).
 * Configured with `{"kind":"bulkJob","mode":"fail"|"hang","object"?,"operation"?,"rate"?}`; with a
 * rate, whether a job is hit is drawn per job, in the order jobs ask.
 */
export function bulkJobFault(org: Org, job: { object?: string; operation?: string } = {}): 'fail' | 'hang' | undefined {
  for (const fault of states.get(org)?.values() ?? []) {
    if (fault.kind !== 'bulkJob' || exhausted(fault)) continue;
    const object = fault.spec.object as string | undefined;
    const operation = fault.spec.operation as string | undefined;
    if (object && job.object && object.toLowerCase() !== job.object.toLowerCase()) continue;
    if (operation && job.operation && operation.toLowerCase() !== job.operation.toLowerCase()) continue;
    const n = fault.calls++;
    if (fault.rate < 1 && draw(fault.seed, fault.name, n) >= fault.rate) continue;
    fault.fired++;
    return fault.spec.mode as 'fail' | 'hang';
  }
  return undefined;
}

function exhausted(fault: Fault): boolean {
  return fault.times !== undefined && fault.fired >= fault.times;
}

/** The latency to add to a call, in ms, and the fault to apply instead of answering, if any. */
export function faultsFor(org: Org, method: string, path: string): { delayMs: number; effect: FaultEffect | undefined } {
  const faults = states.get(org);
  if (!faults?.size) return { delayMs: 0, effect: undefined };
  const segments = path.split('/').filter((s) => s !== '');
  let delayMs = 0;
  let effect: FaultEffect | undefined;
  for (const fault of faults.values()) {
    if (fault.kind === 'bulkJob' || !fault.pattern || !matches(fault.pattern, method, segments)) continue;
    const n = fault.calls++;
    if (exhausted(fault)) continue;
    if (fault.kind === 'latency') {
      if (!hit(fault, n)) continue;
      fault.fired++;
      delayMs += latency(fault, n);
      continue;
    }
    // Every matching fault counts the call; the first one that fires decides what happens.
    if (effect) continue;
    effect = decide(fault, n, segments);
    if (effect) fault.fired++;
  }
  return { delayMs, effect };
}

function hit(fault: Fault, n: number): boolean {
  return fault.rate >= 1 || draw(fault.seed, fault.name, n) < fault.rate;
}

function latency(fault: Fault, n: number): number {
  const ms = fault.spec.ms as number | undefined;
  if (ms !== undefined) return ms;
  const min = fault.spec.minMs as number;
  const max = fault.spec.maxMs as number;
  return Math.round(min + draw(fault.seed, `${fault.name}\u0000latency`, n) * (max - min));
}

/** Whether the n-th call (0-based) is one that `after`/`every` name. */
function scheduled(fault: Fault, n: number): boolean {
  if (fault.after !== undefined && n === fault.after) return true;
  return fault.every !== undefined && (n + 1) % fault.every === 0 && (fault.after === undefined || n >= fault.after);
}

function decide(fault: Fault, n: number, segments: string[]): FaultEffect | undefined {
  switch (fault.kind) {
    case 'error':
      return hit(fault, n) ? errorResponse(fault, n) : undefined;
    case 'drop':
      return hit(fault, n) ? { type: 'drop' } : undefined;
    case 'revokeSessions':
    case 'expireSessions':
      return scheduled(fault, n) ? { type: fault.kind } : undefined;
    case 'requestLimit':
      return n >= fault.after! ? json(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.') : undefined;
    case 'queryTimeout':
      return hit(fault, n) ? json(400, 'QUERY_TIMEOUT', 'Your query request was running for too long.') : undefined;
    case 'invalidQueryLocator': {
      const key = /^(01g[0-9A-Za-z]{15})-\d+$/.exec(segments[segments.length - 1] ?? '')?.[1];
      if (!key) return undefined;
      if (!fault.expired.has(key)) {
        if (!hit(fault, n)) return undefined;
        fault.expired.add(key);
      }
      return json(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    default:
      return undefined;
  }
}

function json(status: number, errorCode: string, message: string): FaultEffect {
  return { type: 'respond', status, body: JSON.stringify([{ message, errorCode }]), contentType: 'application/json;charset=UTF-8' };
}

function errorResponse(fault: Fault, n: number): FaultEffect {
  const status = fault.spec.status as number;
  const body = (fault.spec.body as string | undefined) ?? (status === 502 || status === 503 || status === 504 ? 'html' : 'json');
  if (body === 'json') {
    if (status >= 500) {
      const r = draw(fault.seed, `${fault.name}\u0000errorId`, n);
      const errorId = `${1_000_000_000 + Math.floor(r * 1_000_000_000)}-${10_000 + Math.floor(r * 90_000)} (${-(100_000_000 + Math.floor(r * 900_000_000))})`;
      return json(status, 'UNKNOWN_EXCEPTION', `An unexpected error occurred. Please include this ErrorId if you contact support: ${errorId}`);
    }
    return json(status, 'INVALID_REQUEST', 'The request could not be processed.');
  }
  if (body === 'html') return { type: 'respond', status, body: edgePage(status), contentType: 'text/html' };
  const contentType = (fault.spec.contentType as string | undefined) ?? (body.trimStart().startsWith('<') ? 'text/html;charset=UTF-8' : body.trimStart().startsWith('[') || body.trimStart().startsWith('{') ? 'application/json;charset=UTF-8' : 'text/plain;charset=UTF-8');
  return { type: 'respond', status, body, contentType };
}

const REASONS: Record<number, [string, string]> = {
  502: ['Bad Gateway', 'The server, while acting as a gateway or proxy, received an invalid response from the upstream server.'],
  503: ['Service Unavailable', 'The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.'],
  504: ['Gateway Timeout', 'The server, while acting as a gateway or proxy, did not receive a timely response from the upstream server.'],
};

/** An error page of the kind Salesforce's edge and CDN serve in front of an instance: HTML, not JSON. */
function edgePage(status: number): string {
  const [title, text] = REASONS[status] ?? ['Error', 'An error occurred while processing your request.'];
  return (
    '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8">\n' +
    `<title>${title}</title>\n</head>\n<body>\n<h1>${title}</h1>\n<p>${text}</p>\n` +
    '<p>This error originated from Salesforce edge.</p>\n</body>\n</html>\n'
  );
}
