// The notifier against real receivers: an SMTP sink, an SMTP server that refuses, and webhook
// receivers answering 200, 500 or never, over a real vault (SQLite catalog in a temp dir). Events
// go only to the channels that chose them; every delivery is logged, failures included, and no
// failure reaches the caller; secrets are sealed in the catalog file and never shown.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../src/core/errors.ts';
import type { NotificationEvent } from '../../src/core/notifications.ts';
import type { OrgRegistration } from '../../src/core/vault.ts';
import { generateKeyFileContent } from '../../src/crypto/keys.ts';
import { channelViews, createNotifier, jobFailedEvent, objectsInErrorEvent, removeChannel, restoreFinishedEvent, setChannel } from '../../src/notify/index.ts';
import type { ChannelChanges } from '../../src/notify/index.ts';
import { initVault, openVault } from '../../src/store/vault.ts';
import type { Vault } from '../../src/store/vault.ts';
import { smtpSink, webhookReceiver } from './sinks.ts';
import type { SmtpSink, WebhookReceiver } from './sinks.ts';

const SMTP_PASSWORD = 'smtp-pass-5f1c9e7a';

/** A port nothing listens on: one just freed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('notifier', () => {
  let dir: string;
  let vault: Vault;
  let org: OrgRegistration;
  let sink: SmtpSink;
  let hook: WebhookReceiver;
  let slack: WebhookReceiver;
  const problems: string[] = [];
  const deps = () => ({ store: vault.store, keyring: vault.keyring, audit: vault.store, actor: 'test' });
  const set = (changes: ChannelChanges) => setChannel(deps(), org, changes);
  const notifier = () => createNotifier({ store: vault.store, keyring: vault.keyring, channelTimeoutMs: 3_000, attemptTimeoutMs: 500, retries: 2, backoffMs: 20, onProblem: (m) => problems.push(m) });
  const about = () => ({ orgName: org.name, orgId: org.orgId, runId: 'run-0001', at: Date.now() });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orgvault-notify-'));
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    org = { name: 'prod', orgId: '00D000000000001EAA', instanceUrl: 'https://example.my.salesforce.com', loginUrl: 'https://login.salesforce.com', sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
    await vault.store.putOrg(org);
    sink = await smtpSink({ auth: { user: 'notifier', password: SMTP_PASSWORD } });
    hook = await webhookReceiver('/hooks/ops-9a8b7c6d');
    slack = await webhookReceiver('/services/T0001/B0001/slacksecret0123456789');
  });

  after(async () => {
    await vault.close();
    await Promise.all([sink.close(), hook.close(), slack.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad settings with a UsageError naming what is wrong', async () => {
    const email = { to: ['admin@example.com'], from: 'orgvault@example.com', host: 'smtp.example.com' };
    await assert.rejects(set({ name: 'mail', type: 'email', email: { ...email, to: ['not-an-address'] } }), (e: unknown) => e instanceof UsageError && /--email-to: "not-an-address" is not an email address/.test(e.message));
    await assert.rejects(set({ name: 'hook', type: 'webhook', url: 'http://hooks.example.com/x' }), (e: unknown) => e instanceof UsageError && /must start with https:\/\//.test(e.message) && !e.message.includes('hooks.example.com'));
    await assert.rejects(set({ name: 'hook', type: 'webhook', url: 'https://hooks.example.com/x', events: ['job-failed', 'backup-done'] }), (e: unknown) => e instanceof UsageError && /"backup-done" is not an event; choose among job-failed/.test(e.message));
    await assert.rejects(set({ name: 'mail', type: 'email', email: { ...email, security: 'none', user: 'u', password: 'p' } }), (e: unknown) => e instanceof UsageError && /password in clear/.test(e.message));
    await assert.rejects(set({ name: 'mail', type: 'email', email: { ...email, user: 'u' } }), (e: unknown) => e instanceof UsageError && /needs a password/.test(e.message));
    assert.deepEqual(await vault.store.notificationChannels(org.orgId), [], 'nothing saved');
  });

  it('sends each event to the channels that chose it, as email, JSON and Slack, and logs every delivery', async () => {
    await set({ name: 'mail', type: 'email', events: ['job-failed', 'objects-in-error'], email: { to: ['admin@example.com', 'ops@example.com'], from: 'orgvault@example.com', host: '127.0.0.1', port: sink.port, security: 'none', user: 'notifier', password: SMTP_PASSWORD } });
    await set({ name: 'ops-hook', type: 'webhook', url: hook.url, events: ['all'] });
    await set({ name: 'slack', type: 'slack', url: slack.url, events: ['restore-finished'] });

    const n = notifier();
    await n.notify(jobFailedEvent(about(), 'Salesforce answered 503 UNKNOWN_EXCEPTION to the objects list.'));
    await n.notify(objectsInErrorEvent(about(), [{ name: 'Invoice__c', status: 'Error', statusCode: 'INSUFFICIENT_ACCESS', message: 'no access' }, { name: 'Case', status: 'Unavailable', statusCode: 'NOT_VISIBLE', message: null }]));
    await n.notify(restoreFinishedEvent(about(), { status: 'Succeeded', counts: { Created: 3, Updated: 2, Undeleted: 0, Skipped: 1, Failed: 0 }, targetOrgName: null }));

    const mails = await sink.waitFor(2);
    assert.equal(mails.length, 2, 'email: job-failed and objects-in-error, not restore-finished');
    assert.equal(mails[0]!.subject, '[orgvault] Backup job of prod failed');
    assert.match(mails[0]!.text ?? '', /failed: Salesforce answered 503/);
    assert.match(String(mails[0]!.html), /<h2[^>]*>Backup job of prod failed<\/h2>/);
    assert.deepEqual((Array.isArray(mails[0]!.to) ? mails[0]!.to : [mails[0]!.to]).flatMap((t) => t!.value.map((v) => v.address)), ['admin@example.com', 'ops@example.com']);
    assert.match(mails[1]!.text ?? '', /Invoice__c: Error INSUFFICIENT_ACCESS/);
    assert.match(mails[1]!.text ?? '', /Case: Unavailable NOT_VISIBLE/);
    assert.match(mails[1]!.text ?? '', /Fix: /, 'the fix from the status-code table');

    assert.deepEqual(hook.received.map((r) => r.body.kind), ['job-failed', 'objects-in-error', 'restore-finished']);
    const inError = hook.received[1]!.body;
    assert.equal(inError.org, 'prod');
    assert.equal(inError.runId, 'run-0001');
    const details = inError.details as { objects: { name: string; statusCode: string; fix: string }[] };
    assert.deepEqual(details.objects.map((o) => [o.name, o.statusCode]), [['Invoice__c', 'INSUFFICIENT_ACCESS'], ['Case', 'NOT_VISIBLE']]);
    assert.ok(details.objects[0]!.fix.length > 10);
    assert.equal(hook.received[0]!.headers['content-type'], 'application/json');

    assert.equal(slack.received.length, 1, 'slack: restore-finished only');
    const payload = slack.received[0]!.body as { text: string; blocks: { type: string }[] };
    assert.match(payload.text, /^Restore of prod finished/);
    assert.deepEqual(payload.blocks.map((b) => b.type), ['header', 'section', 'context']);
    assert.match(JSON.stringify(payload.blocks), /3 created, 2 updated, 0 undeleted, 1 skipped, 0 failed/);

    const log = await vault.store.listNotificationLog({ orgId: org.orgId });
    assert.equal(log.length, 6);
    assert.ok(log.every((e) => e.outcome === 'sent' && e.error === null && e.orgName === 'prod'));
    assert.deepEqual(log.map((e) => `${e.eventKind}>${e.channel}`).sort(), ['job-failed>mail', 'job-failed>ops-hook', 'objects-in-error>mail', 'objects-in-error>ops-hook', 'restore-finished>ops-hook', 'restore-finished>slack']);
    assert.deepEqual(problems, []);
  });

  it('never throws for a failing channel: an SMTP server that refuses, a webhook answering 500, one that never answers; each failure is logged', async () => {
    const refusing = await smtpSink({ refuse: true });
    const failing = await webhookReceiver('/fail/secret-path-1234');
    const hanging = await webhookReceiver('/hang/secret-path-5678');
    failing.answer = 500;
    hanging.answer = 'hang';
    try {
      const other = { ...org, name: 'sandbox', orgId: '00D000000000002EAA' };
      await vault.store.putOrg(other);
      const s = (c: ChannelChanges) => setChannel(deps(), other, c);
      await s({ name: 'refused', type: 'email', email: { to: ['admin@example.com'], from: 'orgvault@example.com', host: '127.0.0.1', port: refusing.port, security: 'none' } });
      await s({ name: 'five-hundred', type: 'webhook', url: failing.url });
      await s({ name: 'silent', type: 'webhook', url: hanging.url });
      await s({ name: 'dead', type: 'webhook', url: `http://127.0.0.1:${await closedPort()}/nothing-listens` });
      problems.length = 0;
      await notifier().notify({ ...jobFailedEvent({ ...about(), orgName: 'sandbox', orgId: other.orgId }, 'boom') });

      const log = await vault.store.listNotificationLog({ orgId: other.orgId });
      const by = new Map(log.map((e) => [e.channel, e]));
      assert.deepEqual([...by.values()].map((e) => e.outcome), ['failed', 'failed', 'failed', 'failed']);
      assert.match(by.get('refused')!.error!, /refused the message \(550/);
      assert.match(by.get('five-hundred')!.error!, /answered HTTP 500 \(3 attempts\)/);
      assert.equal(by.get('five-hundred')!.attempts, 3);
      assert.equal(failing.received.length, 3, 'one attempt and two retries');
      assert.match(by.get('silent')!.error!, /no answer within 1 s|gave up after/);
      assert.match(by.get('dead')!.error!, /could not connect: the connection was refused/);
      for (const e of log) assert.ok(!e.error!.includes('secret-path') && !e.error!.includes('nothing-listens'), `no URL in the log: ${e.error}`);
      assert.equal(problems.length, 4, 'each failure told to the shell');
      for (const p of problems) assert.ok(!p.includes('secret-path'), p);
    } finally {
      await Promise.all([refusing.close(), failing.close(), hanging.close()]);
    }
  });

  it('keeps secrets sealed: not in the catalog file, not in what is shown, kept when other settings change', async () => {
    const views = await channelViews(deps(), org);
    const shown = JSON.stringify(views);
    assert.ok(!shown.includes(SMTP_PASSWORD) && !shown.includes('slacksecret') && !shown.includes('ops-9a8b7c6d'), shown);
    assert.equal(views.find((v) => v.name === 'mail')!.settings.password, '••••');
    assert.equal(views.find((v) => v.name === 'slack')!.settings.url, `http://${new URL(slack.url).host}/••••`);

    // Events changed alone: the password and URL stay as they were.
    await set({ name: 'mail', events: ['restore-finished'] });
    await notifier().notify(restoreFinishedEvent(about(), { status: 'Succeeded', counts: { Created: 1 }, targetOrgName: null }));
    assert.equal((await sink.waitFor(3)).length, 3);

    const audit = JSON.stringify(await vault.store.listAudit({ limit: 50 }));
    assert.ok(!audit.includes(SMTP_PASSWORD) && !audit.includes('slacksecret'), 'the audit log names the change, not its values');

    await vault.store.syncCatalog();
    const files = (await readdir(join(dir, 'vault'))).filter((f) => f.startsWith('catalog.db'));
    for (const file of files) {
      const bytes = await readFile(join(dir, 'vault', file));
      for (const secret of [SMTP_PASSWORD, 'slacksecret0123456789', 'ops-9a8b7c6d', 'admin@example.com']) assert.equal(bytes.indexOf(secret), -1, `${secret} in clear in ${file}`);
    }
  });

  it('sends nothing to a disabled channel, nothing for an org without channels, and removes a channel', async () => {
    const before = hook.received.length;
    await set({ name: 'ops-hook', enabled: false });
    await notifier().notify(jobFailedEvent(about(), 'x'));
    assert.equal(hook.received.length, before);
    const nobody: NotificationEvent = { ...jobFailedEvent(about(), 'x'), orgName: 'unknown', orgId: null };
    await notifier().notify(nobody);
    assert.equal(await removeChannel(deps(), org, 'ops-hook'), true);
    assert.equal(await removeChannel(deps(), org, 'ops-hook'), false);
    assert.deepEqual((await channelViews(deps(), org)).map((c) => c.name), ['mail', 'slack']);
  });

  it('sends a test to each channel whatever events it chose', async () => {
    const results = await notifier().test(org);
    assert.deepEqual(results.map((r) => [r.channel, r.outcome]), [['mail', 'sent'], ['slack', 'sent']]);
    const log = await vault.store.listNotificationLog({ orgId: org.orgId, limit: 2 });
    assert.deepEqual(log.map((e) => e.eventKind), ['test', 'test']);
  });
});
