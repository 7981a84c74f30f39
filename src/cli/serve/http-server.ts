/**
 * Serving the API and dashboard on an open vault, for `orgvault serve` and the demo: the app wired
 * to the vault, listening, and stopped by SIGINT or SIGTERM.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.ts';
import type { JobQueue } from '../../store/queue.ts';
import type { Vault } from '../../store/vault.ts';

export interface ServeOptions {
  port: number;
  host: string;
  tls?: { cert: Buffer; key: Buffer };
  trustProxy?: boolean;
  secureCookies?: boolean;
  /** The vault's work queue: backups started from the dashboard or the API go to the workers. */
  queue?: JobQueue | null;
}

/** Listens, then calls `ready` with the address; resolves once a signal has stopped the server. */
export async function serveVault(vault: Vault, options: ServeOptions, ready: (url: string) => void): Promise<void> {
  // Loaded on use: the API's schemas and use cases would slow every other command's start-up.
  const { serve } = await import('@hono/node-server');
  const { createServerApp } = await import('../../server/app.ts');
  const app = createServerApp({
    store: vault.store,
    blobs: vault.blobs,
    keyring: vault.keyring,
    connectAuth: async (auth) => (await import('../../salesforce/index.ts')).connectOrg(auth),
    maskKey: createHmac('sha256', vault.keyring.indexing).update('orgvault/restore-mask').digest('hex'),
    secureCookies: Boolean(options.tls) || options.secureCookies === true,
    trustProxy: options.trustProxy === true,
    exportsDir: join(vault.dir, 'exports'),
    queue: options.queue,
  });
  const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host, ...(options.tls ? { createServer, serverOptions: options.tls } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (error: Error) => reject(new UsageError(`Cannot listen on ${options.host}:${options.port}: ${error.message}`, { cause: error })));
  });
  const { port } = server.address() as AddressInfo;
  ready(`${options.tls ? 'https' : 'http'}://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => resolve()));
  });
}
