/**
 * Which metadata an org's backups capture (`org.settings.metadata`): on or off, every type or the
 * configured ones, and metadata types excluded (AvePoint's exclusions by type). Stored and audited.
 */
import { UsageError } from '../core/errors.ts';
import type { AuditEntry, OrgRegistration } from '../core/vault.ts';
import type { OrgCatalog } from '../store/port.ts';

export interface MetadataSettings {
  /** Metadata is captured with every backup job (on unless turned off). */
  enabled: boolean;
  /** Only these metadata types; empty for every type the org describes. */
  types: string[];
  /** Metadata types never captured. */
  excludedTypes: string[];
  /**
   * A backup job captures metadata when the last capture is at least this old: jobs every few
   * minutes (continuous backups) should not list every type each time. 0 captures with every job.
   */
  minIntervalMinutes: number;
}

/** Configuration changes rarely; hourly is enough for jobs that run more often. */
export const DEFAULT_METADATA_INTERVAL_MINUTES = 60;

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

const names = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The org's stored metadata settings, with the defaults for what it leaves out. */
export function metadataSettings(org: OrgRegistration): MetadataSettings {
  const stored = (org.settings.metadata ?? {}) as Record<string, unknown>;
  const interval = stored.minIntervalMinutes;
  return {
    enabled: stored.enabled !== false,
    types: names(stored.types),
    excludedTypes: names(stored.excludedTypes),
    minIntervalMinutes: typeof interval === 'number' && Number.isInteger(interval) && interval >= 0 ? interval : DEFAULT_METADATA_INTERVAL_MINUTES,
  };
}

function checkTypes(option: string, raw: readonly string[]): string[] {
  const out: string[] = [];
  for (const r of raw) {
    const name = r.trim();
    if (!TYPE_NAME.test(name)) throw new UsageError(`${option}: "${r}" is not a metadata type name (such as ApexClass, CustomField or Profile).`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/**
 * Applies `changes` to the org's metadata settings after checking every type name, saves and
 * audits them. Returns the settings now in force.
 */
export async function updateMetadataSettings(
  deps: { catalog: OrgCatalog; audit: { appendAudit(entry: AuditEntry): Promise<void> }; actor: string; now?: () => number },
  org: OrgRegistration,
  changes: Partial<MetadataSettings>,
): Promise<MetadataSettings> {
  const current = metadataSettings(org);
  const next: MetadataSettings = {
    enabled: changes.enabled ?? current.enabled,
    types: changes.types === undefined ? current.types : checkTypes('--types', changes.types),
    excludedTypes: changes.excludedTypes === undefined ? current.excludedTypes : checkTypes('--exclude', changes.excludedTypes),
    minIntervalMinutes: changes.minIntervalMinutes ?? current.minIntervalMinutes,
  };
  if (!Number.isInteger(next.minIntervalMinutes) || next.minIntervalMinutes < 0 || next.minIntervalMinutes > 10_080) {
    throw new UsageError(`--min-interval: ${String(changes.minIntervalMinutes)} is not a number of minutes from 0 (every backup job) to 10080 (a week).`);
  }
  const both = next.types.filter((t) => next.excludedTypes.includes(t));
  if (both.length > 0) throw new UsageError(`${both.join(', ')} cannot be both backed up and excluded; drop it from --types or from --exclude.`);
  await deps.catalog.putOrg({ ...org, settings: { ...org.settings, metadata: next } });
  await deps.audit.appendAudit({ at: (deps.now ?? Date.now)(), actor: deps.actor, action: 'metadata.settings.update', target: org.name, details: { ...next } });
  return next;
}
