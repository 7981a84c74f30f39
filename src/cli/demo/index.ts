/**
 * `orgvault demo`: starts an emulated org with the demo profile and shows what orgvault sees of
 * it. It grows as backup, restore and the dashboard land.
 */
import type { Command } from 'commander';

const SHOWCASE_OBJECTS = ['Account', 'Contact', 'Lead', 'Opportunity', 'Case', 'Task', 'Event', 'Invoice__c', 'ContentVersion'];

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start an emulated Salesforce org with demo data and show what orgvault sees')
    .option('--seed <seed>', 'seed for the emulated org', '1')
    .action(async (options: { seed: string }) => {
      // Loaded on use: jsforce alone would add a second to every other command's start-up.
      const { connectWithPassword } = await import('../../salesforce/connection.ts');
      const { startEmulatorProcess } = await import('../emulator-process.ts');
      const json = Boolean(program.opts().json);
      const log = (line: string): void => {
        process.stderr.write(`${line}\n`);
      };
      log('Starting the Salesforce org emulator (demo profile)…');
      const emulator = await startEmulatorProcess(['--profile', 'demo', '--seed', options.seed, '--port', '0']);
      try {
        const { connection } = emulator;
        log(`Emulated org listening at ${connection.instanceUrl}`);
        const org = await connectWithPassword(connection);
        const identity = await org.identity();
        const objects = await org.describeGlobal();
        const counts = await org.recordCounts(SHOWCASE_OBJECTS);
        const usage = await org.apiUsage();
        const summary = {
          org: { id: identity.orgId, user: identity.username, instanceUrl: identity.instanceUrl },
          objects: { visible: objects.length, queryable: objects.filter((o) => o.queryable).length, custom: objects.filter((o) => o.custom).length },
          recordCounts: Object.fromEntries(counts),
          apiUsage: usage,
        };
        if (json) {
          process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          return;
        }
        const lines = [
          '',
          `Connected as ${identity.username} (${identity.displayName}) to org ${identity.orgId}`,
          `Objects visible to the API user: ${summary.objects.visible} (${summary.objects.queryable} queryable, ${summary.objects.custom} custom)`,
          'Records:',
          ...[...counts].map(([name, count]) => `  ${name.padEnd(16)} ${String(count).padStart(7)}`),
          `API usage: ${usage.used} of ${usage.max} daily requests`,
          '',
          'What to try next:',
          '  npx orgvault-emulator --profile demo     # run the emulated org yourself; it prints its URL and credentials',
          '  npm test                                 # the test suite, against the emulator',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await emulator.stop();
      }
    });
}
