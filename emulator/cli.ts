/**
 * `orgvault-emulator [--port N] [--seed S] [--profile empty|demo|bench] [--scale N] [--state FILE] [--instance XY]`
 * Prints one JSON line with the connection details once listening; runs until SIGINT/SIGTERM.
 */
import { setFlagsFromString } from 'node:v8';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startEmulator } from './index.ts';
import { isInstance } from './org/ids.ts';
import type { EmulatorProfile } from './index.ts';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

const program = new Command('orgvault-emulator')
  .description('A Salesforce org emulator speaking OAuth, REST and SOQL, for tests, demos and benchmarks.')
  .addOption(new Option('--port <n>', 'port to listen on; 0 picks a free one').default(0).argParser(integer('--port', 0, 65535)))
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--seed <s>', 'seed for the generated data; the same seed gives the same org', '1')
  .addOption(new Option('--profile <name>', 'data to start with').choices(['empty', 'demo', 'bench']).default('demo'))
  .addOption(new Option('--scale <n>', 'records in the bench profile').argParser(integer('--scale', 1, 50_000_000)))
  .option('--state <file>', 'load the org from this file if it exists, and save it there on exit')
  .addOption(new Option('--session-timeout <seconds>', 'idle time before a session expires').argParser(integer('--session-timeout', 60, 86_400)))
  .addOption(
    new Option('--instance <xy>', 'the instance part of the org ID and record IDs: another instance is another org (a sandbox)').default('5g').argParser((value: string) => {
      if (!isInstance(value)) throw new InvalidArgumentError('--instance must be two letters or digits, such as 5g.');
      return value;
    }),
  )
  .showHelpAfterError();

program.parse();

// Serving large query pages makes much short-lived garbage beside a large, long-lived org. A
// bigger young generation lets that garbage die young instead of forcing full collections of the
// whole org (measured: about a quarter faster at 1,000,000 records). It is set before the org is built.
setFlagsFromString('--max-semi-space-size=64');
const options = program.opts<{ port: number; host: string; seed: string; profile: EmulatorProfile; scale?: number; state?: string; sessionTimeout?: number; instance: string }>();

const emulator = await startEmulator({
  port: options.port,
  host: options.host,
  seed: options.seed,
  profile: options.profile,
  scale: options.scale,
  statePath: options.state,
  sessionTimeoutSeconds: options.sessionTimeout,
  instance: options.instance,
});
process.stdout.write(`${JSON.stringify(emulator.info)}\n`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('orgvault-emulator: could not save state:', error);
        process.exit(1);
      },
    );
  });
}
