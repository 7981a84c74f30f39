/**
 * `orgvault retention set|show|clear`: an org's retention policy, which `orgvault forget` applies.
 * Values are checked whole before anything is saved, and every change is audited.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { POLICY_FLAGS, clearRetentionPolicy, describePolicy, policySettings, storedPolicy, updateRetentionPolicy } from '../../retention/index.ts';
import type { PolicyKey, RetentionPolicy } from '../../retention/index.ts';
import { globalOptions, printResult } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

type SetFlags = Partial<Record<PolicyKey, string>> & { org?: string };

/** For each setting: its option's value name and help, and the word that turns a rule off. */
const SETTINGS: readonly { key: PolicyKey; value: string; help: string; off?: string }[] = [
  { key: 'keepAllDays', value: 'days', help: 'keep every version of the last N days' },
  { key: 'keepDaily', value: 'n', help: 'keep the last version of each of the N most recent days that have versions' },
  { key: 'keepWeekly', value: 'n', help: 'the same for weeks (Monday to Sunday, UTC)' },
  { key: 'keepMonthly', value: 'n', help: 'the same for calendar months' },
  { key: 'keepYearly', value: 'n', help: 'the same for calendar years' },
  { key: 'keepDeletedDays', value: 'days|forever', help: 'forget records deleted in Salesforce more than N days ago, every version (default: forever)', off: 'forever' },
  { key: 'keepFileDays', value: 'days|off', help: 'also keep every file version of the last N days, even when its record version goes', off: 'off' },
  { key: 'keepFileVersions', value: 'n|off', help: 'also keep the last N versions of each file of a record', off: 'off' },
];

export function registerRetentionCommand(program: Command): void {
  const retention = program
    .command('retention')
    .description("an org's retention policy: how long versions stay in the vault (applied by `orgvault forget`)");

  const set = retention
    .command('set')
    .description('set or change the policy (settings not given keep their value); the latest version of every record is always kept')
    .option('--org <name>', 'the org (optional when the vault holds one org)');
  for (const s of SETTINGS) set.option(`${POLICY_FLAGS[s.key]} <${s.value}>`, s.help);
  set.addHelpText(
    'after',
    '\nExample: orgvault retention set --org prod --keep-all-days 30 --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --keep-yearly 3 --keep-deleted-days 90 --keep-file-days 365',
  );
  set.action(async (flags: SetFlags, command: Command) => {
    const options = globalOptions(command);
    const changes: Partial<Record<PolicyKey, number | null>> = {};
    for (const s of SETTINGS) {
      const text = flags[s.key];
      if (text !== undefined) changes[s.key] = parseSetting(s.key, text, s.off);
    }
    if (Object.keys(changes).length === 0) {
      throw new UsageError(`Give at least one setting to change: ${SETTINGS.map((s) => POLICY_FLAGS[s.key]).join(', ')}. \`orgvault retention show\` shows the policy.`);
    }
    const { org, policy } = await withVault(command, async (vault) => {
      const org = await requireOrg(vault, flags.org);
      return { org, policy: await updateRetentionPolicy({ catalog: vault.store, audit: vault.store, actor: 'cli' }, org, changes) };
    });
    printResult(options, policyJson(org, policy), () => [`Retention policy of ${org.name} saved.`, ...policyLines(policy), `See what it would remove with \`orgvault forget --org ${org.name} --dry-run\`.`]);
  });

  retention
    .command('show')
    .description("the retention policy of an org, or of every org")
    .option('--org <name>', 'the org (default: every org)')
    .action(async (flags: { org?: string }, command: Command) => {
      const options = globalOptions(command);
      const orgs = await withVault(command, async (vault) => (flags.org === undefined ? vault.store.listOrgs() : [await requireOrg(vault, flags.org)]), { readonly: true });
      const shown = orgs.map((org) => ({ org, policy: storedPolicy(org) ?? null }));
      printResult(options, { orgs: shown.map(({ org, policy }) => policyJson(org, policy)) }, () =>
        shown.length === 0
          ? ['No org is connected to this vault yet.']
          : shown.flatMap(({ org, policy }) => [
              `${org.name}:`,
              ...(policy ? policyLines(policy) : ['  no retention policy: every version is kept. Set one with `orgvault retention set --org ' + org.name + ' …`.']),
            ]),
      );
    });

  retention
    .command('clear')
    .description('remove the policy: forget then keeps every version of the org')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .action(async (flags: { org?: string }, command: Command) => {
      const options = globalOptions(command);
      const { org, cleared } = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        return { org, cleared: await clearRetentionPolicy({ catalog: vault.store, audit: vault.store, actor: 'cli' }, org) };
      });
      printResult(options, { org: org.name, cleared }, () => [cleared ? `Retention policy of ${org.name} removed: every version is kept.` : `${org.name} had no retention policy.`]);
    });
}

function parseSetting(key: PolicyKey, text: string, off: string | undefined): number | null {
  const value = text.trim().toLowerCase();
  if (off !== undefined && value === off) return null;
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`${POLICY_FLAGS[key]} ${text} is not a whole number${off ? ` or "${off}"` : ''}, e.g. ${POLICY_FLAGS[key]} ${key.endsWith('Days') ? 30 : 7}.`);
  }
  return Number(value);
}

function policyJson(org: OrgRegistration, policy: RetentionPolicy | null): unknown {
  return { org: org.name, policy, settings: policy ? policySettings(policy) : null, description: policy ? describePolicy(policy) : null };
}

function policyLines(p: RetentionPolicy): string[] {
  const count = (n: number): string => (n === 0 ? 'none' : String(n));
  return [
    `  ${describePolicy(p)}`,
    `  every version for: ${p.keepAllDays} day(s); daily: ${count(p.keepDaily)}; weekly: ${count(p.keepWeekly)}; monthly: ${count(p.keepMonthly)}; yearly: ${count(p.keepYearly)}`,
    `  deleted records: ${p.keepDeletedDays === null ? 'kept until purged' : `${p.keepDeletedDays} day(s) after deletion`}; files: ${p.keepFileDays === null ? 'no day rule' : `${p.keepFileDays} day(s)`}, ${p.keepFileVersions === null ? 'no count rule' : `last ${p.keepFileVersions}`}`,
  ];
}
