/**
 * `orgvault schedule set|show|clear`: when an org's backups (and permission checks) run, which
 * `orgvault serve` or `orgvault scheduler` carries out. "Back up now" is `orgvault backup`.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { SCHEDULED_JOBS, clearSchedule, describeRule, scheduleViews, setSchedule } from '../../schedule/index.ts';
import type { ScheduleInput, ScheduleView } from '../../schedule/index.ts';
import type { ScheduledJob } from '../../store/port.ts';
import { listOption as collect } from '../option-lists.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface SetFlags {
  org?: string;
  job: ScheduledJob;
  daily?: string;
  perDay?: string;
  start?: string;
  continuous?: boolean;
  every?: string;
  cron?: string;
  everyDays?: string;
  everyMonths?: string;
  tz?: string;
  cycleDays?: string;
  object?: string[];
}

function whole(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value)) throw new UsageError(`${flag} ${text} is not a whole number.`);
  return value;
}

const jobOption = (): Option => new Option('--job <job>', 'which job: backup, or the permission check').choices([...SCHEDULED_JOBS]).default('backup');

export function registerScheduleCommand(program: Command): void {
  const schedule = program.command('schedule').description("when an org's backups run (carried out by `orgvault serve` or `orgvault scheduler`)");

  schedule
    .command('set')
    .description("set an org's schedule, replacing the one it had")
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .addOption(jobOption())
    .option('--daily <HH:MM>', 'once a day at this time')
    .option('--per-day <n>', 'N jobs a day, spread evenly from --start')
    .option('--start <time>', 'with --per-day: the first job of the day (HH:MM, default 00:00); with --every-days/--every-months: the first job (YYYY-MM-DDTHH:MM, or HH:MM)')
    .option('--continuous', 'continuous protection: a scan at least hourly, spread through the day')
    .option('--every <minutes>', 'with --continuous: minutes between scans, 5 to 60 (default 60)')
    .option('--cron <expression>', 'a cron expression: minute hour day-of-month month day-of-week, e.g. "0 2 * * 1-5"')
    .option('--every-days <n>', 'every N days from --start')
    .option('--every-months <n>', 'every N months from --start (the permission check: monthly by default)')
    .option('--tz <zone>', "the time zone of the times given, an IANA name such as Europe/Paris (default: this machine's)")
    .option('--cycle-days <days>', 'backups: the backup cycle; when it is over the next job is a fresh full baseline (default 365)')
    .option('--object <name>', 'backups: only this object (repeat, or separate with commas; default all)', collect)
    .addHelpText('after', '\nExamples:\n  orgvault schedule set --org prod --daily 02:00 --tz Europe/Paris\n  orgvault schedule set --org prod --per-day 4 --start 01:00 --tz UTC\n  orgvault schedule set --org prod --continuous --every 30\n  orgvault schedule set --org prod --cron "0 */6 * * *" --tz America/New_York\n  orgvault schedule set --org prod --job permissions --every-months 1 --start 2026-12-01T09:00')
    .action(async (flags: SetFlags, command: Command) => {
      const options = globalOptions(command);
      const input: ScheduleInput = {
        job: flags.job,
        daily: flags.daily,
        perDay: whole('--per-day', flags.perDay),
        start: flags.start,
        continuous: flags.continuous,
        every: whole('--every', flags.every),
        cron: flags.cron,
        everyDays: whole('--every-days', flags.everyDays),
        everyMonths: whole('--every-months', flags.everyMonths),
        timeZone: flags.tz,
        cycleDays: whole('--cycle-days', flags.cycleDays),
        objects: flags.object,
      };
      const views = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        await setSchedule({ store: vault.store, audit: vault.store, actor: 'cli' }, org, input);
        return (await scheduleViews(vault.store, org, Date.now())).filter((v) => v.job === flags.job);
      });
      const view = views[0]!;
      printResult(options, view, () => [`Schedule of ${view.org} saved.`, ...viewLines(view), 'Jobs run while `orgvault serve` or `orgvault scheduler` is running.']);
    });

  schedule
    .command('show')
    .description("an org's schedules, with the next run and the last run's outcome")
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .action(async (flags: { org?: string }, command: Command) => {
      const options = globalOptions(command);
      const { org, views } = await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          return { org, views: await scheduleViews(vault.store, org, Date.now()) };
        },
        { readonly: true },
      );
      const backup = views.find((v) => v.job === 'backup') ?? null;
      printResult(options, backup ? { ...backup, schedules: views } : { org: org.name, nextRun: null, schedules: views }, () =>
        views.length === 0 ? [`${org.name} has no schedule: backups run only when started. Set one with \`orgvault schedule set --org ${org.name} --daily 02:00 --tz ZONE\`.`] : views.flatMap(viewLines),
      );
    });

  schedule
    .command('clear')
    .description("remove an org's schedule: its jobs no longer run on their own")
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .addOption(jobOption())
    .action(async (flags: { org?: string; job: ScheduledJob }, command: Command) => {
      const options = globalOptions(command);
      const { org, removed } = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        return { org, removed: await clearSchedule({ store: vault.store, audit: vault.store, actor: 'cli' }, org, flags.job) };
      });
      printResult(options, { org: org.name, job: flags.job, removed }, () => [removed ? `The ${flags.job} schedule of ${org.name} was removed.` : `${org.name} had no ${flags.job} schedule.`]);
    });
}

function viewLines(view: ScheduleView): string[] {
  const what = view.job === 'backup' ? 'Backups' : 'Permission checks';
  const last = view.lastRun;
  return [
    `${view.org} ${what.toLowerCase()}: ${describeRule(view.rule, view.timeZone)}${view.objects ? `, objects ${view.objects.join(', ')}` : ''}`,
    `  next run: ${view.nextRun ?? 'none'}`,
    `  last run: ${last ? `${last.status ?? 'running'}${last.startedAt ? ` (started ${last.startedAt})` : ''}${last.runId ? `, run ${last.runId}` : ''}` : 'none yet'}`,
    ...(last?.message ? [`    ${last.message}`] : []),
    ...(view.cycle
      ? [
          `  backup cycle: ${view.cycle.days} days${view.cycle.startedAt ? `, began ${view.cycle.startedAt}; next full baseline by ${view.cycle.nextBaselineBy}` : ', begins with the first full backup'}`,
          ...(view.cycle.lastBaseline ? [`  last baseline: ${view.cycle.lastBaseline.at}, because ${view.cycle.lastBaseline.reason}`] : []),
        ]
      : []),
    `  set ${view.setAt} by ${view.setBy}`,
  ];
}
