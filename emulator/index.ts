/**
 * The Salesforce org emulator's public surface: build one in-process (for Hono `app.request`
 * tests) or start one listening on a port (for jsforce, the CLI and benchmarks).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { OAuthSessions } from './auth/sessions.ts';
import { isInstance } from './org/ids.ts';
import type { Org } from './org/org.ts';
import { ApiUsage } from './rest/limits.ts';
import { installDemoBehaviours } from './behaviours/demo.ts';
import { enableDemoChangeDataCapture } from './streaming/change-events.ts';
import { buildOrg } from './seed/index.ts';
import { loadOrgState, saveOrgState } from './seed/state-file.ts';
import { createEmulatorApp } from './server/app.ts';
import type { AppEnv, EmulatorContext } from './server/context.ts';

export type EmulatorProfile = 'empty' | 'demo' | 'bench';

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  seed?: string | number;
  profile?: EmulatorProfile;
  /** Records in the `bench` profile. */
  scale?: number;
  /** Load the org from this file when it exists, and save it there on `close()`. */
  statePath?: string;
  sessionTimeoutSeconds?: number;
  dailyApiRequests?: number;
  /**
   * The instance part of the org's IDs and org ID (two letters or digits, default `5g`). Emulators
   * on different instances are different orgs, as a production org and its sandbox.
   */
  instance?: string;
}

/** What a client needs to connect: the one JSON line the CLI prints when listening. */
export interface EmulatorConnectionInfo {
  instanceUrl: string;
  loginUrl: string;
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
  adminToken: string;
  orgId: string;
}

export interface InProcessEmulator {
  org: Org;
  app: Hono<AppEnv>;
  context: EmulatorContext;
}

export interface RunningEmulator extends InProcessEmulator {
  info: EmulatorConnectionInfo;
  close(): Promise<void>;
}

/** Builds an emulated org and its HTTP app without listening. */
export function createEmulator(options: EmulatorOptions = {}, instanceUrl = 'http://127.0.0.1'): InProcessEmulator {
  if (options.instance !== undefined && !isInstance(options.instance)) throw new RangeError(`instance "${options.instance}" must be two letters or digits, such as 5g.`);
  const org = buildOrg({ profile: options.profile ?? 'empty', seed: options.seed ?? 1, scale: options.scale, instance: options.instance });
  if ((options.profile ?? 'empty') === 'demo') {
    // The demo org behaves like a lived-in one: validation rules, locks, triggers and duplicate
    // rules that real restores run into, and Change Data Capture on its main objects.
    installDemoBehaviours(org);
    enableDemoChangeDataCapture(org);
  }
  // After the demo's behaviours: a state file holds the behaviours and metadata as they were
  // saved (demo ones changed or removed since included), and replaces them.
  if (options.statePath && existsSync(options.statePath)) loadOrgState(org, options.statePath);
  if (options.sessionTimeoutSeconds !== undefined) org.settings.sessionTimeoutSeconds = options.sessionTimeoutSeconds;
  if (options.dailyApiRequests !== undefined) org.settings.dailyApiRequests = options.dailyApiRequests;
  let url = instanceUrl;
  const context: EmulatorContext & { setInstanceUrl(u: string): void } = {
    org,
    sessions: new OAuthSessions(org),
    usage: new ApiUsage(org),
    adminToken: randomBytes(24).toString('hex'),
    instanceUrl: () => url,
    setInstanceUrl: (u: string) => {
      url = u;
    },
  };
  return { org, app: createEmulatorApp(context), context };
}

/** Starts an emulator listening on HTTP. Resolves once it accepts connections. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const emulator = createEmulator(options);
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: emulator.app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const instanceUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  (emulator.context as EmulatorContext & { setInstanceUrl(u: string): void }).setInstanceUrl(instanceUrl);
  const { org } = emulator;
  const apiUser = org.get(org.apiUserId);
  const info: EmulatorConnectionInfo = {
    instanceUrl,
    loginUrl: instanceUrl,
    username: String(apiUser?.Username ?? ''),
    password: org.credentials.get(String(apiUser?.Username ?? '')) ?? '',
    clientId: org.connectedApp?.clientId ?? '',
    clientSecret: org.connectedApp?.clientSecret ?? '',
    adminToken: emulator.context.adminToken,
    orgId: org.orgId,
  };
  let closed = false;
  return {
    ...emulator,
    info,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long-polling clients would otherwise hold the server open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      if (options.statePath) saveOrgState(org, options.statePath);
    },
  };
}
