/**
 * Opening the vault and finding a registered org, for commands that work on one org's data.
 * The vault is closed whatever the command's outcome.
 */
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import type { OrgAuth, OrgClient } from '../core/org-client.ts';
import { createNotifier } from '../notify/index.ts';
import type { VaultNotifier } from '../notify/index.ts';
import type { OrgRegistration } from '../core/vault.ts';
import { addOrg, openOrgClient } from '../orgs/index.ts';
import type * as SalesforceModuleNs from '../salesforce/index.ts';

type SalesforceModule = typeof SalesforceModuleNs;
import { openVault } from '../store/vault.ts';
import type { Vault } from '../store/vault.ts';
import { globalOptions, resolveLocationOverrides, resolveUnlocker, resolveVaultDir } from './vault-options.ts';

/** Runs `work` with the vault the command's options name, then closes it. */
export async function withVault<T>(command: Command, work: (vault: Vault) => Promise<T>, options: { readonly?: boolean } = {}): Promise<T> {
  const global = globalOptions(command);
  const vault = await openVault(resolveVaultDir(global), await resolveUnlocker(global), { ...options, location: resolveLocationOverrides(global) });
  try {
    return await work(vault);
  } finally {
    await vault.close();
  }
}

/** The org registered under `name`, or a UsageError listing the ones that are. */
export async function requireOrg(vault: Vault, name: string | undefined): Promise<OrgRegistration> {
  const orgs = await vault.store.listOrgs();
  if (name === undefined) {
    if (orgs.length === 1) return orgs[0]!;
    throw new UsageError(
      orgs.length === 0 ? 'No org is connected to this vault yet: add one with `orgvault org add NAME …`.' : `Name the org with --org NAME: this vault holds ${orgs.map((o) => o.name).join(', ')}.`,
    );
  }
  const org = await vault.store.getOrg(name);
  if (!org) {
    throw new UsageError(`No org named "${name}" in this vault${orgs.length ? ` (it holds ${orgs.map((o) => o.name).join(', ')})` : ''}. Add it with \`orgvault org add ${name} …\`.`);
  }
  return org;
}

/** A client for a registered org: its credentials unsealed, a session opened (refreshed as needed). */
export async function connectToOrg(vault: Vault, org: OrgRegistration): Promise<OrgClient> {
  const { connectOrg } = await salesforce();
  return openOrgClient(vault.store, vault.keyring, org, (auth) => connectOrg(auth));
}

/** Registers an org in the vault (connects first, so that bad credentials are refused at once). */
export async function addOrgToVault(vault: Vault, name: string, auth: OrgAuth): Promise<OrgRegistration> {
  const { connectOrg } = await salesforce();
  const added = await addOrg({ catalog: vault.store, keyring: vault.keyring, connect: (a) => connectOrg(a), audit: vault.store }, name, auth);
  return added.registration;
}

/**
 * The notifier for the vault's orgs: the channels each org set with `orgvault notify set`. A channel
 * that fails is logged in the notification log and told on stderr; the command goes on.
 */
export function vaultNotifier(vault: Vault): VaultNotifier {
  return createNotifier({ store: vault.store, keyring: vault.keyring, onProblem: (message) => process.stderr.write(`${message}\n`) });
}

/** Loaded on use: jsforce alone adds about a second to the start of commands that never connect. */
function salesforce(): Promise<SalesforceModule> {
  return import('../salesforce/index.ts');
}
