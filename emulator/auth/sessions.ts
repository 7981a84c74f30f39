import { randomBytes } from 'node:crypto';
import type { Session, SessionStore } from '../server/context.ts';
import type { Org } from '../org/org.ts';

/** Salesforce refresh tokens all start with this; revoke tells the two token kinds apart by it. */
const REFRESH_TOKEN_PREFIX = '5Aep861';
/** Expired sessions are swept every this many issues, so repeated logins do not grow memory. */
const SWEEP_EVERY = 256;

interface RefreshGrant {
  userId: string;
  clientId: string;
  /** The OAuth scopes granted, which refreshed tokens carry too. */
  scopes: string[];
  /** Access tokens minted from this grant; revoking the refresh token ends them too. */
  accessTokens: Set<string>;
}

/** Scopes of refresh tokens minted without a scope request (the admin API, tests). */
const DEFAULT_GRANT_SCOPES = ['refresh_token', 'api'];

/** What `revoke` found: Salesforce answers 200, `invalid_token` or `unsupported_token_type`. */
export type RevokeOutcome = 'revoked' | 'invalid' | 'unsupported';

/**
 * OAuth sessions of the emulated org. Tokens look like Salesforce's (`00D…!AQ…` access tokens,
 * `5Aep861…` refresh tokens) because clients and log scrubbers recognise them by shape. Sessions
 * time out after `settings.sessionTimeoutSeconds` without use, measured on the org clock.
 * Tokens are secrets: nothing here logs them.
 */
export class OAuthSessions implements SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly grants = new Map<string, RefreshGrant>();
  private issuedSinceSweep = 0;

  constructor(private readonly org: Org) {}

  /**
   * Opens a session for a user. With `refreshToken: true` a new refresh token is minted (what the
   * web-server flow grants; the admin API and tests use it to hand one out); with a string, the
   * session belongs to that existing grant (the refresh_token flow).
   */
  issue(userId: string, clientId: string, options: { refreshToken?: boolean | string; scopes?: string[] } = {}): Session {
    if (++this.issuedSinceSweep >= SWEEP_EVERY) this.sweep();
    const now = this.org.clock.nowMs();
    const session: Session = {
      accessToken: this.newAccessToken(),
      userId,
      orgId: this.org.orgId,
      clientId,
      issuedAtMs: now,
      lastUsedMs: now,
    };
    let refreshToken: string | undefined;
    if (typeof options.refreshToken === 'string') refreshToken = options.refreshToken;
    else if (options.refreshToken) refreshToken = this.grant(userId, clientId, options.scopes);
    const grant = refreshToken ? this.grants.get(refreshToken) : undefined;
    if (grant && refreshToken) {
      session.refreshToken = refreshToken;
      grant.accessTokens.add(session.accessToken);
    }
    this.sessions.set(session.accessToken, session);
    return session;
  }

  authenticate(accessToken: string): Session | undefined {
    const session = this.sessions.get(accessToken);
    if (!session) return undefined;
    const now = this.org.clock.nowMs();
    if (this.isExpired(session, now) || !this.isActiveUser(session.userId)) {
      this.end(session);
      return undefined;
    }
    session.lastUsedMs = Math.max(session.lastUsedMs, now);
    return session;
  }

  /** Mints a refresh token without opening a session (the admin API hands these out). */
  grant(userId: string, clientId: string, scopes: string[] = DEFAULT_GRANT_SCOPES): string {
    const refreshToken = newRefreshToken();
    this.grants.set(refreshToken, { userId, clientId, scopes: [...scopes], accessTokens: new Set() });
    return refreshToken;
  }

  /** The grant behind a refresh token, or undefined when it is unknown or was revoked. */
  refreshGrant(refreshToken: string): { userId: string; clientId: string; scopes: string[] } | undefined {
    const grant = this.grants.get(refreshToken);
    return grant && { userId: grant.userId, clientId: grant.clientId, scopes: [...grant.scopes] };
  }

  /**
   * Revokes an access token, or a refresh token together with every access token it minted, as
   * `/services/oauth2/revoke` does.
   */
  revoke(token: string): RevokeOutcome {
    const grant = this.grants.get(token);
    if (grant) {
      for (const accessToken of grant.accessTokens) this.sessions.delete(accessToken);
      this.grants.delete(token);
      return 'revoked';
    }
    const session = this.sessions.get(token);
    if (session) {
      this.end(session);
      return 'revoked';
    }
    return this.looksLikeToken(token) ? 'invalid' : 'unsupported';
  }

  revokeAll(): void {
    this.sessions.clear();
    this.grants.clear();
  }

  /** Live sessions, for the admin API. Expired ones are dropped on the way. */
  activeSessions(): Session[] {
    this.sweep();
    return [...this.sessions.values()];
  }

  private isExpired(session: Session, now: number): boolean {
    return now - session.lastUsedMs >= this.org.settings.sessionTimeoutSeconds * 1000;
  }

  private isActiveUser(userId: string): boolean {
    // A deactivated user's sessions end at once in Salesforce.
    return this.org.get(userId)?.IsActive !== false;
  }

  private end(session: Session): void {
    this.sessions.delete(session.accessToken);
    if (session.refreshToken) this.grants.get(session.refreshToken)?.accessTokens.delete(session.accessToken);
  }

  private sweep(): void {
    this.issuedSinceSweep = 0;
    const now = this.org.clock.nowMs();
    for (const session of this.sessions.values()) if (this.isExpired(session, now)) this.end(session);
  }

  private newAccessToken(): string {
    // `00D…!` followed by a long opaque part: the org ID prefix is how Salesforce routes a token.
    return `${this.org.orgId.slice(0, 15)}!AQ${opaque(70)}`;
  }

  private looksLikeToken(token: string): boolean {
    return token.startsWith(REFRESH_TOKEN_PREFIX) || token.startsWith(`${this.org.orgId.slice(0, 15)}!`);
  }
}

function newRefreshToken(): string {
  return REFRESH_TOKEN_PREFIX + opaque(60);
}

/** Random characters from the alphabet Salesforce tokens use (letters, digits, `.` and `_`). */
function opaque(bytes: number): string {
  return randomBytes(bytes).toString('base64url').replace(/-/g, '.');
}
