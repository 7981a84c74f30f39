/**
 * `orgvault notify set|remove|show|test|log`: where an org's notifications go (email over SMTP, a
 * webhook, Slack) and which events each channel receives. Secrets (the SMTP password, webhook
 * URLs) are sealed in the vault, never printed: `show` masks them, and they can be given on stdin
 * or in an environment variable rather than on the command line.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.ts';
import { NOTIFICATION_EVENT_KINDS } from '../../core/notifications.ts';
import { EVENT_DESCRIPTIONS, SMTP_SECURITY, channelViews, kindLabel, removeChannel, setChannel } from '../../notify/index.ts';
import type { ChannelChanges, ChannelView, SmtpSecurity } from '../../notify/index.ts';
import type { NotificationLogEntry } from '../../store/port.ts';
import { listOption } from '../option-lists.ts';
import { canPrompt, promptSecret } from '../secret-prompt.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, vaultNotifier, withVault } from '../vault-session.ts';

interface SetFlags {
  org?: string;
  channel?: string;
  emailTo?: string[];
  emailFrom?: string;
  smtpHost?: string;
  smtpPort?: string;
  smtpSecurity?: SmtpSecurity;
  smtpUser?: string;
  smtpPasswordStdin?: boolean;
  webhook?: string;
  slack?: string;
  events?: string[];
  enable?: boolean;
  disable?: boolean;
}

const EVENTS_HELP = NOTIFICATION_EVENT_KINDS.map((k) => `  ${k.padEnd(18)} ${EVENT_DESCRIPTIONS[k]}`).join('\n');

export function registerNotifyCommand(program: Command): void {
  const notify = program.command('notify').description("notifications: email, webhook or Slack when a job fails, objects end in error, the org falls behind, a permission is missing or a restore finishes");

  notify
    .command('set')
    .description('add a channel to an org, or change one (settings not given keep their value)')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--channel <name>', 'the channel\'s name (default: email, webhook or slack, after its type)')
    .option('--email-to <address>', 'send emails to this address (repeat, or separate with commas)', listOption)
    .option('--email-from <address>', 'the sender address')
    .option('--smtp-host <host>', 'the SMTP server')
    .option('--smtp-port <port>', 'its port (default 587 for starttls, 465 for tls)')
    .addOption(new Option('--smtp-security <mode>', 'tls (from the start), starttls (required upgrade), or none (a relay on localhost)').choices([...SMTP_SECURITY]))
    .option('--smtp-user <user>', 'the SMTP user; its password is read from ORGVAULT_SMTP_PASSWORD, stdin (--smtp-password-stdin) or a prompt')
    .option('--smtp-password-stdin', 'read the SMTP password from stdin')
    .option('--webhook <url>', 'POST each event as JSON to this https URL ("-": read the URL from stdin)')
    .option('--slack <url>', 'send each event to this Slack incoming-webhook URL ("-": read it from stdin)')
    .option('--events <list>', 'the events this channel receives, or all (default for a new channel: all); see below', listOption)
    .option('--enable', 'send to this channel again')
    .option('--disable', 'keep the channel but send nothing to it')
    .addHelpText(
      'after',
      `\nEvents:\n${EVENTS_HELP}\n\nExamples:\n  ORGVAULT_SMTP_PASSWORD=… orgvault notify set --org prod --email-to admin@example.com --email-from orgvault@example.com --smtp-host smtp.example.com --smtp-user orgvault --events job-failed,objects-in-error,org-behind\n  orgvault notify set --org prod --slack - --events all   (paste the Slack webhook URL on stdin)\n  orgvault notify set --org prod --channel email --events restore-finished`,
    )
    .action(async (flags: SetFlags, command: Command) => {
      const options = globalOptions(command);
      const changes = await changesOf(flags);
      const { org, view } = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        return { org, view: await setChannel({ store: vault.store, keyring: vault.keyring, audit: vault.store, actor: 'cli' }, org, changes) };
      });
      printResult(options, { org: org.name, channel: view }, () => [`Channel ${view.name} of ${org.name} saved.`, ...viewLines(view), `Send it a test with \`orgvault notify test --org ${org.name} --channel ${view.name}\`.`]);
    });

  notify
    .command('remove')
    .description('remove a channel of an org')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .requiredOption('--channel <name>', 'the channel to remove')
    .action(async (flags: { org?: string; channel: string }, command: Command) => {
      const options = globalOptions(command);
      const { org, removed } = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        return { org, removed: await removeChannel({ store: vault.store, keyring: vault.keyring, audit: vault.store, actor: 'cli' }, org, flags.channel) };
      });
      if (!removed) throw new UsageError(`${org.name} has no channel "${flags.channel}"; \`orgvault notify show --org ${org.name}\` lists its channels.`);
      printResult(options, { org: org.name, channel: flags.channel, removed }, () => [`Channel ${flags.channel} of ${org.name} removed.`]);
    });

  notify
    .command('show')
    .description("an org's channels and the events each receives (secrets masked), or every org's")
    .option('--org <name>', 'the org (default: every org)')
    .action(async (flags: { org?: string }, command: Command) => {
      const options = globalOptions(command);
      const shown = await withVault(
        command,
        async (vault) => {
          const orgs = flags.org === undefined ? await vault.store.listOrgs() : [await requireOrg(vault, flags.org)];
          return Promise.all(orgs.map(async (org) => ({ org, channels: await channelViews({ store: vault.store, keyring: vault.keyring }, org) })));
        },
        { readonly: true },
      );
      printResult(options, { orgs: shown.map(({ org, channels }) => ({ org: org.name, channels })) }, () =>
        shown.length === 0
          ? ['No org is connected to this vault yet.']
          : shown.flatMap(({ org, channels }) => [
              `${org.name}:`,
              ...(channels.length ? channels.flatMap((c) => viewLines(c)) : [`  no notification channel. Add one with \`orgvault notify set --org ${org.name} --email-to …\` or \`--webhook …\`.`]),
            ]),
      );
    });

  notify
    .command('test')
    .description('send a test notification to every channel of an org (or the one named), whatever events it chose')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--channel <name>', 'only this channel')
    .action(async (flags: { org?: string; channel?: string }, command: Command) => {
      const options = globalOptions(command);
      const { org, outcomes } = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const outcomes = await vaultNotifier(vault).test(org, flags.channel);
        return { org, outcomes };
      });
      if (outcomes.length === 0) {
        throw new UsageError(flags.channel ? `${org.name} has no channel "${flags.channel}"; \`orgvault notify show --org ${org.name}\` lists its channels.` : `${org.name} has no notification channel yet; add one with \`orgvault notify set --org ${org.name} …\`.`);
      }
      printResult(options, { org: org.name, results: outcomes }, () => outcomes.map((o) => `${o.channel} (${o.channelType}): ${o.outcome === 'sent' ? 'sent' : `FAILED: ${o.error}`}`));
      if (outcomes.some((o) => o.outcome === 'failed')) process.exitCode = ExitCode.CompletedWithErrors;
    });

  notify
    .command('log')
    .description('the notifications sent for an org, newest first: when, which event, to which channel, and whether it went out')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--limit <n>', 'at most this many (default 50)')
    .action(async (flags: { org?: string; limit?: string }, command: Command) => {
      const options = globalOptions(command);
      const limit = flags.limit === undefined ? 50 : Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit ${flags.limit}: give a whole number of at least 1, e.g. --limit 100.`);
      const { org, entries } = await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          return { org, entries: await vault.store.listNotificationLog({ orgId: org.orgId, limit }) };
        },
        { readonly: true },
      );
      printResult(options, { org: org.name, notifications: entries.map(logJson) }, () => (entries.length ? entries.map(logLine) : [`No notification was sent for ${org.name} yet.`]));
    });
}

async function changesOf(flags: SetFlags): Promise<ChannelChanges> {
  const email = flags.emailTo !== undefined || flags.emailFrom !== undefined || flags.smtpHost !== undefined || flags.smtpPort !== undefined || flags.smtpSecurity !== undefined || flags.smtpUser !== undefined || flags.smtpPasswordStdin === true;
  const kinds = [email && 'email', flags.webhook !== undefined && 'webhook', flags.slack !== undefined && 'slack'].filter((k): k is 'email' | 'webhook' | 'slack' => typeof k === 'string');
  if (kinds.length > 1) throw new UsageError(`One channel at a time: ${kinds.join(' and ')} settings were both given. Run \`orgvault notify set\` once per channel.`);
  if (flags.enable && flags.disable) throw new UsageError('--enable and --disable contradict each other: give one.');
  if (flags.webhook === '-' && flags.slack === '-') throw new UsageError('Only one URL can be read from stdin.');
  const type = kinds[0];
  const name = flags.channel ?? type;
  if (!name) throw new UsageError('Say which channel to change with --channel NAME, or add one with --email-to, --webhook or --slack.');
  let password: string | undefined;
  if (flags.smtpPasswordStdin) password = (await readStdin()).replace(/\r?\n$/, '');
  else if (process.env.ORGVAULT_SMTP_PASSWORD) password = process.env.ORGVAULT_SMTP_PASSWORD;
  else if (flags.smtpUser !== undefined && canPrompt()) password = await promptSecret(`SMTP password for ${flags.smtpUser}: `);
  if (password === '') throw new UsageError('The SMTP password is empty; give it in ORGVAULT_SMTP_PASSWORD, on stdin with --smtp-password-stdin, or at the prompt.');
  let port: number | undefined;
  if (flags.smtpPort !== undefined) {
    port = Number(flags.smtpPort);
    if (!/^\d+$/.test(flags.smtpPort.trim())) throw new UsageError(`--smtp-port ${flags.smtpPort} is not a port number (1 to 65535), e.g. 587.`);
  }
  const url = flags.webhook ?? flags.slack;
  return {
    name,
    type,
    events: flags.events,
    enabled: flags.enable ? true : flags.disable ? false : undefined,
    email: email ? { to: flags.emailTo, from: flags.emailFrom, host: flags.smtpHost, port, security: flags.smtpSecurity, user: flags.smtpUser, password } : undefined,
    url: url === '-' ? (await readStdin()).trim() : url,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

function viewLines(view: ChannelView): string[] {
  const s = view.settings;
  const where =
    view.type === 'email'
      ? `email to ${(s.to as string[]).join(', ')} from ${String(s.from)} through ${String(s.host)}:${String(s.port)} (${String(s.security)}${s.user ? `, user ${String(s.user)}, password ${s.password ? 'set' : 'not set'}` : ''})`
      : `${view.type === 'slack' ? 'Slack' : 'webhook'} ${String(s.url)}`;
  return [`  ${view.name}${view.enabled ? '' : ' (disabled)'}: ${where}`, `    events: ${view.events.map(kindLabel).join(', ')}`];
}

function logJson(e: NotificationLogEntry): Record<string, unknown> {
  return { at: new Date(e.at).toISOString(), event: e.eventKind, runId: e.runId, channel: e.channel, channelType: e.channelType, outcome: e.outcome, error: e.error, attempts: e.attempts, durationMs: e.durationMs };
}

function logLine(e: NotificationLogEntry): string {
  return `${new Date(e.at).toISOString()}  ${kindLabel(e.eventKind).padEnd(18)} ${e.channel} (${e.channelType})  ${e.outcome === 'sent' ? 'sent' : `FAILED: ${e.error ?? ''}`}${e.runId ? `  job ${e.runId}` : ''}`;
}

