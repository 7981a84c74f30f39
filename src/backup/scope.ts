/**
 * Which objects a run backs up, and why the others are not: a pure function of what the org
 * lists, the settings, and what the vault held before. Reasons use the words of our users' logs
 * (NOT_VISIBLE, excluded, unsupported) and say what would change the answer.
 */
import type { FieldSummary, ObjectSummary } from '../core/org-client.ts';
import type { ObjectState, ObjectStatus } from '../core/vault.ts';
import type { BackupSettings } from './options.ts';

export interface ScopeDecision {
  name: string;
  label: string;
  /** `capture` when the run reads it; otherwise the status it is reported with. */
  action: 'capture' | 'skip';
  status: ObjectStatus;
  statusCode: string | null;
  reason: string | null;
}

// LoginHistory and SetupAuditTrail are logs too, but they are reported as unsupported (they lack
// SystemModstamp) rather than hidden behind this toggle, so that admins see why.
const EVENT_LOG_OBJECTS = /^(EventLogFile|LoginEvent|ApiEvent|.*EventStore|.*EventStream)$/;

/** Decides, for every object the org lists and every object the vault knew, what this run does. */
export function decideScope(
  listed: readonly ObjectSummary[],
  previous: readonly ObjectState[],
  settings: BackupSettings,
  only: readonly string[] | undefined,
): ScopeDecision[] {
  const excluded = new Set(settings.exclude.map((n) => n.toLowerCase()));
  const wanted = only && only.length ? new Set(only.map((n) => n.toLowerCase())) : undefined;
  const decisions: ScopeDecision[] = [];
  const seen = new Set<string>();
  for (const object of listed) {
    seen.add(object.name.toLowerCase());
    if (wanted && !wanted.has(object.name.toLowerCase())) continue;
    decisions.push(decide(object, excluded, settings));
  }
  // Objects the vault backed up before that the org no longer lists: access was lost (or the
  // object deleted). Their data stays in the vault; the log says what to check.
  for (const state of previous) {
    const key = state.objectName.toLowerCase();
    if (seen.has(key) || (wanted && !wanted.has(key))) continue;
    seen.add(key);
    if (state.status === 'Excluded' || state.status === 'Unsupported' || state.status === 'NotVisible') continue;
    decisions.push({
      name: state.objectName,
      label: state.objectName,
      action: 'skip',
      status: 'Unavailable',
      statusCode: 'NOT_VISIBLE',
      reason: `${state.objectName} was backed up before but is no longer visible to the API user: it lost Read on the object (profile or permission set), its licence, or the object was deleted. The versions already backed up are kept.`,
    });
  }
  // Objects asked for by name that the org does not show at all.
  for (const name of only ?? []) {
    if (seen.has(name.toLowerCase())) continue;
    decisions.push({
      name,
      label: name,
      action: 'skip',
      status: 'NotVisible',
      statusCode: 'NOT_VISIBLE',
      reason: `${name} is not visible to the API user: check the name, and that the user has Read on it (a permission set or View All Data) and the licence it needs.`,
    });
  }
  return decisions.sort((a, b) => a.name.localeCompare(b.name));
}

function decide(object: ObjectSummary, excluded: ReadonlySet<string>, settings: BackupSettings): ScopeDecision {
  const skip = (status: ObjectStatus, statusCode: string | null, reason: string): ScopeDecision => ({ name: object.name, label: object.label, action: 'skip', status, statusCode, reason });
  const name = object.name;
  if (excluded.has(name.toLowerCase())) return skip('Excluded', 'EXCLUDED', `${name} is excluded by the org's settings or --exclude.`);
  if (!settings.includeFeeds && /Feed$/.test(name)) return skip('Excluded', 'EXCLUDED', `Feed objects are not backed up; turn on includeFeeds to back up ${name}.`);
  if (!settings.includeShares && /Share$/.test(name)) return skip('Excluded', 'EXCLUDED', `Sharing objects are not backed up; turn on includeShares to back up ${name}.`);
  if (!settings.includeEventLogs && EVENT_LOG_OBJECTS.test(name)) return skip('Excluded', 'EXCLUDED', `Event-log objects are not backed up; turn on includeEventLogs to back up ${name}.`);
  if (!settings.includeHistory && /History$/.test(name)) return skip('Excluded', 'EXCLUDED', `Field history objects are not backed up; turn on includeHistory to back up ${name}.`);
  if (name.endsWith('__b')) return skip('Unsupported', 'UNSUPPORTED', `${name} is a big object: it has no SystemModstamp or IsDeleted, and Bulk API 2.0 cannot read it, so changes cannot be captured.`);
  if (name.endsWith('__x')) return skip('Unsupported', 'UNSUPPORTED', `${name} is an external object: its data lives outside Salesforce.`);
  if (name.endsWith('__e')) return skip('Unsupported', 'UNSUPPORTED', `${name} is a platform event: events are not stored records.`);
  if (name.endsWith('__mdt')) return skip('Unsupported', 'UNSUPPORTED', `${name} is custom metadata: it is backed up with the org's metadata, not as records.`);
  if (!object.queryable || !object.retrieveable) return skip('Unsupported', 'UNSUPPORTED', `${name} cannot be queried through the API (describe says queryable: ${object.queryable}, retrieveable: ${object.retrieveable}).`);
  if (settings.mode === 'paused') return skip('Paused', null, 'Backups of this org are paused.');
  return { name, label: object.label, action: 'capture', status: 'Running', statusCode: null, reason: null };
}

/** Fields a capture cannot work without. */
const REQUIRED_FIELDS = ['Id', 'SystemModstamp'];

/**
 * The reason an object's describe rules out incremental capture, if it does: without
 * SystemModstamp no change can be found after the first copy.
 */
export function unsupportedByDescribe(name: string, fields: readonly FieldSummary[]): string | undefined {
  const names = new Set(fields.map((f) => f.name));
  const missing = REQUIRED_FIELDS.filter((f) => !names.has(f));
  if (missing.length === 0) return undefined;
  return `${name} has no ${missing.join(' or ')} field, so its changes cannot be found incrementally (as LoginHistory and SetupAuditTrail, which are append-only logs).`;
}

/** The fields a capture selects: every readable field except compound ones (their components are read) and base64 bodies (streamed separately). */
export function capturedFields(fields: readonly FieldSummary[]): { query: FieldSummary[]; bodies: FieldSummary[] } {
  const query: FieldSummary[] = [];
  const bodies: FieldSummary[] = [];
  for (const field of fields) {
    if (field.type === 'address' || field.type === 'location') continue;
    if (field.type === 'base64') bodies.push(field);
    else query.push(field);
  }
  return { query, bodies };
}
