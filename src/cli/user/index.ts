/**
 * `orgvault user add|list|remove|passwd|role|token|tokens|revoke`: the local users who sign in to
 * the HTTP API and dashboard, their roles and API tokens. A password comes from `--password`
 * (with a warning: it lands in shell history and the process list), ORGVAULT_USER_PASSWORD or a
 * hidden prompt; it is never printed. A token's secret is printed once, by `user token`.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { ROLES, isRole } from '../../core/users.ts';
import type { ApiTokenRecord, Role, UserRecord } from '../../core/users.ts';
import { addUser, createApiToken, listUsers, removeUser, revokeApiToken, setPassword, setRole } from '../../users/index.ts';
import type { UserSummary, UsersDeps } from '../../users/index.ts';
import type { Vault } from '../../store/vault.ts';
import { table } from '../format.ts';
import { canPrompt, promptSecret } from '../secret-prompt.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { withVault } from '../vault-session.ts';

const DAY_MS = 86_400_000;
const MAX_EXPIRES_DAYS = 3650;
const TOKEN_ID = /^ovt_[0-9a-f]{16}$/;

const usersDeps = (vault: Vault): UsersDeps => ({ store: vault.store, actor: 'cli' });
const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());

function role(value: string): Role {
  if (!isRole(value)) throw new UsageError(`"${value}" is not a role: use one of ${ROLES.join(', ')}.`);
  return value;
}

function expiresDays(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = Number(value);
  if (!/^\d+$/.test(value) || days < 1 || days > MAX_EXPIRES_DAYS) throw new UsageError(`--expires-days ${value}: give a whole number of days from 1 to ${MAX_EXPIRES_DAYS}.`);
  return days;
}

/**
 * The new password of `name`: `--password`, else ORGVAULT_USER_PASSWORD, else a hidden prompt
 * (asked twice), else a UsageError saying how to give one.
 */
async function newPassword(flag: string | undefined, name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.ORGVAULT_TEST_SCRYPT) warn(`ORGVAULT_TEST_SCRYPT=${env.ORGVAULT_TEST_SCRYPT}: the password gets weak, test-only hashing. Never use this for a real vault.`);
  if (flag !== undefined) {
    warn('Warning: --password lands in your shell history and the process list; prefer ORGVAULT_USER_PASSWORD or the prompt.');
    return flag;
  }
  if (env.ORGVAULT_USER_PASSWORD) return env.ORGVAULT_USER_PASSWORD;
  if (!canPrompt()) throw new UsageError(`No password for "${name}": set ORGVAULT_USER_PASSWORD, run in a terminal to be prompted, or pass --password P (it lands in shell history).`);
  const first = await promptSecret(`New password for ${name}: `);
  const second = await promptSecret('Repeat the password: ');
  if (first !== second) throw new UsageError('The two passwords differ; nothing was changed.');
  return first;
}

function userJson(user: UserSummary): Record<string, unknown> {
  return { name: user.name, role: user.role, createdAt: iso(user.createdAt), passwordChangedAt: iso(user.passwordChangedAt) };
}

/** Whether a token opens anything now, as the API would decide. */
function tokenStatus(token: ApiTokenRecord, user: UserRecord | undefined, now: number): 'active' | 'expired' | 'password changed' {
  if (token.expiresAt !== null && token.expiresAt <= now) return 'expired';
  if (!user || token.createdAt < user.passwordChangedAt) return 'password changed';
  return 'active';
}

/** A token as listed: never its secret or the secret's hash. */
function tokenJson(token: ApiTokenRecord, status?: string): Record<string, unknown> {
  return {
    id: token.id,
    user: token.userName,
    label: token.label,
    createdAt: iso(token.createdAt),
    expiresAt: iso(token.expiresAt),
    lastUsedAt: iso(token.lastUsedAt),
    ...(status ? { status } : {}),
  };
}

export function registerUserCommand(program: Command): void {
  const user = program
    .command('user')
    .description('add, list or remove the local users of the HTTP API and dashboard, their roles and API tokens')
    .addHelpText(
      'after',
      `\nRoles: administrator (everything, users included), backup-operator (view, start backups), restore-operator (view, compare, restore), viewer (view).\nPasswords: --password P (lands in shell history), else ORGVAULT_USER_PASSWORD, else a hidden prompt; at least 12 characters.`,
    );

  user
    .command('add <name>')
    .description('add a user with a role and a password')
    .requiredOption('--role <role>', `the user's role: ${ROLES.join(', ')}`)
    .option('--password <password>', 'the password (better: ORGVAULT_USER_PASSWORD or the prompt; this lands in shell history)')
    .action(async (name: string, flags: { role: string; password?: string }, command: Command) => {
      const options = globalOptions(command);
      const userRole = role(flags.role);
      const password = await newPassword(flags.password, name);
      const added = await withVault(command, (vault) => addUser(usersDeps(vault), name, userRole, password));
      printResult(options, { user: userJson(added) }, () => [`Added user "${added.name}" (${added.role}).`]);
    });

  user
    .command('list')
    .description('the users and their roles')
    .action(async (_flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const users = await withVault(command, (vault) => listUsers(vault.store), { readonly: true });
      printResult(options, { users: users.map(userJson) }, () =>
        users.length === 0
          ? ['No user yet: add one with `orgvault user add NAME --role administrator`.']
          : table(
              ['Name', 'Role', 'Added', 'Password changed'],
              users.map((u) => [u.name, u.role, iso(u.createdAt)!, iso(u.passwordChangedAt)!]),
            ),
      );
    });

  user
    .command('remove <name>')
    .description('remove a user with its sessions and API tokens (never the last administrator)')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const removed = await withVault(command, (vault) => removeUser(usersDeps(vault), name));
      printResult(options, { removed: userJson(removed) }, () => [`Removed user "${removed.name}" (${removed.role}) with its sessions and API tokens.`]);
    });

  user
    .command('passwd <name>')
    .description("set a user's password; its sessions and API tokens made before stop working")
    .option('--password <password>', 'the new password (better: ORGVAULT_USER_PASSWORD or the prompt; this lands in shell history)')
    .action(async (name: string, flags: { password?: string }, command: Command) => {
      const options = globalOptions(command);
      const password = await newPassword(flags.password, name);
      await withVault(command, (vault) => setPassword(usersDeps(vault), name, password));
      printResult(options, { name, passwordChanged: true }, () => [`Changed the password of "${name}": its sessions and API tokens made before now no longer work.`]);
    });

  user
    .command('role <name> <role>')
    .description(`change a user's role: ${ROLES.join(', ')} (the last administrator keeps its role)`)
    .action(async (name: string, value: string, _flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const newRole = role(value);
      await withVault(command, (vault) => setRole(usersDeps(vault), name, newRole));
      printResult(options, { name, role: newRole }, () => [`"${name}" is now ${newRole === 'administrator' ? 'an' : 'a'} ${newRole}.`]);
    });

  user
    .command('token <name>')
    .description("create an API token acting as the user: it is printed once, only its hash is kept")
    .requiredOption('--label <label>', 'what the token is for (e.g. "nightly export")')
    .option('--expires-days <days>', `days until it expires (1 to ${MAX_EXPIRES_DAYS}; default: never)`)
    .action(async (name: string, flags: { label: string; expiresDays?: string }, command: Command) => {
      const options = globalOptions(command);
      const days = expiresDays(flags.expiresDays);
      const { token, record } = await withVault(command, (vault) => createApiToken(usersDeps(vault), name, flags.label, { expiresInMs: days === undefined ? undefined : days * DAY_MS }));
      printResult(options, { token, ...tokenJson(record) }, () => [
        `API token ${record.id} for "${record.userName}" (${record.label}), ${record.expiresAt === null ? 'never expires' : `expires ${iso(record.expiresAt)}`}:`,
        '',
        token,
        '',
        'It is shown only this once: store it now (send it as `Authorization: Bearer TOKEN`).',
        `Revoke it with \`orgvault user revoke ${record.id}\`.`,
      ]);
    });

  user
    .command('tokens [name]')
    .description("list the API tokens (a user's, or everyone's); never their secrets")
    .action(async (name: string | undefined, _flags: unknown, command: Command) => {
      const options = globalOptions(command);
      const now = Date.now();
      const listed = await withVault(
        command,
        async (vault) => {
          if (name !== undefined && !(await vault.store.getUser(name))) throw new UsageError(`No user named "${name}".`);
          const users = new Map((await vault.store.listUsers()).map((u) => [u.name, u]));
          return (await vault.store.listApiTokens(name)).map((t) => ({ token: t, status: tokenStatus(t, users.get(t.userName), now) }));
        },
        { readonly: true },
      );
      printResult(options, { tokens: listed.map(({ token, status }) => tokenJson(token, status)) }, () =>
        listed.length === 0
          ? [`No API token${name === undefined ? '' : ` for "${name}"`}: create one with \`orgvault user token NAME --label LABEL\`.`]
          : table(
              ['ID', 'User', 'Label', 'Created', 'Expires', 'Last used', 'Status'],
              listed.map(({ token: t, status }) => [t.id, t.userName, t.label, iso(t.createdAt)!, iso(t.expiresAt) ?? 'never', iso(t.lastUsedAt) ?? 'never', status]),
            ),
      );
    });

  user
    .command('revoke <tokenId>')
    .description('revoke an API token by its ID (`orgvault user tokens` lists them)')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const options = globalOptions(command);
      // Never echoed unless it has an ID's shape: a whole token pasted here must not reach a log.
      if (!TOKEN_ID.test(id)) throw new UsageError('That is not an API token ID: IDs are "ovt_" and 16 hex digits, as `orgvault user tokens` lists them.');
      const revoked = await withVault(command, (vault) => revokeApiToken(usersDeps(vault), id));
      if (!revoked) throw new UsageError(`No API token ${id}: \`orgvault user tokens\` lists them.`);
      printResult(options, { revoked: id }, () => [`Revoked API token ${id}.`]);
    });
}
