/**
 * Exports from the API and the dashboard: into a folder of the server (`<vault>/exports/<runId>/`,
 * run in the background and followed in the job log), or streamed back as an AES-256 zip
 * download. The export command's options, by the same names (see `orgvault export --help`);
 * everything is checked before the run starts, so a bad request is a 400 and no run.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createRoute, z } from '@hono/zod-openapi';
import { exportRequestOf, formatOf } from '../../export/request.ts';
import type { ExportFlags } from '../../export/request.ts';
import { UsageError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { FORMAT_NAMES, MIN_ZIP_PASSWORD, SQL_DIALECTS, folderTarget, planExport, runExport, zipStreamTarget } from '../../export/index.ts';
import type { ExportPlan, ExportTarget } from '../../export/index.ts';
import type { ServerApp } from '../app.ts';
import { requireAction } from '../app.ts';
import type { ServerDeps } from '../context.ts';
import { ERROR_RESPONSES, OrgParam, jsonResponse, orgOr404 } from './shared.ts';

/** The export command's options (see `orgvault export --help`). */
export const ExportBody = z.object({
  objects: z.array(z.string().min(1)).optional().openapi({ description: 'API names; none: every object with records in the vault', example: ['Account', 'Contact'] }),
  format: z.enum(FORMAT_NAMES).default('csv'),
  dialect: z.enum(SQL_DIALECTS as [string, ...string[]]).optional().openapi({ description: 'with format sql (default postgres)' }),
  asOf: z.string().optional().openapi({ description: 'each record as it was at this ISO-8601 time (default: the latest state)' }),
  allVersions: z.boolean().default(false),
  sinceLastExport: z.boolean().default(false),
  sinceRun: z.string().optional().openapi({ description: 'the versions this backup run captured' }),
  includeDeleted: z.boolean().default(false),
  files: z.boolean().default(false).openapi({ description: 'also the file bodies (ContentVersion, Attachment, Document)' }),
});
export type ExportInput = z.infer<typeof ExportBody>;

const ZipBody = ExportBody.extend({ password: z.string().min(MIN_ZIP_PASSWORD).openapi({ description: `the zip's password (AES-256), at least ${MIN_ZIP_PASSWORD} characters` }) });

export function flagsOf(body: ExportInput): ExportFlags {
  return {
    object: body.objects?.length ? body.objects : undefined,
    format: body.format,
    dialect: body.format === 'sql' ? body.dialect : undefined,
    asOf: body.asOf || undefined,
    allVersions: body.allVersions,
    sinceLastExport: body.sinceLastExport,
    sinceRun: body.sinceRun || undefined,
    includeDeleted: body.includeDeleted,
    files: body.files,
  };
}

/** An export of this org is already running here: one at a time per org. */
export class ExportRunningError extends UsageError {
  constructor(org: OrgRegistration, readonly runId: string) {
    super(`An export of ${org.name} is running (run ${runId}): wait for it to end.`);
  }
}

interface Prepared {
  plan: ExportPlan;
  flags: ExportFlags;
  /** The org's last export here, seen ended. */
  ended: string | undefined;
}

/** The exports this server runs, one per org at a time. */
export class ServerExports {
  private readonly running = new Map<string, string>();

  constructor(private readonly deps: ServerDeps) {}

  /** Checks an export and starts it into `<exportsDir>/<runId>/`; answers once the run is in the log. */
  async toFolder(org: OrgRegistration, flags: ExportFlags, startedBy: string): Promise<{ runId: string; location: string }> {
    if (!this.deps.exportsDir) throw new UsageError('This server has no exports folder: download the export as a zip instead.');
    const prepared = await this.prepare(org, flags);
    const runId = randomUUID();
    const target = await folderTarget(join(this.deps.exportsDir, runId));
    await this.start(org, prepared, target, runId, startedBy);
    return { runId, location: target.location };
  }

  /** Checks an export and starts it into an AES-256 zip streamed as it is written. */
  async toZip(org: OrgRegistration, flags: ExportFlags, password: string, startedBy: string): Promise<{ runId: string; body: ReadableStream<Uint8Array> }> {
    const prepared = await this.prepare(org, flags);
    const runId = randomUUID();
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const target = zipStreamTarget(writable, password, `download of ${downloadName(org, this.now())}`);
    await this.start(org, prepared, target, runId, startedBy);
    return { runId, body: readable };
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private async prepare(org: OrgRegistration, flags: ExportFlags): Promise<Prepared> {
    // A run that has ended (its status written) no longer holds the org, though its promise may not have settled yet.
    const runId = this.running.get(org.orgId);
    if (runId && (await this.deps.store.getRun(runId))?.status === 'Running') throw new ExportRunningError(org, runId);
    formatOf(flags);
    return { plan: await planExport(this.deps.store, exportRequestOf(flags, org)), flags, ended: runId };
  }

  private async start(org: OrgRegistration, { plan, flags, ended }: Prepared, target: ExportTarget, runId: string, startedBy: string): Promise<void> {
    // Another request may have started an export while this one was being checked.
    const current = this.running.get(org.orgId);
    if (current !== undefined && current !== ended) throw new ExportRunningError(org, current);
    this.running.set(org.orgId, runId);
    const format = formatOf(flags);
    let started: () => void = () => undefined;
    const inLog = new Promise<void>((resolve) => (started = resolve));
    const exported = runExport({ store: this.deps.store, blobs: this.deps.blobs, now: this.deps.now, onEvent: (e) => e.type === 'run-started' && started() }, plan, format, target, {
      runId,
      startedBy,
      parameters: format.name === 'sql' ? { dialect: flags.dialect ?? 'postgres' } : {},
    });
    exported
      .catch((error: unknown) => console.error(`Export ${runId} of ${org.name} failed:`, error instanceof Error ? error.message : error))
      .finally(() => {
        if (this.running.get(org.orgId) === runId) this.running.delete(org.orgId);
        started();
      });
    await inLog;
    await this.deps.store.appendAudit({ at: this.now(), actor: startedBy, action: 'export', target: org.name, details: { runId, format: format.name, scope: plan.request.scope.kind, objects: plan.objects.length, files: plan.request.files === true, output: target.kind } });
  }
}

/** `orgvault-prod-2026-01-15T1020Z.zip` */
export function downloadName(org: OrgRegistration, at: number): string {
  const stamp = new Date(at).toISOString().slice(0, 16).replace(/:/g, '');
  return `orgvault-${org.name.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${stamp}Z.zip`;
}

const runners = new WeakMap<ServerDeps, ServerExports>();

/** The one export runner of a server (shared by the API and the dashboard). */
export function serverExports(deps: ServerDeps): ServerExports {
  let runner = runners.get(deps);
  if (!runner) runners.set(deps, (runner = new ServerExports(deps)));
  return runner;
}

export function registerExportRoutes(app: ServerApp, deps: ServerDeps): void {
  const exports = serverExports(deps);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/exports',
      summary: "Starts an export into the server's exports folder (<vault>/exports/<runId>/); follow it with /api/runs/{id}",
      request: { params: OrgParam, body: { content: { 'application/json': { schema: ExportBody } }, required: true } },
      responses: { 202: jsonResponse('The export run started, and its folder'), 409: jsonResponse('An export of this org is running'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'export');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      try {
        const started = await exports.toFolder(org, flagsOf(c.req.valid('json')), caller.user.name);
        return c.json({ runId: started.runId, status: 'Running', location: started.location }, 202);
      } catch (error) {
        if (error instanceof ExportRunningError) return c.json({ error: 'EXPORT_RUNNING', message: error.message, runId: error.runId }, 409);
        throw error;
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/orgs/{name}/exports/zip',
      summary: 'Exports into an AES-256 zip protected by the password, streamed back as it is written (the run ID is in X-Orgvault-Run-Id)',
      request: { params: OrgParam, body: { content: { 'application/json': { schema: ZipBody } }, required: true } },
      responses: { 200: { content: { 'application/zip': { schema: z.string().openapi({ format: 'binary' }) } }, description: 'The zip' }, 409: jsonResponse('An export of this org is running'), ...ERROR_RESPONSES },
    }),
    async (c) => {
      const caller = requireAction(c, 'export');
      const org = await orgOr404(deps.store, c.req.valid('param').name);
      const body = c.req.valid('json');
      try {
        const started = await exports.toZip(org, flagsOf(body), body.password, caller.user.name);
        return zipResponse(started, downloadName(org, (deps.now ?? Date.now)()));
      } catch (error) {
        if (error instanceof ExportRunningError) return c.json({ error: 'EXPORT_RUNNING', message: error.message, runId: error.runId }, 409);
        throw error;
      }
    },
  );
}

/** The streamed zip as a download. */
export function zipResponse(started: { runId: string; body: ReadableStream<Uint8Array> }, fileName: string): Response {
  return new Response(started.body, {
    status: 200,
    headers: {
      'Content-Type': 'application/zip',
      'Content-Disposition': `attachment; filename="${fileName}"`,
      'Cache-Control': 'no-store',
      'X-Orgvault-Run-Id': started.runId,
    },
  });
}
