/**
 * Shared pieces of the benchmarks: the machine description, a child-process emulator whose memory
 * can be read from /proc, and the BENCHMARKS.md writer. Figures are measured, never asserted:
 * tests hold no timing expectations.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface BenchFigure {
  name: string;
  value: string;
  aim?: string;
  /** Whether the aim was met; undefined where there is no aim. */
  met?: boolean;
}

export interface BenchSection {
  title: string;
  description: string;
  figures: BenchFigure[];
  notes?: string[];
}

export interface EmulatorChild {
  info: { instanceUrl: string; loginUrl: string; username: string; password: string; clientId: string; clientSecret: string; adminToken: string; orgId: string };
  pid: number;
  startupSeconds: number;
  /** Resident memory now and at its peak, in bytes (from /proc/PID/status). */
  memory(): { rss: number; peakRss: number };
  stop(): Promise<void>;
}

const EMULATOR_BIN = fileURLToPath(new URL('../bin/orgvault-emulator.js', import.meta.url));

/** Starts `orgvault-emulator` in its own process and waits for its connection line. */
export async function startEmulatorChild(args: string[], nodeArgs: string[] = []): Promise<EmulatorChild> {
  const started = process.hrtime.bigint();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, EMULATOR_BIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`emulator exited with ${String(code)}`)));
  });
  const startupSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const pid = child.pid!;
  return {
    info: JSON.parse(line) as EmulatorChild['info'],
    pid,
    startupSeconds,
    memory() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
      return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

export function machineDescription(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const rate = (count: number, seconds: number): string => `${Math.round(count / seconds).toLocaleString('en-US')} /s`;
export const seconds = (s: number): string => `${s.toFixed(2)} s`;

/** Renders the sections as the Markdown of docs/BENCHMARKS.md. */
export function renderMarkdown(sections: BenchSection[], when: Date): string {
  const out = [
    '# Benchmarks',
    '',
    'Written by `npm run bench`; do not edit by hand. Each section says what it measures and how.',
    '',
    `- Measured: ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `- Machine: ${machineDescription()}`,
    '',
  ];
  for (const section of sections) {
    out.push(`## ${section.title}`, '', section.description, '', '| measure | value | aim | |', '|---|---|---|---|');
    for (const f of section.figures) {
      out.push(`| ${f.name} | ${f.value} | ${f.aim ?? ''} | ${f.met === undefined ? '' : f.met ? 'met' : '**not met**'} |`);
    }
    if (section.notes?.length) out.push('', ...section.notes.map((n) => `- ${n}`));
    out.push('');
  }
  return out.join('\n');
}

/** An access token by username-password OAuth, for benchmarks that call the API directly. */
export async function login(info: { loginUrl: string; username: string; password: string; clientId: string; clientSecret: string }): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'password', client_id: info.clientId, client_secret: info.clientSecret, username: info.username, password: info.password });
  const res = await fetch(`${info.loginUrl}/services/oauth2/token`, { method: 'POST', body });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
