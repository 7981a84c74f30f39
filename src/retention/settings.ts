/** An org's retention policy, stored with its settings (`settings.retention`); every change is checked whole and audited. */
import { UsageError } from '../core/errors.ts';
import type { AuditEntry, OrgRegistration } from '../core/vault.ts';
import type { OrgCatalog } from '../store/port.ts';
import { POLICY_KEYS, policySettings, resolvePolicy } from './policy.ts';
import type { PolicyKey, RetentionPolicy } from './policy.ts';

export interface PolicyDeps {
  catalog: Pick<OrgCatalog, 'putOrg'>;
  audit: { appendAudit(entry: AuditEntry): Promise<void> };
  actor: string;
  now?: () => number;
}

/** The org's policy, or undefined when it has none (then `forget` keeps everything). */
export function storedPolicy(org: OrgRegistration): RetentionPolicy | undefined {
  const raw = org.settings.retention;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`The retention policy stored for ${org.name} is not a set of settings; set it again with \`orgvault retention set --org ${org.name} …\`.`);
  return resolvePolicy(raw as Record<string, unknown>);
}

/**
 * Applies `changes` to the org's policy (creating it) and saves it, unless the result is invalid
 * (a UsageError naming the setting; nothing saved). `null` turns a rule of its own off (deleted
 * records kept until purged, files without a rule of their own). Returns the policy now in force.
 */
export async function updateRetentionPolicy(deps: PolicyDeps, org: OrgRegistration, changes: Partial<Record<PolicyKey, number | null>>): Promise<RetentionPolicy> {
  const changed = Object.keys(changes).filter((k) => (POLICY_KEYS as readonly string[]).includes(k));
  if (changed.length === 0) throw new UsageError(`Nothing to change: give at least one of ${POLICY_KEYS.join(', ')}.`);
  const current = storedPolicy(org);
  const next: Record<string, unknown> = { ...(current ? policySettings(current) : {}) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    if (value === null && (key === 'keepDeletedDays' || key === 'keepFileDays' || key === 'keepFileVersions')) delete next[key];
    else next[key] = value;
  }
  const policy = resolvePolicy(next);
  await deps.catalog.putOrg({ ...org, settings: { ...org.settings, retention: policySettings(policy) } });
  await deps.audit.appendAudit({ at: (deps.now ?? Date.now)(), actor: deps.actor, action: 'retention.update', target: org.name, details: { changed, policy: policySettings(policy) } });
  return policy;
}

/** Removes the org's policy: `forget` then keeps every version of it. Returns whether it had one. */
export async function clearRetentionPolicy(deps: PolicyDeps, org: OrgRegistration): Promise<boolean> {
  if (org.settings.retention === undefined) return false;
  const { retention: _removed, ...settings } = org.settings;
  await deps.catalog.putOrg({ ...org, settings });
  await deps.audit.appendAudit({ at: (deps.now ?? Date.now)(), actor: deps.actor, action: 'retention.clear', target: org.name, details: {} });
  return true;
}
