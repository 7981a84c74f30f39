// `orgvault init`, `key` and `verify` as an admin or a script runs them: the real bin/orgvault.js
// in a child process, secrets only in the environment, --json on stdout, and exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { blobPath } from '../../src/store/fs/blob-store.ts';
import { BLOBS_DIR, openVault } from '../../src/store/vault.ts';
import { inSlice } from '../../src/verify/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/orgvault.js');
const PASSPHRASE = 'e2e passphrase 7f3a';
const scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-'));
after(() => rm(scratch, { recursive: true, force: true }));
let counter = 0;
const newDir = (): string => join(scratch, `vault-${++counter}`);

type Result = CliResult;

/** Every output seen, to check at the end that no secret was ever printed. */
const outputs: string[] = [];

function run(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  return runCli(args, { cwd: scratch, passphrase: PASSPHRASE, env, onOutput: (stdout, stderr) => outputs.push(stdout, stderr) });
}

function json<T>(result: Result): T {
  return JSON.parse(result.stdout) as T;
}

interface VerifyJson {
  ok: boolean;
  readData: string;
  counters: Record<string, number>;
  problems: Array<{ kind: string; subject: string; message: string }>;
}

/** A vault with one org and one referenced file, written through the library as a backup would. */
async function vaultWithFile(): Promise<{ dir: string; address: string }> {
  const dir = newDir();
  const init = await run(['init', '--vault', dir]);
  assert.equal(init.code, 0, init.stderr);
  const vault = await openVault(dir, { passphrase: PASSPHRASE });
  try {
    await vault.store.putOrg({ name: 'prod', orgId: '00D000000000001EAA', instanceUrl: 'https://x.my.salesforce.com', loginUrl: 'https://login.salesforce.com', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} });
    const { address, size } = await vault.blobs.put(
      (async function* () {
        yield Buffer.from('quarterly report, v3');
      })(),
    );
    await vault.store.putFile('00D000000000001EAA', { objectName: 'ContentVersion', recordId: '068000000000001AAA', field: 'VersionData', systemModstamp: 0, address, size, fileName: 'report.txt', contentType: 'text/plain' });
    return { dir, address };
  } finally {
    await vault.close();
  }
}

describe('orgvault init', { concurrency: true }, () => {
  test('creates a vault and prints one JSON document with --json', async () => {
    const dir = newDir();
    const result = await run(['init', '--vault', dir, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const body = json<{ vaultId: string; dir: string; key: { id: string; kind: string } }>(result);
    assert.equal(body.dir, dir);
    assert.equal(body.key.kind, 'passphrase');
    assert.ok(existsSync(join(dir, 'vault.json')) && existsSync(join(dir, 'catalog.db')) && existsSync(join(dir, 'blobs')));
    assert.match(result.stderr, /ORGVAULT_TEST_SCRYPT=fast/);

    const again = await run(['init', '--vault', dir, '--json']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already a vault/);
    assert.equal(json<{ error: { code: string } }>(again).error.code, 'USAGE');
  });

  test('uses ORGVAULT_HOME, and ./.orgvault when nothing says otherwise', async () => {
    const dir = newDir();
    assert.equal((await run(['init'], { ORGVAULT_HOME: dir })).code, 0);
    assert.ok(existsSync(join(dir, 'vault.json')));
    assert.equal((await run(['verify'], { ORGVAULT_HOME: dir })).code, 0);
    const here = await run(['init', '--json']);
    assert.equal(here.code, 0, here.stderr);
    assert.equal(json<{ dir: string }>(here).dir, join(scratch, '.orgvault'));
  });

  test('without a passphrase in a non-interactive shell, says how to give one', async () => {
    const dir = newDir();
    const result = await run(['init', '--vault', dir], { ORGVAULT_PASSPHRASE: undefined });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ORGVAULT_PASSPHRASE/);
    assert.match(result.stderr, /--key-file/);
    assert.equal(existsSync(dir), false);
  });

  test('--key-file creates the key file (mode 600) and the vault opens with it', async () => {
    const dir = newDir();
    const keyFile = join(scratch, `key-${counter}.txt`);
    const result = await run(['init', '--vault', dir, '--key-file', keyFile, '--json'], { ORGVAULT_PASSPHRASE: undefined });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(json<{ keyFile: unknown }>(result).keyFile, { path: keyFile, created: true });
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal((await run(['verify', '--vault', dir, '--key-file', keyFile])).code, 0);
    assert.equal((await run(['verify', '--vault', dir], { ORGVAULT_KEY_FILE: keyFile })).code, 0);
    const wrong = await run(['verify', '--vault', dir]);
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /passphrase does not unlock this vault/);
    assert.equal(readFileSync(keyFile, 'utf8').trim().length, 44);
    outputs.forEach((o) => assert.equal(o.includes(readFileSync(keyFile, 'utf8').trim()), false, 'the key file content was printed'));
  });
});

describe('orgvault verify', { concurrency: true }, () => {
  test('a clean vault exits 0', async () => {
    const { dir } = await vaultWithFile();
    const result = await run(['verify', '--vault', dir, '--read-data', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = json<VerifyJson>(result);
    assert.equal(report.ok, true);
    assert.equal(report.readData, 'all');
    assert.equal(report.counters.blobsRead, 1);
    const text = await run(['verify', '--vault', dir]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /No problems found/);
  });

  test('a flipped byte in a blob: verify --read-data exits 3 naming the blob, and slices split the work', async () => {
    const { dir, address } = await vaultWithFile();
    const file = blobPath(join(dir, BLOBS_DIR), address);
    const raw = readFileSync(file);
    raw[raw.length - 5] = raw[raw.length - 5]! ^ 0x01;
    writeFileSync(file, raw);

    assert.equal((await run(['verify', '--vault', dir])).code, 0, 'without --read-data the blob is present and referenced');
    const result = await run(['verify', '--vault', dir, '--read-data']);
    assert.equal(result.code, 3);
    assert.match(result.stdout, new RegExp(`damaged-blob: blob ${address}`));

    const report = json<VerifyJson>(await run(['verify', '--vault', dir, '--read-data', '--json']));
    assert.deepEqual(report.problems.map((p) => [p.kind, p.subject]), [['damaged-blob', address]]);

    const mine = inSlice(address, { n: 1, m: 2 }) ? '1/2' : '2/2';
    const other = mine === '1/2' ? '2/2' : '1/2';
    const hit = await run(['verify', '--vault', dir, '--read-data', mine, '--json']);
    assert.equal(hit.code, 3);
    assert.equal(json<VerifyJson>(hit).readData, mine);
    const miss = await run(['verify', '--vault', dir, '--read-data', other, '--json']);
    assert.equal(miss.code, 0, miss.stdout);
    assert.equal(json<VerifyJson>(miss).counters.blobsRead, 0);
  });

  test('a missing blob exits 3 naming it', async () => {
    const { dir, address } = await vaultWithFile();
    await rm(blobPath(join(dir, BLOBS_DIR), address));
    const result = await run(['verify', '--vault', dir]);
    assert.equal(result.code, 3);
    assert.match(result.stdout, new RegExp(`missing-blob: blob ${address} .*ContentVersion 068000000000001AAA VersionData \\(report.txt\\)`));
  });

  test('bad input: a slice like 3/2, a wrong passphrase, no vault', async () => {
    const { dir } = await vaultWithFile();
    const slice = await run(['verify', '--vault', dir, '--read-data', '3/2']);
    assert.equal(slice.code, 2);
    assert.match(slice.stderr, /--read-data 3\/2 is not a slice: give n\/m with 1 ≤ n ≤ m/);

    const wrong = await run(['verify', '--vault', dir, '--json'], { ORGVAULT_PASSPHRASE: 'not it' });
    assert.equal(wrong.code, 3);
    assert.match(wrong.stderr, /passphrase does not unlock this vault/);
    assert.equal(json<{ error: { code: string } }>(wrong).error.code, 'WRONG_KEY');

    const none = await run(['verify', '--vault', join(scratch, 'nothing-here')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No vault at .*orgvault init/);
  });
});

describe('orgvault key', { concurrency: true }, () => {
  test('list, add, rotate a passphrase', async () => {
    const { dir } = await vaultWithFile();
    const listed = json<{ keys: Array<{ id: string; kind: string }> }>(await run(['key', 'list', '--vault', dir, '--json'], { ORGVAULT_PASSPHRASE: undefined }));
    assert.equal(listed.keys.length, 1);

    const add = await run(['key', 'add', '--vault', dir, '--json'], { ORGVAULT_NEW_PASSPHRASE: 'second passphrase' });
    assert.equal(add.code, 0, add.stderr);
    const added = json<{ added: { id: string } }>(add).added;
    const noNew = await run(['key', 'add', '--vault', dir]);
    assert.equal(noNew.code, 2);
    assert.match(noNew.stderr, /ORGVAULT_NEW_PASSPHRASE/);

    const rotate = await run(['key', 'rotate', '--vault', dir, '--json'], { ORGVAULT_PASSPHRASE: 'second passphrase', ORGVAULT_NEW_PASSPHRASE: 'third passphrase' });
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.equal(json<{ removed: string }>(rotate).removed, added.id);
    assert.equal((await run(['verify', '--vault', dir], { ORGVAULT_PASSPHRASE: 'second passphrase' })).code, 3);
    assert.equal((await run(['verify', '--vault', dir, '--read-data'], { ORGVAULT_PASSPHRASE: 'third passphrase' })).code, 0);
    assert.equal((await run(['verify', '--vault', dir])).code, 0, 'the first passphrase was not touched');
  });

  test('rotate to a key file, remove, export a recovery key', async () => {
    const { dir } = await vaultWithFile();
    const keyFile = join(scratch, `rotated-${counter}.key`);
    const original = json<{ keys: Array<{ id: string }> }>(await run(['key', 'list', '--vault', dir, '--json'])).keys[0]!;
    const toFile = await run(['key', 'rotate', '--vault', dir, '--new-key-file', keyFile]);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal((await run(['verify', '--vault', dir, '--key-file', keyFile])).code, 0);
    assert.equal((await run(['verify', '--vault', dir])).code, 3, 'the rotated passphrase no longer opens the vault');

    const gone = await run(['key', 'remove', original.id, '--vault', dir, '--key-file', keyFile]);
    assert.equal(gone.code, 2, 'rotate already removed it');
    assert.match(gone.stderr, /has no key/);
    const last = json<{ keys: Array<{ id: string; kind: string }> }>(await run(['key', 'list', '--vault', dir, '--json']));
    assert.deepEqual(last.keys.map((k) => k.kind), ['keyfile']);
    const lastOne = await run(['key', 'remove', last.keys[0]!.id, '--vault', dir, '--key-file', keyFile]);
    assert.equal(lastOne.code, 2);
    assert.match(lastOne.stderr, /only key/);

    const refused = await run(['key', 'export', '--vault', dir, '--key-file', keyFile]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--yes/);
    assert.equal(refused.stdout, '');
    const exported = await run(['key', 'export', '--yes', '--vault', dir, '--key-file', keyFile]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /opens the vault on its own/);
    const recoveryKey = exported.stdout.trim();
    assert.match(recoveryKey, /^orgvault-key:v1:/);
    const recovered = await run(['verify', '--vault', dir], { ORGVAULT_PASSPHRASE: undefined, ORGVAULT_RECOVERY_KEY: recoveryKey });
    assert.equal(recovered.code, 0, recovered.stderr);
    const added = await run(['key', 'add', '--vault', dir, '--json'], { ORGVAULT_PASSPHRASE: undefined, ORGVAULT_RECOVERY_KEY: recoveryKey, ORGVAULT_NEW_PASSPHRASE: 'fourth passphrase' });
    assert.equal(added.code, 0, added.stderr);
    const removed = await run(['key', 'remove', last.keys[0]!.id, '--vault', dir, '--json'], { ORGVAULT_PASSPHRASE: 'fourth passphrase' });
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(json<{ removed: { kind: string } }>(removed).removed.kind, 'keyfile');
  });
});

// A pseudo-terminal, from Python's standard library (Node has none): types each answer once its
// prompt shows, and prints everything the terminal displayed, then "EXIT <code>".
const PTY_DRIVER = `
import json, os, pty, select, sys, time
answers = json.loads(os.environ['PTY_ANSWERS'])
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b''
def read(timeout):
    global seen
    r, _, _ = select.select([fd], [], [], timeout)
    if not r: return False
    try: data = os.read(fd, 4096)
    except OSError: return False
    seen += data
    return bool(data)
for answer in answers:
    deadline = time.time() + 30
    while not seen.rstrip(b' ').endswith(b':') and time.time() < deadline: read(0.1)
    os.write(fd, answer.encode())
    seen += b'<typed>'
while read(10): pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors='replace') + '\\nEXIT %d\\n' % os.waitstatus_to_exitcode(status))
`;
const python = ['python3', 'python'].find((name) => spawnSync(name, ['-c', 'import pty'], { stdio: 'ignore' }).status === 0);

describe('the passphrase prompt on a terminal', () => {
  function onTerminal(args: string[], answers: string[]): { shown: string; code: number } {
    const env: NodeJS.ProcessEnv = { ...process.env, ORGVAULT_TEST_SCRYPT: 'fast', PTY_ANSWERS: JSON.stringify(answers) };
    for (const name of ['ORGVAULT_PASSPHRASE', 'ORGVAULT_HOME', 'ORGVAULT_KEY_FILE', 'NODE_TEST_CONTEXT']) delete env[name];
    const result = spawnSync(python!, ['-c', PTY_DRIVER, process.execPath, bin, ...args], { cwd: scratch, env, encoding: 'utf8', timeout: 120_000 });
    const match = /\nEXIT (-?\d+)\n$/.exec(result.stdout);
    assert.ok(match, `the terminal driver failed: ${result.stdout}${result.stderr}`);
    outputs.push(result.stdout);
    return { shown: result.stdout, code: Number(match[1]) };
  }

  test('asks twice for a new passphrase and once to open, echoing nothing', { skip: python ? false : 'no python3 with pty to make a terminal' }, () => {
    const dir = newDir();
    const init = onTerminal(['init', '--vault', dir], ['typed on a terminal\r', 'typed on a terminal\r']);
    assert.equal(init.code, 0, init.shown);
    assert.match(init.shown, /New passphrase: <typed>/);
    assert.match(init.shown, /Repeat the new passphrase: <typed>/);
    assert.equal(init.shown.includes('typed on a terminal'), false, 'the passphrase was echoed');

    const open = onTerminal(['verify', '--vault', dir], ['typed on a terminal\r']);
    assert.equal(open.code, 0, open.shown);
    assert.match(open.shown, /Vault passphrase: <typed>/);

    const mismatch = onTerminal(['init', '--vault', newDir()], ['one\r', 'two\r']);
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.shown, /passphrases differ/);

    const cancelled = onTerminal(['verify', '--vault', dir], ['\u0003']);
    assert.equal(cancelled.code, 2);
    assert.match(cancelled.shown, /Cancelled/);
  });
});

// Last, once every command above has run.
test('no passphrase ever reaches stdout or stderr', () => {
  assert.ok(outputs.length > 40);
  for (const secret of [PASSPHRASE, 'second passphrase', 'third passphrase', 'fourth passphrase', 'typed on a terminal']) {
    for (const output of outputs) assert.equal(output.includes(secret), false, `"${secret}" was printed`);
  }
});
