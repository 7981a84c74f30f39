/**
 * `orgvault stream --org NAME`: continuous data protection on its own, streaming the org's selected
 * objects' change events into the vault until SIGINT or SIGTERM. `orgvault cdc set|show`: which
 * objects are protected continuously, and what each stream is doing.
 */
import type { Command } from 'commander';
import { resolveSettings, storedSettings } from '../../backup/index.ts';
import { UsageError } from '../../core/errors.ts';
import { isoTime } from '../../core/time.ts';
import { ChangeCaptureService, cdcStatus, updateCdcSettings } from '../../stream/index.ts';
import type { CdcStatus } from '../../stream/index.ts';
import type { StreamObjectState } from '../../store/port.ts';
import { listOption } from '../option-lists.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { connectToOrg, requireOrg, withVault } from '../vault-session.ts';

export function registerStreamCommand(program: Command): void {
  program
    .command('stream')
    .description("continuous data protection: stream the change events (Change Data Capture) of the org's selected objects into the vault until stopped (Ctrl-C or SIGTERM)")
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .action(async (flags: { org?: string }, command: Command) => {
      const options = globalOptions(command);
      const states = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const client = await connectToOrg(vault, org);
        const service = new ChangeCaptureService({
          store: vault.store,
          blobs: vault.blobs,
          client,
          backupSettings: resolveSettings(storedSettings(org)),
          log: (line) => warn(line),
        });
        const stopped = new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await service.start(org);
        warn(`Streaming ${service.states().map((s) => `${s.objectName} (${s.status}${s.replayId === null ? '' : `, from replay ID ${s.replayId}`})`).join(', ')} of ${org.name}. Stop with Ctrl-C.`);
        await stopped;
        return service.stop();
      });
      printResult(options, { objects: states }, () => ['Stopped.', ...states.map(stateLine)]);
    });
}

export function registerCdcCommand(program: Command): void {
  const cdc = program.command('cdc').description('continuous data protection (Change Data Capture): the objects streamed, and their streams');

  cdc
    .command('set')
    .description('choose the objects protected continuously (replaces the selection; select the same objects for Change Data Capture in Setup)')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .requiredOption('--objects <names>', 'the objects, by API name (commas, or repeat); "none" turns continuous protection off', listOption)
    .action(async (flags: { org?: string; objects: string[] }, command: Command) => {
      const options = globalOptions(command);
      const none = flags.objects.length === 1 && flags.objects[0]!.toLowerCase() === 'none';
      if (!none && !flags.objects.length) throw new UsageError('Name the objects with --objects Account,Contact (or --objects none to turn continuous protection off).');
      const objects = none ? [] : flags.objects;
      const status = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const settings = await updateCdcSettings({ catalog: vault.store, audit: vault.store, actor: 'cli' }, org, objects);
        return cdcStatus(vault.store, { ...org, settings: { ...org.settings, cdc: settings } });
      });
      printResult(options, status, () =>
        status.objects.length
          ? [`${status.org} streams ${status.objects.join(', ')}. Run \`orgvault stream --org ${status.org}\` (or \`orgvault serve\`) to start.`]
          : [`Continuous protection of ${status.org} is off.`],
      );
    });

  cdc
    .command('show')
    .description('the objects protected continuously and what each stream is doing')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .action(async (flags: { org?: string }, command: Command) => {
      const options = globalOptions(command);
      const status = await withVault(command, async (vault) => cdcStatus(vault.store, await requireOrg(vault, flags.org)), { readonly: true });
      printResult(options, status, () => statusLines(status));
    });
}

function statusLines(status: CdcStatus): string[] {
  if (!status.streams.length) return [`No object of ${status.org} is protected continuously. Choose them with \`orgvault cdc set --org ${status.org} --objects Account,Contact\`.`];
  return [`${status.org}: ${status.objects.length ? status.objects.join(', ') : 'nothing selected'}`, ...status.streams.map((s) => `${stateLine(s)}${'selected' in s && !s.selected ? ' (no longer selected)' : ''}`)];
}

function stateLine(s: StreamObjectState): string {
  const time = (ms: number | null): string => (ms === null ? 'never' : isoTime(ms));
  return [
    `  ${s.objectName}: ${s.status}`,
    s.subscribedSince !== null ? `since ${time(s.subscribedSince)}` : null,
    `replay ID ${s.replayId ?? 'none'}`,
    `last event ${time(s.lastEventAt)}`,
    `${s.eventsApplied} event(s), ${s.versionsWritten} version(s), ${s.recordsFetched} fetched, ${s.gaps} gap(s), ${s.overflows} overflow(s), ${s.replayExpired} expired replay ID(s)`,
    s.message,
  ]
    .filter((part): part is string => part !== null)
    .join('; ');
}
