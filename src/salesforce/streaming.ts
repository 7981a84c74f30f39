/**
 * Change Data Capture over the Streaming API (CometD), through jsforce's faye client: subscribe to
 * a change event channel from a replay ID, hand each event on as plain data, tell a replay ID
 * Salesforce no longer holds (its 72-hour retention) as ReplayIdInvalidError, and, when the
 * session dies, log in again through the shared session and resume from the last event delivered.
 * faye reconnects by itself after a dropped connection or an unknown client (it handshakes and
 * subscribes again, and the replay extension asks for the events after the last one it saw).
 */
import { Connection } from '@jsforce/jsforce-node';
import { StreamingExtension } from '@jsforce/jsforce-node/lib/api/streaming.js';
import { ReplayIdInvalidError } from '../core/org-client.ts';
import type { ChangeEventMessage, ChangeEventType, ChangeSubscription, ChangeSubscriptionRequest } from '../core/org-client.ts';
import type { Session } from './auth.ts';
import type { SharedSession } from './http.ts';

/** The parts of faye's client used here (jsforce's typings leave out `disconnect`). */
interface FayeClient {
  subscribe(channel: string, listener: (message: unknown) => void): PromiseLike<void>;
  disconnect(): PromiseLike<void> | undefined;
  /** faye closes its transport only when the server accepts the disconnect. */
  _dispatcher?: { close(): void };
}

const CHANGE_TYPES = new Set<string>(['CREATE', 'UPDATE', 'DELETE', 'UNDELETE', 'GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE', 'GAP_OVERFLOW']);
/** How long a disconnect may take before the client is dropped anyway (a dead server never answers). */
const DISCONNECT_WAIT_MS = 1_000;

/** Subscribes as OrgClient.subscribeChanges describes. */
export async function subscribeChanges(shared: SharedSession, apiVersion: string, request: ChangeSubscriptionRequest, log: (line: string) => void): Promise<ChangeSubscription> {
  const { channel } = request;
  let lastReplayId = request.replayId;
  let current: FayeClient | undefined;
  let closed = false;

  const open = async (replayId: number): Promise<void> => {
    const session = shared.current;
    const conn = new Connection({ instanceUrl: session.instanceUrl, accessToken: session.accessToken, version: apiVersion });
    const extensions = [new StreamingExtension.Replay(channel, replayId), new StreamingExtension.AuthFailure(() => void renew(session))];
    const client = conn.streaming.createClient(extensions) as unknown as FayeClient;
    current = client;
    const subscribed = client.subscribe(channel, (message) => {
      // Messages a replaced or closed client still had in flight are not delivered twice.
      if (closed || current !== client) return;
      const event = toChangeEvent(channel, message);
      if (!event) return;
      lastReplayId = event.replayId;
      request.onEvent(event);
    });
    try {
      await subscribed;
    } catch (error) {
      current = undefined;
      await disconnect(client);
      throw subscribeError(channel, replayId, error);
    }
  };

  const renew = async (stale: Session): Promise<void> => {
    if (closed) return;
    const dead = current;
    current = undefined;
    if (dead) void disconnect(dead);
    try {
      log(`The streaming session for ${channel} was refused; logging in again and resuming after replay ID ${lastReplayId}`);
      await shared.renew(stale);
      if (!closed) await open(lastReplayId);
    } catch (error) {
      if (!closed) request.onError(error instanceof Error ? error : new Error(String(error)));
    }
  };

  await open(request.replayId);
  return {
    close: async () => {
      closed = true;
      const client = current;
      current = undefined;
      if (client) await disconnect(client);
    },
  };
}

/**
 * Disconnects, waiting a moment at most (a server that is gone never answers), then closes the
 * transport whatever the answer: faye keeps retrying a client whose disconnect was refused (a dead
 * session), which would keep the process alive for ever.
 */
async function disconnect(client: FayeClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const done = Promise.resolve(client.disconnect()).then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, DISCONNECT_WAIT_MS)))]);
  clearTimeout(timer);
  client._dispatcher?.close();
}

/** A refused subscribe as orgvault's error: the invalid replay ID typed, the rest as they came. */
function subscribeError(channel: string, replayId: number, error: unknown): Error {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  if (/replayId \{?-?\d+\}? you provided was invalid/i.test(message)) {
    return new ReplayIdInvalidError(channel, replayId, `Salesforce no longer holds replay ID ${replayId} on ${channel} (change events are kept 72 hours): ${message}`);
  }
  return error instanceof Error ? error : new Error(`Subscribing to ${channel} failed: ${message}`);
}

/** An event message's data as plain data; undefined for anything that is not a change event. */
export function toChangeEvent(channel: string, message: unknown): ChangeEventMessage | undefined {
  if (!isObject(message) || !isObject(message.payload) || !isObject(message.event)) return undefined;
  const { ChangeEventHeader: header, ...fields } = message.payload;
  const replayId = Number(message.event.replayId);
  if (!isObject(header) || !Number.isSafeInteger(replayId)) return undefined;
  const changeType = String(header.changeType);
  if (!CHANGE_TYPES.has(changeType)) return undefined;
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
  return {
    channel,
    replayId,
    entityName: String(header.entityName),
    changeType: changeType as ChangeEventType,
    recordIds: strings(header.recordIds),
    commitTimestamp: Number(header.commitTimestamp),
    commitUser: String(header.commitUser ?? ''),
    transactionKey: String(header.transactionKey ?? ''),
    sequenceNumber: Number(header.sequenceNumber ?? 0),
    changedFields: strings(header.changedFields),
    nulledFields: strings(header.nulledFields),
    diffFields: strings(header.diffFields),
    fields,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
