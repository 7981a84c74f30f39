/**
 * `orgvault history RECORD_ID --org NAME`: every version captured of one record, newest first,
 * with what changed.
 */
import type { Command } from 'commander';
import { recordHistory } from '../../backup/index.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

export function registerHistoryCommand(program: Command): void {
  program
    .command('history')
    .description('every version of a record the vault holds, newest first')
    .argument('<recordId>', 'the 18-character Salesforce ID')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .action(async (recordId: string, flags: { org?: string }, command: Command) => {
      const options = globalOptions(command);
      const history = await withVault(command, async (vault) => recordHistory(vault.store, await requireOrg(vault, flags.org), recordId), { readonly: true });
      printResult(options, history, () =>
        history.versions.length === 0
          ? [`No version of ${recordId} in the vault. Check the ID and the org, or back the object up first.`]
          : [
              `${history.objectName} ${recordId}: ${history.versions.length} version(s)`,
              ...(history.archived
                ? [
                    history.archived.restored
                      ? `Archived by run ${history.archived.runId} at ${history.archived.archivedAt}, restored since.`
                      : `Archived by run ${history.archived.runId} at ${history.archived.archivedAt}: deleted from Salesforce, kept here (restore with \`orgvault restore --object ${history.objectName} --id ${recordId}\`).`,
                  ]
                : []),
              ...history.versions.flatMap((v, i) => [
                `${v.systemModstamp}  ${v.changeType.padEnd(10)} captured ${v.capturedAt} by run ${v.runId}`,
                `    ${i === history.versions.length - 1 ? 'first version' : `changed: ${v.changedFields.join(', ') || '(no field values: a touch)'}`}`,
              ]),
            ],
      );
    });
}
