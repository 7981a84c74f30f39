// `--state FILE` keeps the org's configuration as well as its data: an emulator restarted from a
// state file has the same metadata (fields, validation rules, Apex, component versions) and the
// same behaviours, demo ones changed or removed included.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createEmulator } from '../../emulator/index.ts';
import type { InProcessEmulator } from '../../emulator/index.ts';
import { saveOrgState } from '../../emulator/seed/index.ts';

type Json = Record<string, unknown>;

async function call(emu: InProcessEmulator, method: string, path: string, body?: unknown, token = emu.context.adminToken): Promise<{ status: number; body: Json }> {
  const response = await emu.app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
}

/** An access token for the API user, through the admin API's refresh token. */
async function accessToken(emu: InProcessEmulator): Promise<string> {
  const { body } = await call(emu, 'POST', '/__emulator/oauth/refresh-token', {});
  const response = await emu.app.request('/services/oauth2/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: String(body.refreshToken), client_id: String(body.clientId), client_secret: String(body.clientSecret) }).toString(),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('state file: metadata and behaviours', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'orgvault-state-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a demo org restarted from its state file has the same metadata and behaviours', async () => {
    const file = join(dir, 'demo.json');
    const first = createEmulator({ profile: 'demo', seed: 2, statePath: file });
    const changes = [
      { op: 'addField', object: 'Account', field: { fullName: 'Backup_Tier__c', type: 'Text', length: 40, label: 'Backup Tier' } },
      { op: 'upsertValidationRule', object: 'Account', rule: { fullName: 'Tier_Needs_Site', active: true, errorConditionFormula: 'AND(NOT(ISBLANK(Backup_Tier__c)), ISBLANK(Site))', errorMessage: 'A tiered account needs a site.' } },
      { op: 'upsertApexClass', name: 'RestoreHelper', body: 'public class RestoreHelper {}' },
      { op: 'upsertFolder', type: 'Report', name: 'Restore_Reports' },
      { op: 'upsertReport', folder: 'Restore_Reports', name: 'Restored_Accounts', reportType: 'AccountList', columns: ['ACCOUNT.NAME'] },
      { op: 'deleteEmailTemplate', folder: 'unfiled$public', name: 'Welcome_New_Customer' },
    ];
    for (const change of changes) assert.equal((await call(first, 'POST', '/__emulator/metadata', change)).status, 200);
    assert.equal((await call(first, 'DELETE', '/__emulator/behaviours/OpportunityTrigger')).status, 200);
    assert.equal((await call(first, 'POST', '/__emulator/behaviours', { kind: 'approvalLock', object: 'Account', name: 'Hot_Lock', condition: { field: 'Rating', equals: 'Hot' } })).status, 200);
    const behaviours = (await call(first, 'GET', '/__emulator/behaviours')).body;
    const metadata = (await call(first, 'GET', '/__emulator/metadata')).body;
    saveOrgState(first.org, file);

    const second = createEmulator({ profile: 'demo', seed: 2, statePath: file });
    assert.deepEqual((await call(second, 'GET', '/__emulator/behaviours')).body, behaviours);
    assert.deepEqual((await call(second, 'GET', '/__emulator/metadata')).body, metadata);
    assert.ok(second.org.schema.object('Account')!.field('Backup_Tier__c'));
    const kept = ((await call(second, 'GET', '/__emulator/metadata?type=Report')).body.components as Json[]).map((c) => c.fullName);
    assert.ok(kept.includes('Restore_Reports/Restored_Accounts') && kept.includes('Sales_Reports/Open_Pipeline'), kept.join(', '));

    // The restored rule and the restored demo rule are enforced.
    const token = await accessToken(second);
    const tiered = await call(second, 'POST', '/services/data/v60.0/sobjects/Account', { Name: 'Tiered', Backup_Tier__c: 'Gold' }, token);
    assert.deepEqual([tiered.status, tiered.body], [400, [{ message: 'A tiered account needs a site.', errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', fields: [] }]]);
    const customer = await call(second, 'POST', '/services/data/v60.0/sobjects/Account', { Name: 'Phoneless', Type: 'Customer - Direct' }, token);
    assert.equal(customer.status, 400);
    assert.ok(JSON.stringify(customer.body).includes('Customer accounts need a phone number.'));
    // The behaviour removed before saving stays removed.
    assert.ok(!((await call(second, 'GET', '/__emulator/behaviours')).body.behaviours as Json[]).some((b) => b.name === 'OpportunityTrigger'));
  });

  test('an empty org saved without behaviours comes back without any', async () => {
    const file = join(dir, 'empty.json');
    const first = createEmulator({ profile: 'empty', statePath: file });
    saveOrgState(first.org, file);
    const second = createEmulator({ profile: 'empty', statePath: file });
    assert.deepEqual((await call(second, 'GET', '/__emulator/behaviours')).body, { behaviours: [] });
  });
});
