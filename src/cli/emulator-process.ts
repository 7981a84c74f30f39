/**
 * Starts the Salesforce org emulator as a separate process, the way an admin would run it. The
 * product never imports the emulator: it only learns its URL and credentials from the one JSON
 * line the emulator prints, exactly as it would be given a real org's.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { OrgvaultError } from '../core/errors.ts';

export interface EmulatorConnection {
  instanceUrl: string;
  loginUrl: string;
  username: string;
  password: string;
  clientId: string;
  clientSecret: string;
  adminToken: string;
  orgId: string;
}

export interface EmulatorProcess {
  connection: EmulatorConnection;
  stop(): Promise<void>;
}

const EMULATOR_BIN = fileURLToPath(new URL('../../bin/orgvault-emulator.js', import.meta.url));

/** Spawns `orgvault-emulator` with the given arguments and waits for its connection line. */
export async function startEmulatorProcess(args: string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [EMULATOR_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const connection = await new Promise<EmulatorConnection>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as EmulatorConnection);
      } catch (error) {
        reject(new OrgvaultError('EMULATOR', `The emulator printed something other than its connection line: ${line}`, { cause: error }));
      }
    });
    child.once('exit', (code) => reject(new OrgvaultError('EMULATOR', `The emulator exited with code ${String(code)} before it was ready.`)));
    child.once('error', (error) => reject(new OrgvaultError('EMULATOR', `Could not start the emulator: ${error.message}`, { cause: error })));
  });
  return { connection, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
