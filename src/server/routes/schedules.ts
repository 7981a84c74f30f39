/** An org's schedules through the API: read them with their next run, set and clear them. */
import { createRoute, z } from '@hono/zod-openapi';
import { SCHEDULED_JOBS, clearSchedule, scheduleViews, setSchedule } from '../../schedule/index.ts';
import type { ServerApp } from '../app.ts';
import { requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, OrgParam, jsonResponse, orgOr404 } from './shared.ts';

const JobParam = OrgParam.extend({ job: z.enum(SCHEDULED_JOBS as [string, ...string[]]).openapi({ param: { name: 'job', in: 'path' }, example: 'backup' }) });

/** One kind of rule, as `orgvault schedule set` takes it; the use case checks the values and says what is wrong. */
const ScheduleBody = z
  .object({
    daily: z.string().openapi({ example: '02:00' }),
    perDay: z.number().int(),
    start: z.string(),
    continuous: z.boolean(),
    every: z.number().int(),
    cron: z.string().openapi({ example: '0 2 * * 1-5' }),
    everyDays: z.number().int(),
    everyMonths: z.number().int(),
    timeZone: z.string().openapi({ example: 'Europe/Paris' }),
    cycleDays: z.number().int(),
    objects: z.array(z.string()),
  })
  .partial()
  .strict();

export function registerScheduleRoutes(app: ServerApp, deps: ServerDeps): void {
  const now = (): number => (deps.now ?? Date.now)();

  app.openapi(
    createRoute({ method: 'get', path: '/api/orgs/{name}/schedules', summary: "The org's schedules, each with its next run (ISO), last run and backup cycle", request: { params: OrgParam }, responses: { 200: jsonResponse('The schedules'), ...ERROR_RESPONSES } }),
    async (c) => {
      requireAction(c, 'view');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      return c.json({ schedules: await scheduleViews(deps.store, org, now()) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/orgs/{name}/schedules/{job}',
      summary: "Sets the org's schedule of a job (backup or permissions), replacing the one it had; bad values are refused with the reason",
      request: { params: JobParam, body: { content: { 'application/json': { schema: ScheduleBody } }, required: true } },
      responses: { 200: jsonResponse('The schedule now'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'settings');
      const { name, job } = c.req.valid('param');
      const org = await orgOr404(deps.store, name);
      await setSchedule({ store: deps.store, audit: deps.store, actor: caller.user.name, now: deps.now }, org, { ...c.req.valid('json'), job: job as (typeof SCHEDULED_JOBS)[number] });
      const view = (await scheduleViews(deps.store, org, now())).find((v) => v.job === job);
      return c.json(view ?? null, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'delete', path: '/api/orgs/{name}/schedules/{job}', summary: "Removes the org's schedule of a job", request: { params: JobParam }, responses: { 200: jsonResponse('Whether there was one'), ...ERROR_RESPONSES } }),
    async (c) => {
      const caller = requireAction(c, 'settings');
      const { name, job } = c.req.valid('param');
      const org = await orgOr404(deps.store, name);
      return c.json({ cleared: await clearSchedule({ store: deps.store, audit: deps.store, actor: caller.user.name, now: deps.now }, org, job as (typeof SCHEDULED_JOBS)[number]) }, 200);
    },
  );
}
