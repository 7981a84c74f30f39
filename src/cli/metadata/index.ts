/**
 * `orgvault metadata`: the org's configuration (fields, picklists, validation rules, Apex…) as
 * the vault holds it. Each subcommand lives in a file of its own; this only registers them.
 */
import type { Command } from 'commander';
import { registerMetadataBackup } from './backup.ts';
import { registerMetadataCompare } from './compare.ts';
import { registerMetadataExport } from './export.ts';
import { registerMetadataHistory } from './history.ts';
import { registerMetadataList } from './list.ts';
import { registerMetadataSettings } from './settings.ts';

export function registerMetadataCommand(program: Command): void {
  const metadata = program.command('metadata').description("back up, list, compare and export the org's metadata (fields, picklists, validation rules, Apex, profiles…)");
  registerMetadataBackup(metadata);
  registerMetadataList(metadata);
  registerMetadataHistory(metadata);
  registerMetadataCompare(metadata);
  registerMetadataExport(metadata);
  registerMetadataSettings(metadata);
}
