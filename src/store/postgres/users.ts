/**
 * Local users, browser sessions and API tokens on PostgreSQL (migration 4), as the SQLite adapter
 * keeps them: nothing sealed (a password is stored as the use case's slow hash, session and token
 * secrets as SHA-256 hashes), so rows copy between engines as they are. Every commit is durable
 * (synchronous_commit), which is what the SQLite adapter's `durable` transactions ask for.
 *
 * A session seen again (lastSeenAt after createdAt) or a token used (lastUsedAt set) is an
 * UPDATE of a stored row, never an insert: a request that read the row just before a sign-out or
 * a revoke and records its use afterwards does not bring it back.
 *
 * Concurrency (many processes, many machines): a session or token is inserted in one statement
 * that takes a KEY SHARE lock on its user's row, and removeUser deletes the user row first (which
 * waits for those locks) and only then, in later statements of the same READ COMMITTED
 * transaction (each with a fresh snapshot), the user's sessions and tokens. So a session created
 * while its user is removed is either seen and deleted with the user, or refused (USER_NOT_FOUND):
 * none outlives its user. A password change (an UPDATE that keeps the key) does not wait for them.
 */
import { sql } from 'kysely';
import type { ApiTokenRecord, SessionRecord, UserRecord } from '../../core/users.ts';
import type { UserStore } from '../port.ts';
import { noUser, toSession, toToken, toUser } from '../rows/users.ts';
import type { PgConnections } from './connection.ts';

/** Names sort by their bytes, as SQLite's BINARY collation does, whatever the database's collation. */
const BINARY_NAME = sql`name COLLATE "C"`;

export class PgUsers implements UserStore {
  constructor(private readonly conns: PgConnections) {}

  // ---- users ----------------------------------------------------------------------------------

  async putUser(user: UserRecord): Promise<void> {
    const values = { name: user.name, role: user.role, password_hash: user.passwordHash, created_at: user.createdAt, password_changed_at: user.passwordChangedAt };
    const { name: _name, ...changes } = values;
    await this.conns.db
      .insertInto('users')
      .values(values)
      .onConflict((oc) => oc.column('name').doUpdateSet(changes))
      .execute();
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = await this.conns.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.conns.db.selectFrom('users').selectAll().orderBy(BINARY_NAME).execute()).map(toUser);
  }

  /**
   * The user, its sessions and its tokens go in one transaction: no session or token is left to a
   * name re-used later. The user row goes first (see the module comment for why the order matters).
   */
  async removeUser(name: string): Promise<boolean> {
    return this.conns.transaction(async (trx) => {
      const removed = await trx.deleteFrom('users').where('name', '=', name).executeTakeFirst();
      await trx.deleteFrom('sessions').where('user_name', '=', name).execute();
      await trx.deleteFrom('api_tokens').where('user_name', '=', name).execute();
      return removed.numDeletedRows > 0n;
    });
  }

  // ---- sessions -------------------------------------------------------------------------------

  async putSession(session: SessionRecord): Promise<void> {
    const changes = {
      user_name: session.userName,
      csrf_token: session.csrfToken,
      created_at: session.createdAt,
      expires_at: session.expiresAt,
      last_seen_at: session.lastSeenAt,
    };
    if (session.lastSeenAt > session.createdAt) {
      await this.conns.db.updateTable('sessions').set(changes).where('id_hash', '=', session.idHash).execute();
      return;
    }
    const rows = await this.conns.query<{ id_hash: string }>(
      `WITH owner AS (SELECT name FROM users WHERE name = $2 FOR KEY SHARE)
       INSERT INTO sessions (id_hash, user_name, csrf_token, created_at, expires_at, last_seen_at)
       SELECT $1, owner.name, $3, $4::bigint, $5::bigint, $6::bigint FROM owner
       ON CONFLICT (id_hash) DO UPDATE SET user_name = excluded.user_name, csrf_token = excluded.csrf_token, created_at = excluded.created_at,
         expires_at = excluded.expires_at, last_seen_at = excluded.last_seen_at
       RETURNING id_hash`,
      [session.idHash, session.userName, session.csrfToken, session.createdAt, session.expiresAt, session.lastSeenAt],
    );
    if (rows.length === 0) throw noUser(session.userName, 'session');
  }

  async getSession(idHash: string): Promise<SessionRecord | undefined> {
    const row = await this.conns.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row && toSession(row);
  }

  async deleteSessions(match: { idHash: string } | { userName: string }): Promise<number> {
    const query = 'idHash' in match ? this.conns.db.deleteFrom('sessions').where('id_hash', '=', match.idHash) : this.conns.db.deleteFrom('sessions').where('user_name', '=', match.userName);
    return Number((await query.executeTakeFirst()).numDeletedRows);
  }

  // ---- API tokens -----------------------------------------------------------------------------

  async putApiToken(token: ApiTokenRecord): Promise<void> {
    if (token.lastUsedAt !== null) {
      await this.conns.db
        .updateTable('api_tokens')
        .set({ secret_hash: token.secretHash, user_name: token.userName, label: token.label, created_at: token.createdAt, expires_at: token.expiresAt, last_used_at: token.lastUsedAt })
        .where('id', '=', token.id)
        .execute();
      return;
    }
    const rows = await this.conns.query<{ id: string }>(
      `WITH owner AS (SELECT name FROM users WHERE name = $3 FOR KEY SHARE)
       INSERT INTO api_tokens (id, secret_hash, user_name, label, created_at, expires_at, last_used_at)
       SELECT $1, $2, owner.name, $4, $5::bigint, $6::bigint, NULL::bigint FROM owner
       ON CONFLICT (id) DO UPDATE SET secret_hash = excluded.secret_hash, user_name = excluded.user_name, label = excluded.label,
         created_at = excluded.created_at, expires_at = excluded.expires_at, last_used_at = excluded.last_used_at
       RETURNING id`,
      [token.id, token.secretHash, token.userName, token.label, token.createdAt, token.expiresAt],
    );
    if (rows.length === 0) throw noUser(token.userName, 'token');
  }

  async getApiToken(id: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.conns.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toToken(row);
  }

  async listApiTokens(userName?: string): Promise<ApiTokenRecord[]> {
    let query = this.conns.db.selectFrom('api_tokens').selectAll().orderBy(sql`user_name COLLATE "C"`).orderBy('created_at').orderBy(sql`id COLLATE "C"`);
    if (userName !== undefined) query = query.where('user_name', '=', userName);
    return (await query.execute()).map(toToken);
  }

  async removeApiToken(id: string): Promise<boolean> {
    const removed = await this.conns.db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst();
    return removed.numDeletedRows > 0n;
  }
}
