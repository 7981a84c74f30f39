/**
 * `orgvault org add|list|remove|test`: the orgs the vault backs up. `add` logs in with the flow
 * its flags describe, reads the org's identity and seals the credentials in the vault; `test`
 * logs in again and reports who it is, its API usage and what the API user can see.
 */
import type { Command } from 'commander';
import type { OrgAuth, OrgClient } from '../../core/org-client.ts';
import { addOrg, listOrgs, removeOrg, testOrg } from '../../orgs/index.ts';
import type { OrgSummary } from '../../orgs/index.ts';
import { table } from '../format.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { withVault } from '../vault-session.ts';
import { FLOWS_HELP, authFromFlags } from './flows.ts';
import type { OrgAddFlags } from './flows.ts';

/** connectOrg, loaded on use: jsforce would slow every other command's start-up by a second. */
async function connector(): Promise<{ connect: (auth: OrgAuth) => Promise<OrgClient>; describeAuth: (auth: OrgAuth) => string }> {
  const salesforce = await import('../../salesforce/index.ts');
  return { connect: (auth) => salesforce.connectOrg(auth, { log: warn }), describeAuth: salesforce.describeAuth };
}

export function registerOrgCommand(program: Command): void {
  const org = program.command('org').description('add, list, test or remove the Salesforce orgs the vault backs up');

  org
    .command('add <name>')
    .description('connect an org and register it under NAME, its credentials sealed in the vault')
    .option('--login-url <url>', 'https://login.salesforce.com (default), https://test.salesforce.com or the My Domain URL')
    .option('--client-id <id>', "the connected app's consumer key")
    .option('--client-secret <secret>', "the connected app's consumer secret (better: ORGVAULT_CLIENT_SECRET)")
    .option('--username <username>', 'the integration user (JWT and username-password flows)')
    .option('--password <password>', "the user's password, with its security token if the org asks for one (better: ORGVAULT_SF_PASSWORD)")
    .option('--private-key-file <file>', 'the PEM private key whose certificate is on the connected app (JWT flow)')
    .option('--refresh-token <token>', 'a refresh token from the web-server flow (better: ORGVAULT_REFRESH_TOKEN)')
    .option('--access-token <token>', 'an access token; it cannot be renewed when it expires (better: ORGVAULT_ACCESS_TOKEN)')
    .option('--instance-url <url>', 'the instance URL the access token belongs to')
    .option('--sf-alias <alias>', 'an org authorised in the Salesforce CLI (sf org login …), by alias or username')
    .addHelpText('after', `\n${FLOWS_HELP}`)
    .action(async (name: string, flags: OrgAddFlags, command: Command) => {
      const options = globalOptions(command);
      const auth = await authFromFlags(flags);
      const { connect, describeAuth } = await connector();
      const how = describeAuth(auth);
      warn(`Connecting to the org (${how})…`);
      const { registration, identity } = await withVault(command, (vault) => addOrg({ catalog: vault.store, keyring: vault.keyring, connect, audit: vault.store, actor: 'cli' }, name, auth));
      printResult(
        options,
        { name, orgId: identity.orgId, instanceUrl: identity.instanceUrl, loginUrl: registration.loginUrl, username: identity.username, authKind: auth.kind, auth: how },
        () => [
          `Added org "${name}": ${identity.orgId} at ${identity.instanceUrl}, as ${identity.username} (${identity.displayName}).`,
          `Logs in with ${how}; the credentials are sealed in the vault.`,
          ...(auth.kind === 'access-token' ? ['Warning: an access token expires and cannot be renewed; register the org with a refreshable flow for scheduled backups.'] : []),
        ],
      );
    });

  org
    .command('list')
    .description('the registered orgs')
    .action(async (_flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const orgs = await withVault(command, (vault) => listOrgs(vault.store), { readonly: true });
      printResult(options, { orgs }, () =>
        orgs.length === 0
          ? ['No org is registered yet: add one with `orgvault org add NAME …`.']
          : table(
              ['Name', 'Org ID', 'Login', 'User', 'Instance', 'Added'],
              orgs.map((o: OrgSummary) => [o.name, o.orgId, o.authKind ?? '?', o.username ?? '', o.instanceUrl, o.createdAt]),
            ),
      );
    });

  org
    .command('remove <name>')
    .description("forget an org's registration and credentials; its backed-up data stays in the vault")
    .action(async (name: string, _flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const removed = await withVault(command, (vault) => removeOrg({ catalog: vault.store, audit: vault.store, actor: 'cli' }, name));
      printResult(options, { removed }, () => [`Removed org "${name}" (${removed.orgId}). Its backed-up data stays in the vault.`]);
    });

  org
    .command('test <name>')
    .description('log in to a registered org and show who it is, its API usage and what the API user can see')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const { connect } = await connector();
      const report = await withVault(command, (vault) => testOrg({ catalog: vault.store, keyring: vault.keyring, connect }, name), { readonly: true });
      const { identity, apiUsage, objects } = report;
      printResult(options, report, () => [
        `Org "${name}": ${identity.orgId} at ${identity.instanceUrl}`,
        `  user:      ${identity.username} (${identity.displayName})`,
        `  API usage: ${apiUsage.used.toLocaleString('en-US')} of ${apiUsage.max.toLocaleString('en-US')} daily requests (${apiUsage.remaining.toLocaleString('en-US')} left)`,
        ...(report.bulkQueryJobs ? [`  Bulk jobs: ${report.bulkQueryJobs.used} of ${report.bulkQueryJobs.max.toLocaleString('en-US')} daily Bulk API 2.0 query jobs`] : []),
        `  objects:   ${objects.visible} visible, ${objects.queryable} queryable, ${objects.custom} custom`,
        `  this test made ${report.callsMade} API calls`,
        ...(report.warning ? [`Warning: ${report.warning}`] : []),
      ]);
    });
}
