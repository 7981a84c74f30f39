/**
 * What orgvault needs of the API user, and the shape of the permission check's report. Pure data:
 * the user permissions by their Metadata API names (`userPermissions.name`), each with what backup
 * and restore use it for and what goes unprotected without it, in the words of the admin guides
 * (AvePoint's permission report, Salesforce Backup's integration user).
 */
import type { ObjectStatus } from '../core/vault.ts';

export type PermissionNeed = 'required' | 'recommended';

export interface UserPermissionRequirement {
  /** The Metadata API name (`ViewAllData`); Salesforce's label is `label`. */
  name: string;
  label: string;
  neededFor: 'backup' | 'restore' | 'backup and restore' | 'permission check and metadata';
  need: PermissionNeed;
  /** What orgvault does with it. */
  purpose: string;
  /** What goes wrong without it. */
  affects: string;
}

export const USER_PERMISSION_REQUIREMENTS: readonly UserPermissionRequirement[] = [
  {
    name: 'ApiEnabled',
    label: 'API Enabled',
    neededFor: 'backup and restore',
    need: 'required',
    purpose: 'Every call orgvault makes goes through the Salesforce APIs.',
    affects: 'Nothing can be backed up or restored.',
  },
  {
    name: 'ViewAllData',
    label: 'View All Data',
    neededFor: 'backup',
    need: 'required',
    purpose: 'A backup reads every record of every object it can read, whatever the sharing settings.',
    affects: 'Only records shared with the API user are backed up; the others are silently left out.',
  },
  {
    name: 'QueryAllFiles',
    label: 'Query All Files',
    neededFor: 'backup',
    need: 'required',
    purpose: 'Files (ContentVersion, ContentDocument) not shared with the API user are queried and backed up too.',
    affects: 'Files not shared with the API user (private library files, files of records it cannot see) are not backed up.',
  },
  {
    name: 'ModifyAllData',
    label: 'Modify All Data',
    neededFor: 'backup and restore',
    need: 'required',
    purpose: 'A restore creates, updates, undeletes and deletes any record whatever its owner and sharing; the Metadata API (profiles, this check) needs it too.',
    affects: 'Restores fail with INSUFFICIENT_ACCESS on records the API user does not own; profiles and permission sets cannot be read.',
  },
  {
    name: 'ViewEncryptedData',
    label: 'View Encrypted Data',
    neededFor: 'backup',
    need: 'recommended',
    purpose: 'Fields encrypted with Shield Platform Encryption are captured in clear (then sealed in the vault) rather than masked.',
    affects: 'Encrypted fields are backed up as masks (****) and a restore cannot bring their values back.',
  },
  {
    name: 'CreateAuditFields',
    label: 'Set Audit Fields upon Record Creation',
    neededFor: 'restore',
    need: 'recommended',
    purpose: 'A restore that recreates deleted records keeps their CreatedDate, CreatedById, LastModifiedDate and LastModifiedById.',
    affects: 'Recreated records show the restore as their creation (date and user).',
  },
  {
    name: 'UpdateWithInactiveOwner',
    label: 'Update Records with Inactive Owners',
    neededFor: 'restore',
    need: 'recommended',
    purpose: 'A restore writes records owned by users who have since been deactivated, keeping their owner.',
    affects: 'Records owned by inactive users fail to restore (INACTIVE_OWNER_OR_USER) or must be given another owner.',
  },
  {
    name: 'ViewSetup',
    label: 'View Setup and Configuration',
    neededFor: 'permission check and metadata',
    need: 'recommended',
    purpose: 'The Metadata API shows the object and field permissions of profiles and permission sets.',
    affects: 'The permission check falls back to what describe shows; metadata backups miss profile permissions.',
  },
];

// ------------------------------------------------------------------------------ the report

/** Whether a permission is granted: `unknown` when no source the API user could read says. */
export type Grant = 'granted' | 'missing' | 'unknown';

export interface UserPermissionRow extends UserPermissionRequirement {
  status: Grant;
  /** Where the grant was found: the profile's fullName, permission set names, or `describe`. */
  grantedBy: string[];
  /** How the status was decided when it was not read from a profile or permission set. */
  note: string | null;
}

export interface ObjectPermissionRow {
  object: string;
  /** The API user can read the object (describe lists it): its records are backed up. */
  read: boolean;
  /**
   * Every record is read, not only those shared with the API user: View All Data, or the object's
   * View All. null when the check could not tell.
   */
  allRecords: boolean | null;
  grantedBy: string[];
  /** The object's status in the vault, if the vault knows it. */
  vaultStatus: ObjectStatus | null;
  /** Unreadable, or readable only in part, while the vault would back it up: flagged. */
  unprotected: boolean;
  note: string | null;
}

export interface FieldPermissionRow {
  object: string;
  field: string;
  /** False for fields of an object the API user cannot read at all (listed for the permission set). */
  objectReadable: boolean;
  /** The vault holds values of the field from before the API user lost it. */
  backedUpBefore: boolean;
  /** Where the check learned it: the profile's field permissions, or describe against the vault's schema. */
  source: 'profile' | 'describe';
}

export type SourceName = 'identity' | 'profile' | 'permission-sets' | 'describe' | 'vault';

export interface SourceNote {
  source: SourceName;
  status: 'read' | 'unavailable' | 'not-supported';
  detail: string;
}

export interface PermissionReport {
  orgId: string;
  orgName: string;
  checkedAt: number;
  user: { id: string; username: string; profileId: string | null; profileName: string | null; profileFullName: string | null; permissionSets: string[] };
  /** What the check could read, and why not where it could not. */
  sources: SourceNote[];
  userPermissions: UserPermissionRow[];
  /** Every object the check found, readable or not, by name. */
  objects: ObjectPermissionRow[];
  /** Fields the API user cannot read: of readable objects first (the gaps), then of unreadable ones. */
  fields: FieldPermissionRow[];
  summary: PermissionSummary;
}

export interface PermissionSummary {
  objectsReadable: number;
  objectsUnreadable: number;
  /** Unreadable or partly read objects the vault would back up. */
  objectsUnprotected: number;
  fieldsUnreadable: number;
  requiredMissing: string[];
  recommendedMissing: string[];
  unknown: string[];
  /** A required permission missing, or an object or field not protected. */
  gap: boolean;
}
