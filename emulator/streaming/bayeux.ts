/**
 * The CometD (Bayeux 1.0) server of the Streaming API, long-polling only, as Salesforce runs it:
 * handshake with the replay extension, `/meta/connect` held open until events arrive, subscribe
 * with a replay ID per channel, and Salesforce's error strings (`403::Unknown client`,
 * `401::Authentication invalid`, `400::The replayId {…} you provided was invalid…`).
 */
import { randomBytes } from 'node:crypto';
import type { Org } from '../org/org.ts';
import type { Session } from '../server/context.ts';
import { changeDataCapture } from './change-events.ts';
import type { ChangeDataCapture, ChangeEvent } from './change-events.ts';
import { objectOfChangeEvent, visiblePayload } from './payload.ts';

type Message = Record<string, unknown>;

/** The channel of every selected object's change events. */
const ALL_CHANGE_EVENTS = '/data/ChangeEvents';
/** Event messages in one `/meta/connect` response; the rest follow on the next connect at once. */
const MAX_EVENTS_PER_RESPONSE = 1_000;

interface Client {
  id: string;
  userId: string;
  /** Channel → the object it carries, or undefined for `/data/ChangeEvents`. */
  subscriptions: Map<string, string | undefined>;
  queue: Message[];
  /** Whether the client's first `/meta/connect` was answered (it carries the advice). */
  connected: boolean;
  /** Ends the `/meta/connect` being held, if any. */
  wake?: () => void;
  expiry?: NodeJS.Timeout;
}

/** One HTTP request to the CometD endpoint. */
export interface BayeuxRequest {
  messages: unknown[];
  accessToken: string | undefined;
  /** Aborted when the client drops the connection; a held connect then leaves its events queued. */
  signal: AbortSignal;
}

/** The CometD server of one org. */
export class BayeuxServer {
  private readonly clients = new Map<string, Client>();
  private readonly cdc: ChangeDataCapture;

  constructor(
    private readonly org: Org,
    private readonly authenticate: (accessToken: string) => Session | undefined,
  ) {
    this.cdc = changeDataCapture(org);
    this.cdc.listen((event) => this.route(event));
  }

  /** Clients that handshook and have not disconnected or expired. */
  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Answers the messages of one request. A `/meta/connect` is answered last and may be held open
   * until an event arrives or the advised timeout passes; the others are answered at once.
   */
  async handle(request: BayeuxRequest): Promise<Message[]> {
    const session = request.accessToken ? this.authenticate(request.accessToken) : undefined;
    const auth: Auth = { session, error: request.accessToken ? '401::Authentication invalid' : '401::Request requires authentication' };
    const replies: Message[] = [];
    let connect: Message | undefined;
    for (const message of request.messages) {
      if (!isObject(message)) {
        replies.push({ successful: false, error: '400::Bad request' });
      } else if (message.channel === '/meta/connect' && !connect) {
        connect = message;
      } else {
        replies.push(this.dispatch(message, auth));
      }
    }
    if (connect) replies.push(...(await this.connect(connect, auth, request)));
    return replies;
  }

  private dispatch(message: Message, auth: Auth): Message {
    switch (message.channel) {
      case '/meta/handshake':
        return this.handshake(message, auth);
      case '/meta/subscribe':
        return this.subscribe(message, auth);
      case '/meta/unsubscribe':
        return this.unsubscribe(message, auth);
      case '/meta/disconnect':
        return this.disconnect(message, auth);
      case '/meta/connect': {
        // A second connect in one request is answered without waiting.
        const client = this.clientOf(message, auth);
        return isClient(client) ? { clientId: client.id, ...reply(message), successful: true } : client;
      }
      default:
        return { ...reply(message), successful: false, error: typeof message.channel === 'string' && !message.channel.startsWith('/meta/') ? '403::Publish not allowed' : '400::Bad request' };
    }
  }

  private handshake(message: Message, auth: Auth): Message {
    if (!auth.session) {
      // Salesforce nests the authentication failure in the handshake's own denial.
      return { ext: { sfdc: { failureReason: auth.error }, replay: true }, advice: { reconnect: 'none' }, ...reply(message), error: '403::Handshake denied', successful: false };
    }
    const types = message.supportedConnectionTypes;
    if (Array.isArray(types) && !types.includes('long-polling')) {
      return { ...reply(message), error: `400::Invalid connection type {${types.map(String).join(', ')}}`, successful: false };
    }
    const client: Client = { id: newClientId(), userId: auth.session.userId, subscriptions: new Map(), queue: [], connected: false };
    this.clients.set(client.id, client);
    this.touch(client);
    return {
      ext: { replay: true, 'payload.format': true },
      minimumVersion: '1.0',
      clientId: client.id,
      supportedConnectionTypes: ['long-polling'],
      advice: this.advice(),
      ...reply(message),
      version: '1.0',
      successful: true,
    };
  }

  private subscribe(message: Message, auth: Auth): Message {
    const client = this.clientOf(message, auth);
    const channel = message.subscription;
    const base = { clientId: message.clientId, ...reply(message), subscription: channel };
    if (!isClient(client)) return { ...client, subscription: channel };
    const fail = (error: string): Message => ({ ...base, error, successful: false });
    if (typeof channel !== 'string' || !channel) return fail('400::Channel name not specified');
    if (!channel.startsWith('/')) return fail("400::Channel subscriptions must start with a leading '/'");
    const entity = this.entityOf(channel);
    if (entity === null) return fail(`400::The channel you requested to subscribe to does not exist {${channel}}`);

    // Without a replay map a subscription gets new events only (-1).
    let replayed: ChangeEvent[] = [];
    const map = isObject(message.ext) ? message.ext.replay : undefined;
    if (isObject(map)) {
      // With a replay map, the channel must be in it: Salesforce does not fall back to -1.
      if (!(channel in map)) {
        const entries = Object.entries(map).map(([k, v]) => `${k}=${String(v)}`).join(', ');
        return fail(`400::The replayId for channel {${channel}} wasn't found using the provided replay ID map {{${entries}}}. Ensure that the channel name you provided in the replay map is valid and matches the channel name used for subscribing.`);
      }
      const raw = map[channel];
      const replayId = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      const result = this.cdc.replay(replayId);
      if ('invalid' in result) {
        return fail(`400::The replayId {${String(raw)}} you provided was invalid. Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`);
      }
      replayed = result.events;
    }
    client.subscriptions.set(channel, entity);
    for (const event of replayed) this.enqueue(client, channel, entity, event);
    if (client.queue.length) client.wake?.();
    return { ...base, successful: true };
  }

  private unsubscribe(message: Message, auth: Auth): Message {
    const client = this.clientOf(message, auth);
    if (!isClient(client)) return { ...client, subscription: message.subscription };
    if (typeof message.subscription === 'string') client.subscriptions.delete(message.subscription);
    return { clientId: client.id, ...reply(message), subscription: message.subscription, successful: true };
  }

  private disconnect(message: Message, auth: Auth): Message {
    const client = this.clientOf(message, auth);
    if (!isClient(client)) return client;
    this.remove(client);
    return { clientId: client.id, ...reply(message), successful: true };
  }

  private async connect(message: Message, auth: Auth, request: BayeuxRequest): Promise<Message[]> {
    const client = this.clientOf(message, auth);
    if (!isClient(client)) return [client];
    const base = { clientId: client.id, ...reply(message) };
    if (message.connectionType !== undefined && message.connectionType !== 'long-polling') {
      return [{ ...base, error: `400::Invalid connection type {${String(message.connectionType)}}`, successful: false }];
    }
    // A client holds one connect at a time: a new one ends the old.
    client.wake?.();
    const first = !client.connected;
    client.connected = true;
    // The first connect returns at once with the advice; so does one batched with other messages
    // (`advice.timeout: 0`) or one with events already waiting.
    const immediate = first || client.queue.length > 0 || (isObject(message.advice) && message.advice.timeout === 0);
    if (!immediate) {
      await this.hold(client, request.signal);
      if (request.signal.aborted) {
        this.touch(client);
        return [];
      }
      if (!this.clients.has(client.id)) return [{ ...base, successful: true }];
      // Streaming API checks the session while the client stays connected.
      if (request.accessToken && !this.authenticate(request.accessToken)) {
        this.remove(client);
        return [{ ...base, advice: { reconnect: 'none', interval: 0 }, error: '401::Authentication invalid', successful: false }];
      }
    }
    const events = client.queue.splice(0, MAX_EVENTS_PER_RESPONSE);
    this.cdc.deliveredEvents += events.length;
    this.touch(client);
    return [...events, first ? { clientId: client.id, advice: this.advice(), ...reply(message), successful: true } : { ...base, successful: true }];
  }

  /** Waits until an event is queued for the client, the poll times out, or the request is dropped. */
  private hold(client: Client, signal: AbortSignal): Promise<void> {
    if (client.expiry) clearTimeout(client.expiry);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (client.wake === done) client.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.cdc.settings.longPollTimeoutMs);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
      client.wake = done;
    });
  }

  /** The client a message names, or the error reply when its session or client ID is not valid. */
  private clientOf(message: Message, auth: Auth): Client | Message {
    if (!auth.session) {
      return { clientId: message.clientId, advice: { reconnect: 'none', interval: 0 }, ...reply(message), error: auth.error, successful: false };
    }
    const client = typeof message.clientId === 'string' ? this.clients.get(message.clientId) : undefined;
    if (!client || client.userId !== auth.session.userId) {
      return { advice: { reconnect: 'handshake', interval: 0 }, ...reply(message), error: '403::Unknown client', successful: false };
    }
    this.touch(client);
    return client;
  }

  /**
   * The object a channel carries: undefined for `/data/ChangeEvents`, the object's name for
   * `/data/<Object>ChangeEvent` of a selected object, null for any other channel.
   */
  private entityOf(channel: string): string | undefined | null {
    if (channel === ALL_CHANGE_EVENTS) return undefined;
    const match = /^\/data\/([A-Za-z0-9_]+)$/.exec(channel);
    const objectName = match ? objectOfChangeEvent(match[1]!) : undefined;
    if (!objectName || !this.cdc.isSelected(objectName)) return null;
    return this.org.schema.object(objectName)!.name;
  }

  private route(event: ChangeEvent): void {
    for (const client of this.clients.values()) {
      let queued = false;
      for (const [channel, entity] of client.subscriptions) queued = this.enqueue(client, channel, entity, event) || queued;
      if (queued) client.wake?.();
    }
  }

  private enqueue(client: Client, channel: string, entity: string | undefined, event: ChangeEvent): boolean {
    if (entity !== undefined && entity !== event.entityName) return false;
    // Change events honour the subscriber's object and field permissions.
    const object = this.org.schema.object(event.entityName);
    if (!object || !this.org.access.canReadObject(object.name)) return false;
    const data = { ...event.data, payload: visiblePayload(this.org, object, event.data.payload) };
    client.queue.push({ data, channel });
    return true;
  }

  /** Restarts the client's expiry: Salesforce drops clients that do not reconnect within 40 s. */
  private touch(client: Client): void {
    if (client.expiry) clearTimeout(client.expiry);
    client.expiry = setTimeout(() => this.remove(client), this.cdc.settings.clientTimeoutMs);
    client.expiry.unref();
  }

  private remove(client: Client): void {
    if (client.expiry) clearTimeout(client.expiry);
    this.clients.delete(client.id);
    client.wake?.();
  }

  private advice(): Message {
    return { reconnect: 'retry', interval: 0, timeout: this.cdc.settings.longPollTimeoutMs };
  }
}

interface Auth {
  session: Session | undefined;
  error: string;
}

/** The fields every reply repeats from its request. */
function reply(message: Message): Message {
  return message.id === undefined ? { channel: message.channel } : { channel: message.channel, id: message.id };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isClient(value: Client | Message): value is Client {
  return value instanceof Object && 'subscriptions' in value;
}

/** Client IDs like Salesforce's: 27 or so lowercase base-36 characters. */
function newClientId(): string {
  return BigInt(`0x${randomBytes(17).toString('hex')}`).toString(36).padStart(27, '0').slice(-27);
}
