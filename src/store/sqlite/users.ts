/**
 * Local users, browser sessions and API tokens on SQLite. Nothing here is sealed: a password is
 * stored as the slow hash the use case made, and session and token secrets only as SHA-256
 * hashes, so the rows give no way in. Writes that take access away (a user removed, a password
 * changed, a session signed out, a token revoked) are durable: a power cut must not bring back
 * what an administrator revoked.
 *
 * A session seen again (lastSeenAt after createdAt) or a token used (lastUsedAt set) is an update
 * of a stored row, never an insert: a request that read the row just before a sign-out or a
 * revoke and then records its use must not bring the session or token back to life.
 */
import type { ApiTokenRecord, SessionRecord, UserRecord } from '../../core/users.ts';
import type { UserStore } from '../port.ts';
import { noUser, toSession, toToken, toUser } from '../rows/users.ts';
import type { Connections, Db } from './connection.ts';
import { all, builder, first, run } from './connection.ts';

/** A session or token is only ever created for a user that exists, so none outlives its user. */
function requireUser(db: Db, name: string, what: string): void {
  if (!first(db, builder.selectFrom('users').select('name').where('name', '=', name))) {
    throw noUser(name, what);
  }
}

export class SqliteUsers implements UserStore {
  constructor(private readonly conns: Connections) {}

  // ---- users ----------------------------------------------------------------------------------

  async putUser(user: UserRecord): Promise<void> {
    const values = { name: user.name, role: user.role, password_hash: user.passwordHash, created_at: user.createdAt, password_changed_at: user.passwordChangedAt };
    const { name: _name, ...changes } = values;
    await this.conns.transaction((db) => run(db, builder.insertInto('users').values(values).onConflict((oc) => oc.column('name').doUpdateSet(changes))), { durable: true });
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = first(this.conns.read, builder.selectFrom('users').selectAll().where('name', '=', name));
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return all(this.conns.read, builder.selectFrom('users').selectAll().orderBy('name')).map(toUser);
  }

  /** The user, its sessions and its tokens go together: no session or token is left to a name re-used later. */
  async removeUser(name: string): Promise<boolean> {
    return this.conns.transaction(
      (db) => {
        run(db, builder.deleteFrom('sessions').where('user_name', '=', name));
        run(db, builder.deleteFrom('api_tokens').where('user_name', '=', name));
        return run(db, builder.deleteFrom('users').where('name', '=', name)) > 0;
      },
      { durable: true },
    );
  }

  // ---- sessions -------------------------------------------------------------------------------

  async putSession(session: SessionRecord): Promise<void> {
    const values = {
      id_hash: session.idHash,
      user_name: session.userName,
      csrf_token: session.csrfToken,
      created_at: session.createdAt,
      expires_at: session.expiresAt,
      last_seen_at: session.lastSeenAt,
    };
    const { id_hash: _id, ...changes } = values;
    await this.conns.transaction((db) => {
      if (session.lastSeenAt > session.createdAt) {
        run(db, builder.updateTable('sessions').set(changes).where('id_hash', '=', session.idHash));
        return;
      }
      requireUser(db, session.userName, 'session');
      run(db, builder.insertInto('sessions').values(values).onConflict((oc) => oc.column('id_hash').doUpdateSet(changes)));
    });
  }

  async getSession(idHash: string): Promise<SessionRecord | undefined> {
    const row = first(this.conns.read, builder.selectFrom('sessions').selectAll().where('id_hash', '=', idHash));
    return row && toSession(row);
  }

  async deleteSessions(match: { idHash: string } | { userName: string }): Promise<number> {
    const query = 'idHash' in match ? builder.deleteFrom('sessions').where('id_hash', '=', match.idHash) : builder.deleteFrom('sessions').where('user_name', '=', match.userName);
    return this.conns.transaction((db) => run(db, query), { durable: true });
  }

  // ---- API tokens -----------------------------------------------------------------------------

  async putApiToken(token: ApiTokenRecord): Promise<void> {
    const values = {
      id: token.id,
      secret_hash: token.secretHash,
      user_name: token.userName,
      label: token.label,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
      last_used_at: token.lastUsedAt,
    };
    const { id: _id, ...changes } = values;
    if (token.lastUsedAt !== null) {
      await this.conns.transaction((db) => run(db, builder.updateTable('api_tokens').set(changes).where('id', '=', token.id)));
      return;
    }
    // Durable: the token is shown to its owner once, and must then work after a power cut.
    await this.conns.transaction(
      (db) => {
        requireUser(db, token.userName, 'token');
        run(db, builder.insertInto('api_tokens').values(values).onConflict((oc) => oc.column('id').doUpdateSet(changes)));
      },
      { durable: true },
    );
  }

  async getApiToken(id: string): Promise<ApiTokenRecord | undefined> {
    const row = first(this.conns.read, builder.selectFrom('api_tokens').selectAll().where('id', '=', id));
    return row && toToken(row);
  }

  async listApiTokens(userName?: string): Promise<ApiTokenRecord[]> {
    let query = builder.selectFrom('api_tokens').selectAll().orderBy('user_name').orderBy('created_at').orderBy('id');
    if (userName !== undefined) query = query.where('user_name', '=', userName);
    return all(this.conns.read, query).map(toToken);
  }

  async removeApiToken(id: string): Promise<boolean> {
    return this.conns.transaction((db) => run(db, builder.deleteFrom('api_tokens').where('id', '=', id)) > 0, { durable: true });
  }
}
