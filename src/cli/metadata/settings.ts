/** `orgvault metadata settings`: which metadata an org's backups capture (types, exclusions by type, on or off); audited. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { metadataSettings, updateMetadataSettings } from '../../metadata/settings.ts';
import type { MetadataSettings } from '../../metadata/settings.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface SettingsFlags {
  org?: string;
  types?: string;
  exclude?: string;
  enable?: boolean;
  disable?: boolean;
  minInterval?: string;
}

const list = (text: string): string[] => text.split(',').map((t) => t.trim()).filter(Boolean);

export function settingsLines(orgName: string, s: MetadataSettings): string[] {
  return [
    `Metadata backup of ${orgName}: ${s.enabled ? 'on, with every backup job' : 'off'}.`,
    `  Types: ${s.types.length > 0 ? s.types.join(', ') : 'every type the org describes'}.`,
    `  Excluded types: ${s.excludedTypes.length > 0 ? s.excludedTypes.join(', ') : 'none'}.`,
    `  Captured by a backup job when the last capture is ${s.minIntervalMinutes === 0 ? 'any age (every job)' : `${s.minIntervalMinutes} minute(s) old or more`}.`,
  ];
}

export function registerMetadataSettings(metadata: Command): void {
  metadata
    .command('settings')
    .description('show or change which metadata types the org\'s backups capture (exclusions by metadata type)')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--types <names>', 'back up only these types, comma-separated ("" for every type)')
    .option('--exclude <names>', 'never back up these types, comma-separated ("" for none), e.g. Profile,Layout; Report also leaves out report folders, ReportFolder only the folders')
    .option('--enable', 'capture metadata with every backup job')
    .option('--disable', 'do not capture metadata with backup jobs (`metadata backup` still runs)')
    .option('--min-interval <minutes>', 'capture metadata with a backup job only when the last capture is this old (default 60; 0 for every job)')
    .action(async (flags: SettingsFlags, command: Command) => {
      const options = globalOptions(command);
      if (flags.enable && flags.disable) throw new UsageError('--enable and --disable contradict each other; give one.');
      const changes: Partial<MetadataSettings> = {};
      if (flags.types !== undefined) changes.types = list(flags.types);
      if (flags.exclude !== undefined) changes.excludedTypes = list(flags.exclude);
      if (flags.enable || flags.disable) changes.enabled = flags.enable === true;
      if (flags.minInterval !== undefined) {
        const minutes = Number(flags.minInterval);
        if (flags.minInterval.trim() === '' || !Number.isInteger(minutes)) throw new UsageError(`--min-interval: "${flags.minInterval}" is not a whole number of minutes, e.g. --min-interval 60.`);
        changes.minIntervalMinutes = minutes;
      }
      await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        const settings = Object.keys(changes).length > 0 ? await updateMetadataSettings({ catalog: vault.store, audit: vault.store, actor: 'cli' }, org, changes) : metadataSettings(org);
        printResult(options, { org: org.name, ...settings }, () => settingsLines(org.name, settings));
      });
    });
}
