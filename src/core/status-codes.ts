/**
 * Status codes shown in job logs, with their cause and fix, in the words of Salesforce Backup's
 * log guide (the table our users know), plus the codes orgvault itself reports for objects it
 * could not back up. Logs look codes up here; an unknown code still shows, with a generic fix.
 */

export interface StatusCodeHelp {
  cause: string;
  fix: string;
}

const EXPORT_FIX = 'You can also export the backup as CSV and edit the values before importing your data.';

const CODES: Readonly<Record<string, StatusCodeHelp>> = {
  DUPLICATE_EXTERNAL_ID: { cause: 'A user-specified external ID matches more than one record.', fix: `Make the external ID values unique. ${EXPORT_FIX}` },
  ENTITY_IS_DELETED: {
    cause: 'The job references a record that has been deleted; a child cannot be restored while its parent is deleted.',
    fix: 'Restore the parent and the child records together, so the parent is recreated and the child points at it.',
  },
  ENTITY_IS_LOCKED: { cause: 'An approval process has locked the record, making it read-only.', fix: 'Ask an admin to disable the approval process temporarily, run the job again, then reinstate it.' },
  FIELD_CUSTOM_VALIDATION_EXCEPTION: { cause: 'A validation rule rejected a value of the record.', fix: `Update the validation rule to allow the value, or deactivate it during the restore. ${EXPORT_FIX}` },
  FIELD_FILTER_VALIDATION_EXCEPTION: { cause: 'A lookup filter rejected a field value of the record.', fix: `Update the lookup filter to allow the value. ${EXPORT_FIX}` },
  INACTIVE_OWNER_OR_USER: {
    cause: 'An inactive user owns the record, or is named in one of its user lookups.',
    fix: `Reactivate the user, or give the records to an active user (\`orgvault restore --inactive-owner USER_ID\`). ${EXPORT_FIX}`,
  },
  CANNOT_EXECUTE_FLOW_TRIGGER: { cause: 'A record-triggered flow on the object failed while the record was saved.', fix: 'Read the message for the flow and its error; fix or deactivate the flow during the restore, then run it again.' },
  INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: {
    cause: "A restricted picklist's values do not match the backup, or the backup holds an empty value.",
    fix: `Add the missing values to the picklist, then run the job again. ${EXPORT_FIX}`,
  },
  INVALID_SESSION_ID: {
    cause: 'The session is malformed or expired, or the connected app access was revoked.',
    fix: 'Reconnect the org (`orgvault org add NAME` again, or `orgvault org test NAME` to check), then run the job again.',
  },
  INVALID_TYPE_ON_FIELD_IN_RECORD: { cause: "A value is not valid for the field's type; the object's schema changed since the backup.", fix: EXPORT_FIX },
  INVALID_USERID: { cause: 'The job references a user who is not an active member of the org.', fix: EXPORT_FIX },
  INVALID_USER_OBJECT: { cause: 'The user object is not valid.', fix: EXPORT_FIX },
  REQUIRED_FIELD_MISSING: { cause: 'A required field has no value.', fix: `Recreate the missing field on the record, then run the job again. ${EXPORT_FIX}` },
  SELF_REFERENCE_FROM_TRIGGER: { cause: 'An Apex trigger recursively updates or deletes the object.', fix: `Fix the trigger. ${EXPORT_FIX}` },
  UNABLE_TO_LOCK_ROW: {
    cause: 'A deadlock or timeout: another transaction held the records (roll-up summaries lock their parents).',
    fix: 'Usually temporary: the next run retries. Pause workflows or automations that update the same records if it persists.',
  },
  UNAVAILABLE_RECORDTYPE_EXCEPTION: { cause: 'The default record type could not be found.', fix: `Recreate the record type. ${EXPORT_FIX}` },
  UNKNOWN_EXCEPTION: { cause: 'Salesforce hit an internal error.', fix: 'Run the job again; if it persists, contact Salesforce Support with the org ID and the run ID.' },
  NOT_VISIBLE: {
    cause: 'The object is not visible to the API user when the backup ran, so it was not backed up.',
    fix: "Give the API user Read on the object (a permission set, or View All Data), with the object's licence and any special access rules, then run the backup again.",
  },
  UNSUPPORTED: { cause: 'The object cannot be backed up through the APIs orgvault uses.', fix: 'Nothing to do: the reason says why. Exclude the object to hide it.' },
  EXCLUDED: { cause: 'The object is excluded by a setting or a flag.', fix: 'Remove the exclusion (`--exclude`, the org settings, or the toggles) to back it up.' },
  REQUEST_LIMIT_EXCEEDED: {
    cause: "The org's daily API request limit is used up.",
    fix: 'The run stopped cleanly; the next run continues where it stopped. Lower other integrations\' usage or raise the limit.',
  },
  API_BUDGET_SPENT: {
    cause: "orgvault's share of the org's daily API requests is used up.",
    fix: 'The objects left are Behind; the next run continues where it stopped. Raise the share (`--api-budget`) if the org can afford it.',
  },
  INVALID_QUERY_LOCATOR: { cause: 'A query cursor expired or was evicted.', fix: 'None needed: orgvault restarts the query from its watermark. If it persists, lower the concurrency.' },
  QUERY_TIMEOUT: { cause: 'Salesforce timed out running the query.', fix: 'Usually temporary: the next run retries. Selective indexes on SystemModstamp make it rarer.' },
  INVALID_FIELD: { cause: 'A field in the query is not visible or no longer exists.', fix: 'Check field-level security for the API user; the next run re-reads the schema.' },
  INVALID_CROSS_REFERENCE_KEY: {
    cause: 'A lookup points at a record (a parent, an owner, a record type) that the org does not have, or that the API user cannot use.',
    fix: 'Restore the parent records too (`--parents N`), or map owners and record types (`--inactive-owner`, `--record-type`).',
  },
  INSUFFICIENT_ACCESS_OR_READONLY: { cause: 'The API user may not create or edit the record (object permissions, sharing, or a locked record).', fix: 'Give the API user Create and Edit on the object (a permission set), then run the restore again.' },
  INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY: { cause: 'The API user cannot see a record this one points at (sharing).', fix: 'Share the parent records with the API user, or give it View All on the parent object.' },
  STRING_TOO_LONG: { cause: "A text value is longer than the field holds now; the field was shortened since the backup.", fix: `Lengthen the field, or set another value with --set. ${EXPORT_FIX}` },
  UNDELETE_FAILED: { cause: 'The record could not be undeleted: it is not in the Recycle Bin any more, or the object cannot be undeleted.', fix: 'Run the restore again: a record no longer in the Recycle Bin is re-created under a new ID.' },
  CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY: { cause: 'An Apex trigger or flow on the object threw an error while the record was saved.', fix: 'Read the message for the trigger and its error; deactivate or fix it during the restore, then run it again.' },
  DUPLICATES_DETECTED: { cause: 'A duplicate rule blocked the record: a similar record exists.', fix: 'Restore with --allow-duplicates to save it anyway, or merge the duplicates first.' },
  DUPLICATE_VALUE: { cause: 'A unique field already holds this value in another record.', fix: `Change the other record's value, or set another with --set. ${EXPORT_FIX}` },
  NEWER_IN_ORG: {
    cause: 'The record was changed in the org after the version being restored; restoring would overwrite that newer work.',
    fix: 'Compare first (`orgvault compare --record ID`), then restore with --overwrite-newer if the backed-up version should win.',
  },
  UNCHANGED: { cause: 'The record in the org already has the backed-up values.', fix: 'Nothing to do.' },
  EXISTS: { cause: 'The record is in the org already: a parent brought in by --parents, or the link a re-created file made itself.', fix: 'Nothing to do: it is left as it is.' },
  FILE_NOT_IN_VAULT: { cause: 'The backup holds the file record but not its body.', fix: 'Turn on file backup (and raise the size limit), back up again, then restore.' },
  INVALID_TYPE: { cause: 'The object is not in the org written to, or the API user cannot see it.', fix: "Create the object (deploy its metadata) or give the API user access, then run the restore again." },
  FILE_DOWNLOAD_FAILED: { cause: 'A file body could not be downloaded.', fix: 'The next run tries again. Check that the API user can see the file (Query All Files).' },
  // Export: a file body the vault could not give.
  FILE_UNREADABLE: { cause: 'A file body the vault refers to is missing from the blob store or damaged, so the export left it out.', fix: 'Run `orgvault verify --read-data` to find every damaged body, back the object up again, then export again.' },
  // Archive: why a record was not deleted from Salesforce.
  NOT_BACKED_UP: { cause: 'The vault holds no version of the record, so deleting it from Salesforce would lose it.', fix: 'Back up the object (`orgvault backup --object NAME`), then archive again.' },
  CHANGED_SINCE_BACKUP: { cause: "The record changed in the org after the last backup: the vault's latest version is not the record as it is now.", fix: 'Run a backup first, then archive again.' },
  HAS_CHILDREN: { cause: 'The record has children that Salesforce deletes with it (master-detail, cascades).', fix: 'Archive with --children to take them along (each is checked in the vault too).' },
  DELETE_BLOCKED: {
    cause: "Records point at it through a restricted lookup: Salesforce refuses its delete, or deletes them with it, depending on the API user's rights.",
    fix: 'Name their object to archive them with it (--children Case), or archive them first.',
  },
  CHILDREN_UNREADABLE: { cause: "The record's children could not be read, so they could not be checked in the vault.", fix: 'Give the API user Read on the child object and its lookup field, then archive again.' },
  HIERARCHY_REFUSED: { cause: 'Another record of the same hierarchy (its parent or a child) is not safely in the vault; a hierarchy is archived whole or not at all.', fix: 'Back up, then archive again.' },
  ARCHIVE_HELD: { cause: 'Some selected records were refused, and an archive deletes nothing while any is, unless told to.', fix: 'Back up and archive again, or archive with --skip-unsafe to delete the safe ones.' },
  CHILD_NOT_DELETED: { cause: 'A child of the record could not be deleted, so the record stays in the org with it.', fix: "Fix the child's failure (its row says why), then archive again." },
  PARENT_NOT_DELETED: { cause: 'The record goes with its parent (a cascade), whose delete failed.', fix: "Fix the parent's failure (its row says why), then archive again." },
  DELETE_FAILED: { cause: 'Salesforce refused the delete: other records still refer to this one (a restricted lookup), or the object cannot be deleted.', fix: 'Archive the records that refer to it too (--children), or remove the references, then archive again.' },
};

/** The cause and the fix for a status code; a generic answer for codes not in the table. */
export function statusCodeHelp(code: string): StatusCodeHelp {
  return (
    CODES[code] ?? {
      cause: `Salesforce answered ${code}.`,
      fix: 'Run the job again; if it persists, look the code up in the Salesforce API errors reference or contact Salesforce Support.',
    }
  );
}
