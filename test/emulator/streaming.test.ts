// Change Data Capture over CometD: the emulator's Bayeux server spoken to raw with fetch (for the
// exact messages) and through unmodified jsforce and its faye client (for wire compatibility).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Connection } from '@jsforce/jsforce-node';
import { StreamingExtension } from '@jsforce/jsforce-node/lib/api/streaming.js';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { buildOrg } from '../../emulator/seed/index.ts';
import { changeDataCapture, DEMO_CDC_OBJECTS, enableDemoChangeDataCapture } from '../../emulator/streaming/change-events.ts';

/** Bayeux messages and event payloads are read field by field; typing every shape would restate them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const VERSION = '66.0';
const CLIENT = 'orgvault-tests';
const LONG_POLL_MS = 4_000;
const TX_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INVALID_REPLAY = (id: number): string =>
  `400::The replayId {${id}} you provided was invalid. Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A faye client subscribed to one channel through jsforce, collecting the event messages. */
interface Stream {
  events: Json[];
  /** The first collected event (past or future) that matches, within a few seconds. */
  waitFor(predicate: (event: Json) => boolean, what?: string): Promise<Json>;
  close(): Promise<void>;
}

describe('Change Data Capture over CometD', () => {
  let emulator: RunningEmulator;
  let conn: Connection;
  let url: string;
  const streams: Stream[] = [];

  const admin = async (method: string, path: string, body?: unknown, token = emulator.info.adminToken): Promise<{ status: number; json: Json }> => {
    const response = await fetch(`${url}/__emulator${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  };

  const bayeux = async (messages: unknown, token: string | undefined = conn.accessToken ?? undefined, version = VERSION): Promise<{ status: number; replies: Json[] }> => {
    const response = await fetch(`${url}/cometd/${version}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `OAuth ${token}` } : {}) },
      body: JSON.stringify(messages),
    });
    return { status: response.status, replies: (await response.json()) as Json[] };
  };

  /** Handshakes and makes the first connect, which returns at once; gives the client ID. */
  const rawClient = async (): Promise<string> => {
    const { replies } = await bayeux([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' }]);
    const clientId = replies[0].clientId as string;
    await bayeux([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '2' }]);
    return clientId;
  };

  const login = async (): Promise<Connection> => {
    const { info } = emulator;
    const connection = new Connection({
      oauth2: { loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret },
      loginUrl: info.loginUrl,
      version: VERSION,
      callOptions: { client: CLIENT },
    });
    await connection.login(info.username, info.password);
    return connection;
  };

  const stream = async (channel: string, replayId: number, connection = conn, extensions: unknown[] = []): Promise<Stream> => {
    const client = connection.streaming.createClient([new StreamingExtension.Replay(channel, replayId), ...extensions]);
    const events: Json[] = [];
    const waiters = new Set<() => void>();
    const subscription = client.subscribe(channel, (message: Json) => {
      events.push(message);
      for (const wake of waiters) wake();
    });
    const result: Stream = {
      events,
      waitFor: (predicate, what = 'an event') =>
        new Promise((resolve, reject) => {
          const check = (): boolean => {
            const found = events.find(predicate);
            if (found === undefined) return false;
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
            return true;
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(new Error(`no ${what} on ${channel} within 5 s; got ${JSON.stringify(events.map((e) => e.payload.ChangeEventHeader))}`));
          }, 5_000);
          if (!check()) waiters.add(check);
        }),
      close: async () => {
        // A client whose session is gone gets an error back, which is as good as closed.
        // jsforce's faye typings leave out disconnect, which faye's Client has.
        const faye = client as unknown as { disconnect(): PromiseLike<void> | undefined };
        const done = Promise.resolve(faye.disconnect()).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
        clearTimeout(timer);
      },
    };
    streams.push(result);
    await subscription;
    return result;
  };

  const header = (event: Json): Json => event.payload.ChangeEventHeader;
  const userId = (): string => emulator.org.apiUserId;
  const account = (name: string, values: Record<string, unknown> = {}): string => emulator.org.insert('Account', { Name: name, ...values }, { userId: userId() }).Id;

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 1 });
    url = emulator.info.instanceUrl;
    const { status } = await admin('POST', '/cdc', { objects: DEMO_CDC_OBJECTS, longPollTimeoutMs: LONG_POLL_MS });
    assert.equal(status, 200);
    conn = await login();
  });

  // faye retries a request the server drops for ever, so every client disconnects before the
  // next test (which may revoke sessions) and before the emulator closes.
  afterEach(async () => {
    await Promise.all(streams.splice(0).map((s) => s.close()));
  });

  after(async () => {
    await emulator.close();
  });

  test('the admin API selects objects for Change Data Capture', async () => {
    assert.equal((await admin('GET', '/cdc', undefined, 'wrong')).status, 401);
    const { json } = await admin('GET', '/cdc');
    assert.deepEqual(json.objects, DEMO_CDC_OBJECTS);
    assert.deepEqual(json.channels, ['/data/ChangeEvents', '/data/AccountChangeEvent', '/data/ContactChangeEvent', '/data/OpportunityChangeEvent', '/data/CaseChangeEvent']);
    assert.equal(json.overflowThreshold, 100_000);
    assert.equal(json.retentionHours, 72);

    const unknown = await admin('POST', '/cdc', { objects: ['Account', 'Nope__c'] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.field, 'objects');
    const bigObject = await admin('POST', '/cdc', { objects: ['Customer_Interaction__b'] });
    assert.equal(bigObject.status, 400);
    assert.match(bigObject.json.message, /does not support Change Data Capture/);
    assert.equal((await admin('POST', '/cdc', { overflowThreshold: 0 })).json.field, 'overflowThreshold');
    assert.equal((await admin('POST', '/cdc', { colour: 'red' })).json.field, 'colour');
    assert.deepEqual((await admin('GET', '/cdc')).json.objects, DEMO_CDC_OBJECTS, 'a refused request changes nothing');

    const demo = buildOrg({ profile: 'empty', seed: 1 });
    enableDemoChangeDataCapture(demo);
    assert.deepEqual(changeDataCapture(demo).selected(), ['Account', 'Contact', 'Opportunity', 'Case']);
  });

  test('handshake, connect, subscribe and disconnect answer as Salesforce does', async () => {
    const { status, replies } = await bayeux([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling', 'callback-polling'], id: '1' }]);
    assert.equal(status, 200);
    const [handshake] = replies;
    assert.equal(handshake.successful, true);
    assert.equal(handshake.channel, '/meta/handshake');
    assert.equal(handshake.id, '1');
    assert.equal(handshake.version, '1.0');
    assert.deepEqual(handshake.supportedConnectionTypes, ['long-polling']);
    assert.deepEqual(handshake.ext, { replay: true, 'payload.format': true });
    assert.deepEqual(handshake.advice, { reconnect: 'retry', interval: 0, timeout: LONG_POLL_MS });
    assert.match(handshake.clientId, /^[0-9a-z]{20,}$/);
    const clientId = handshake.clientId as string;

    // Batched, as faye sends them: the connect carries advice.timeout 0 and returns at once.
    const batch = await bayeux([
      { channel: '/meta/subscribe', clientId, subscription: '/data/AccountChangeEvent', ext: { replay: { '/data/AccountChangeEvent': -1 } }, id: '2' },
      { channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 }, id: '3' },
    ]);
    const subscribe = batch.replies.find((r) => r.channel === '/meta/subscribe');
    assert.deepEqual(subscribe, { clientId, channel: '/meta/subscribe', id: '2', subscription: '/data/AccountChangeEvent', successful: true });
    const connect = batch.replies.find((r) => r.channel === '/meta/connect');
    assert.deepEqual(connect, { clientId, advice: { reconnect: 'retry', interval: 0, timeout: LONG_POLL_MS }, channel: '/meta/connect', id: '3', successful: true });

    const unsubscribe = await bayeux({ channel: '/meta/unsubscribe', clientId, subscription: '/data/AccountChangeEvent', id: '4' });
    assert.equal(unsubscribe.replies[0].successful, true);
    const disconnect = await bayeux([{ channel: '/meta/disconnect', clientId, id: '5' }]);
    assert.deepEqual(disconnect.replies, [{ clientId, channel: '/meta/disconnect', id: '5', successful: true }]);
    const gone = await bayeux([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '6' }]);
    assert.deepEqual(gone.replies, [{ advice: { reconnect: 'handshake', interval: 0 }, channel: '/meta/connect', id: '6', error: '403::Unknown client', successful: false }]);
  });

  test('authentication, channel and replay errors carry Salesforce error strings', async () => {
    const handshake = { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' };
    const anonymous = (await bayeux([handshake], '')).replies[0];
    assert.equal(anonymous.error, '403::Handshake denied');
    assert.deepEqual(anonymous.ext.sfdc, { failureReason: '401::Request requires authentication' });
    assert.deepEqual(anonymous.advice, { reconnect: 'none' });
    const badToken = (await bayeux([handshake], '00Dbad!token')).replies[0];
    assert.equal(badToken.successful, false);
    assert.deepEqual(badToken.ext.sfdc, { failureReason: '401::Authentication invalid' });

    const clientId = await rawClient();
    const connectBadToken = (await bayeux([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '9' }], '00Dbad!token')).replies[0];
    assert.equal(connectBadToken.error, '401::Authentication invalid');
    assert.deepEqual(connectBadToken.advice, { reconnect: 'none', interval: 0 });

    const subscribe = async (subscription: string, ext?: unknown): Promise<Json> =>
      (await bayeux([{ channel: '/meta/subscribe', clientId, subscription, ...(ext ? { ext } : {}), id: '3' }])).replies[0];
    for (const channel of ['/data/LeadChangeEvent', '/data/NopeChangeEvent', '/topic/AllAccounts', '/data/*']) {
      const reply = await subscribe(channel);
      assert.equal(reply.successful, false);
      assert.equal(reply.error, `400::The channel you requested to subscribe to does not exist {${channel}}`);
    }
    assert.equal((await subscribe('data/ChangeEvents')).error, "400::Channel subscriptions must start with a leading '/'");
    assert.equal((await subscribe('/data/ChangeEvents', { replay: { '/data/ChangeEvents': 987_654 } })).error, INVALID_REPLAY(987_654));
    assert.equal(
      (await subscribe('/data/ChangeEvents', { replay: { '/data/AccountChangeEvent': -1 } })).error,
      "400::The replayId for channel {/data/ChangeEvents} wasn't found using the provided replay ID map {{/data/AccountChangeEvent=-1}}. Ensure that the channel name you provided in the replay map is valid and matches the channel name used for subscribing.",
    );
    const unknownClient = (await bayeux([{ channel: '/meta/subscribe', clientId: 'nope', subscription: '/data/ChangeEvents', id: '4' }])).replies[0];
    assert.equal(unknownClient.error, '403::Unknown client');
    assert.equal(unknownClient.advice.reconnect, 'handshake');

    const old = await bayeux([handshake], conn.accessToken ?? undefined, '30.0');
    assert.equal(old.status, 400);
    assert.equal(old.replies[0].error, "400::Unsupported API version. Only API versions '37.0' and later are supported. URI format: '/cometd/66.0'");
    await bayeux([{ channel: '/meta/disconnect', clientId, id: '5' }]);
  });

  test('a connect is held until an event arrives, and clients that stop polling expire', async () => {
    const clientId = await rawClient();
    await bayeux([{ channel: '/meta/subscribe', clientId, subscription: '/data/AccountChangeEvent', id: '3' }]);
    const started = Date.now();
    const pending = bayeux([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '4' }]);
    await sleep(200);
    const id = account('Held Poll Ltd');
    const { replies } = await pending;
    assert.ok(Date.now() - started < LONG_POLL_MS - 500, 'the connect returned as soon as the event was published');
    assert.equal(replies.length, 2);
    assert.equal(replies[0].channel, '/data/AccountChangeEvent');
    assert.deepEqual(replies[0].data.payload.ChangeEventHeader.recordIds, [id]);
    assert.deepEqual(replies[1], { clientId, channel: '/meta/connect', id: '4', successful: true });

    await admin('POST', '/cdc', { longPollTimeoutMs: 300, clientTimeoutMs: 400 });
    try {
      const idle = Date.now();
      const empty = await bayeux([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '5' }]);
      assert.ok(Date.now() - idle >= 250, 'an idle connect is held for the advised timeout');
      assert.deepEqual(empty.replies, [{ clientId, channel: '/meta/connect', id: '5', successful: true }]);
      await sleep(700);
      const expired = await bayeux([{ channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '6' }]);
      assert.equal(expired.replies[0].error, '403::Unknown client');
    } finally {
      await admin('POST', '/cdc', { longPollTimeoutMs: LONG_POLL_MS, clientTimeoutMs: 40_000 });
    }
  });

  test('jsforce receives REST changes on /data/ChangeEvents and /data/AccountChangeEvent', async () => {
    const all = await stream('/data/ChangeEvents', -1);
    const accounts = await stream('/data/AccountChangeEvent', -1);
    const id = account('Streamed Industries', { Description: 'to be cleared', Phone: '555-0100' });
    const before = emulator.org.get(id)!;
    await conn.sobject('Account').update({ Id: id, Rating: 'Hot', Description: null });
    const isUpdate = (e: Json): boolean => header(e).changeType === 'UPDATE' && header(e).recordIds[0] === id;
    const [viaAll, viaAccount] = await Promise.all([all.waitFor(isUpdate, 'account update'), accounts.waitFor(isUpdate, 'account update')]);
    assert.deepEqual(viaAll.payload, viaAccount.payload);
    assert.equal(viaAll.event.replayId, viaAccount.event.replayId);

    const after = emulator.org.get(id)!;
    const h = header(viaAll);
    assert.equal(h.entityName, 'Account');
    assert.deepEqual(h.recordIds, [id]);
    assert.equal(h.changeOrigin, `com/salesforce/api/rest/${VERSION};client=${CLIENT}`);
    assert.match(h.transactionKey, TX_KEY);
    assert.equal(h.sequenceNumber, 1);
    assert.equal(h.commitTimestamp, Date.parse(String(after.LastModifiedDate).replace('+0000', 'Z')));
    assert.equal(typeof h.commitNumber, 'number');
    assert.equal(h.commitUser, userId());
    assert.deepEqual(h.changedFields, ['Description', 'Rating', 'LastModifiedDate', 'LastModifiedById']);
    assert.deepEqual(h.nulledFields, ['Description']);
    assert.deepEqual(h.diffFields, []);
    assert.match(viaAll.schema, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(viaAll.payload.Rating, 'Hot');
    assert.equal(viaAll.payload.Description, null);
    assert.equal(viaAll.payload.LastModifiedDate, new Date(h.commitTimestamp).toISOString().replace('.000Z', 'Z'));
    assert.equal('Name' in viaAll.payload || 'Phone' in viaAll.payload || 'SystemModstamp' in viaAll.payload, false, 'an update carries only changed fields');
    assert.notEqual(before.LastModifiedDate, after.LastModifiedDate);

    // A contact change reaches /data/ChangeEvents only.
    const contact = emulator.org.insert('Contact', { LastName: 'Only On All' }, { userId: userId() }).Id;
    await all.waitFor((e) => header(e).recordIds[0] === contact, 'contact create');
    await sleep(100);
    assert.equal(accounts.events.some((e) => header(e).entityName !== 'Account'), false);
  });

  test('org writes publish CREATE, UPDATE, DELETE and UNDELETE with the bodies Salesforce sends', async () => {
    const contacts = await stream('/data/ContactChangeEvent', -1);
    const org = emulator.org;
    const id = org.insert('Contact', { FirstName: 'Ada', LastName: 'Lovelace', MailingCity: 'London', Email: 'ada@example.com' }, { userId: userId() }).Id;
    const created = await contacts.waitFor((e) => header(e).changeType === 'CREATE' && header(e).recordIds[0] === id, 'create');
    assert.equal(header(created).changeOrigin, '', 'changes made outside an API request have no origin');
    assert.deepEqual(header(created).changedFields, []);
    assert.deepEqual(created.payload.Name, { LastName: 'Lovelace', FirstName: 'Ada' });
    assert.deepEqual(created.payload.MailingAddress, { City: 'London' });
    assert.equal(created.payload.Email, 'ada@example.com');
    assert.equal(created.payload.OwnerId, userId());
    for (const absent of ['Id', 'IsDeleted', 'SystemModstamp', 'FirstName', 'MailingCity', 'Phone', 'Account_Name__c']) {
      assert.equal(absent in created.payload, false, `${absent} is not in a create event`);
    }

    org.update('Contact', id, { FirstName: 'Augusta', MailingCity: null }, { userId: userId() });
    const updated = await contacts.waitFor((e) => header(e).changeType === 'UPDATE' && header(e).recordIds[0] === id, 'update');
    assert.deepEqual(header(updated).changedFields, ['Name.FirstName', 'MailingAddress.City', 'LastModifiedDate', 'LastModifiedById']);
    assert.deepEqual(header(updated).nulledFields, ['MailingAddress.City']);
    assert.deepEqual(updated.payload.Name, { FirstName: 'Augusta' });
    assert.deepEqual(updated.payload.MailingAddress, { City: null });

    org.delete(id, { userId: userId() });
    const deleted = await contacts.waitFor((e) => header(e).changeType === 'DELETE' && header(e).recordIds[0] === id, 'delete');
    assert.deepEqual(Object.keys(deleted.payload), ['ChangeEventHeader']);

    org.undelete(id, { userId: userId() });
    const undeleted = await contacts.waitFor((e) => header(e).changeType === 'UNDELETE' && header(e).recordIds[0] === id, 'undelete');
    assert.deepEqual(undeleted.payload.Name, { LastName: 'Lovelace', FirstName: 'Augusta' });
    assert.ok(undeleted.event.replayId > deleted.event.replayId && deleted.event.replayId > updated.event.replayId);
  });

  test('identical changes of several records in one transaction make one event', async () => {
    const all = await stream('/data/ChangeEvents', -1);
    const org = emulator.org;
    const first = account('Merge One');
    const second = account('Merge Two');
    const stampMs = org.clock.stampMs();
    org.transaction(() => {
      org.update('Account', first, { Rating: 'Warm' }, { userId: userId(), stampMs });
      org.update('Account', second, { Rating: 'Warm' }, { userId: userId(), stampMs });
    });
    const merged = await all.waitFor((e) => header(e).changeType === 'UPDATE' && header(e).recordIds.includes(first), 'merged update');
    assert.deepEqual(header(merged).recordIds, [first, second]);
    assert.equal(merged.payload.Rating, 'Warm');

    // A cascade delete: one event per object, the account's contacts merged into one.
    const parent = account('Cascade Parent');
    const kids = [1, 2, 3].map((n) => org.insert('Contact', { LastName: `Kid ${n}`, AccountId: parent }, { userId: userId() }).Id);
    org.delete(parent, { userId: userId() });
    const contactDelete = await all.waitFor((e) => header(e).changeType === 'DELETE' && header(e).recordIds.includes(kids[0]), 'cascade delete');
    const accountDelete = await all.waitFor((e) => header(e).changeType === 'DELETE' && header(e).recordIds.includes(parent), 'account delete');
    assert.deepEqual(header(contactDelete).recordIds.toSorted(), kids.toSorted());
    assert.equal(header(contactDelete).transactionKey, header(accountDelete).transactionKey);
    assert.notEqual(header(contactDelete).sequenceNumber, header(accountDelete).sequenceNumber);
  });

  test('field and object permissions apply to delivered events', async () => {
    const accounts = await stream('/data/AccountChangeEvent', -1);
    const id = account('Secretive Partners');
    await admin('POST', '/permissions', { object: 'Account', field: 'Rating', read: false });
    try {
      // The API user can no longer write the field either: the change comes from elsewhere.
      emulator.org.update('Account', id, { Rating: 'Cold', Phone: '555-0199' }, { userId: userId(), system: true });
      const event = await accounts.waitFor((e) => header(e).changeType === 'UPDATE' && header(e).recordIds[0] === id, 'update');
      assert.equal('Rating' in event.payload, false);
      assert.equal(header(event).changedFields.includes('Rating'), false);
      assert.equal(event.payload.Phone, '555-0199');
    } finally {
      await admin('POST', '/permissions', { object: 'Account', field: 'Rating', read: true });
    }
  });

  test('replay -2 after a disconnect receives the retained events, and a stored replay ID resumes without loss', async () => {
    const first = await stream('/data/ChangeEvents', -1);
    const id = account('Replay Co');
    const seen = await first.waitFor((e) => header(e).recordIds[0] === id, 'account create');
    const stored = seen.event.replayId as number;
    await first.close();

    const missed = [account('Missed One'), account('Missed Two')];
    emulator.org.update('Account', id, { Rating: 'Hot' }, { userId: userId() });

    const everything = await stream('/data/ChangeEvents', -2);
    const status = (await admin('GET', '/cdc')).json;
    const last = await everything.waitFor((e) => e.event.replayId === status.latestReplayId, 'the latest event');
    assert.equal(everything.events[0].event.replayId, status.earliestReplayId);
    assert.equal(everything.events.length, status.retainedEvents);
    assert.deepEqual(everything.events.map((e) => e.event.replayId), everything.events.map((e) => e.event.replayId).toSorted((a: number, b: number) => a - b));
    assert.equal(header(last).changeType, 'UPDATE');

    const resumed = await stream('/data/ChangeEvents', stored);
    await resumed.waitFor((e) => e.event.replayId === status.latestReplayId, 'the latest event');
    assert.deepEqual(resumed.events.map((e) => header(e).recordIds[0]), [...missed, id]);
    assert.ok(resumed.events.every((e) => e.event.replayId > stored));

    // The subscription then carries on with new events.
    const later = account('After Replay');
    await resumed.waitFor((e) => header(e).recordIds[0] === later, 'a live event');
    assert.ok((await admin('GET', '/cdc')).json.deliveredEvents > 0);
  });

  test('gap and overflow events on demand carry the header only', async () => {
    const accounts = await stream('/data/AccountChangeEvent', -1);
    const id = account('Gappy Ltd');
    const gap = await admin('POST', '/cdc/gap', { object: 'Account', recordIds: [id.slice(0, 15)], changeType: 'UPDATE' });
    assert.equal(gap.status, 200);
    const event = await accounts.waitFor((e) => header(e).changeType === 'GAP_UPDATE', 'gap event');
    assert.equal(event.event.replayId, gap.json.replayId);
    assert.deepEqual(Object.keys(event.payload), ['ChangeEventHeader']);
    assert.deepEqual(header(event).recordIds, [id]);
    assert.equal(header(event).sequenceNumber, 1);
    assert.equal(header(event).changeOrigin, '');

    const overflow = await admin('POST', '/cdc/overflow', { object: 'Account' });
    assert.equal(overflow.status, 200);
    const overflowEvent = await accounts.waitFor((e) => header(e).changeType === 'GAP_OVERFLOW', 'overflow event');
    assert.deepEqual(header(overflowEvent).recordIds, ['000000000000000AAA']);
    assert.deepEqual(Object.keys(overflowEvent.payload), ['ChangeEventHeader']);

    assert.equal((await admin('POST', '/cdc/gap', { object: 'Lead', recordIds: ['00Q000000000001AAA'], changeType: 'CREATE' })).json.field, 'object');
    assert.equal((await admin('POST', '/cdc/gap', { object: 'Account', recordIds: ['003000000000001AAA'], changeType: 'CREATE' })).json.field, 'recordIds');
    assert.equal((await admin('POST', '/cdc/gap', { object: 'Account', recordIds: [id], changeType: 'MERGE' })).json.field, 'changeType');
  });

  test('a transaction past the overflow threshold ends in one overflow event per object', async () => {
    const all = await stream('/data/ChangeEvents', -1);
    await admin('POST', '/cdc', { overflowThreshold: 3 });
    const org = emulator.org;
    try {
      let parent = '';
      const ids = org.transaction(() => {
        parent = account('Overflowing Corp');
        return [1, 2, 3, 4].map((n) => org.insert('Contact', { LastName: `Flood ${n}`, AccountId: parent }, { userId: userId() }).Id);
      });
      const overflow = await all.waitFor((e) => header(e).changeType === 'GAP_OVERFLOW' && header(e).entityName === 'Contact', 'overflow');
      const tx = all.events.filter((e) => header(e).transactionKey === header(overflow).transactionKey);
      assert.deepEqual(tx.map((e) => [header(e).entityName, header(e).changeType, header(e).recordIds[0]]), [
        ['Account', 'CREATE', parent],
        ['Contact', 'CREATE', ids[0]],
        ['Contact', 'CREATE', ids[1]],
        ['Contact', 'GAP_OVERFLOW', '000000000000000AAA'],
      ]);
      assert.deepEqual(tx.map((e) => header(e).sequenceNumber), [1, 2, 3, 4]);
    } finally {
      await admin('POST', '/cdc', { overflowThreshold: 100_000 });
    }
  });

  test('a revoked session ends the stream with 401::Authentication invalid', async () => {
    const failures: Json[] = [];
    await stream('/data/AccountChangeEvent', -1, conn, [new StreamingExtension.AuthFailure((message: Json) => failures.push(message))]);
    await sleep(100);
    await admin('POST', '/sessions/revoke');
    account('Unseen Ltd');
    for (let i = 0; i < 50 && !failures.length; i++) await sleep(100);
    assert.equal(failures.length, 1);
    assert.equal(failures[0].channel, '/meta/connect');
    assert.equal(failures[0].error, '401::Authentication invalid');
    conn = await login();
  });

  test('events older than 72 hours are gone, and replaying from one is refused', async () => {
    const first = await stream('/data/ChangeEvents', -1);
    const id = account('Ancient History');
    const old = (await first.waitFor((e) => header(e).recordIds[0] === id, 'account create')).event.replayId as number;
    await first.close();

    emulator.org.clock.advance(73 * 3600);
    conn = await login();
    assert.equal((await admin('GET', '/cdc')).json.retainedEvents, 0);

    await assert.rejects(stream('/data/ChangeEvents', old), (error: Error) => {
      assert.match(String(error.message), /The replayId \{\d+\} you provided was invalid/);
      return true;
    });
    const clientId = await rawClient();
    const refused = await bayeux([{ channel: '/meta/subscribe', clientId, subscription: '/data/ChangeEvents', ext: { replay: { '/data/ChangeEvents': old } }, id: '3' }]);
    assert.equal(refused.replies[0].error, INVALID_REPLAY(old));

    const everything = await stream('/data/ChangeEvents', -2);
    const fresh = account('Fresh Start');
    const event = await everything.waitFor((e) => header(e).recordIds[0] === fresh, 'a new event');
    assert.equal(everything.events.length, 1, 'nothing older than 72 hours is replayed');
    assert.ok(event.event.replayId > old);
  });
});
