/**
 * A notification channel's settings: what they are, how bad input is refused (a UsageError naming
 * the setting and the fix), and how they are shown without their secrets. An SMTP password and a
 * webhook URL (a Slack incoming-webhook URL is its own credential) are secrets: only masked here.
 */
import { UsageError } from '../core/errors.ts';
import { NOTIFICATION_EVENT_KINDS } from '../core/notifications.ts';
import type { NotificationEventKind } from '../core/notifications.ts';
import type { NotificationChannelType } from '../store/port.ts';

export const CHANNEL_TYPES: readonly NotificationChannelType[] = ['email', 'webhook', 'slack'];

/** How the SMTP connection is protected: TLS from the start (port 465), STARTTLS (587), or none (a local relay). */
export type SmtpSecurity = 'tls' | 'starttls' | 'none';
export const SMTP_SECURITY: readonly SmtpSecurity[] = ['tls', 'starttls', 'none'];

export interface EmailSettings {
  host: string;
  port: number;
  security: SmtpSecurity;
  user: string | null;
  password: string | null;
  from: string;
  to: string[];
}

export type ChannelSettings = { type: 'email'; email: EmailSettings } | { type: 'webhook'; url: string } | { type: 'slack'; url: string };

/** A channel as the notifier uses it: its settings unsealed. */
export interface Channel {
  name: string;
  events: NotificationEventKind[];
  enabled: boolean;
  settings: ChannelSettings;
  updatedAt: number;
}

/** A channel as `notify show` and the dashboard show it: secrets masked. */
export interface ChannelView {
  name: string;
  type: NotificationChannelType;
  events: NotificationEventKind[];
  enabled: boolean;
  updatedAt: string;
  /** For email: server, security, user, from, to, and whether a password is set. For webhooks: the URL's origin only. */
  settings: Record<string, unknown>;
}

/** What the word means in `--events`: the kinds of events an admin can choose. */
export const EVENT_DESCRIPTIONS: Readonly<Record<NotificationEventKind, string>> = {
  'job-failed': 'a backup job failed',
  'objects-in-error': 'a backup job finished with objects in error',
  'org-behind': 'the org fell Behind (the API budget ran out before every object was caught up)',
  'permission-gap': 'the permission check found something the API user cannot read or do',
  'restore-finished': 'a restore job finished',
};

const EMAIL = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\]+$/;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLocalHost(host: string): boolean {
  return LOCAL_HOSTS.has(host.toLowerCase()) || host.toLowerCase().endsWith('.localhost');
}

/** An email address, or a UsageError naming the option it came from. */
export function checkEmailAddress(text: string, option: string): string {
  const value = text.trim();
  if (!EMAIL.test(value)) throw new UsageError(`${option}: "${value}" is not an email address; give one like admin@example.com.`);
  return value;
}

/**
 * A webhook URL: https, or http to this machine only (a receiver on localhost). The URL is a secret
 * and never appears in the message: only what is wrong with it.
 */
export function checkWebhookUrl(text: string, option: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`${option}: that is not a URL; give the whole webhook address, starting with https://.`);
  }
  if (url.protocol === 'https:') return url.toString();
  if (url.protocol === 'http:' && isLocalHost(url.hostname)) return url.toString();
  throw new UsageError(`${option}: a webhook URL must start with https:// (http:// only to localhost), since each notification is sent to it over the network.`);
}

/** Event kinds from a list of words (`all` for every kind); an unknown word is a UsageError listing the kinds. */
export function parseEventKinds(words: readonly string[], option = '--events'): NotificationEventKind[] {
  const chosen = new Set<NotificationEventKind>();
  for (const raw of words.flatMap((w) => w.split(','))) {
    const word = raw.trim().toLowerCase();
    if (word === '') continue;
    if (word === 'all') {
      for (const k of NOTIFICATION_EVENT_KINDS) chosen.add(k);
      continue;
    }
    if (!(NOTIFICATION_EVENT_KINDS as readonly string[]).includes(word)) {
      throw new UsageError(`${option}: "${raw.trim()}" is not an event; choose among ${NOTIFICATION_EVENT_KINDS.join(', ')} (or all).`);
    }
    chosen.add(word as NotificationEventKind);
  }
  if (chosen.size === 0) throw new UsageError(`${option}: choose at least one event among ${NOTIFICATION_EVENT_KINDS.join(', ')} (or all).`);
  return NOTIFICATION_EVENT_KINDS.filter((k) => chosen.has(k));
}

/** A channel name: what `--channel` and the dashboard call it. */
export function checkChannelName(text: string): string {
  const name = text.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/.test(name)) {
    throw new UsageError(`--channel: "${name}" is not a channel name; use up to 40 letters, digits, dots, dashes or underscores, e.g. ops-email.`);
  }
  return name;
}

/** Checks a whole email channel's settings (after merging changes into what was stored). */
export function checkEmailSettings(s: Partial<EmailSettings>): EmailSettings {
  const host = (s.host ?? '').trim();
  if (!host) throw new UsageError('--smtp-host: the SMTP server is required for an email channel, e.g. --smtp-host smtp.example.com.');
  if (/[\s/]/.test(host)) throw new UsageError(`--smtp-host: "${host}" is not a host name; give the server's name or address only, e.g. smtp.example.com.`);
  const security = s.security ?? 'starttls';
  if (!SMTP_SECURITY.includes(security)) throw new UsageError(`--smtp-security: "${String(security)}" is not one of ${SMTP_SECURITY.join(', ')}.`);
  const port = s.port ?? (security === 'tls' ? 465 : 587);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--smtp-port: ${port} is not a port number (1 to 65535), e.g. 587 for STARTTLS or 465 for TLS.`);
  const user = s.user?.trim() || null;
  const password = s.password || null;
  if (password !== null && user === null) throw new UsageError('--smtp-user: a password was given without a user name; give both, or neither for a server that needs no sign-in.');
  if (user !== null && password === null) throw new UsageError(`--smtp-password: the user ${user} needs a password; pass it in ORGVAULT_SMTP_PASSWORD or with --smtp-password-stdin.`);
  if (security === 'none' && password !== null && !isLocalHost(host)) {
    throw new UsageError('--smtp-security none would send the SMTP password in clear over the network; use starttls or tls (or none only for a relay on localhost).');
  }
  if (!s.from) throw new UsageError('--email-from: the sender address is required, e.g. --email-from orgvault@example.com.');
  const from = checkEmailAddress(s.from, '--email-from');
  const to = (s.to ?? []).map((a) => checkEmailAddress(a, '--email-to'));
  if (to.length === 0) throw new UsageError('--email-to: give at least one recipient (repeat the option, or separate addresses with commas).');
  return { host, port, security, user, password, from, to: [...new Set(to)] };
}

/** The origin of a URL, with its path (which carries the secret of Slack and most webhooks) masked. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/••••`;
  } catch {
    return '••••';
  }
}

export function viewOf(channel: Channel): ChannelView {
  const s = channel.settings;
  const settings: Record<string, unknown> =
    s.type === 'email'
      ? { host: s.email.host, port: s.email.port, security: s.email.security, user: s.email.user, password: s.email.password ? '••••' : null, from: s.email.from, to: s.email.to }
      : { url: maskUrl(s.url) };
  return { name: channel.name, type: s.type, events: channel.events, enabled: channel.enabled, updatedAt: new Date(channel.updatedAt).toISOString(), settings };
}

/** The secrets of a channel, so that any error text can be scrubbed of them before it is logged. */
export function secretsOf(settings: ChannelSettings): string[] {
  if (settings.type === 'email') return settings.email.password ? [settings.email.password] : [];
  const secrets = [settings.url];
  try {
    const u = new URL(settings.url);
    if (u.pathname.length > 1) secrets.push(u.pathname);
    if (u.search) secrets.push(u.search);
  } catch {
    // Not a URL: the whole string is already listed.
  }
  return secrets;
}

/** `text` with every secret replaced by ••••. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('••••');
  return out;
}
