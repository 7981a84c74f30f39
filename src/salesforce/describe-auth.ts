import type { OrgAuth } from '../core/org-client.ts';

/** A one-line, secret-free description of how orgvault logs in to an org. */
export function describeAuth(auth: OrgAuth): string {
  switch (auth.kind) {
    case 'jwt':
      return `JWT bearer as ${auth.username} via ${auth.loginUrl} (client ${shortId(auth.clientId)})`;
    case 'client-credentials':
      return `client credentials via ${auth.loginUrl} (client ${shortId(auth.clientId)})`;
    case 'refresh-token':
      return `refresh token via ${auth.loginUrl} (client ${shortId(auth.clientId)})`;
    case 'password':
      return `username-password as ${auth.username} via ${auth.loginUrl} (client ${shortId(auth.clientId)})`;
    case 'access-token':
      return `access token for ${auth.instanceUrl}`;
    case 'sf-cli':
      return `Salesforce CLI org "${auth.alias}"`;
  }
}

/** Consumer keys are not secret, but 85 characters only clutter a line. */
function shortId(clientId: string): string {
  return clientId.length > 16 ? `${clientId.slice(0, 8)}…${clientId.slice(-4)}` : clientId;
}
