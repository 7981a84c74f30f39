// Exports from the HTTP API and the dashboard, in-process (Hono's app.request): the role check
// (operators and administrators, not viewers), an export into the server's exports folder that
// shows in the job log, a streamed AES-256 zip that opens with the password only, the dashboard's
// form and its two buttons, bad input as a 400 with no run, and the audit log without the password.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobReader, Uint8ArrayWriter, ZipReader } from '@zip.js/zip.js';
import type { FileEntry } from '@zip.js/zip.js';
import { parse } from 'csv-parse/sync';
import { ROLES } from '../../src/core/users.ts';
import type { Role } from '../../src/core/users.ts';
import { createServerApp } from '../../src/server/app.ts';
import type { ServerApp } from '../../src/server/app.ts';
import { addUser } from '../../src/users/index.ts';
import { WIDGETS, exportFixture } from './fixtures.ts';
import type { ExportFixture } from './fixtures.ts';

const PASSWORD = 'export server test password';
const ZIP_PASSWORD = 'a zip password for auditors';
type Json = Record<string, unknown>;

describe('exports from the API and the dashboard', () => {
  let fx: ExportFixture;
  let app: ServerApp;
  let exportsDir: string;
  const sessions = new Map<Role, { cookie: string; csrf: string }>();

  before(async () => {
    fx = await exportFixture();
    exportsDir = join(fx.dir, 'vault', 'exports');
    for (const role of ROLES) await addUser({ store: fx.vault.store, actor: 'test' }, role, role, PASSWORD);
    app = createServerApp({ store: fx.vault.store, blobs: fx.vault.blobs, keyring: fx.vault.keyring, connectAuth: () => Promise.reject(new Error('no org to reach')), maskKey: 'm', secureCookies: false, trustProxy: false, exportsDir });
    for (const role of ROLES) {
      const answer = await app.request('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: role, password: PASSWORD }) });
      assert.equal(answer.status, 200);
      sessions.set(role, { cookie: (answer.headers.get('set-cookie') ?? '').split(';')[0]!, csrf: String(((await answer.json()) as Json).csrfToken) });
    }
  });
  after(async () => {
    await fx?.close();
  });

  const api = async (role: Role, path: string, body: unknown): Promise<Response> => {
    const session = sessions.get(role)!;
    return app.request(path, { method: 'POST', headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  };
  const formPost = async (role: Role, path: string, fields: [string, string][]): Promise<Response> => {
    const session = sessions.get(role)!;
    return app.request(path, { method: 'POST', headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams([['_csrf', session.csrf], ...fields]).toString() });
  };
  const ended = async (runId: string): Promise<Json> => {
    for (;;) {
      const run = await fx.vault.store.getRun(runId);
      if (run && run.status !== 'Running') return run as unknown as Json;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const openZip = async (response: Response): Promise<{ entries: FileEntry[]; read(name: string, password?: string): Promise<Buffer> }> => {
    const reader = new ZipReader(new BlobReader(await response.blob()), { useWebWorkers: false });
    const entries = (await reader.getEntries()).filter((e): e is FileEntry => !e.directory);
    return { entries, read: async (name, password = ZIP_PASSWORD) => Buffer.from(await entries.find((e) => e.filename === name)!.getData(new Uint8ArrayWriter(), { password })) };
  };

  it('lets operators and administrators export, not viewers', async () => {
    const viewer = await api('viewer', '/api/orgs/acme/exports', { objects: ['Widget__c'] });
    assert.equal(viewer.status, 403);
    assert.match(String(((await viewer.json()) as Json).message), /viewer role may not export backed-up records/);
    assert.equal((await app.request('/orgs/acme/export', { headers: { cookie: sessions.get('viewer')!.cookie } })).status, 403);
    for (const role of ['administrator', 'backup-operator', 'restore-operator'] as const) {
      const page = await app.request('/orgs/acme/export', { headers: { cookie: sessions.get(role)!.cookie } });
      assert.equal(page.status, 200, role);
    }
    const org = await app.request('/orgs/acme', { headers: { cookie: sessions.get('restore-operator')!.cookie } });
    assert.match(await org.text(), /href="\/orgs\/acme\/export">Export…/);
  });

  it("exports into <vault>/exports/<runId>/ in the background, followed in the job log", async () => {
    const answer = await api('backup-operator', '/api/orgs/acme/exports', { objects: ['Widget__c'], format: 'csv', allVersions: true });
    assert.equal(answer.status, 202);
    const started = (await answer.json()) as { runId: string; location: string; status: string };
    assert.equal(started.location, join(exportsDir, started.runId));
    const run = await ended(started.runId);
    assert.equal(run.status, 'Succeeded', String(run.message));
    assert.equal(run.kind, 'export');
    assert.deepEqual((await readdir(started.location)).sort(), ['Widget__c.csv', 'manifest.json']);
    const rows = parse(await readFile(join(started.location, 'Widget__c.csv'), 'utf8')) as string[][];
    assert.equal(rows.length - 1, WIDGETS + 5, 'every version');
    const runs = (await (await app.request('/api/runs?org=acme', { headers: { cookie: sessions.get('viewer')!.cookie } })).json()) as { runs: { runId: string; kind: string }[] };
    assert.equal(runs.runs.find((r) => r.runId === started.runId)?.kind, 'export');
    const audit = (await fx.vault.store.listAudit({ limit: 20 })).find((a) => a.action === 'export' && a.details.runId === started.runId);
    assert.deepEqual([audit?.actor, audit?.target, audit?.details.format, audit?.details.scope], ['backup-operator', 'acme', 'csv', 'allVersions']);
  });

  it('streams an AES-256 zip that opens with the password only', async () => {
    const answer = await api('restore-operator', '/api/orgs/acme/exports/zip', { format: 'sql', dialect: 'mysql', files: true, password: ZIP_PASSWORD });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'application/zip');
    assert.match(answer.headers.get('content-disposition') ?? '', /^attachment; filename="orgvault-acme-\d{4}-\d{2}-\d{2}T\d{4}Z\.zip"$/);
    const runId = answer.headers.get('x-orgvault-run-id')!;
    const zip = await openZip(answer);
    assert.deepEqual(zip.entries.map((e) => e.filename).filter((n) => !n.startsWith('files/')).sort(), ['Attachment.sql', 'Widget__c.sql', 'load.sql', 'manifest.json']);
    assert.equal(zip.entries.filter((e) => e.filename.startsWith('files/')).length, 5);
    assert.match((await zip.read('Widget__c.sql')).toString('utf8'), /INSERT INTO `Widget__c`/);
    await assert.rejects(zip.read('Widget__c.sql', 'not the password'), /password/i);
    const run = await ended(runId);
    assert.equal(run.status, 'Succeeded');
    const audit = (await fx.vault.store.listAudit({ limit: 20 })).find((a) => a.details.runId === runId);
    assert.equal(audit?.details.output, 'zip');
    assert.ok(!JSON.stringify(await fx.vault.store.listAudit({ limit: 100 })).includes(ZIP_PASSWORD), 'the password is never logged');
    assert.ok(!JSON.stringify((await fx.vault.store.getRun(runId))?.parameters).includes(ZIP_PASSWORD));
  });

  it('refuses bad input with a 400 naming the problem, and starts no run', async () => {
    const before = (await fx.vault.store.listRuns({ kind: 'export' })).length;
    const unknown = await api('administrator', '/api/orgs/acme/exports', { objects: ['Nope__c'] });
    assert.equal(unknown.status, 400);
    assert.match(String(((await unknown.json()) as Json).message), /No backup of Nope__c/);
    assert.equal((await api('administrator', '/api/orgs/acme/exports', { format: 'xlsx' })).status, 400);
    const both = await api('administrator', '/api/orgs/acme/exports', { allVersions: true, asOf: '2025-01-01' });
    assert.match(String(((await both.json()) as Json).message), /cannot be combined/);
    assert.equal((await api('administrator', '/api/orgs/acme/exports/zip', { password: 'short' })).status, 400);
    assert.equal((await api('administrator', '/api/orgs/nope/exports', {})).status, 404);
    assert.equal((await fx.vault.store.listRuns({ kind: 'export' })).length, before);
  });

  it('runs the dashboard form: to the server (then the run page), or a zip download; a refusal redraws the form', async () => {
    const page = await (await app.request('/orgs/acme/export', { headers: { cookie: sessions.get('administrator')!.cookie } })).text();
    assert.match(page, /<option value="Attachment"/);
    assert.match(page, /<option value="Widget__c"/);
    assert.doesNotMatch(page, /<option value="Empty__c"/, 'only objects with records');
    assert.match(page, /<option value="run-2-backup"/, 'the backup runs to export the changes of');

    const folder = await formPost('administrator', '/orgs/acme/export', [['objects', 'Widget__c'], ['objects', 'Attachment'], ['format', 'csv'], ['scope', 'sinceRun'], ['sinceRun', 'run-2-backup'], ['files', 'on'], ['mode', 'folder']]);
    assert.equal(folder.status, 303);
    const runId = /^\/runs\/([0-9a-f-]{36})$/.exec(folder.headers.get('location') ?? '')![1]!;
    assert.equal((await ended(runId)).status, 'Succeeded');
    const dir = join(exportsDir, runId);
    assert.deepEqual((await readdir(dir)).sort(), ['Attachment.csv', 'Widget__c.csv', 'files', 'manifest.json']);
    assert.equal((parse(await readFile(join(dir, 'Widget__c.csv'), 'utf8')) as string[][]).length - 1, 3, 'the three versions run 2 captured');
    const runPage = await app.request(`/runs/${runId}`, { headers: { cookie: sessions.get('administrator')!.cookie } });
    assert.match(await runPage.text(), /Exported 2 object\(s\): 4 row\(s\) and 1 file\(s\)/);

    const csvZip = await formPost('backup-operator', '/orgs/acme/export', [['objects', 'Widget__c'], ['format', 'csv'], ['scope', 'latest'], ['password', ZIP_PASSWORD], ['mode', 'zip']]);
    assert.equal(csvZip.headers.get('content-type'), 'application/zip');
    const opened = await openZip(csvZip);
    assert.equal((parse((await opened.read('Widget__c.csv')).toString('utf8')) as string[][]).length - 1, WIDGETS);

    const bad = await formPost('administrator', '/orgs/acme/export', [['scope', 'asOf'], ['asOf', 'last spring'], ['mode', 'folder']]);
    assert.equal(bad.status, 400);
    const text = await bad.text();
    assert.match(text, /role="alert">--as-of &quot;last spring&quot; is not an ISO-8601 time/);
    assert.match(text, /value="asOf" style="min-width:0" checked/, 'the form keeps what was chosen');
    const short = await formPost('administrator', '/orgs/acme/export', [['password', 'short'], ['mode', 'zip']]);
    assert.equal(short.status, 400);
    assert.match(await short.text(), /too short: use at least 8 characters/);
  });
});
