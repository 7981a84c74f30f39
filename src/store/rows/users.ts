/**
 * User, session and token rows to domain records, shared by both engines: nothing here is sealed
 * (passwords are slow hashes, secrets SHA-256 hashes), so the rows and their mapping are the same
 * on SQLite and PostgreSQL.
 */
import type { Selectable } from 'kysely';
import { OrgvaultError } from '../../core/errors.ts';
import type { ApiTokenRecord, Role, SessionRecord, UserRecord } from '../../core/users.ts';
import type { ApiTokensTable, SessionsTable, UsersTable } from '../schema/tables.ts';

/** A `users` row as a user record. */
export function toUser(row: Selectable<UsersTable>): UserRecord {
  return { name: row.name, role: row.role as Role, passwordHash: row.password_hash, createdAt: row.created_at, passwordChangedAt: row.password_changed_at };
}

/** A `sessions` row as a session record. */
export function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return { idHash: row.id_hash, userName: row.user_name, csrfToken: row.csrf_token, createdAt: row.created_at, expiresAt: row.expires_at, lastSeenAt: row.last_seen_at };
}

/** An `api_tokens` row as a token record. */
export function toToken(row: Selectable<ApiTokensTable>): ApiTokenRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    userName: row.user_name,
    label: row.label,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

/** The error for a session or token (`what`) created for a user that does not exist. */
export function noUser(name: string, what: string): OrgvaultError {
  return new OrgvaultError('USER_NOT_FOUND', `No user named "${name}": a ${what} belongs to an existing user.`);
}
