/**
 * The Notifier the shells hand to use cases: an event goes to each enabled channel of its org that
 * chose its kind, all channels at once, each under its own time limit; every attempt is logged
 * (sent, or failed with a message that holds no secret). Nothing here throws into the caller: a
 * failing channel, a log that cannot be written or settings that do not open are reported through
 * `onProblem` and the backup or restore that raised the event goes on as if nothing happened.
 */
import type { NotificationEvent, Notifier } from '../core/notifications.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { SealingKeyring } from '../orgs/index.ts';
import type { NotificationChannelRecord, NotificationLogEntry, NotificationStore, OrgCatalog } from '../store/port.ts';
import { openChannel } from './settings.ts';
import { DeliveryError, sendToChannel } from './channels.ts';
import type { SendOptions } from './channels.ts';
import { scrub, secretsOf } from './config.ts';
import type { Channel } from './config.ts';

export interface NotifierDeps {
  store: NotificationStore & Pick<OrgCatalog, 'getOrg'>;
  keyring: SealingKeyring;
  now?: () => number;
  /** The most one channel may take for one event, retries included (default 30 s). */
  channelTimeoutMs?: number;
  /** One SMTP conversation or HTTP attempt (default 10 s). */
  attemptTimeoutMs?: number;
  /** Webhook retries after the first attempt (default 2) and the first backoff (default 1 s, doubled). */
  retries?: number;
  backoffMs?: number;
  /** Where problems that cannot go into the log are told (the shells write them to stderr). */
  onProblem?: (message: string) => void;
}

/** What a delivery did, as `notify test` reports it. */
export type DeliveryOutcome = Pick<NotificationLogEntry, 'channel' | 'channelType' | 'outcome' | 'error' | 'attempts'>;

export interface VaultNotifier extends Notifier {
  /** Sends a test event to every channel of the org (or the one named), whatever events it chose. */
  test(org: OrgRegistration, channelName?: string): Promise<DeliveryOutcome[]>;
}

export function createNotifier(deps: NotifierDeps): VaultNotifier {
  const now = deps.now ?? Date.now;
  const problem = (message: string): void => {
    try {
      deps.onProblem?.(message);
    } catch {
      // A problem reporter that fails must not reach the backup either.
    }
  };

  const deliver = async (event: NotificationEvent, eventKind: NotificationLogEntry['eventKind'], orgId: string | null, record: NotificationChannelRecord): Promise<DeliveryOutcome> => {
    const started = now();
    const base = { at: started, orgId, orgName: event.orgName, eventKind, runId: event.runId, channel: record.name, channelType: record.type };
    let outcome: DeliveryOutcome;
    let channel: Channel | undefined;
    try {
      channel = openChannel(deps.keyring, record);
      const opened = channel;
      const sent = await withinLimit(deps.channelTimeoutMs ?? 30_000, (signal) => sendToChannel(opened.settings, event, sendOptions(deps, signal)));
      outcome = { channel: record.name, channelType: record.type, outcome: 'sent', error: null, attempts: sent.attempts };
    } catch (error) {
      const message = error instanceof DeliveryError || error instanceof LimitError ? error.message : error instanceof Error ? error.message : String(error);
      const safe = channel ? scrub(message, secretsOf(channel.settings)) : message;
      outcome = { channel: record.name, channelType: record.type, outcome: 'failed', error: safe, attempts: error instanceof DeliveryError ? error.attempts : 1 };
    }
    try {
      await deps.store.appendNotificationLog({ ...base, ...outcome, durationMs: Math.max(0, now() - started) });
    } catch (error) {
      problem(`The notification log could not be written (${error instanceof Error ? error.message : String(error)}); ${record.name}: ${outcome.outcome}.`);
    }
    if (outcome.outcome === 'failed') problem(`Notification "${event.title}" to channel ${record.name} (${record.type}) failed: ${outcome.error}`);
    return outcome;
  };

  const orgIdOf = async (event: NotificationEvent): Promise<string | null> => event.orgId ?? (await deps.store.getOrg(event.orgName))?.orgId ?? null;

  return {
    async notify(event) {
      try {
        const orgId = await orgIdOf(event);
        if (!orgId) return;
        const channels = (await deps.store.notificationChannels(orgId)).filter((c) => c.enabled && c.events.includes(event.kind));
        await Promise.all(channels.map((c) => deliver(event, event.kind, orgId, c)));
      } catch (error) {
        problem(`Notifications for ${event.orgName} could not be sent: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    async test(org, channelName) {
      const records = (await deps.store.notificationChannels(org.orgId)).filter((c) => channelName === undefined || c.name === channelName);
      const event: NotificationEvent = {
        kind: 'job-failed',
        orgName: org.name,
        orgId: org.orgId,
        at: now(),
        runId: null,
        title: `Test notification for ${org.name}`,
        summary: `This is a test from orgvault. Notifications about ${org.name} reach this channel: failed backup jobs, objects in error, the org falling behind, permission gaps and finished restores, as chosen for the channel.`,
        details: { test: true },
      };
      return Promise.all(records.map((c) => deliver(event, 'test', org.orgId, c)));
    },
  };
}

function sendOptions(deps: NotifierDeps, signal: AbortSignal): SendOptions {
  return { attemptTimeoutMs: deps.attemptTimeoutMs ?? 10_000, retries: deps.retries ?? 2, backoffMs: deps.backoffMs ?? 1_000, signal };
}

class LimitError extends Error {}

/** Runs `work`, and gives up (aborting it) once `ms` have passed. */
async function withinLimit<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new LimitError(`gave up after ${Math.round(ms / 1000)} s without an answer.`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), limit]);
  } finally {
    clearTimeout(timer);
  }
}

