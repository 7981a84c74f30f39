// `orgvault serve` as an admin runs it: refused without a user, then serving the API on a free
// port (its address printed), answering a sign-in and a signed-in call over real HTTP, and
// stopping cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './fixtures/cli-runner.ts';

const BIN = fileURLToPath(new URL('../../bin/orgvault.js', import.meta.url));
const PASSPHRASE = 'serve e2e passphrase 41aa';
const PASSWORD = 'serve e2e user password 9f';

describe('orgvault serve', () => {
  let scratch: string;
  let vault: string;
  const run = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE, env });

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-serve-'));
    vault = join(scratch, 'vault');
    assert.equal((await run(['init'])).code, 0);
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('refuses to start while nobody could sign in', async () => {
    const refused = await run(['serve', '--port', '0']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /No users yet.*orgvault user add NAME --role administrator/);
    const bad = await run(['serve', '--port', '70000']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--port 70000 is not a port number/);
  });

  it('serves the API until SIGTERM', async () => {
    assert.equal((await run(['user', 'add', 'alice', '--role', 'administrator'], { ORGVAULT_USER_PASSWORD: PASSWORD })).code, 0);
    const env: NodeJS.ProcessEnv = { ...process.env, ORGVAULT_HOME: vault, ORGVAULT_PASSPHRASE: PASSPHRASE, ORGVAULT_TEST_SCRYPT: 'fast' };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [BIN, '--json', 'serve', '--port', '0'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
      });
      const { url } = JSON.parse(first) as { url: string };
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await fetch(`${url}/openapi.json`)).status, 200);
      assert.equal((await fetch(`${url}/api/orgs`)).status, 401);
      const signIn = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: PASSWORD }) });
      assert.equal(signIn.status, 200);
      const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
      const orgs = await fetch(`${url}/api/orgs`, { headers: { cookie } });
      assert.equal(orgs.status, 200);
      assert.deepEqual(await orgs.json(), { orgs: [] });
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(!stderr.includes(PASSWORD));
  });
});
