/**
 * `orgvault recovery-point create|list`: AvePoint's recovery points, a named point in time for
 * chosen objects, which `orgvault export` and `orgvault restore` take with --recovery-point ID.
 */
import type { Command } from 'commander';
import { isoTime, parseTime } from '../../core/time.ts';
import type { RecoveryPoint } from '../../store/port.ts';
import { createRecoveryPoint, listRecoveryPoints } from '../../stream/index.ts';
import { listOption } from '../option-lists.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface CreateFlags {
  org?: string;
  objects: string[];
  at?: string;
  name?: string;
  allowIncomplete?: boolean;
}

export function registerRecoveryPointCommand(program: Command): void {
  const command = program
    .command('recovery-point')
    .description('recovery points: a consistent snapshot of chosen objects at a point in time, for restore and export (--recovery-point ID)');

  command
    .command('create')
    .description('generate a recovery point from the versions and change events up to a time')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .requiredOption('--objects <names>', 'the objects, by API name (commas, or repeat)', listOption)
    .option('--at <time>', 'the point in time (ISO-8601; default: now)')
    .option('--name <text>', 'a name to find it by')
    .option('--allow-incomplete', 'keep the point even when the vault lacks changes of an object up to that time (marked incomplete)')
    .action(async (flags: CreateFlags, cmd: Command) => {
      const options = globalOptions(cmd);
      const at = flags.at === undefined ? undefined : parseTime(flags.at, '--at');
      const point = await withVault(cmd, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        return createRecoveryPoint(vault.store, { org, objects: flags.objects, at, name: flags.name, actor: 'cli', allowIncomplete: flags.allowIncomplete });
      });
      for (const o of point.objects.filter((p) => !p.complete)) {
        warn(`warning: ${o.objectName} is covered only through ${o.coveredThrough === null ? 'never' : isoTime(o.coveredThrough)}; changes after that are not in this recovery point.`);
      }
      printResult(options, point, () => [`Recovery point ${point.id}${point.name ? ` (${point.name})` : ''} at ${isoTime(point.at)}:`, ...objectLines(point), `Use it with \`orgvault export --recovery-point ${point.id.slice(0, 8)} …\` or \`orgvault restore --recovery-point ${point.id.slice(0, 8)} --object NAME …\`.`]);
    });

  command
    .command('list')
    .description("the org's recovery points, newest first")
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .action(async (flags: { org?: string }, cmd: Command) => {
      const options = globalOptions(cmd);
      const points = await withVault(cmd, async (vault) => listRecoveryPoints(vault.store, await requireOrg(vault, flags.org)), { readonly: true });
      printResult(options, { recoveryPoints: points }, () =>
        points.length
          ? points.flatMap((p) => [`${p.id}  ${isoTime(p.at)}${p.name ? `  ${p.name}` : ''}${p.objects.every((o) => o.complete) ? '' : '  (incomplete)'}`, ...objectLines(p)])
          : ['No recovery points yet: `orgvault recovery-point create --org NAME --objects Account,Contact` makes one.'],
      );
    });
}

function objectLines(point: RecoveryPoint): string[] {
  return point.objects.map((o) => `  ${o.objectName}: ${o.records} record(s)${o.complete ? '' : `, incomplete (covered through ${o.coveredThrough === null ? 'never' : isoTime(o.coveredThrough)})`}`);
}
