/** `orgvault metadata list`: the metadata types backed up, with their counts and last change. */
import type { Command } from 'commander';
import { metadataInventory } from '../../metadata/read-model.ts';
import type { MetadataInventory } from '../../metadata/read-model.ts';
import { table } from '../format.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface ListFlags {
  org?: string;
  type?: string;
}

const iso = (ms: number | null): string => (ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '—');

export function inventoryLines(orgName: string, inventory: MetadataInventory): string[] {
  if (inventory.types.length === 0) return [`The vault holds no metadata of ${orgName} yet; run \`orgvault metadata backup --org ${orgName}\` or a backup job.`];
  const last = inventory.lastRun;
  return [
    `Metadata of ${orgName}${last ? `, last backed up ${iso(last.capturedAt)} (run ${last.runId}: ${last.components} components, ${last.changed} new versions)` : ''}:`,
    '',
    ...table(
      ['Type', 'Components', 'Deleted', 'Last modified in org', 'Last change backed up', 'Run'],
      inventory.types.map((t) => [t.type, String(t.components), String(t.deleted), iso(t.lastModified), iso(t.lastChangeCaptured), t.lastChangeRunId]),
    ),
  ];
}

export function registerMetadataList(metadata: Command): void {
  metadata
    .command('list')
    .description('the metadata types backed up: components, deletions and when each type last changed')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--type <name>', 'only this metadata type (CustomField, ApexClass, ValidationRule…)')
    .action(async (flags: ListFlags, command: Command) => {
      const options = globalOptions(command);
      await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          const inventory = await metadataInventory(vault.store, org.orgId, flags.type ? { type: flags.type } : {});
          printResult(options, { org: org.name, ...inventory }, () => inventoryLines(org.name, inventory));
        },
        { readonly: true },
      );
    });
}
