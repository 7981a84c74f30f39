#!/usr/bin/env node
// orgvault runs from its TypeScript sources through tsx: no build step, so `npm install` is enough.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { heapArgs, needsHeapLimit } from './heap-limit.js';

const args = process.argv.slice(2);
if (needsHeapLimit(args)) {
  // Commands that back up run with a heap limit, which V8 only takes at start: run again with it.
  const child = spawn(process.execPath, [...heapArgs(), ...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    stdio: 'inherit',
    env: { ...process.env, ORGVAULT_HEAP_LIMITED: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
