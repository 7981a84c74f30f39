// The vault directory and its keys: init, open, the ways a key can be wrong (which must change
// nothing), rotation, extra wrappings, key files, recovery from an exported key, a tampered
// vault.json; and the verify use case on a real vault.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { ExitCode, OrgvaultError, UsageError } from '../../src/core/errors.ts';
import type { FileRef, OrgRegistration } from '../../src/core/vault.ts';
import { IntegrityError, WrongKeyError } from '../../src/crypto/errors.ts';
import { generateDataKey, generateKeyFileContent, wrapDataKey } from '../../src/crypto/keys.ts';
import type { ScryptParams } from '../../src/crypto/keys.ts';
import { blobPath } from '../../src/store/fs/blob-store.ts';
import { PackGoneError } from '../../src/store/port.ts';
import {
  addKeyWrapping,
  BLOBS_DIR,
  CATALOG_FILE,
  exportVaultKey,
  initVault,
  listKeyWrappings,
  openVault,
  readVaultFile,
  removeKeyWrapping,
  rotateKey,
  VAULT_FILE,
  VaultNotFoundError,
} from '../../src/store/vault.ts';
import type { Vault, VaultFile } from '../../src/store/vault.ts';
import { inSlice, parseReadData, verifyVault } from '../../src/verify/index.ts';

// Cheap scrypt: these tests derive dozens of keys. The default is tested once, below.
const FAST: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };
const fast = { scrypt: FAST, actor: 'test' };
const PASS = { passphrase: 'correct horse battery staple' };
const ORG_ID = '00D000000000001EAA';

const scratch = await mkdtemp(join(tmpdir(), 'orgvault-vault-'));
after(() => rm(scratch, { recursive: true, force: true }));
let counter = 0;
const newDir = (): string => join(scratch, `vault-${++counter}`);

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

async function readBlob(vault: Vault, address: string): Promise<string> {
  const pieces: Buffer[] = [];
  for await (const piece of vault.blobs.get(address)) pieces.push(piece);
  return Buffer.concat(pieces).toString();
}

/** Every file under `dir` and a hash of its bytes, to prove nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

async function withVault<T>(dir: string, unlocker: Parameters<typeof openVault>[1], fn: (vault: Vault) => Promise<T>): Promise<T> {
  const vault = await openVault(dir, unlocker);
  try {
    return await fn(vault);
  } finally {
    await vault.close();
  }
}

const org: OrgRegistration = {
  name: 'prod',
  orgId: ORG_ID,
  instanceUrl: 'https://example.my.salesforce.com',
  loginUrl: 'https://login.salesforce.com',
  sealedAuth: new Uint8Array([1, 2, 3]),
  createdAt: 1_700_000_000_000,
  settings: {},
};

function fileRef(recordId: string, address: string, size: number): FileRef {
  return { objectName: 'ContentVersion', recordId, field: 'VersionData', systemModstamp: 1_700_000_000_000, address, size, fileName: `${recordId}.txt`, contentType: 'text/plain' };
}

/** A vault with an org, two record versions and two referenced files. */
async function populated(dir: string): Promise<{ addresses: string[] }> {
  await initVault(dir, PASS, fast);
  return withVault(dir, PASS, async (vault) => {
    await vault.store.putOrg(org);
    await vault.store.writeVersions({
      orgId: ORG_ID,
      objectName: 'Account',
      runId: 'run-1',
      capturedAt: 1_700_000_000_000,
      schemaId: null,
      versions: ['001000000000001AAA', '001000000000002AAA'].map((recordId, i) => ({
        recordId,
        systemModstamp: 1_700_000_000_000 + i,
        changeType: 'created' as const,
        isDeleted: false,
        fields: { Id: recordId, Name: `Account ${i}` },
      })),
    });
    const addresses: string[] = [];
    for (const [i, text] of ['first file body', 'second file body'].entries()) {
      const { address, size } = await vault.blobs.put(bytes(text));
      await vault.store.putFile(ORG_ID, fileRef(`068000000000000${i}AA`, address, size));
      addresses.push(address);
    }
    return { addresses };
  });
}

describe('initVault', () => {
  test('lays out vault.json, catalog.db and blobs/, with no key in clear', async () => {
    const dir = newDir();
    const { vaultId, wrapping } = await initVault(dir, PASS, fast);
    assert.ok(existsSync(join(dir, CATALOG_FILE)));
    assert.ok(statSync(join(dir, BLOBS_DIR)).isDirectory());
    assert.equal(statSync(join(dir, VAULT_FILE)).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const file = JSON.parse(readFileSync(join(dir, VAULT_FILE), 'utf8')) as VaultFile;
    assert.equal(file.format, 'orgvault-vault');
    assert.equal(file.version, 1);
    assert.equal(file.vaultId, vaultId);
    assert.match(file.keyCheck, /^[0-9a-f]{32}$/);
    assert.match(file.mac, /^[0-9a-f]{64}$/);
    assert.deepEqual(file.wrappings.map((w) => [w.id, w.kind, w.scrypt]), [[wrapping.id, 'passphrase', FAST]]);
    const recovery = await exportVaultKey(dir, PASS);
    const dataKeyText = recovery.split(':')[3]!;
    assert.equal(readFileSync(join(dir, VAULT_FILE), 'utf8').includes(dataKeyText), false);
    assert.equal(readFileSync(join(dir, VAULT_FILE), 'utf8').includes(PASS.passphrase), false);
  });

  test('uses the interactive-strength scrypt cost by default', async () => {
    const dir = newDir();
    await initVault(dir, PASS);
    const { wrappings } = await listKeyWrappings(dir);
    assert.deepEqual(wrappings[0]!.scrypt, { N: 2 ** 15, r: 8, p: 1 });
    await withVault(dir, PASS, async () => undefined);
  });

  test('refuses an existing vault and a non-empty directory, changing nothing', async () => {
    const dir = newDir();
    await initVault(dir, PASS, fast);
    const before = snapshot(dir);
    await assert.rejects(initVault(dir, { passphrase: 'another' }, fast), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /already a vault/);
      return true;
    });
    assert.deepEqual(snapshot(dir), before);

    const busy = newDir();
    await mkdir(busy);
    await writeFile(join(busy, 'notes.txt'), 'mine');
    await assert.rejects(initVault(busy, PASS, fast), /not empty and is not a vault/);
    assert.deepEqual(readdirSync(busy), ['notes.txt']);
  });

  test('refuses an empty passphrase', async () => {
    const dir = newDir();
    await assert.rejects(initVault(dir, { passphrase: ' ' }, fast), UsageError);
    assert.equal(existsSync(dir), false);
  });

  test('accepts an existing empty directory', async () => {
    const dir = newDir();
    await mkdir(dir);
    await initVault(dir, PASS, fast);
    await withVault(dir, PASS, async (vault) => assert.equal(typeof vault.vaultId, 'string'));
  });
});

describe('openVault', () => {
  test('opens the catalog and the blob store under the vault key', async () => {
    const dir = newDir();
    const { vaultId } = await initVault(dir, PASS, fast);
    const address = await withVault(dir, PASS, async (vault) => {
      assert.equal(vault.vaultId, vaultId);
      assert.equal(vault.dir, dir);
      await vault.store.putOrg(org);
      return (await vault.blobs.put(bytes('hello'))).address;
    });
    assert.ok(existsSync(blobPath(join(dir, BLOBS_DIR), address)));
    await withVault(dir, PASS, async (vault) => {
      assert.equal((await vault.store.getOrg('prod'))?.orgId, ORG_ID);
      assert.equal(await readBlob(vault, address), 'hello');
    });
  });

  test('a wrong passphrase raises WrongKeyError and changes no byte of the vault', async () => {
    const dir = newDir();
    await populated(dir);
    const before = snapshot(dir);
    await assert.rejects(openVault(dir, { passphrase: 'Tr0ub4dor&3' }), (error: unknown) => {
      assert.ok(error instanceof WrongKeyError);
      assert.notEqual(error.exitCode, ExitCode.Success);
      assert.match(error.message, /passphrase does not unlock this vault/);
      assert.equal(error.message.includes('Tr0ub4dor'), false);
      return true;
    });
    await assert.rejects(addKeyWrapping(dir, { passphrase: 'wrong' }, { passphrase: 'new' }, fast), WrongKeyError);
    await assert.rejects(rotateKey(dir, { passphrase: 'wrong' }, { passphrase: 'new' }, fast), WrongKeyError);
    await assert.rejects(exportVaultKey(dir, { passphrase: 'wrong' }), WrongKeyError);
    await assert.rejects(openVault(dir, { keyFile: Buffer.from(generateKeyFileContent()) }), WrongKeyError);
    assert.deepEqual(snapshot(dir), before);
  });

  test('names a missing vault and how to create one', async () => {
    const dir = newDir();
    await assert.rejects(openVault(dir, PASS), (error: unknown) => {
      assert.ok(error instanceof VaultNotFoundError);
      assert.equal(error.exitCode, ExitCode.Usage);
      assert.match(error.message, /orgvault init/);
      return true;
    });
  });
});

describe('key management', () => {
  test('rotate: the old passphrase stops working, the new one opens the same data', async () => {
    const dir = newDir();
    const { addresses } = await populated(dir);
    const before = (await listKeyWrappings(dir)).wrappings;
    const blobsBefore = snapshot(join(dir, BLOBS_DIR));
    const rotated = await rotateKey(dir, PASS, { passphrase: 'a new passphrase' }, fast);
    assert.equal(rotated.removed, before[0]!.id);
    assert.deepEqual((await listKeyWrappings(dir)).wrappings.map((w) => w.id), [rotated.added.id]);
    await assert.rejects(openVault(dir, PASS), WrongKeyError);
    await withVault(dir, { passphrase: 'a new passphrase' }, async (vault) => {
      assert.equal(await readBlob(vault, addresses[0]!), 'first file body');
      const version = await vault.store.versionAsOf(ORG_ID, 'Account', '001000000000002AAA', Date.now());
      assert.deepEqual(version?.fields, { Id: '001000000000002AAA', Name: 'Account 1' });
    });
    // Data is never re-encrypted: the sealed blobs are the same bytes.
    assert.deepEqual(snapshot(join(dir, BLOBS_DIR)), blobsBefore);
  });

  test('rotate removes only the wrapping that was used', async () => {
    const dir = newDir();
    await initVault(dir, PASS, fast);
    const second = await addKeyWrapping(dir, PASS, { passphrase: 'second' }, fast);
    const { removed } = await rotateKey(dir, { passphrase: 'second' }, { passphrase: 'third' }, fast);
    assert.equal(removed, second.id);
    await withVault(dir, PASS, async () => undefined);
    await withVault(dir, { passphrase: 'third' }, async () => undefined);
    await assert.rejects(openVault(dir, { passphrase: 'second' }), WrongKeyError);
  });

  test('add and remove wrappings; the last one cannot be removed', async () => {
    const dir = newDir();
    await populated(dir);
    const keyFile = Buffer.from(generateKeyFileContent());
    const added = await addKeyWrapping(dir, PASS, { keyFile }, fast);
    assert.equal(added.kind, 'keyfile');
    assert.equal('scrypt' in added, false);
    const { wrappings } = await listKeyWrappings(dir);
    assert.deepEqual(wrappings.map((w) => w.kind), ['passphrase', 'keyfile']);
    for (const w of wrappings) assert.deepEqual(Object.keys(w).filter((k) => k === 'wrappedKey' || k === 'salt'), []);

    await withVault(dir, { keyFile }, async (vault) => assert.equal((await vault.store.getOrg('prod'))?.orgId, ORG_ID));
    await assert.rejects(removeKeyWrapping(dir, { keyFile }, 'nope'), (error: unknown) => error instanceof UsageError && error.message.includes(added.id));
    await removeKeyWrapping(dir, { keyFile }, wrappings[0]!.id);
    await assert.rejects(openVault(dir, PASS), WrongKeyError);
    const before = snapshot(dir);
    await assert.rejects(removeKeyWrapping(dir, { keyFile }, added.id), /only key/);
    assert.deepEqual(snapshot(dir), before);
  });

  test('a vault locked by a key file', async () => {
    const dir = newDir();
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(dir, { keyFile }, fast);
    await withVault(dir, { keyFile: Buffer.from(`  ${keyFile.toString().trim()}  \n`) }, async () => undefined);
    await assert.rejects(openVault(dir, { keyFile: Buffer.from(generateKeyFileContent()) }), /key file does not unlock/);
    await assert.rejects(openVault(dir, { keyFile: Buffer.from('not a key') }), WrongKeyError);
    await assert.rejects(openVault(dir, PASS), /passphrase does not unlock/);
  });

  test('an exported key recovers the vault and can set a new passphrase', async () => {
    const dir = newDir();
    const { addresses } = await populated(dir);
    const exportedKey = await exportVaultKey(dir, PASS);
    assert.match(exportedKey, /^orgvault-key:v1:/);
    await withVault(dir, { exportedKey }, async (vault) => assert.equal(await readBlob(vault, addresses[1]!), 'second file body'));
    // The passphrase is lost: the recovery key adds a new one.
    await addKeyWrapping(dir, { exportedKey }, { passphrase: 'recovered' }, fast);
    await withVault(dir, { passphrase: 'recovered' }, async (vault) => assert.equal(await readBlob(vault, addresses[0]!), 'first file body'));

    const other = newDir();
    await initVault(other, PASS, fast);
    await assert.rejects(openVault(other, { exportedKey }), /belongs to vault/);
    const damaged = exportedKey.slice(0, 30) + (exportedKey[30] === 'A' ? 'B' : 'A') + exportedKey.slice(31);
    await assert.rejects(openVault(dir, { exportedKey: damaged }), WrongKeyError);
  });

  test('key operations are audited without secrets', async () => {
    const dir = newDir();
    await initVault(dir, PASS, fast);
    await addKeyWrapping(dir, PASS, { passphrase: 'second secret' }, fast);
    const exported = await exportVaultKey(dir, PASS, { actor: 'test' });
    const audit = await withVault(dir, PASS, (vault) => vault.store.listAudit());
    assert.deepEqual(audit.map((a) => a.action).sort(), ['key.add', 'key.export', 'vault.init']);
    const text = JSON.stringify(audit);
    for (const secret of [PASS.passphrase, 'second secret', exported.split(':')[3]!]) assert.equal(text.includes(secret), false);
  });
});

describe('a tampered vault.json', () => {
  async function tamper(dir: string, edit: (file: VaultFile) => Promise<void> | void): Promise<void> {
    const { file } = await readVaultFile(dir);
    await edit(file);
    await writeFile(join(dir, VAULT_FILE), JSON.stringify(file));
  }

  test('a wrapping swapped for one of another key is caught by the key check value', async () => {
    const dir = newDir();
    const { vaultId } = await initVault(dir, PASS, fast);
    const before = readFileSync(join(dir, CATALOG_FILE));
    await tamper(dir, async (file) => {
      file.wrappings = [await wrapDataKey(generateDataKey(), vaultId, PASS, FAST)];
    });
    await assert.rejects(openVault(dir, PASS), (error: unknown) => error instanceof IntegrityError && /altered/.test(error.message));
    assert.deepEqual(readFileSync(join(dir, CATALOG_FILE)), before);
  });

  test('a wrapping removed or a field changed by hand is caught by the MAC', async () => {
    const dir = newDir();
    await initVault(dir, PASS, fast);
    await addKeyWrapping(dir, PASS, { passphrase: 'second' }, fast);
    const original = await readFile(join(dir, VAULT_FILE));
    await tamper(dir, (file) => {
      file.wrappings = file.wrappings.slice(0, 1);
    });
    await assert.rejects(openVault(dir, PASS), /MAC does not match/);
    await writeFile(join(dir, VAULT_FILE), original);
    await tamper(dir, (file) => {
      file.createdAt = '2000-01-01T00:00:00.000Z';
    });
    await assert.rejects(openVault(dir, PASS), IntegrityError);
  });

  test('a changed key check value, broken JSON, absurd scrypt costs and a newer version are refused', async () => {
    const dir = newDir();
    await initVault(dir, PASS, fast);
    const original = await readFile(join(dir, VAULT_FILE));
    await tamper(dir, (file) => {
      file.keyCheck = '0'.repeat(32);
    });
    await assert.rejects(openVault(dir, PASS), IntegrityError);
    await writeFile(join(dir, VAULT_FILE), original.subarray(0, 40));
    await assert.rejects(openVault(dir, PASS), /not valid JSON/);
    await writeFile(join(dir, VAULT_FILE), original);
    await tamper(dir, (file) => {
      file.wrappings[0]!.scrypt = { N: 2 ** 30, r: 8, p: 1 };
    });
    await assert.rejects(openVault(dir, PASS), /scrypt parameters out of range/);
    await writeFile(join(dir, VAULT_FILE), original);
    await tamper(dir, (file) => {
      (file as { version: number }).version = 2;
    });
    await assert.rejects(openVault(dir, PASS), (error: unknown) => error instanceof OrgvaultError && error.code === 'VAULT_VERSION');
  });
});

describe('verifyVault', () => {
  test('a clean vault has no problems, and the run is recorded', async () => {
    const dir = newDir();
    await populated(dir);
    await withVault(dir, PASS, async (vault) => {
      const report = await verifyVault(vault, { readData: 'all' });
      assert.deepEqual(report.problems, []);
      assert.equal(report.ok, true);
      assert.equal(report.counters.referencedBlobs, 2);
      assert.equal(report.counters.storedBlobs, 2);
      assert.equal(report.counters.blobsRead, 2);
      assert.ok(report.counters.packsChecked >= 1);
      assert.ok(report.counters.payloadsChecked >= 2);
      const run = await vault.store.getRun(report.runId);
      assert.equal(run?.kind, 'verify');
      assert.equal(run?.status, 'Succeeded');
      assert.equal(run?.counters.blobsRead, 2);
    });
  });

  test('a pack a prune rewrote after verify listed it is not called damaged', async () => {
    const dir = newDir();
    await populated(dir);
    await withVault(dir, PASS, async (vault) => {
      // As when prune commits a repack between verify's listing and its reading of a pack.
      const store = new Proxy(vault.store, {
        get(target, property) {
          if (property === 'listPacks') {
            return async function* () {
              yield 'pack-repacked-meanwhile';
              yield* target.listPacks();
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      await assert.rejects(vault.store.checkPack('pack-repacked-meanwhile'), PackGoneError);
      const report = await verifyVault({ ...vault, store }, { readData: 'all' });
      assert.deepEqual(report.problems, []);
      assert.equal(report.counters.packsRepackedMeanwhile, 1);
      assert.equal(report.counters.damagedPacks, 0);
    });
  });

  test('names missing, orphan and damaged blobs', async () => {
    const dir = newDir();
    const { addresses } = await populated(dir);
    const blobs = join(dir, BLOBS_DIR);
    await unlink(blobPath(blobs, addresses[0]!));
    const damaged = blobPath(blobs, addresses[1]!);
    const raw = readFileSync(damaged);
    raw[20] = raw[20]! ^ 0x01;
    writeFileSync(damaged, raw);
    const orphan = await withVault(dir, PASS, async (vault) => (await vault.blobs.put(bytes('nobody refers to me'))).address);

    await withVault(dir, PASS, async (vault) => {
      const quick = await verifyVault(vault);
      assert.deepEqual(quick.problems.map((p) => [p.kind, p.subject]).sort(), [['missing-blob', addresses[0]], ['orphan-blob', orphan]].sort());
      assert.equal(quick.counters.blobsRead, 0);
      const missing = quick.problems.find((p) => p.kind === 'missing-blob');
      assert.deepEqual(missing?.referencedBy, [`org ${ORG_ID} ContentVersion 0680000000000000AA VersionData (0680000000000000AA.txt)`]);

      const full = await verifyVault(vault, { readData: 'all' });
      assert.equal(full.ok, false);
      const damagedProblem = full.problems.find((p) => p.kind === 'damaged-blob');
      assert.equal(damagedProblem?.subject, addresses[1]);
      assert.match(damagedProblem!.message, new RegExp(addresses[1]!));
      const run = await vault.store.getRun(full.runId);
      assert.equal(run?.status, 'Failed');
      assert.equal(run?.counters.problems, 3);
      assert.match(run?.message ?? '', /3 problems/);
    });
  });

  test('a truncated blob is damaged', async () => {
    const dir = newDir();
    const { addresses } = await populated(dir);
    await truncate(blobPath(join(dir, BLOBS_DIR), addresses[0]!), 20);
    await withVault(dir, PASS, async (vault) => {
      const report = await verifyVault(vault, { readData: 'all' });
      assert.deepEqual(report.problems.map((p) => [p.kind, p.subject]), [['damaged-blob', addresses[0]]]);
    });
  });

  test('slices n/m read each blob and pack exactly once across n = 1..m', async () => {
    const dir = newDir();
    await populated(dir);
    await withVault(dir, PASS, async (vault) => {
      for (let i = 0; i < 10; i++) await vault.blobs.put(bytes(`extra ${i}`));
      const all = await verifyVault(vault, { readData: 'all' });
      let blobsRead = 0;
      let packsChecked = 0;
      for (let n = 1; n <= 3; n++) {
        const part = await verifyVault(vault, { readData: { n, m: 3 } });
        assert.equal(part.readData, `${n}/3`);
        blobsRead += part.counters.blobsRead;
        packsChecked += part.counters.packsChecked;
      }
      assert.equal(blobsRead, all.counters.blobsRead);
      assert.equal(packsChecked, all.counters.packsChecked);
    });
    assert.equal(inSlice('00000003' + '0'.repeat(56), { n: 1, m: 3 }), true);
  });

  test('parses --read-data values', () => {
    assert.deepEqual(parseReadData('1/2'), { n: 1, m: 2 });
    assert.equal(parseReadData('all'), 'all');
    for (const bad of ['3/2', '0/2', '1/0', '1', 'a/b', '-1/2', '1/2/3', '']) assert.equal(parseReadData(bad), undefined, bad);
  });
});
