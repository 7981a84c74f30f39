// The dependency rules of docs/ARCHITECTURE.md are enforced by ESLint; these tests show the rule
// fires for each forbidden direction and stays quiet for an allowed one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'import/no-restricted-paths').map((m) => m.message);
}

test('product code cannot import the emulator', async () => {
  const found = await violations('src/core/probe.ts', "export { Org } from '../../emulator/org/org.ts';\n");
  assert.equal(found.length, 1);
  assert.match(found[0]!, /never the emulator/);
});

test('the emulator cannot import product code', async () => {
  const found = await violations('emulator/probe.ts', "export { UsageError } from '../src/core/errors.ts';\n");
  assert.equal(found.length, 1);
  assert.match(found[0]!, /must not depend on the product/);
});

test('a port cannot import a shell', async () => {
  const found = await violations('src/salesforce/probe.ts', "export * from '../cli/emulator-process.ts';\n");
  assert.equal(found.length, 1);
  assert.match(found[0]!, /depends only on core/);
});

test('core cannot import outer layers', async () => {
  const found = await violations('src/core/probe.ts', "export * from '../salesforce/index.ts';\n");
  assert.equal(found.length, 1);
});

test('a use case cannot import an adapter: the vault engines or the Salesforce client', async () => {
  const store = await violations('src/backup/probe.ts', "export * from '../store/sqlite/index.ts';\n");
  assert.equal(store.length, 1);
  assert.match(store[0]!, /never on a concrete adapter/);
  const salesforce = await violations('src/backup/probe.ts', "export * from '../salesforce/index.ts';\n");
  assert.equal(salesforce.length, 1);
  const ports = await violations('src/backup/probe.ts', "export type * from '../store/port.ts';\nexport type * from '../core/org-client.ts';\n");
  assert.deepEqual(ports, []);
});

test('a shell may import core and use cases', async () => {
  const found = await violations('src/cli/probe.ts', "export * from '../core/errors.ts';\n");
  assert.deepEqual(found, []);
});

test('the server cannot import the CLI: the two shells share only use cases and core', async () => {
  const found = await violations('src/server/probe.ts', "export * from '../cli/vault-options.ts';\n");
  assert.equal(found.length, 1);
  assert.match(found[0]!, /shells side by side/);
});

test('every folder of src/ is a layer the rules know: a new use case cannot import an adapter', async () => {
  const layers = new Set(['core', 'crypto', 'store', 'salesforce', 'server', 'cli']);
  const folders = readdirSync(`${root}/src`, { withFileTypes: true }).filter((d) => d.isDirectory() && !layers.has(d.name)).map((d) => d.name);
  assert.ok(folders.length >= 10, folders.join(', '));
  for (const folder of folders) {
    const found = await violations(`src/${folder}/probe.ts`, "export * from '../store/sqlite/index.ts';\n");
    assert.equal(found.length, 1, `src/${folder}/ is not in the use cases of eslint.config.js`);
  }
});
