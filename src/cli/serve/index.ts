/**
 * `orgvault serve [--port N] [--host H] [--tls-cert FILE --tls-key FILE] [--trust-proxy]
 * [--secure-cookies]`: the HTTP API on the vault, until SIGINT or SIGTERM. HTTPS itself with a
 * certificate, or plain HTTP on 127.0.0.1 behind a reverse proxy that terminates TLS (then
 * `--trust-proxy` for the client address and `--secure-cookies`). Refuses to start without a
 * user: there is no anonymous access.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { QUEUE_OPTION, openVaultQueue } from '../queue-option.ts';
import { globalOptions } from '../vault-options.ts';
import { startVaultScheduler } from '../scheduler/run.ts';
import { withVault } from '../vault-session.ts';
import { serveVault } from './http-server.ts';

interface ServeFlags {
  port: string;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: boolean;
  secureCookies?: boolean;
  scheduler?: boolean;
  queue?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the HTTP API (JSON, described at /openapi.json) on this vault')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '8080')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'the certificate\'s private key (PEM)')
    .option('--trust-proxy', 'behind a reverse proxy: take the client address from X-Forwarded-For')
    .option('--secure-cookies', 'mark session cookies Secure (behind a proxy that serves HTTPS; implied by --tls-cert)')
    .option('--no-scheduler', 'do not run scheduled jobs in this process (run `orgvault scheduler` instead)')
    .option(...QUEUE_OPTION)
    .action(async (flags: ServeFlags, command: Command) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${flags.port} is not a port number (0 to 65535).`);
      if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) throw new UsageError('HTTPS needs both --tls-cert and --tls-key.');
      const tls = flags.tlsCert ? { cert: await readPem(flags.tlsCert, '--tls-cert'), key: await readPem(flags.tlsKey!, '--tls-key') } : undefined;
      await withVault(command, async (vault) => {
        if ((await vault.store.listUsers()).length === 0) {
          throw new UsageError('No users yet, so nobody could sign in: add one first with `orgvault user add NAME --role administrator`.');
        }
        const options = globalOptions(command);
        // Scheduled jobs run beside the server; the vault's slot claims keep a separate
        // `orgvault scheduler` on the same vault from running one twice.
        // With a work queue (a PostgreSQL vault), this process only schedules and serves: scheduled
        // backups and those started from the dashboard or the API are enqueued for `orgvault worker`.
        const queue = await openVaultQueue(vault, flags.queue);
        const scheduler = flags.scheduler === false ? undefined : startVaultScheduler(vault, { queue });
        try {
          await serveVault(vault, { port, host: flags.host, tls, trustProxy: flags.trustProxy, secureCookies: flags.secureCookies, queue }, (url) => {
            process.stdout.write(options.json ? `${JSON.stringify({ url })}\n` : `orgvault is serving ${url} (API description at ${url}/openapi.json); Ctrl-C stops it.\n`);
          });
        } finally {
          await scheduler?.stop();
          await queue?.close();
        }
      });
    });
}

async function readPem(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`Cannot read ${flag} ${file}: ${(error as Error).message}`, { cause: error });
  }
}
