import { SalesforceError } from '../org/errors.ts';

/**
 * What Bulk API 2.0 query jobs refuse, and how. Salesforce rejects these when the job is created
 * (HTTP 400, `[{"errorCode","message"}]`). The child-subquery and compound-field answers are
 * Salesforce's own wording (Bulk 1.0 reports the same conditions as FeatureNotEnabled, which 2.0
 * spells FEATURENOTENABLED). For aggregates, OFFSET and FIELDS() the exact 2.0 wording is not
 * known here, so they answer INVALIDJOB with a message naming the feature.
 */
export const BULK_UNSUPPORTED = {
  relationshipSubquery: {
    errorCode: 'FEATURENOTENABLED',
    message: 'Aggregate Relationships not supported in Bulk V2 Query with CSV content type',
  },
  compoundField: {
    errorCode: 'FEATURENOTENABLED',
    message: 'Selecting compound data not supported in Bulk Query',
  },
  aggregate: {
    errorCode: 'INVALIDJOB',
    message: 'Aggregate functions (COUNT, SUM, AVG, MIN, MAX, COUNT_DISTINCT) and GROUP BY are not supported in Bulk API 2.0 queries',
  },
  offset: {
    errorCode: 'INVALIDJOB',
    message: 'OFFSET is not supported in Bulk API 2.0 queries',
  },
  fieldsFunction: {
    errorCode: 'INVALIDJOB',
    message: 'The SOQL FIELDS function is not supported in Bulk API 2.0 queries',
  },
} as const;

export function bulkError(rule: keyof typeof BULK_UNSUPPORTED): SalesforceError {
  const { errorCode, message } = BULK_UNSUPPORTED[rule];
  return new SalesforceError(errorCode, message);
}
