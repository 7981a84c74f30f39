import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { SalesforceError } from '../org/errors.ts';
import type { Org } from '../org/org.ts';
import { executeSoql } from '../soql/execute.ts';
import type { QueryPlanResult } from '../soql/execute.ts';
import { Utf8Buffer } from '../server/utf8-buffer.ts';
import { errorBody, mountRoutes, RawJson } from './records.ts';
import type { RestRequest, RestResult, RestRoute } from './records.ts';

const DEFAULT_BATCH_SIZE = 2000;
const MIN_BATCH_SIZE = 200;
/**
 * A cursor and its results are available for two days after the query ran (org clock). Since API
 * version 56.0 Salesforce keeps no per-user limit on open cursors, for every API version; before,
 * a user had at most ten and each expired after 15 idle minutes. `settings.queryCursorsPerUser`
 * brings such a limit back for tests that need an evicted cursor.
 */
const CURSOR_LIFETIME_MS = 2 * 86_400_000;

/** Registers `/query` and `/queryAll` with their `nextRecordsUrl` continuations. */
export function registerQueryRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  mountRoutes(app, queryRoutes(ctx));
}

/**
 * The query resources as synchronous routes, shared with Composite. Both continuation routes accept
 * both kinds of cursor: Salesforce's queryAll results point at `/query/…`, and jsforce follows them.
 */
export function queryRoutes(ctx: EmulatorContext): RestRoute[] {
  const org = ctx.org;
  return [
    { method: 'GET', path: '/query', kind: 'query', handler: (req) => startQuery(org, req, false) },
    { method: 'GET', path: '/queryAll', kind: 'query', handler: (req) => startQuery(org, req, true) },
    { method: 'GET', path: '/query/:locator', kind: 'query', handler: (req) => continueQuery(org, req) },
    { method: 'GET', path: '/queryAll/:locator', kind: 'query', handler: (req) => continueQuery(org, req) },
  ];
}

type QueryPlan = Pick<QueryPlanResult, 'count' | 'totalSize' | 'rows' | 'projectRestJson'>;

interface Cursor {
  userId: string;
  plan: QueryPlan;
  openedMs: number;
  /** The next page, printed ahead of its request (see `printAhead`). */
  ahead?: PagePrint;
}

/** A page being printed: its rows' JSON so far, with room in front for the page's head. */
interface PagePrint {
  start: number;
  /** Rows printed so far end here. */
  next: number;
  apiVersion: string;
  out: Utf8Buffer;
  /** For a page printed ahead: the org's read revision when printing began. */
  revision?: number;
}

/**
 * Server-side query cursors. A cursor holds the result rows as they were when the query ran (records
 * are immutable objects, so this is a true snapshot) and projects each page only when it is fetched.
 */
class CursorStore {
  private readonly cursors = new Map<string, Cursor>();

  /** Opens a cursor; with a per-user limit, opening one past it releases the user's oldest. */
  open(userId: string, plan: QueryPlan, nowMs: number, perUser: number | undefined): string {
    this.expire(nowMs);
    if (perUser) {
      const mine = [...this.cursors].filter(([, c]) => c.userId === userId);
      // Map order is opening order, so the first ones are the oldest.
      for (let i = 0; i <= mine.length - perUser; i++) this.cursors.delete(mine[i]![0]);
    }
    const key = newLocatorKey();
    this.cursors.set(key, { userId, plan, openedMs: nowMs });
    return key;
  }

  /** A cursor still open, whoever owns it (no expiry check: printing ahead only reads it). */
  peek(key: string): Cursor | undefined {
    return this.cursors.get(key);
  }

  /** Cursors whose next page is being printed ahead. */
  printingAhead(): number {
    let n = 0;
    for (const cursor of this.cursors.values()) if (cursor.ahead) n++;
    return n;
  }

  take(key: string, userId: string, nowMs: number): Cursor {
    this.expire(nowMs);
    const cursor = this.cursors.get(key);
    if (!cursor || cursor.userId !== userId) throw invalidLocator();
    return cursor;
  }

  close(key: string): void {
    this.cursors.delete(key);
  }

  private expire(nowMs: number): void {
    for (const [key, cursor] of this.cursors) if (nowMs - cursor.openedMs > CURSOR_LIFETIME_MS) this.cursors.delete(key);
  }
}

const stores = new WeakMap<Org, CursorStore>();

function storeFor(org: Org): CursorStore {
  let store = stores.get(org);
  if (!store) {
    store = new CursorStore();
    stores.set(org, store);
  }
  return store;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `01g` (the query locator key prefix) and 15 more characters, the shape of a real cursor ID. */
function newLocatorKey(): string {
  const bytes = randomBytes(15);
  let out = '01g';
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

function invalidLocator(): SalesforceError {
  return new SalesforceError('INVALID_QUERY_LOCATOR', 'invalid query locator');
}

/** `Sforce-Query-Options: batchSize=N`: 200 to 2000; Salesforce may send more, never fewer. */
function batchSize(req: RestRequest): number {
  const header = req.header('Sforce-Query-Options') ?? '';
  const match = /batchSize\s*=\s*(\d+)/i.exec(header);
  if (!match) return DEFAULT_BATCH_SIZE;
  return Math.min(DEFAULT_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, Number(match[1])));
}

function startQuery(org: Org, req: RestRequest, includeDeleted: boolean): RestResult {
  const soql = req.query.get('q');
  if (soql === null || soql.trim() === '') return errorBody(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  const plan: QueryPlan = executeSoql(org.querySource(), soql, { includeDeleted, context: 'rest' });
  if (plan.count !== undefined) return { status: 200, body: { totalSize: plan.count, done: true, records: [] } };
  const size = batchSize(req);
  if (plan.rows.length <= size) return page(org, req, plan, 0, plan.rows.length, undefined);
  const store = storeFor(org);
  const key = store.open(req.session.userId, plan, org.clock.nowMs(), org.settings.queryCursorsPerUser);
  const result = page(org, req, plan, 0, size, key);
  printAhead(org, store, key, size, size, req.apiVersion);
  return result;
}

function continueQuery(org: Org, req: RestRequest): RestResult {
  const match = /^(01g[0-9A-Za-z]{15})-(\d+)$/.exec(req.params.locator ?? '');
  if (!match) throw invalidLocator();
  const key = match[1]!;
  const offset = Number(match[2]);
  const store = storeFor(org);
  const cursor = store.take(key, req.session.userId, org.clock.nowMs());
  if (offset > cursor.plan.rows.length) throw invalidLocator();
  const size = batchSize(req);
  const end = Math.min(cursor.plan.rows.length, offset + size);
  const ahead = cursor.ahead;
  cursor.ahead = undefined;
  if (end >= cursor.plan.rows.length) {
    // The last page releases the cursor: finished queries hold no memory (nor count toward a limit).
    store.close(key);
    return page(org, req, cursor.plan, offset, end, undefined, ahead);
  }
  const result = page(org, req, cursor.plan, offset, end, key, ahead);
  printAhead(org, store, key, end, size, req.apiVersion);
  return result;
}

/** Bytes per row of the pages served so far, per plan, to size the next page's buffer. */
const rowBytes = new WeakMap<QueryPlan, number>();
/** Room for a page's head (`{"totalSize":…,"nextRecordsUrl":…,"records":[`), written last. */
const HEAD_ROOM = 512;

function startPrint(plan: QueryPlan, start: number, end: number, apiVersion: string): PagePrint {
  const perRow = rowBytes.get(plan);
  const capacity = perRow === undefined ? undefined : Math.ceil(perRow * (end - start) * 1.1) + 1024;
  return { start, next: start, apiVersion, out: new Utf8Buffer(capacity, HEAD_ROOM) };
}

/** Prints a page's rows up to `to`, each written as UTF-8 as soon as it is printed (see Utf8Buffer). */
function printRows(plan: QueryPlan, print: PagePrint, to: number): void {
  for (let i = print.next; i < to; i++) {
    if (i > print.start) print.out.writeAscii(0x2c); // ,
    print.out.write(plan.projectRestJson(plan.rows[i]!, print.apiVersion));
    print.next = i + 1;
  }
}

/**
 * A page of rows [start, end). The rows printed ahead for it are used when they were printed for
 * this very request (same first row, same API version, no more rows than asked) from the data and
 * permissions as they still are; otherwise the page is printed now.
 */
function page(org: Org, req: RestRequest, plan: QueryPlan, start: number, end: number, key: string | undefined, ahead?: PagePrint): RestResult {
  const usable = ahead && ahead.start === start && ahead.apiVersion === req.apiVersion && ahead.next <= end && ahead.revision === org.readRevision;
  const print = usable ? ahead : startPrint(plan, start, end, req.apiVersion);
  printRows(plan, print, end);
  const rowsLength = print.out.length;
  if (end > start) rowBytes.set(plan, Math.max(rowBytes.get(plan) ?? 0, rowsLength / (end - start)));
  print.out.write(']}');
  let head = `{"totalSize":${plan.totalSize},"done":${key === undefined}`;
  if (key !== undefined) head += `,"nextRecordsUrl":${JSON.stringify(`/services/data/v${req.apiVersion}/query/${key}-${end}`)}`;
  return { status: 200, body: new RawJson(print.out.bytesAfter(`${head},"records":[`)) };
}

/** Rows printed ahead per turn of the event loop, so that other requests are served in between. */
const AHEAD_SLICE_ROWS = 200;
/** Pages printed ahead at once per org, bounding the memory they hold. */
const MAX_AHEAD = 8;

/**
 * Prints a cursor's next page (rows from `start`, `size` of them, as the client asked for this
 * one) while the client reads this one, a slice per turn of the event loop, so that printing and
 * the client's parsing run at once; the request then finds its page printed (`page`). Printing
 * stops when the cursor is gone, another page was served, or the org's data or permissions changed
 * (formula fields read other records, masks follow permissions: the page would no longer be the
 * one printed on request).
 */
function printAhead(org: Org, store: CursorStore, key: string, start: number, size: number, apiVersion: string): void {
  const cursor = store.peek(key);
  if (!cursor || start >= cursor.plan.rows.length || store.printingAhead() >= MAX_AHEAD) return;
  const until = Math.min(cursor.plan.rows.length, start + size);
  const print: PagePrint = { ...startPrint(cursor.plan, start, until, apiVersion), revision: org.readRevision };
  cursor.ahead = print;
  const step = (): void => {
    if (cursor.ahead !== print || store.peek(key) !== cursor) return;
    if (print.revision !== org.readRevision) {
      cursor.ahead = undefined;
      return;
    }
    try {
      printRows(cursor.plan, print, Math.min(until, print.next + AHEAD_SLICE_ROWS));
    } catch {
      // The request prints the page itself, and answers with the error.
      cursor.ahead = undefined;
      return;
    }
    if (print.next < until) setImmediate(step);
  };
  setImmediate(step);
}
