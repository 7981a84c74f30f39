/**
 * `orgvault scheduler [--interval SECONDS]`: runs the vault's schedules, without the HTTP server,
 * until SIGINT or SIGTERM. A second signal stops at once: a backup killed anywhere loses nothing,
 * and the next run resumes from its last stored page.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { QUEUE_OPTION, openVaultQueue } from '../queue-option.ts';
import { globalOptions } from '../vault-options.ts';
import { withVault } from '../vault-session.ts';
import { startVaultScheduler } from './run.ts';

export function registerSchedulerCommand(program: Command): void {
  program
    .command('scheduler')
    .description('run the scheduled backups of every org (set with `orgvault schedule set`) until stopped; `orgvault serve` runs them too')
    .option('--interval <seconds>', 'how often schedules are looked at (a job starts at most this late)', '30')
    .option(...QUEUE_OPTION)
    .action(async (flags: { interval: string; queue?: string }, command: Command) => {
      const intervalSeconds = Number(flags.interval);
      if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 3600) throw new UsageError(`--interval ${flags.interval} is not a number of seconds from 1 to 3600.`);
      const options = globalOptions(command);
      await withVault(command, async (vault) => {
        const schedules = await vault.store.listSchedules();
        // Listening before saying it runs: a signal sent as soon as it is said is caught.
        const stopped = new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
        });
        // With a work queue (a PostgreSQL vault), backups are enqueued for `orgvault worker`.
        const queue = await openVaultQueue(vault, flags.queue);
        const { stop } = startVaultScheduler(vault, { intervalSeconds, queue });
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ scheduler: 'running', schedules: schedules.length })}\n`
            : `orgvault scheduler is running ${schedules.length} schedule(s)${schedules.length ? '' : ' (set one with `orgvault schedule set`)'}; Ctrl-C stops it.\n`,
        );
        await stopped;
        // A second signal while jobs finish: stop now.
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
        process.stderr.write('Stopping: waiting for running jobs to finish (a second Ctrl-C stops at once).\n');
        await stop();
        await queue?.close();
      });
    });
}
