/**
 * An org's notification channels: sealed with the vault's key (bound to the org ID and the channel
 * name, so a sealed blob moved to another channel fails to open), checked whole before they are
 * saved, and every change audited without its values.
 */
import { OrgvaultError, UsageError } from '../core/errors.ts';
import type { NotificationEventKind } from '../core/notifications.ts';
import { NOTIFICATION_EVENT_KINDS } from '../core/notifications.ts';
import type { AuditEntry, OrgRegistration } from '../core/vault.ts';
import { open, seal } from '../crypto/seal.ts';
import type { SealingKeyring } from '../orgs/index.ts';
import type { NotificationChannelRecord, NotificationChannelType, NotificationStore } from '../store/port.ts';
import { CHANNEL_TYPES, checkChannelName, checkEmailSettings, checkWebhookUrl, parseEventKinds, viewOf } from './config.ts';
import type { Channel, ChannelSettings, ChannelView, EmailSettings } from './config.ts';

export interface ChannelSettingsDeps {
  store: NotificationStore;
  keyring: SealingKeyring;
  audit: { appendAudit(entry: AuditEntry): Promise<void> };
  actor: string;
  now?: () => number;
}

/** What `notify set` and the settings form change; what is left out keeps its stored value. */
export interface ChannelChanges {
  name: string;
  /** Required for a new channel; a stored channel keeps its type. */
  type?: NotificationChannelType;
  /** Event words (`all` for every kind). A new channel without them gets every event. */
  events?: readonly string[];
  enabled?: boolean;
  email?: Partial<EmailSettings>;
  /** The webhook or Slack incoming-webhook URL. */
  url?: string;
}

const aad = (orgId: string, name: string): string => `orgvault:notify-channel:${orgId}:${name}`;

export function sealChannelSettings(keyring: SealingKeyring, orgId: string, name: string, settings: ChannelSettings): Uint8Array {
  return seal(keyring.sealing, Buffer.from(JSON.stringify(settings), 'utf8'), aad(orgId, name));
}

/** The channel with its settings unsealed; IntegrityError when they were sealed elsewhere or damaged. */
export function openChannel(keyring: SealingKeyring, record: NotificationChannelRecord): Channel {
  const plain = open(keyring.sealing, record.sealedConfig, aad(record.orgId, record.name), `the settings of notification channel "${record.name}"`);
  const settings = JSON.parse(plain.toString('utf8')) as ChannelSettings;
  if (!settings || settings.type !== record.type) {
    throw new OrgvaultError('CORRUPT', `The settings of notification channel "${record.name}" do not match its type; set the channel again with \`orgvault notify set\`.`);
  }
  return { name: record.name, events: record.events, enabled: record.enabled, settings, updatedAt: record.updatedAt };
}

/** The org's channels, unsealed. */
export async function orgChannels(deps: Pick<ChannelSettingsDeps, 'store' | 'keyring'>, org: OrgRegistration): Promise<Channel[]> {
  return (await deps.store.notificationChannels(org.orgId)).map((r) => openChannel(deps.keyring, r));
}

/** The org's channels as they may be shown: secrets masked. */
export async function channelViews(deps: Pick<ChannelSettingsDeps, 'store' | 'keyring'>, org: OrgRegistration): Promise<ChannelView[]> {
  return (await orgChannels(deps, org)).map(viewOf);
}

/**
 * Creates a channel or changes one (settings left out keep their stored value, secrets included),
 * checks the result whole and saves it sealed, unless it is invalid: a UsageError naming the
 * setting, nothing saved. Returns the channel as it may be shown.
 */
export async function setChannel(deps: ChannelSettingsDeps, org: OrgRegistration, changes: ChannelChanges): Promise<ChannelView> {
  const name = checkChannelName(changes.name);
  const storedRecord = (await deps.store.notificationChannels(org.orgId)).find((c) => c.name === name);
  const stored = storedRecord ? openChannel(deps.keyring, storedRecord) : undefined;
  const type = stored?.settings.type ?? changes.type;
  if (!type) throw new UsageError(`There is no channel "${name}" for ${org.name} yet: say what it is with --email-to, --webhook or --slack.`);
  if (!CHANNEL_TYPES.includes(type)) throw new UsageError(`"${String(type)}" is not a channel type; choose among ${CHANNEL_TYPES.join(', ')}.`);
  if (changes.type && stored && changes.type !== stored.settings.type) {
    throw new UsageError(`Channel "${name}" of ${org.name} is a ${stored.settings.type} channel; remove it first (\`orgvault notify remove --org ${org.name} --channel ${name}\`) or choose another name.`);
  }
  let settings: ChannelSettings;
  if (type === 'email') {
    if (changes.url !== undefined) throw new UsageError(`Channel "${name}" is an email channel: a webhook URL does not apply to it.`);
    settings = { type, email: checkEmailSettings({ ...(stored?.settings.type === 'email' ? stored.settings.email : {}), ...definedOnly(changes.email ?? {}) }) };
  } else {
    if (changes.email && Object.values(changes.email).some((v) => v !== undefined)) throw new UsageError(`Channel "${name}" is a ${type} channel: SMTP settings do not apply to it.`);
    const option = type === 'slack' ? '--slack' : '--webhook';
    const url = changes.url ?? (stored && stored.settings.type !== 'email' ? stored.settings.url : undefined);
    if (url === undefined) throw new UsageError(`${option}: the ${type === 'slack' ? 'Slack incoming-webhook' : 'webhook'} URL is required.`);
    settings = { type, url: checkWebhookUrl(url, option) };
  }
  const events: NotificationEventKind[] = changes.events ? parseEventKinds(changes.events) : (stored?.events ?? [...NOTIFICATION_EVENT_KINDS]);
  const enabled = changes.enabled ?? stored?.enabled ?? true;
  const at = (deps.now ?? Date.now)();
  await deps.store.putNotificationChannel({ orgId: org.orgId, name, type, events, enabled, sealedConfig: sealChannelSettings(deps.keyring, org.orgId, name, settings), updatedAt: at });
  const changed = [
    ...(changes.events ? ['events'] : []),
    ...(changes.enabled !== undefined ? ['enabled'] : []),
    ...Object.keys(definedOnly(changes.email ?? {})),
    ...(changes.url !== undefined ? ['url'] : []),
  ];
  await deps.audit.appendAudit({ at, actor: deps.actor, action: stored ? 'notify.update' : 'notify.add', target: org.name, details: { channel: name, type, events, enabled, changed } });
  return viewOf({ name, events, enabled, settings, updatedAt: at });
}

/** Removes a channel; whether it existed. */
export async function removeChannel(deps: ChannelSettingsDeps, org: OrgRegistration, name: string): Promise<boolean> {
  const removed = await deps.store.removeNotificationChannel(org.orgId, name);
  if (removed) await deps.audit.appendAudit({ at: (deps.now ?? Date.now)(), actor: deps.actor, action: 'notify.remove', target: org.name, details: { channel: name } });
  return removed;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
