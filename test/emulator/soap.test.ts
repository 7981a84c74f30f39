// The Partner SOAP API of the emulator, driven by unmanaged jsforce over HTTP (and by hand-written
// envelopes where the wire format itself is the point): undelete and its per-record errors,
// emptyRecycleBin, login/logout, session faults and API usage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@jsforce/jsforce-node';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';

const VERSION = '60.0';

interface UndeleteResult {
  id: string | null;
  success: boolean;
  errors: { statusCode: string; message: string; fields?: string[] | null }[];
}

describe('Partner SOAP API', () => {
  let emu: RunningEmulator;
  let conn: Connection;

  /** A fresh session: tests that move the clock end the older ones. */
  const connect = (): Connection => {
    const session = emu.context.sessions.issue(emu.org.apiUserId, 'soap-test');
    return new Connection({ instanceUrl: emu.info.instanceUrl, accessToken: session.accessToken, version: VERSION });
  };
  const undelete = async (ids: string[]): Promise<UndeleteResult[]> => (await conn.soap.undelete(ids)) as UndeleteResult[];
  const count = async (soql: string): Promise<number> => (await conn.query(soql)).totalSize;
  const envelope = (body: string, sessionId?: string): string =>
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">' +
    `<soapenv:Header>${sessionId ? `<urn:SessionHeader><urn:sessionId>${sessionId}</urn:sessionId></urn:SessionHeader>` : ''}</soapenv:Header>` +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
  const post = (body: string, path = `/services/Soap/u/${VERSION}`): Promise<Response> =>
    fetch(`${emu.info.instanceUrl}${path}`, { method: 'POST', headers: { 'content-type': 'text/xml', SOAPAction: '""' }, body });

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 1 });
    conn = connect();
  });
  after(() => emu.close());

  test('undelete brings a deleted account back with the contacts and opportunities deleted with it', async () => {
    const { records } = await conn.query<{ Id: string }>(
      'SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact) AND Id IN (SELECT AccountId FROM Opportunity) LIMIT 1',
    );
    const id = records[0]!.Id;
    const contacts = await count(`SELECT COUNT() FROM Contact WHERE AccountId = '${id}'`);
    const opportunities = await count(`SELECT COUNT() FROM Opportunity WHERE AccountId = '${id}'`);
    assert.ok(contacts > 0 && opportunities > 0);

    await conn.sobject('Account').destroy(id);
    assert.equal(await count(`SELECT COUNT() FROM Contact WHERE AccountId = '${id}'`), 0);

    const [result] = await undelete([id]);
    assert.deepEqual(result, { id, success: true, errors: [] });
    const account = await conn.sobject('Account').retrieve(id);
    assert.equal(account.Id, id);
    assert.equal(await count(`SELECT COUNT() FROM Contact WHERE AccountId = '${id}'`), contacts);
    assert.equal(await count(`SELECT COUNT() FROM Opportunity WHERE AccountId = '${id}'`), opportunities);
  });

  test('undelete restores a record the seeded Recycle Bin already holds', async () => {
    const deleted = await conn.query<{ Id: string }>('SELECT Id FROM Lead WHERE IsDeleted = true LIMIT 1', { scanAll: true });
    assert.equal(deleted.records.length, 1, 'the demo org has deleted leads in its Recycle Bin');
    const id = deleted.records[0]!.Id;
    const [result] = await undelete([id]);
    assert.equal(result!.success, true);
    assert.equal(await count(`SELECT COUNT() FROM Lead WHERE Id = '${id}'`), 1);
  });

  test('undelete reports each failure with its status code, in the order of the IDs', async () => {
    const { records: live } = await conn.query<{ Id: string }>('SELECT Id FROM Contact WHERE AccountId != null LIMIT 1');
    const { records: roles } = await conn.query<{ Id: string }>('SELECT Id FROM OpportunityContactRole LIMIT 1');
    assert.equal(roles.length, 1);
    await conn.sobject('OpportunityContactRole').destroy(roles[0]!.Id);

    // Well-formed (15 characters), but no object has the key prefix.
    const unknownPrefix = '0XX000000000001';
    const results = await undelete([live[0]!.Id, 'not-an-id', unknownPrefix, roles[0]!.Id]);
    assert.equal(results.length, 4);
    assert.deepEqual(results.map((r) => r.success), [false, false, false, false]);
    const codes = results.map((r) => r.errors[0]!.statusCode);
    assert.deepEqual(codes, ['UNDELETE_FAILED', 'MALFORMED_ID', 'INVALID_CROSS_REFERENCE_KEY', 'UNDELETE_FAILED']);
    assert.equal(results[0]!.id, live[0]!.Id);
    assert.equal(results[0]!.errors[0]!.message, 'Entity is not in the recycle bin');
    assert.equal(results[1]!.id, null, 'a malformed ID is not echoed');
    assert.match(results[3]!.errors[0]!.message, /cannot be undeleted/);
  });

  test('a child deleted in a cascade cannot come back before its parent', async () => {
    const { records } = await conn.query<{ Id: string; AccountId: string }>('SELECT Id, AccountId FROM Contact WHERE AccountId != null LIMIT 1');
    const { Id: contactId, AccountId: accountId } = records[0]!;
    await conn.sobject('Account').destroy(accountId);

    const [orphan] = await undelete([contactId]);
    assert.equal(orphan!.success, false);
    assert.equal(orphan!.errors[0]!.statusCode, 'ENTITY_IS_DELETED');
    assert.deepEqual(orphan!.errors[0]!.fields, ['AccountId']);

    const [parent, child] = await undelete([accountId, contactId]);
    assert.equal(parent!.success, true);
    // The contact came back with its account, so it is no longer in the Recycle Bin.
    assert.equal(child!.errors[0]!.statusCode, 'UNDELETE_FAILED');
    assert.equal(await count(`SELECT COUNT() FROM Contact WHERE Id = '${contactId}'`), 1);
  });

  test('emptyRecycleBin purges for good; a purged record cannot be undeleted', async () => {
    const created = await conn.sobject('Lead').create({ LastName: 'Purge Me', Company: 'Purge Co' });
    const id = created.id!;
    const live = (await conn.soap.emptyRecycleBin([id])) as unknown as UndeleteResult[];
    assert.equal(live[0]!.success, false, 'a live record is not in the Recycle Bin');

    await conn.sobject('Lead').destroy(id);
    const emptied = (await conn.soap.emptyRecycleBin([id])) as unknown as UndeleteResult[];
    assert.deepEqual(emptied, [{ id, success: true, errors: [] }]);
    assert.equal(emu.org.get(id), undefined);

    const [result] = await undelete([id]);
    assert.equal(result!.errors[0]!.statusCode, 'INVALID_CROSS_REFERENCE_KEY');
  });

  test('an expired session is the sf:INVALID_SESSION_ID fault, with HTTP 500', async () => {
    const stale = connect();
    const token = stale.accessToken!;
    emu.org.clock.advance(emu.org.settings.sessionTimeoutSeconds + 1);

    await assert.rejects(stale.soap.getUserInfo(), (error: Error & { errorCode?: string }) => {
      assert.equal(error.errorCode, 'sf:INVALID_SESSION_ID');
      assert.match(error.message, /^INVALID_SESSION_ID: /);
      return true;
    });
    const response = await post(envelope('<urn:getUserInfo/>', token));
    assert.equal(response.status, 500);
    assert.match(response.headers.get('content-type') ?? '', /^text\/xml/);
    const text = await response.text();
    assert.match(text, /<faultcode>sf:INVALID_SESSION_ID<\/faultcode>/);
    assert.match(text, /xmlns:sf="urn:fault.partner.soap.sforce.com"/);
    assert.match(text, /<sf:exceptionCode>INVALID_SESSION_ID<\/sf:exceptionCode>/);
    conn = connect();
  });

  test('jsforce refreshes an expired session on the fault and retries the call', async () => {
    const session = emu.context.sessions.issue(emu.org.apiUserId, emu.info.clientId, { refreshToken: true });
    const refreshing = new Connection({
      oauth2: { clientId: emu.info.clientId, clientSecret: emu.info.clientSecret, loginUrl: emu.info.loginUrl, redirectUri: 'http://localhost/callback' },
      instanceUrl: emu.info.instanceUrl,
      accessToken: session.accessToken,
      refreshToken: session.refreshToken!,
      version: VERSION,
    });
    emu.org.clock.advance(emu.org.settings.sessionTimeoutSeconds + 1);
    const info = await refreshing.soap.getUserInfo();
    assert.equal(info.userId, emu.org.apiUserId);
    assert.notEqual(refreshing.accessToken, session.accessToken);
    conn = connect();
  });

  test('login opens a session from username and password; logout ends it', async () => {
    const client = new Connection({ loginUrl: emu.info.loginUrl, version: VERSION });
    const identity = await client.login(emu.info.username, emu.info.password);
    assert.equal(identity.id, emu.org.apiUserId);
    assert.equal(identity.organizationId, emu.org.orgId);
    assert.equal(client.instanceUrl, emu.info.instanceUrl);
    const info = await client.soap.getUserInfo();
    assert.equal(info.userName, emu.info.username);
    assert.equal(info.organizationName, emu.org.orgName);

    await assert.rejects(new Connection({ loginUrl: emu.info.loginUrl, version: VERSION }).login(emu.info.username, 'wrong'), /INVALID_LOGIN/);

    const token = client.accessToken!;
    await client.logout();
    const response = await post(envelope('<urn:getUserInfo/>', token));
    assert.match(await response.text(), /sf:INVALID_SESSION_ID/);
  });

  test('SOAP calls count against DailyApiRequests and fail past the limit', async () => {
    const session = emu.context.sessions.issue(emu.org.apiUserId, 'soap-test');
    const before = emu.context.usage.used();
    const response = await post(envelope('<urn:getServerTimestamp/>', session.accessToken));
    assert.equal(response.status, 200);
    assert.equal(emu.context.usage.used(), before + 1);
    const text = await response.text();
    assert.match(text, /<soapenv:Header><LimitInfoHeader><limitInfo><current>\d+<\/current><limit>\d+<\/limit><type>API REQUESTS<\/type>/);
    assert.ok((emu.context.usage.statistics().byEndpoint['SOAP u/getServerTimestamp'] ?? 0) >= 1);

    const limit = emu.org.settings.dailyApiRequests;
    emu.org.settings.dailyApiRequests = emu.context.usage.used();
    try {
      await assert.rejects(conn.soap.getUserInfo(), { errorCode: 'sf:REQUEST_LIMIT_EXCEEDED' });
    } finally {
      emu.org.settings.dailyApiRequests = limit;
    }
  });

  test('envelopes from other SOAP clients, unknown operations and versions', async () => {
    const session = emu.context.sessions.issue(emu.org.apiUserId, 'soap-test');
    const { records } = await conn.query<{ Id: string }>('SELECT Id FROM Campaign LIMIT 1');
    const id = records[0]!.Id;
    await conn.sobject('Campaign').destroy(id);
    // A WSDL-generated client: prefixed elements, the org ID in the URL as login() hands it out.
    const response = await post(envelope(`<urn:undelete><urn:ids>${id}</urn:ids></urn:undelete>`, session.accessToken), `/services/Soap/u/${VERSION}/${emu.org.orgId.slice(0, 15)}`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /^<\?xml version="1\.0" encoding="UTF-8"\?><soapenv:Envelope xmlns:soapenv="http:\/\/schemas\.xmlsoap\.org\/soap\/envelope\/" xmlns="urn:partner\.soap\.sforce\.com"/);
    assert.ok(text.includes(`<undeleteResponse><result><id>${id}</id><success>true</success></result></undeleteResponse>`));

    const unknown = await post(envelope('<urn:frobnicate/>', session.accessToken));
    assert.equal(unknown.status, 500);
    assert.match(await unknown.text(), /<faultcode>soapenv:Client<\/faultcode><faultstring>No operation available for request \{urn:partner\.soap\.sforce\.com\}frobnicate/);

    const version = await post(envelope('<urn:getUserInfo/>', session.accessToken), '/services/Soap/u/12.0');
    assert.match(await version.text(), /<faultcode>sf:UNSUPPORTED_API_VERSION<\/faultcode>/);

    const garbage = await post('<not-xml');
    assert.equal(garbage.status, 500);
    assert.match(await garbage.text(), /soapenv:Client/);
  });
});
