import type { Hono } from 'hono';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { registerIngestJobRoutes } from './ingest-jobs.ts';
import { registerQueryJobRoutes } from './query-jobs.ts';

export { bulkUsage, configureBulk, resetBulkUsage } from './jobs.ts';
export type { BulkAllocation, BulkSettings } from './jobs.ts';

/** Bulk API 2.0 (`/jobs/query`, `/jobs/ingest`), mounted in the authenticated `/services/data/vXX.X` sub-app. */
export function registerBulkRoutes(data: Hono<AppEnv>, ctx: EmulatorContext): void {
  registerQueryJobRoutes(data, ctx);
  registerIngestJobRoutes(data, ctx);
}
