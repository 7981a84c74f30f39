/** Changing an org's stored backup settings: checked whole before they are saved, and audited. */
import type { AuditEntry, OrgRegistration } from '../core/vault.ts';
import type { OrgCatalog } from '../store/port.ts';
import { resolveSettings } from './options.ts';
import type { BackupSettings } from './options.ts';

/** The settings an org has stored (those it leaves out take the defaults). */
export function storedSettings(org: OrgRegistration): Record<string, unknown> {
  return (org.settings.backup ?? {}) as Record<string, unknown>;
}

/**
 * Applies `changes` to the org's stored settings and saves them, unless the result is invalid (a
 * UsageError naming the setting, nothing saved). Returns the settings now in force.
 */
export async function updateBackupSettings(
  deps: { catalog: OrgCatalog; audit: { appendAudit(entry: AuditEntry): Promise<void> }; actor: string; now?: () => number },
  org: OrgRegistration,
  changes: Record<string, unknown>,
): Promise<BackupSettings> {
  const next = { ...storedSettings(org), ...changes };
  const settings = resolveSettings(next);
  await deps.catalog.putOrg({ ...org, settings: { ...org.settings, backup: next } });
  await deps.audit.appendAudit({ at: (deps.now ?? Date.now)(), actor: deps.actor, action: 'settings.update', target: org.name, details: { changed: Object.keys(changes) } });
  return settings;
}
