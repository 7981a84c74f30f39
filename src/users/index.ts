/**
 * The users use case: local users of the HTTP API and dashboard with one role each
 * (src/core/users.ts), their passwords (scrypt), browser sessions, API tokens and a sign-in
 * throttle. It depends on the vault's ports only; the CLI (`orgvault user`) and the HTTP server
 * call it. Every change is recorded in the audit log, never with a password or a secret.
 */
export { addUser, listUsers, removeUser, setPassword, setRole } from './accounts.ts';
export type { UserSummary, UsersDeps } from './accounts.ts';
export { createApiToken, revokeApiToken, sessionUser, signIn, signOut, tokenUser } from './access.ts';
export { hashPassword, verifyPassword } from './passwords.ts';
export { SignInThrottle } from './throttle.ts';
