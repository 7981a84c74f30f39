/**
 * Sending one event through one channel: SMTP (nodemailer, loaded on first use) or an HTTP POST
 * (a JSON webhook or a Slack incoming webhook). Each send has its own time limits, retries a
 * webhook that did not answer or answered 429/5xx with backoff, and fails with a message that
 * names what went wrong but never the URL, the password or the server's full answer.
 */
import type * as NodemailerModule from 'nodemailer';
import type { NotificationEvent } from '../core/notifications.ts';
import type { ChannelSettings, EmailSettings } from './config.ts';
import { emailMessage, slackPayload, webhookBody } from './message.ts';

export interface SendOptions {
  /** One SMTP conversation or one HTTP attempt may take this long. */
  attemptTimeoutMs: number;
  /** Webhooks: attempts after the first, when the receiver failed or did not answer. */
  retries: number;
  /** Webhooks: wait before the first retry, doubled for each next one. */
  backoffMs: number;
  /** Aborts a send that ran past the channel's overall limit. */
  signal: AbortSignal;
}

/** A send that failed: `message` is safe to log (no secret). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export async function sendToChannel(settings: ChannelSettings, event: NotificationEvent, options: SendOptions): Promise<{ attempts: number }> {
  if (settings.type === 'email') {
    await sendEmail(settings.email, event, options);
    return { attempts: 1 };
  }
  const body = settings.type === 'slack' ? slackPayload(event) : webhookBody(event);
  return postJson(settings.url, body, options);
}

/** Loaded on the first email: commands that never send one do not pay for it. */
let nodemailer: Promise<typeof NodemailerModule> | undefined;

async function sendEmail(email: EmailSettings, event: NotificationEvent, options: SendOptions): Promise<void> {
  const { createTransport } = await (nodemailer ??= import('nodemailer'));
  const transport = createTransport({
    host: email.host,
    port: email.port,
    secure: email.security === 'tls',
    requireTLS: email.security === 'starttls',
    ignoreTLS: email.security === 'none',
    auth: email.user && email.password ? { user: email.user, pass: email.password } : undefined,
    connectionTimeout: options.attemptTimeoutMs,
    greetingTimeout: options.attemptTimeoutMs,
    socketTimeout: options.attemptTimeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const abort = (): void => transport.close();
  options.signal.addEventListener('abort', abort, { once: true });
  try {
    const message = emailMessage(event);
    await transport.sendMail({ from: email.from, to: email.to, subject: message.subject, text: message.text, html: message.html });
  } catch (error) {
    throw new DeliveryError(smtpProblem(error, email), 1);
  } finally {
    options.signal.removeEventListener('abort', abort);
    transport.close();
  }
}

/** What went wrong with SMTP, in words, with the server's reply code but not its whole answer. */
function smtpProblem(error: unknown, email: EmailSettings): string {
  const e = error as { code?: string; responseCode?: number; command?: string; message?: string };
  const server = `${email.host}:${email.port}`;
  if (e.code === 'EAUTH') return `the SMTP server ${server} refused the sign-in of ${email.user ?? 'the user'}${e.responseCode ? ` (${e.responseCode})` : ''}; check --smtp-user and the password.`;
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET') return `could not talk to the SMTP server ${server}: ${connectionWords(error)}.`;
  if (e.code === 'ETIMEDOUT') return `the SMTP server ${server} did not answer in time.`;
  if (e.code === 'EENVELOPE' || e.responseCode) {
    return `the SMTP server ${server} refused the message${e.responseCode ? ` (${e.responseCode}${e.command ? ` after ${e.command}` : ''})` : ''}; check the sender and recipient addresses and the server's relay rules.`;
  }
  if (e.code === 'ETLS') return `the TLS handshake with the SMTP server ${server} failed; check --smtp-security and --smtp-port.`;
  return `sending through the SMTP server ${server} failed (${e.code ?? 'error'}).`;
}

function connectionWords(error: unknown): string {
  const code = (error as { cause?: { code?: string }; code?: string }).cause?.code ?? errnoOf(error);
  switch (code) {
    case 'ECONNREFUSED':
      return 'the connection was refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ETIMEDOUT':
      return 'the connection timed out';
    default:
      return code ? `${code}` : 'the connection failed';
  }
}

function errnoOf(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  return /\b(E[A-Z]{3,})\b/.exec(message)?.[1];
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

async function postJson(url: string, body: unknown, options: SendOptions): Promise<{ attempts: number }> {
  let problem = 'not sent';
  let attempts = 0;
  for (let attempt = 0; attempt <= options.retries && !options.signal.aborted; attempt++) {
    if (attempt > 0) await sleep(options.backoffMs * 2 ** (attempt - 1), options.signal);
    if (options.signal.aborted) break;
    attempts++;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'orgvault' },
        body: JSON.stringify(body),
        redirect: 'error',
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.attemptTimeoutMs)]),
      });
      // The body is not read into the log: a receiver may echo what it was sent.
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return { attempts };
      problem = `the receiver answered HTTP ${response.status}`;
      if (response.status !== 429 && response.status < 500) break;
    } catch (error) {
      const name = (error as { name?: string }).name;
      problem = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${Math.round(options.attemptTimeoutMs / 1000)} s` : `could not connect: ${connectionWords(error)}`;
    }
  }
  throw new DeliveryError(`${problem}${attempts > 1 ? ` (${attempts} attempts)` : ''}.`, attempts);
}
