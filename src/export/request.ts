/**
 * The export command's flags turned into an export request, in one place for the CLI, the HTTP
 * API and the dashboard: the scope (one of --as-of, --all-versions, --since-last-export,
 * --since-run), the format and where the export goes. Every problem is a UsageError naming the
 * flag and the fix.
 */
import { UsageError } from '../core/errors.ts';
import { parseTime } from '../core/time.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { ExportFormat } from './format.ts';
import { exportFormat } from './formats.ts';
import type { ExportRequest, ExportScope } from './run-export.ts';

export interface ExportFlags {
  org?: string;
  object?: string[];
  format?: string;
  dialect?: string;
  out?: string;
  zip?: string;
  passwordFile?: string;
  asOf?: string;
  /** A recovery point's ID (or name): the CLI turns it into --object and --as-of. */
  recoveryPoint?: string;
  allVersions?: boolean;
  sinceLastExport?: boolean;
  sinceRun?: string;
  includeDeleted?: boolean;
  files?: boolean;
  force?: boolean;
}

/** The scope the flags ask for: the latest state when none is given. */
export function scopeOf(flags: ExportFlags): ExportScope {
  const given = [
    flags.asOf !== undefined && '--as-of',
    flags.allVersions && '--all-versions',
    flags.sinceLastExport && '--since-last-export',
    flags.sinceRun !== undefined && '--since-run',
  ].filter((f): f is string => typeof f === 'string');
  if (given.length > 1) {
    throw new UsageError(`${given.join(' and ')} cannot be combined: give one of --as-of TIME (the state at a time), --all-versions, --since-last-export or --since-run RUN_ID (without any: the latest state).`);
  }
  if (flags.asOf !== undefined) return { kind: 'asOf', at: parseTime(flags.asOf, '--as-of') };
  if (flags.allVersions) return { kind: 'allVersions' };
  if (flags.sinceLastExport) return { kind: 'sinceLastExport' };
  if (flags.sinceRun !== undefined) {
    if (!flags.sinceRun.trim()) throw new UsageError('--since-run needs a backup run ID: `orgvault logs --org NAME` lists them.');
    return { kind: 'sinceRun', runId: flags.sinceRun.trim() };
  }
  return { kind: 'latest' };
}

/** The format the flags name (CSV by default). */
export function formatOf(flags: ExportFlags): ExportFormat {
  return exportFormat((flags.format ?? 'csv').toLowerCase(), flags.dialect?.toLowerCase());
}

/** The export request for an org, from the flags. */
export function exportRequestOf(flags: ExportFlags, org: OrgRegistration): ExportRequest {
  return { org, objects: flags.object, scope: scopeOf(flags), includeDeleted: flags.includeDeleted === true, files: flags.files === true };
}

/** Where the export goes: exactly one of --out DIR and --zip FILE. */
export function outputOf(flags: ExportFlags): { kind: 'folder'; dir: string } | { kind: 'zip'; file: string } {
  if (flags.out !== undefined && flags.zip !== undefined) throw new UsageError('Give --out DIR (a folder) or --zip FILE (one encrypted zip), not both.');
  if (flags.out !== undefined) {
    if (flags.passwordFile !== undefined) throw new UsageError('--password-file protects a zip: add --zip FILE instead of --out, or leave --password-file out.');
    return { kind: 'folder', dir: flags.out };
  }
  if (flags.zip !== undefined) {
    if (!flags.zip.toLowerCase().endsWith('.zip')) throw new UsageError(`--zip ${flags.zip}: name the file with .zip at the end (such as export.zip), so that it opens as a zip.`);
    return { kind: 'zip', file: flags.zip };
  }
  throw new UsageError('Say where the export goes: --out DIR (a new or empty folder) or --zip FILE (one AES-256 zip protected by a password).');
}
