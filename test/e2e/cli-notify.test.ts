// `orgvault notify set|show|test|log|remove` as an admin runs them, the real bin/orgvault.js in a
// child process, with a local SMTP sink (which requires a sign-in) and a local webhook receiver:
// bad input exits 2 naming what is wrong; secrets are taken from the environment, shown masked,
// never printed and not in the catalog file in clear; a failed `orgvault backup` sends an email
// and a webhook; and `notify log` lists each delivery.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { smtpSink, webhookReceiver } from '../notify/sinks.ts';
import type { SmtpSink, WebhookReceiver } from '../notify/sinks.ts';
import { jsonOf, runCli } from './fixtures/cli-runner.ts';
import type { CliResult } from './fixtures/cli-runner.ts';
import { emulatedOrg } from './fixtures/emulated-org.ts';

const PASSPHRASE = 'e2e notify passphrase 77d2';
const SMTP_PASSWORD = 'smtp-secret-c41d09ee';

describe('orgvault notify', () => {
  let emu: RunningEmulator;
  let scratch: string;
  let vault: string;
  let sink: SmtpSink;
  let hook: WebhookReceiver;
  const outputs: string[] = [];

  const run = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
    runCli(args, { vault, cwd: scratch, passphrase: PASSPHRASE, env, onOutput: (stdout, stderr) => outputs.push(stdout, stderr) });
  const ok = (result: CliResult): CliResult => {
    assert.equal(result.code, 0, `exit ${result.code}\n${result.stderr}\n${result.stdout.slice(0, 2000)}`);
    return result;
  };
  const usage = (result: CliResult, pattern: RegExp): void => {
    assert.equal(result.code, 2, `exit ${result.code}\n${result.stderr}\n${result.stdout}`);
    assert.match(result.stderr, pattern);
  };

  before(async () => {
    emu = await startEmulator({ profile: 'demo', seed: 3 });
    scratch = await mkdtemp(join(tmpdir(), 'orgvault-cli-notify-'));
    vault = join(scratch, 'vault');
    sink = await smtpSink({ auth: { user: 'orgvault', password: SMTP_PASSWORD } });
    hook = await webhookReceiver('/hooks/T0/B0/webhooksecretvalue42');
    ok(await run(['init']));
    const { info } = emu;
    ok(await run(['org', 'add', 'prod', '--login-url', info.loginUrl, '--client-id', info.clientId, '--username', info.username], { ORGVAULT_CLIENT_SECRET: info.clientSecret, ORGVAULT_SF_PASSWORD: info.password }));
  });
  after(async () => {
    await emu.close();
    await Promise.all([sink.close(), hook.close()]);
    await rm(scratch, { recursive: true, force: true });
  });

  test('bad input exits 2 naming what is wrong and how to fix it; nothing is saved', async () => {
    const email = ['notify', 'set', '--org', 'prod', '--email-from', 'orgvault@example.com', '--smtp-host', '127.0.0.1'];
    usage(await run([...email, '--email-to', 'admin-at-example.com']), /--email-to: "admin-at-example.com" is not an email address; give one like admin@example.com/);
    usage(await run(['notify', 'set', '--org', 'prod', '--webhook', 'http://hooks.example.com/secret']), /--webhook: a webhook URL must start with https:\/\//);
    usage(await run(['notify', 'set', '--org', 'prod', '--webhook', 'https://hooks.example.com/x', '--events', 'job-failed,backup-done']), /--events: "backup-done" is not an event; choose among job-failed, objects-in-error, org-behind, permission-gap, restore-finished/);
    usage(await run([...email, '--email-to', 'a@example.com', '--smtp-user', 'orgvault']), /needs a password; pass it in ORGVAULT_SMTP_PASSWORD/);
    usage(await run(['notify', 'test', '--org', 'prod']), /prod has no notification channel yet/);
    assert.deepEqual(jsonOf<{ orgs: { channels: unknown[] }[] }>(ok(await run(['notify', 'show', '--json']))).orgs[0]!.channels, []);
  });

  test('set, show (masked) and test an email and a webhook channel', async () => {
    const set = ok(
      await run(
        ['notify', 'set', '--org', 'prod', '--channel', 'admins', '--email-to', 'admin@example.com,ops@example.com', '--email-from', 'orgvault@example.com', '--smtp-host', '127.0.0.1', '--smtp-port', String(sink.port), '--smtp-security', 'none', '--smtp-user', 'orgvault'],
        { ORGVAULT_SMTP_PASSWORD: SMTP_PASSWORD },
      ),
    );
    assert.match(set.stdout, /Channel admins of prod saved/);
    ok(await run(['notify', 'set', '--org', 'prod', '--webhook', hook.url, '--events', 'job-failed,restore-finished']));

    const shown = jsonOf<{ orgs: { org: string; channels: { name: string; type: string; events: string[]; settings: Record<string, unknown> }[] }[] }>(ok(await run(['notify', 'show', '--org', 'prod', '--json'])));
    const [admins, webhook] = shown.orgs[0]!.channels;
    assert.equal(admins!.name, 'admins');
    assert.equal(admins!.settings.password, '••••');
    assert.deepEqual(admins!.settings.to, ['admin@example.com', 'ops@example.com']);
    assert.equal(admins!.events.length, 5, 'a new channel receives every event');
    assert.equal(webhook!.name, 'webhook');
    assert.deepEqual(webhook!.events, ['job-failed', 'restore-finished']);
    assert.equal(webhook!.settings.url, `http://${new URL(hook.url).host}/••••`);
    assert.match(ok(await run(['notify', 'show'])).stdout, /admins: email to admin@example.com, ops@example.com .*password set/);

    const tested = jsonOf<{ results: { channel: string; outcome: string }[] }>(ok(await run(['notify', 'test', '--org', 'prod', '--json'])));
    assert.deepEqual(tested.results.map((r) => [r.channel, r.outcome]), [['admins', 'sent'], ['webhook', 'sent']]);
    const [mail] = await sink.waitFor(1);
    assert.equal(mail!.subject, '[orgvault] Test notification for prod');
    assert.equal(hook.received.length, 1);
  });

  test('a failed backup sends an email and a webhook, and notify log lists them', async () => {
    await emulatedOrg(emu).admin('POST', '/faults', { kind: 'error', match: 'GET /services/data/*/sobjects$', status: 400, name: 'objects-list' });
    const failed = await run(['backup', '--org', 'prod', '--object', 'Account']);
    await emulatedOrg(emu).admin('DELETE', '/faults');
    assert.equal(failed.code, 3, failed.stderr);
    const mails = await sink.waitFor(2);
    assert.equal(mails[1]!.subject, '[orgvault] Backup job of prod failed');
    assert.match(mails[1]!.text ?? '', /INVALID_REQUEST|could not be processed/);
    assert.deepEqual(hook.received.map((r) => r.body.kind), ['test', 'job-failed']);

    const log = jsonOf<{ notifications: { event: string; channel: string; outcome: string; runId: string | null }[] }>(ok(await run(['notify', 'log', '--org', 'prod', '--json'])));
    assert.deepEqual(log.notifications.map((n) => `${n.event}>${n.channel}:${n.outcome}`).sort(), ['job-failed>admins:sent', 'job-failed>webhook:sent', 'test>admins:sent', 'test>webhook:sent']);
    assert.ok(log.notifications.filter((n) => n.event === 'job-failed').every((n) => n.runId));
    assert.match(ok(await run(['notify', 'log', '--org', 'prod'])).stdout, /Backup job failed\s+admins \(email\)\s+sent/);
  });

  test('a failing channel is logged and told, and the command goes on', async () => {
    ok(await run(['notify', 'set', '--org', 'prod', '--channel', 'admins', '--smtp-port', '1', '--smtp-user', 'orgvault'], { ORGVAULT_SMTP_PASSWORD: SMTP_PASSWORD }));
    const tested = await run(['notify', 'test', '--org', 'prod', '--channel', 'admins']);
    assert.equal(tested.code, 1);
    assert.match(tested.stdout, /admins \(email\): FAILED: could not talk to the SMTP server 127\.0\.0\.1:1/);
    ok(await run(['notify', 'remove', '--org', 'prod', '--channel', 'admins']));
    usage(await run(['notify', 'remove', '--org', 'prod', '--channel', 'admins']), /prod has no channel "admins"/);
  });

  test('secrets are never printed and not in the catalog in clear', async () => {
    const printed = outputs.join('\n');
    assert.ok(!printed.includes(SMTP_PASSWORD), 'the SMTP password was printed');
    assert.ok(!printed.includes('webhooksecretvalue42'), 'the webhook URL was printed');
    for (const file of (await readdir(vault)).filter((f) => f.startsWith('catalog.db'))) {
      const bytes = await readFile(join(vault, file));
      for (const secret of [SMTP_PASSWORD, 'webhooksecretvalue42']) assert.equal(bytes.indexOf(secret), -1, `${secret} in clear in ${file}`);
    }
  });
});
