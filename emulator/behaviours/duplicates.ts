/**
 * Duplicate rules: a record whose match fields equal those of an existing record is refused with
 * DUPLICATES_DETECTED. An "alert" rule lets the caller save anyway with
 * `Sforce-Duplicate-Rule-Header: allowSave=true`; a "block" rule never does. REST error bodies
 * carry the match in `duplicateResut` (Salesforce's own spelling).
 */
import { SalesforceError } from '../org/errors.ts';
import type { SalesforceErrorBody } from '../org/errors.ts';
import type { Org } from '../org/org.ts';
import type { StoredRecord } from '../org/schema.ts';
import { LATEST_API_VERSION } from '../server/context.ts';
import type { Rule } from './rules.ts';
import { SpecError, checkKeys, objectOf, oneOf, operationsOf, optionalBoolean, optionalString, optionalStringList, requiredString } from './spec.ts';
import type { Spec } from './spec.ts';

const DEFAULT_MESSAGE = "You're creating a duplicate record. We recommend you use an existing record instead.";

interface DuplicateResult {
  allowSave: boolean;
  duplicateRule: string;
  duplicateRuleEntityType: string;
  errorMessage: string;
  matchResults: unknown[];
}

/** DUPLICATES_DETECTED with the matched records, which REST prints before the code and message. */
class DuplicatesDetected extends SalesforceError {
  constructor(
    message: string,
    readonly duplicateResut: DuplicateResult,
  ) {
    super('DUPLICATES_DETECTED', message, { fields: [] });
  }

  override toJSON(): SalesforceErrorBody {
    return { duplicateResut: this.duplicateResut, errorCode: this.errorCode, message: this.message } as SalesforceErrorBody;
  }
}

const normalize = (value: unknown): string => String(value).trim().toLowerCase();
const blank = (value: unknown): boolean => value === null || value === undefined || String(value).trim() === '';

export function duplicateRule(org: Org, spec: Spec): Rule {
  checkKeys(spec, ['kind', 'name', 'object', 'matchFields', 'matchRule', 'action', 'operations', 'message', 'active']);
  const object = objectOf(org, spec);
  const name = requiredString(spec, 'name');
  const fields = (optionalStringList(spec, 'matchFields') ?? []).map((f) => {
    const field = object.field(f);
    if (!field) throw new SpecError('matchFields', `No field "${f}" on ${object.name}.`);
    return field.name;
  });
  if (!fields.length) throw new SpecError('matchFields', '"matchFields" must name at least one field.');
  const matchRule = optionalString(spec, 'matchRule') ?? `${object.name}_Match_Rule`;
  const action = oneOf(spec, 'action', ['alert', 'block'] as const, 'alert');
  const operations = operationsOf(spec, ['create', 'update']);
  const message = optionalString(spec, 'message') ?? DEFAULT_MESSAGE;
  const active = optionalBoolean(spec, 'active', true);

  const matches = (record: StoredRecord): StoredRecord[] => {
    if (fields.some((f) => blank(record[f]))) return [];
    const wanted = fields.map((f) => normalize(record[f]));
    const found: StoredRecord[] = [];
    for (const other of org.records(object.name)) {
      if (other.IsDeleted || other.Id === record.Id) continue;
      if (fields.every((f, i) => !blank(other[f]) && normalize(other[f]) === wanted[i])) found.push(other);
    }
    return found;
  };

  return {
    name,
    kind: 'duplicateRule',
    phase: 'duplicates',
    spec: { ...spec, object: object.name, matchFields: fields, matchRule, action, operations, message, active },
    check(ctx) {
      if (!active || ctx.object.name !== object.name || !operations.includes(ctx.operation)) return undefined;
      if (action === 'alert' && ctx.options.allowDuplicates) return undefined;
      const found = matches(ctx.record);
      if (!found.length) return undefined;
      const result: DuplicateResult = {
        allowSave: action === 'alert',
        duplicateRule: name,
        duplicateRuleEntityType: object.name,
        errorMessage: message,
        matchResults: [
          {
            entityType: object.name,
            errors: [],
            matchEngine: 'ExactMatchEngine',
            matchRecords: found.map((r) => ({
              additionalInformation: [],
              fieldDiffs: [],
              matchConfidence: 100.0,
              record: { attributes: { type: object.name, url: `/services/data/v${LATEST_API_VERSION}/sobjects/${object.name}/${r.Id}` }, Id: r.Id },
            })),
            rule: matchRule,
            size: found.length,
            success: true,
          },
        ],
      };
      return [new DuplicatesDetected(message, result)];
    },
  };
}
