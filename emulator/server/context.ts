import type { OAuthSessions } from '../auth/sessions.ts';
import type { Org } from '../org/org.ts';
import type { ApiUsage } from '../rest/limits.ts';

/** An OAuth session: what an access token stands for. */
export interface Session {
  accessToken: string;
  userId: string;
  orgId: string;
  clientId: string;
  issuedAtMs: number;
  lastUsedMs: number;
  refreshToken?: string;
}

/** Hono environment of every authenticated route: the session and the URL's API version. */
export type AppEnv = { Variables: { session: Session; apiVersion: string } };

/** Session lookup shared by the REST, Bulk and streaming routes. */
export interface SessionStore {
  /** The live session for an access token, its idle timer reset; undefined when unknown or expired. */
  authenticate(accessToken: string): Session | undefined;
  /** Ends every session of the org (an admin "revoke all", or a fault injection). */
  revokeAll(): void;
}

/** API call accounting: DailyApiRequests over a rolling 24 hours, and statistics for the admin API. */
export interface ApiUsageLedger {
  /** Calls counted in the 24 hours ending at the org's current time. */
  used(): number;
  statistics(): { total: number; byEndpoint: Record<string, number>; byClient: Record<string, number> };
  reset(): void;
}

/** Everything a route module needs; built once per emulator. */
export interface EmulatorContext {
  readonly org: Org;
  readonly sessions: OAuthSessions;
  readonly usage: ApiUsage;
  readonly adminToken: string;
  /** The instance URL clients were given, e.g. http://127.0.0.1:41234. */
  instanceUrl(): string;
}

/** The API versions the emulator serves, oldest first. */
export const API_VERSIONS: string[] = Array.from({ length: 66 - 31 + 1 }, (_, i) => `${31 + i}.0`);
export const LATEST_API_VERSION = '66.0';
