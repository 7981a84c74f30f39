/**
 * Local users: adding, listing, removing, passwords and roles. Every change is recorded in the
 * audit log (never a password). Changes are serialized per store within the process, so that two
 * requests cannot each remove or demote one of the last two administrators.
 */
import { UsageError } from '../core/errors.ts';
import { ROLES, isRole } from '../core/users.ts';
import type { Role, UserRecord } from '../core/users.ts';
import type { AuditLog, UserStore } from '../store/port.ts';
import { checkPasswordStrength, hashPassword } from './passwords.ts';

export interface UsersDeps {
  store: UserStore & AuditLog;
  now?: () => number;
  /** Who is acting, for the audit log (`cli`, `http`, a user name). */
  actor: string;
}

/** A user as listed: never the password hash. */
export interface UserSummary {
  name: string;
  role: Role;
  createdAt: number;
  passwordChangedAt: number;
}

/** Letters, digits, `.`, `_`, `-` and `@` (so that an e-mail address fits), 1 to 64 of them. */
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export const clock = (deps: Pick<UsersDeps, 'now'>): number => (deps.now ?? Date.now)();

export function summary(user: UserRecord): UserSummary {
  return { name: user.name, role: user.role, createdAt: user.createdAt, passwordChangedAt: user.passwordChangedAt };
}

export async function audit(deps: UsersDeps, action: string, target: string | null, details: Record<string, unknown> = {}): Promise<void> {
  await deps.store.appendAudit({ at: clock(deps), actor: deps.actor, action, target, details });
}

const queues = new WeakMap<object, Promise<unknown>>();

/** Runs `work` after every earlier change to the same store's users has finished. */
function serialized<T>(store: object, work: () => Promise<T>): Promise<T> {
  const result = (queues.get(store) ?? Promise.resolve()).then(work);
  queues.set(
    store,
    result.catch(() => undefined),
  );
  return result;
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new UsageError(`"${name}" is not a usable user name: use 1 to 64 letters, digits, ".", "_", "-" or "@" (e.g. alice, ops.backup, alice@example.com).`);
  }
}

function checkRole(role: string): asserts role is Role {
  if (!isRole(role)) throw new UsageError(`"${role}" is not a role: use one of ${ROLES.join(', ')}.`);
}

/** The user named `name`, or a UsageError. */
export async function requireUser(store: UserStore, name: string): Promise<UserRecord> {
  const user = await store.getUser(name);
  if (!user) throw new UsageError(`No user named "${name}".`);
  return user;
}

/** A UsageError when `user` is the only administrator: someone must be left to manage users. */
async function keepAnAdministrator(store: UserStore, user: UserRecord, doing: string): Promise<void> {
  if (user.role !== 'administrator') return;
  const administrators = (await store.listUsers()).filter((u) => u.role === 'administrator');
  if (administrators.length <= 1) {
    throw new UsageError(`Cannot ${doing}: "${user.name}" is the last administrator, and someone must be left to manage users. Make another user an administrator first.`);
  }
}

export async function addUser(deps: UsersDeps, name: string, role: Role, password: string): Promise<UserSummary> {
  checkName(name);
  checkRole(role);
  checkPasswordStrength(password);
  const passwordHash = await hashPassword(password);
  return serialized(deps.store, async () => {
    // Names differing only in case would be told apart by nobody reading an audit log.
    const clash = (await deps.store.listUsers()).find((u) => u.name.toLowerCase() === name.toLowerCase());
    if (clash) throw new UsageError(`A user named "${clash.name}" already exists. Choose another name, or change that user's password or role.`);
    const now = clock(deps);
    const user: UserRecord = { name, role, passwordHash, createdAt: now, passwordChangedAt: now };
    await deps.store.putUser(user);
    await audit(deps, 'user.add', name, { role });
    return summary(user);
  });
}

export async function listUsers(store: UserStore): Promise<UserSummary[]> {
  return (await store.listUsers()).map(summary).sort((a, b) => a.name.localeCompare(b.name));
}

/** Removes a user with its sessions and API tokens. */
export async function removeUser(deps: UsersDeps, name: string): Promise<UserSummary> {
  return serialized(deps.store, async () => {
    const user = await requireUser(deps.store, name);
    await keepAnAdministrator(deps.store, user, `remove "${name}"`);
    await deps.store.removeUser(name);
    await audit(deps, 'user.remove', name, { role: user.role });
    return summary(user);
  });
}

/**
 * Sets a new password. passwordChangedAt moves to now: sessions and API tokens made before stop
 * working (a stolen one dies with the password it was made under). The user's sessions are
 * deleted too; its tokens stay listed, so that their owner sees which ones to renew.
 */
export async function setPassword(deps: UsersDeps, name: string, password: string): Promise<void> {
  checkPasswordStrength(password);
  const passwordHash = await hashPassword(password);
  await serialized(deps.store, async () => {
    const user = await requireUser(deps.store, name);
    await deps.store.putUser({ ...user, passwordHash, passwordChangedAt: clock(deps) });
    await deps.store.deleteSessions({ userName: name });
    await audit(deps, 'user.password', name);
  });
}

export async function setRole(deps: UsersDeps, name: string, role: Role): Promise<void> {
  checkRole(role);
  await serialized(deps.store, async () => {
    const user = await requireUser(deps.store, name);
    if (user.role === role) return;
    if (role !== 'administrator') await keepAnAdministrator(deps.store, user, `make "${name}" a ${role}`);
    await deps.store.putUser({ ...user, role });
    await audit(deps, 'user.role', name, { from: user.role, to: role });
  });
}
