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
  INACTIVE_OWNER_OR_USER: { cause: 'An inactive user owns one or more records in the job.', fix: `Reactivate the user or reassign the records to an active user. ${EXPORT_FIX}` },
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
  FILE_DOWNLOAD_FAILED: { cause: 'A file body could not be downloaded.', fix: 'The next run tries again. Check that the API user can see the file (Query All Files).' },
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
