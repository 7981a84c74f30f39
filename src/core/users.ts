/**
 * Who may do what in orgvault's HTTP API and dashboard: local users with one role each, as in
 * Veeam Backup for Salesforce. Pure data and the role matrix; hashing and sessions live in
 * src/users/.
 */

export const ROLES = ['administrator', 'backup-operator', 'restore-operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** What a request does, for the role check. */
export const ACTIONS = ['view', 'backup', 'restore', 'settings', 'orgs', 'users', 'archive', 'export'] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * The role matrix. Everyone signed in may view; backup operators start backups; restore
 * operators compare, dry-run and restore; both operators export (it hands records out in bulk,
 * so viewers may not); only administrators change settings, orgs and users,
 * and archive (delete records from Salesforce once they are safe in the vault).
 */
const ALLOWED: Readonly<Record<Role, readonly Action[]>> = {
  administrator: ['view', 'backup', 'restore', 'settings', 'orgs', 'users', 'archive', 'export'],
  'backup-operator': ['view', 'backup', 'export'],
  'restore-operator': ['view', 'restore', 'export'],
  viewer: ['view'],
};

export function isAllowed(role: Role, action: Action): boolean {
  return ALLOWED[role].includes(action);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** A local user. The password is kept only as a salted, slow hash. */
export interface UserRecord {
  name: string;
  role: Role;
  /** `scrypt$N$r$p$salt$hash` (base64). */
  passwordHash: string;
  createdAt: number;
  /** Bumped on every password change: sessions and tokens from before are no longer valid. */
  passwordChangedAt: number;
}

/** A signed-in browser session. Only a hash of its secret is stored. */
export interface SessionRecord {
  /** SHA-256 of the cookie's secret, hex. */
  idHash: string;
  userName: string;
  /** The CSRF token state-changing requests must echo in `X-CSRF-Token`. */
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
}

/** An API token for automation. Only a hash of its secret is stored. */
export interface ApiTokenRecord {
  /** Public identifier, shown in listings (`ovt_…`). */
  id: string;
  /** SHA-256 of the secret, hex. */
  secretHash: string;
  userName: string;
  label: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}
