/** Which objects of an org continuous data protection (Change Data Capture) covers: stored and audited. */
import { UsageError } from '../core/errors.ts';
import type { AuditEntry, OrgRegistration } from '../core/vault.ts';
import type { OrgCatalog, StreamObjectState } from '../store/port.ts';

export interface CdcSettings {
  /** Objects streamed continuously, by API name. */
  objects: string[];
}

const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The org's stored Change Data Capture settings (none selected when never set). */
export function cdcSettings(org: OrgRegistration): CdcSettings {
  const stored = org.settings.cdc as { objects?: unknown } | undefined;
  const objects = Array.isArray(stored?.objects) ? stored.objects.filter((o): o is string => typeof o === 'string') : [];
  return { objects };
}

/**
 * Replaces the objects the org streams, after checking every name; saves and audits the change.
 * An empty list turns continuous protection off.
 */
export async function updateCdcSettings(
  deps: { catalog: OrgCatalog; audit: { appendAudit(entry: AuditEntry): Promise<void> }; actor: string; now?: () => number },
  org: OrgRegistration,
  objects: readonly string[],
): Promise<CdcSettings> {
  const names: string[] = [];
  for (const raw of objects) {
    const name = raw.trim();
    if (!API_NAME.test(name)) throw new UsageError(`"${raw}" is not an object API name (letters, digits and underscores, such as Account or Invoice__c).`);
    if (name.endsWith('__b') || name.endsWith('__e') || name.endsWith('__mdt')) {
      throw new UsageError(`${name} cannot be protected continuously: big objects, platform events and custom metadata have no change events.`);
    }
    if (!names.some((n) => n.toLowerCase() === name.toLowerCase())) names.push(name);
  }
  const settings: CdcSettings = { objects: names };
  await deps.catalog.putOrg({ ...org, settings: { ...org.settings, cdc: settings } });
  await deps.audit.appendAudit({ at: (deps.now ?? Date.now)(), actor: deps.actor, action: 'cdc.update', target: org.name, details: { objects: names } });
  return settings;
}

/** The channel of an object's change events: `/data/AccountChangeEvent`, `/data/Invoice__ChangeEvent`. */
export function changeEventChannel(objectName: string): string {
  const event = objectName.endsWith('__c') ? `${objectName.slice(0, -1)}ChangeEvent` : `${objectName}ChangeEvent`;
  return `/data/${event}`;
}

/** The vault's state of one streamed object, before its first subscription. */
export function unsubscribedState(objectName: string, now: number): StreamObjectState {
  return {
    objectName,
    channel: changeEventChannel(objectName),
    replayId: null,
    status: 'Stopped',
    subscribedSince: null,
    coveredFrom: null,
    coveredThrough: null,
    lastEventAt: null,
    eventsApplied: 0,
    versionsWritten: 0,
    recordsFetched: 0,
    gaps: 0,
    overflows: 0,
    replayExpired: 0,
    message: null,
    updatedAt: now,
  };
}
