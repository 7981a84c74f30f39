// Shared set-up of the src/salesforce tests: an in-process emulator listening on HTTP, its admin
// API, and the OrgAuth of each flow it accepts.
import assert from 'node:assert/strict';
import { startEmulator } from '../../emulator/index.ts';
import type { EmulatorProfile, RunningEmulator } from '../../emulator/index.ts';
import type { OrgAuth } from '../../src/core/org-client.ts';

export interface Harness {
  emu: RunningEmulator;
  passwordAuth: OrgAuth & { kind: 'password' };
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  fault(specs: unknown): Promise<void>;
  clearFaults(): Promise<void>;
  close(): Promise<void>;
}

/** Small delays so retries are quick in tests; the policy is still the production one. */
export const FAST = { retry: { baseDelayMs: 1, maxDelayMs: 5, attempts: 4 }, bulk: { pollInitialMs: 5, pollMaxMs: 20 } };

export async function startHarness(profile: EmulatorProfile = 'demo'): Promise<Harness> {
  const emu = await startEmulator({ profile, seed: 1 });
  const { info } = emu;
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${info.instanceUrl}/__emulator${path}`, {
      method,
      headers: { authorization: `Bearer ${info.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    emu,
    passwordAuth: { kind: 'password', loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password },
    admin,
    fault: async (specs) => {
      await admin('POST', '/faults', specs);
    },
    clearFaults: async () => {
      await admin('DELETE', '/faults');
    },
    close: () => emu.close(),
  };
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}
