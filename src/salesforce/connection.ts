/**
 * Connecting to a Salesforce org. jsforce stays inside src/salesforce: callers get plain data and
 * orgvault's own errors.
 */
import { Connection } from '@jsforce/jsforce-node';
import { AuthenticationError, SalesforceApiError } from '../core/errors.ts';

export const API_VERSION = '62.0';

/** Username-password OAuth through a connected app. Other flows arrive with `org add`. */
export interface PasswordCredentials {
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

export interface OrgIdentity {
  orgId: string;
  userId: string;
  username: string;
  displayName: string;
  instanceUrl: string;
}

export interface SObjectSummary {
  name: string;
  label: string;
  custom: boolean;
  queryable: boolean;
}

/** An authenticated org. */
export interface SalesforceOrg {
  identity(): Promise<OrgIdentity>;
  describeGlobal(): Promise<SObjectSummary[]>;
  /** Record counts from `/limits/recordCount`: one cheap call for many objects. */
  recordCounts(objects: string[]): Promise<Map<string, number>>;
  /** DailyApiRequests used and allowed. */
  apiUsage(): Promise<{ used: number; max: number }>;
}

/** Logs in and returns the org. Wrong credentials give an AuthenticationError naming the cause. */
export async function connectWithPassword(credentials: PasswordCredentials): Promise<SalesforceOrg> {
  const conn = new Connection({
    loginUrl: credentials.loginUrl,
    version: API_VERSION,
    oauth2: { loginUrl: credentials.loginUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret },
  });
  try {
    await conn.login(credentials.username, credentials.password);
  } catch (error) {
    throw new AuthenticationError(`Could not log in to ${credentials.loginUrl} as ${credentials.username}: ${describe(error)}`, { cause: error });
  }
  return wrap(conn);
}

function wrap(conn: Connection): SalesforceOrg {
  return {
    async identity() {
      const id = await call(() => conn.identity());
      return {
        orgId: id.organization_id,
        userId: id.user_id,
        username: id.username,
        displayName: id.display_name,
        instanceUrl: conn.instanceUrl,
      };
    },
    async describeGlobal() {
      const result = await call(() => conn.describeGlobal());
      return result.sobjects.map((s) => ({ name: s.name, label: s.label, custom: s.custom, queryable: s.queryable }));
    },
    async recordCounts(objects) {
      const body = await call(() =>
        conn.request<{ sObjects: { name: string; count: number }[] }>(`/services/data/v${API_VERSION}/limits/recordCount?sObjects=${objects.map(encodeURIComponent).join(',')}`),
      );
      return new Map(body.sObjects.map((s) => [s.name, s.count]));
    },
    async apiUsage() {
      const limits = await call(() => conn.limits());
      const daily = limits.DailyApiRequests;
      return { used: daily.Max - daily.Remaining, max: daily.Max };
    },
  };
}

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { errorCode?: unknown }).errorCode;
    throw new SalesforceApiError(typeof code === 'string' ? code : 'UNKNOWN_EXCEPTION', describe(error), { cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
