/** The job log: runs, one run's objects (and a restore's records), and its report as CSV. */
import { createRoute, z } from '@hono/zod-openapi';
import { stringify } from 'csv-stringify/sync';
import { streamSSE } from 'hono/streaming';
import { jobsWithQueued, runLogOf } from '../../backup/index.ts';
import { UsageError } from '../../core/errors.ts';
import { reportCsv, restoreRecords } from '../../restore/index.ts';
import type { ServerApp } from '../app.ts';
import { NotFoundError, requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, jsonResponse, orgOr404 } from './shared.ts';

const RunParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });
const RUN_QUERY = z.object({ errors: z.enum(['true', 'false']).optional().openapi({ description: 'only objects (or restore records) with errors' }) });

export function registerRunRoutes(app: ServerApp, deps: ServerDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs',
      summary: 'The jobs, newest first',
      request: { query: z.object({ org: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }) },
      responses: { 200: jsonResponse('The runs'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'view');
      const { org, limit } = c.req.valid('query');
      const orgId = org ? (await orgOr404(deps.store, org)).orgId : undefined;
      return c.json({ runs: await jobsWithQueued(deps.store, deps.queue, { orgId, limit: limit ?? 50 }) }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/api/runs/{id}', summary: "A job's log: its objects with status codes, causes and fixes; a restore's records", request: { params: RunParam, query: RUN_QUERY }, responses: { 200: jsonResponse('The log'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const errorsOnly = c.req.valid('query').errors === 'true';
      const log = await logOf(deps, c.req.valid('param').id, errorsOnly);
      return c.json(log, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{id}/events',
      summary: 'Server-sent events following a run until it ends: its status, counters and objects as they change (a run in another process too)',
      request: { params: RunParam },
      responses: { 200: { content: { 'text/event-stream': { schema: z.string() } }, description: '`run` events with the log so far; the last one has the final status' }, ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'view');
      const { id } = c.req.valid('param');
      await logOf(deps, id, false);
      const interval = deps.eventIntervalMs ?? 1000;
      return streamSSE(c, async (stream) => {
        let last = '';
        for (let n = 0; !stream.aborted; n++) {
          const log = await logOf(deps, id, false);
          const data = JSON.stringify(log);
          if (data !== last) {
            await stream.writeSSE({ event: 'run', data, id: String(n) });
            last = data;
          }
          if (log.status !== 'Running' && log.status !== 'Queued') return;
          await stream.sleep(interval);
        }
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{id}/report.csv',
      summary: "A job's objects (a restore's records) as CSV, for a spreadsheet",
      request: { params: RunParam, query: RUN_QUERY },
      responses: { 200: { content: { 'text/csv': { schema: z.string() } }, description: 'CSV with a header row' }, ...ERROR_RESPONSES },
    }),
    async (c) => {
      requireAction(c, 'view');
      const { id } = c.req.valid('param');
      const log = await logOf(deps, id, c.req.valid('query').errors === 'true');
      const csv = log.records
        ? reportCsv(log.records, { warnings: true })
        : stringify(log.objects.map((o) => ({ object: o.name, status: o.status, statusCode: o.statusCode ?? '', message: o.message ?? '', cause: o.cause ?? '', fix: o.fix ?? '', ...o.counters })), { header: true });
      c.header('Content-Disposition', `attachment; filename="orgvault-${log.kind}-${id}.csv"`);
      return c.body(csv, 200, { 'Content-Type': 'text/csv; charset=utf-8' });
    },
  );
}

async function logOf(deps: ServerDeps, runId: string, errorsOnly: boolean) {
  try {
    const log = await runLogOf(deps.store, deps.queue, runId, { errorsOnly });
    if (log.kind !== 'restore') return { ...log, records: undefined };
    const records = await restoreRecords(deps.store, runId);
    return { ...log, records: errorsOnly ? records.filter((r) => r.outcome === 'Failed') : records };
  } catch (error) {
    if (error instanceof UsageError && /No run with ID/.test(error.message)) throw new NotFoundError(error.message);
    throw error;
  }
}
