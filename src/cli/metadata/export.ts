/**
 * `orgvault metadata export`: a deployable zip (package.xml, a Salesforce DX project and the
 * source files) of the org's metadata as of a time or a backup run (default: the latest).
 */
import type { Command } from 'commander';
import { parseTime } from '../../core/time.ts';
import { exportMetadata } from '../../metadata/export-package.ts';
import type { MetadataExportRequest, MetadataExportResult } from '../../metadata/export-package.ts';
import { formatBytes, table } from '../format.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface ExportFlags {
  org?: string;
  asOf?: string;
  run?: string;
  type?: string;
  out: string;
  apiVersion?: string;
  force?: boolean;
}

function exportLines(result: MetadataExportResult): string[] {
  const lines = [
    `Exported ${result.components} component(s) of ${result.org} as of ${result.point.runId ? `backup run ${result.point.runId} (captured ${result.point.at})` : result.point.at}`,
    `to ${result.file} (${formatBytes(result.bytes)}).`,
    '',
    ...table(['Type', 'Components'], result.types.map((t) => [t.name, String(t.count)])),
  ];
  if (result.renamedProfiles.length > 0) {
    lines.push('', 'Custom profiles renamed so that they do not overwrite a built-in profile (see README.txt in the zip):', ...result.renamedProfiles.map((p) => `  ${p.fullName} -> ${p.exportName}`));
  }
  if (result.conflicts.length > 0) lines.push('', `${result.conflicts.length} file(s) were held by two components; README.txt in the zip names them.`);
  lines.push('', 'Deploy it with: sf project deploy start --manifest package.xml --target-org ALIAS (from the unzipped folder; --dry-run first).');
  return lines;
}

export function registerMetadataExport(metadataCommand: Command): void {
  metadataCommand
    .command('export')
    .description('a deployable zip (package.xml and source files) of the org\'s metadata as of a time or a backup run')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--as-of <time>', 'the metadata as of this ISO-8601 time (2026-11-01, 2026-11-01T10:00:00Z)')
    .option('--run <id>', 'the metadata as of this backup run (an ID or its start; default: the latest backup)')
    .option('--type <name>', 'only components of this metadata type')
    .option('--api-version <version>', 'the API version package.xml names (default 62.0)')
    .requiredOption('--out <file.zip>', 'the zip file to write')
    .option('--force', 'replace --out if it exists')
    .action(async (flags: ExportFlags, command: Command) => {
      const options = globalOptions(command);
      const request: MetadataExportRequest = {};
      if (flags.asOf !== undefined) request.at = parseTime(flags.asOf, '--as-of');
      if (flags.run !== undefined) request.runId = flags.run;
      if (flags.type !== undefined) request.type = flags.type;
      if (flags.apiVersion !== undefined) request.version = flags.apiVersion;
      await withVault(
        command,
        async (vault) => {
          const org = await requireOrg(vault, flags.org);
          const result = await exportMetadata(vault.store, org, request, flags.out, { force: flags.force === true });
          printResult(options, result, () => exportLines(result));
        },
        { readonly: true },
      );
    });
}
