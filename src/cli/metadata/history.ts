/** `orgvault metadata history TYPE:NAME`: every version of one component the vault holds, newest first. */
import type { Command } from 'commander';
import type { MetadataComponentVersion } from '../../core/metadata.ts';
import { componentHistory } from '../../metadata/read-model.ts';
import { table } from '../format.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface HistoryFlags {
  org?: string;
}

const iso = (ms: number | null): string => (ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '—');

export function historyLines(component: string, versions: readonly MetadataComponentVersion[]): string[] {
  return [
    `${component}: ${versions.length} version(s), newest first.`,
    '',
    ...table(
      ['Backed up', 'Change', 'Last modified in org', 'Run', 'Content'],
      versions.map((v, i) => [
        iso(v.capturedAt),
        v.deleted ? 'deleted' : i === versions.length - 1 ? 'first backup' : versions[i + 1]!.deleted ? 'restored' : 'changed',
        iso(v.lastModifiedDate),
        v.runId,
        v.contentId ? v.contentId.slice(0, 12) : '—',
      ]),
    ),
  ];
}

export function registerMetadataHistory(metadata: Command): void {
  metadata
    .command('history')
    .description('every backed-up version of one component, with when and which run captured it')
    .argument('<component>', 'the component as TYPE:NAME, e.g. ApexClass:InvoiceService or CustomField:Account.Rating__c')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .action(async (component: string, flags: HistoryFlags, command: Command) => {
      const options = globalOptions(command);
      await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          const history = await componentHistory(vault.store, org.orgId, component);
          printResult(options, { org: org.name, ...history }, () => historyLines(`${history.type}:${history.fullName}`, history.versions));
        },
        { readonly: true },
      );
    });
}
