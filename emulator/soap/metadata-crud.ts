/**
 * The Metadata API's CRUD calls (createMetadata, updateMetadata, upsertMetadata, deleteMetadata)
 * for validation rules: what jsforce's `conn.metadata.create/update/upsert/delete` send. A rule
 * saved here joins the org's one set of validation rules (emulator/metadata), so every write path
 * enforces it at once. Other types are refused per component, in the call's result, as Salesforce
 * reports component failures.
 */
import { enableBehaviours } from '../behaviours/registry.ts';
import { SpecError } from '../behaviours/spec.ts';
import { compileRuleFormula } from '../behaviours/validation-rules.ts';
import { findValidationRule, putValidationRule, removeValidationRule } from '../metadata/model.ts';
import type { ValidationRuleMetadata } from '../metadata/model.ts';
import { knownType, MetadataApiError } from '../metadata/types.ts';
import { syncVersions } from '../metadata/versions.ts';
import { node, record } from '../metadata/xml.ts';
import type { XmlNode } from '../metadata/xml.ts';
import type { Org } from '../org/org.ts';
import { listOf, recordOf, textOf, XSI_TYPE } from './envelope.ts';
import type { SoapValue } from './envelope.ts';
import type { MetadataCall } from './metadata.ts';

/** Salesforce takes at most ten components per CRUD call. */
const MAX_COMPONENTS = 10;
const NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$/;

type Mode = 'create' | 'update' | 'upsert';

/** A component the call could not save: one `errors` element of its result. */
class ComponentError extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }
}

function tooMany(count: number): void {
  if (count > MAX_COMPONENTS) throw new MetadataApiError('EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${MAX_COMPONENTS} records in a single call`);
}

/** createMetadata, updateMetadata and upsertMetadata. */
export function saveMetadata(call: MetadataCall, mode: Mode): XmlNode[] {
  const items = listOf(call.request.args.metadata).map((m) => recordOf(m));
  tooMany(items.length);
  // Changes made elsewhere are dated now, so that only this call's are dated to its user.
  syncVersions(call.org);
  const results = items.map((item) => {
    const type = textOf(item[XSI_TYPE]) ?? '';
    const fullName = textOf(item.fullName) ?? '';
    try {
      if (type !== 'ValidationRule') throw unsupported(type);
      const created = saveRule(call.org, item, mode);
      return saveResult(fullName, mode === 'upsert' ? { created } : {});
    } catch (error) {
      if (!(error instanceof ComponentError)) throw error;
      return saveResult(fullName, mode === 'upsert' ? { created: false } : {}, error);
    }
  });
  settle(call);
  return results;
}

/** deleteMetadata: `type` and up to ten `fullNames`. */
export function deleteMetadata(call: MetadataCall): XmlNode[] {
  const type = textOf(call.request.args.type) ?? '';
  const names = listOf(call.request.args.fullNames).map((n) => textOf(n) ?? '');
  tooMany(names.length);
  syncVersions(call.org);
  const results = names.map((fullName) => {
    try {
      if (type !== 'ValidationRule') throw unsupported(type);
      const { object, name } = splitName(call.org, fullName);
      if (!removeValidationRule(call.org, object, name)) throw notFound(fullName);
      return saveResult(fullName, {});
    } catch (error) {
      if (!(error instanceof ComponentError)) throw error;
      return saveResult(fullName, {}, error);
    }
  });
  settle(call);
  return results;
}

/** Dates the changes to the calling user and makes sure the rules are enforced. */
function settle(call: MetadataCall): void {
  enableBehaviours(call.org);
  syncVersions(call.org, undefined, call.session.userId);
}

function unsupported(type: string): Error {
  if (!knownType(type)) return new MetadataApiError('INVALID_TYPE', `Unknown type:${type}`);
  return new ComponentError('UNKNOWN_EXCEPTION', `The orgvault emulator saves ValidationRule components through the CRUD calls, not ${type}.`);
}

function notFound(fullName: string): ComponentError {
  return new ComponentError('INVALID_CROSS_REFERENCE_KEY', `In field: fullName - no ValidationRule named ${fullName} found`, ['fullName']);
}

/** `Account.Rule_Name`: the object (canonical spelling) and the rule's own name. */
function splitName(org: Org, fullName: string): { object: string; name: string } {
  const dot = fullName.indexOf('.');
  const object = dot > 0 ? org.schema.object(fullName.slice(0, dot)) : undefined;
  if (!object) throw new ComponentError('INVALID_CROSS_REFERENCE_KEY', `In field: fullName - no CustomObject named ${dot > 0 ? fullName.slice(0, dot) : fullName} found`, ['fullName']);
  const name = fullName.slice(dot + 1);
  if (!NAME.test(name) || name.length > 40) {
    throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', `The Validation Rule Name "${name}" can only contain underscores and alphanumeric characters, must begin with a letter, not end with an underscore, and not contain two consecutive underscores.`, ['fullName']);
  }
  return { object: object.name, name };
}

/** Stores a rule; returns whether it was created (upsert's `created`). */
function saveRule(org: Org, item: Record<string, SoapValue | SoapValue[]>, mode: Mode): boolean {
  const fullName = textOf(item.fullName) ?? '';
  const { object, name } = splitName(org, fullName);
  const existing = findValidationRule(org, object, name);
  if (mode === 'create' && existing) throw new ComponentError('DUPLICATE_DEVELOPER_NAME', `There is already a Validation Rule named ${name} on ${object}.`, ['fullName']);
  if (mode === 'update' && !existing) throw notFound(fullName);
  const text = (key: string, max: number): string | undefined => {
    const value = textOf(item[key]);
    if (value !== undefined && value.length > max) throw new ComponentError('STRING_TOO_LONG', `${key}: data value too large (max length=${max})`, [key]);
    return value === '' ? undefined : value;
  };
  const required = (key: string, max: number): string => {
    const value = text(key, max);
    if (value === undefined) throw new ComponentError('REQUIRED_FIELD_MISSING', `Required field is missing: ${key}`, [key]);
    return value;
  };
  const schema = org.schema.object(object)!;
  const rule: ValidationRuleMetadata = {
    object,
    // The existing rule's spelling of the name stays, as a case-insensitive match is the same rule.
    fullName: existing?.fullName ?? name,
    // An update replaces the whole component: what it leaves out takes its default.
    active: textOf(item.active) === 'true',
    errorConditionFormula: required('errorConditionFormula', 3900),
    errorMessage: required('errorMessage', 255),
  };
  const description = text('description', 255);
  if (description !== undefined) rule.description = description;
  const display = text('errorDisplayField', 255);
  if (display !== undefined) {
    const field = schema.field(display);
    if (!field) throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', `Error Location: Field ${display} does not exist on ${object}`, ['errorDisplayField']);
    rule.errorDisplayField = field.name;
  }
  try {
    compileRuleFormula(org, schema, rule.errorConditionFormula);
  } catch (error) {
    if (error instanceof SpecError) throw new ComponentError('FIELD_INTEGRITY_EXCEPTION', `Error Condition Formula: ${error.message}`, ['errorConditionFormula']);
    throw error;
  }
  putValidationRule(org, rule);
  return !existing;
}

function saveResult(fullName: string, extra: { created?: boolean }, error?: ComponentError): XmlNode {
  const errors = error ? { fields: error.fields.length ? error.fields : undefined, message: error.message, statusCode: error.statusCode } : undefined;
  return node('result', record({ ...extra, errors, fullName, success: !error }, []));
}
