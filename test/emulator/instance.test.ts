// Emulators on different instances are different orgs: another org ID, and record IDs that never
// collide with the default instance's, as a production org and its sandbox. A reseed keeps the instance.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEmulator } from '../../emulator/index.ts';

describe('emulator instances', () => {
  it('keeps the default org ID and gives another instance its own org ID and IDs', async () => {
    const production = createEmulator({ profile: 'empty', seed: 1 });
    const sandbox = createEmulator({ profile: 'empty', seed: 1, instance: '8x' });
    assert.equal(production.org.orgId, '00D5g00000EmUL8EAN');
    assert.match(sandbox.org.orgId, /^00D8x00000EmUL8[A-Z0-5]{3}$/);
    assert.notEqual(sandbox.org.orgId, production.org.orgId);
    for (const record of sandbox.org.records('User')) assert.equal(String(record.Id).slice(3, 5), '8x');
    const userId = sandbox.org.apiUserId;
    const created = sandbox.org.insert('Account', { Name: 'Sandbox account' }, { userId });
    assert.equal(created.Id.slice(3, 5), '8x');
    assert.throws(() => createEmulator({ instance: 'toolong' }), /two letters or digits/);
  });

  it('reseeds on the same instance', async () => {
    const sandbox = createEmulator({ profile: 'empty', seed: 1, instance: 'q7' });
    const response = await sandbox.app.request('/__emulator/seed', {
      method: 'POST',
      headers: { Authorization: `Bearer ${sandbox.context.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ profile: 'demo', seed: 2 }),
    });
    assert.equal(response.status, 200, await response.text());
    const account = sandbox.org.records('Account').next().value;
    assert.ok(account);
    assert.equal(String(account.Id).slice(3, 5), 'q7');
    assert.equal(sandbox.org.orgId.slice(3, 5), 'q7');
  });
});
