/**
 * The admin API for metadata, `/__emulator/metadata`: what tests and the demo use to change the
 * org's configuration the way an administrator would in Setup. Plain JSON like the rest of
 * `/__emulator/` (`{"error","message","field"?}` on failure); the admin token middleware that
 * `registerAdminRoutes` installs on `/__emulator/*` guards it.
 *
 * POST takes one op per request:
 * - `{"op":"addField","object","field":{CustomField}}` adds or replaces a custom field;
 * - `{"op":"deleteField","object","field"}` deletes a custom field (gone from describe and SOQL);
 * - `{"op":"setPicklistValues","object","field","values":[…],"restricted"?}`;
 * - `{"op":"upsertValidationRule","object","rule":{fullName,active,errorConditionFormula,errorMessage,errorDisplayField?,description?}}`
 *   (enforced on writes at once: see behaviours/validation-rules.ts);
 * - `{"op":"deleteValidationRule","object","name"}`;
 * - `{"op":"upsertApexClass","name","body","apiVersion"?,"status"?}`;
 * - `{"op":"upsertApexTrigger","name","object","body","apiVersion"?,"status"?}`.
 * It answers with the components whose version moved. GET lists every component with its version.
 */
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Org } from '../org/org.ts';
import type { FieldDef } from '../org/schema.ts';
import { API_VERSIONS } from '../server/context.ts';
import type { AppEnv, EmulatorContext } from '../server/context.ts';
import { fieldDefFromMetadata, MetadataInputError, picklistValuesFromInput } from './field-types.ts';
import { enableBehaviours } from '../behaviours/registry.ts';
import { SpecError } from '../behaviours/spec.ts';
import { compileRuleFormula } from '../behaviours/validation-rules.ts';
import { findValidationRule, metadataState, putValidationRule, removeValidationRule, validationRules } from './model.ts';
import type { ValidationRuleMetadata } from './model.ts';
import { IMPLEMENTED, isImplemented } from './types.ts';
import { metadataAdmin, syncVersions, versionKey } from './versions.ts';

type Body = Record<string, unknown>;

const OPS: Record<string, { fields: string[]; apply: (org: Org, body: Body) => void }> = {
  addField: { fields: ['object', 'field'], apply: addField },
  deleteField: { fields: ['object', 'field'], apply: deleteField },
  setPicklistValues: { fields: ['object', 'field', 'values', 'restricted'], apply: setPicklistValues },
  upsertValidationRule: { fields: ['object', 'rule'], apply: upsertValidationRule },
  deleteValidationRule: { fields: ['object', 'name'], apply: deleteValidationRule },
  upsertApexClass: { fields: ['name', 'body', 'apiVersion', 'status'], apply: (org, body) => upsertApex(org, body, 'class') },
  upsertApexTrigger: { fields: ['name', 'object', 'body', 'apiVersion', 'status'], apply: (org, body) => upsertApex(org, body, 'trigger') },
};

/** Ops that change the org's schema (objects are rebuilt from the profile on start, so these are replayed). */
const SCHEMA_OPS = new Set(['addField', 'deleteField', 'setPicklistValues']);

/** Makes a recorded schema change again (loading a state file); throws MetadataInputError if it no longer applies. */
export function replaySchemaChange(org: Org, change: Record<string, unknown>): void {
  const op = typeof change.op === 'string' && SCHEMA_OPS.has(change.op) ? OPS[change.op] : undefined;
  if (!op) throw new MetadataInputError('op', `"${String(change.op)}" is not a schema change.`);
  op.apply(org, change);
  metadataState(org).schemaChanges.push(structuredClone(change));
}

/** Registers `GET` and `POST /__emulator/metadata`. Mount it after `registerAdminRoutes`. */
export function registerMetadataAdminRoutes(app: Hono<AppEnv>, ctx: EmulatorContext): void {
  const org = ctx.org;
  app.get('/__emulator/metadata', (c) => {
    const type = c.req.query('type');
    if (type !== undefined && !isImplemented(type)) return failure(c, new MetadataInputError('type', `"type" must be one of ${IMPLEMENTED.join(', ')}.`));
    const components = syncVersions(org, type ? [type] : IMPLEMENTED).map(({ component, version }) => ({
      type: component.type,
      fullName: component.fullName,
      id: component.id,
      fileName: component.fileName,
      version: version.version,
      createdDate: new Date(version.createdMs).toISOString(),
      lastModifiedDate: new Date(version.lastModifiedMs).toISOString(),
      lastModifiedById: version.lastModifiedById,
    }));
    return c.json({ components });
  });

  app.post('/__emulator/metadata', async (c) => {
    let body: Body;
    try {
      body = JSON.parse((await c.req.text()) || '{}') as Body;
    } catch {
      return c.json({ error: 'INVALID_JSON', message: 'The request body is not valid JSON.' }, 400);
    }
    try {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MetadataInputError('op', 'The request body must be a JSON object with an "op".');
      const op = typeof body.op === 'string' ? OPS[body.op] : undefined;
      if (!op) throw new MetadataInputError('op', `"op" must be one of ${Object.keys(OPS).join(', ')}.`);
      for (const key of Object.keys(body)) {
        if (key !== 'op' && !op.fields.includes(key)) throw new MetadataInputError(key, `Unknown field "${key}"; ${String(body.op)} takes ${op.fields.map((f) => `"${f}"`).join(', ')}.`);
      }
      // Changes made elsewhere are dated now, before this op's own changes are measured.
      const before = new Map(syncVersions(org).map(({ component, version }) => [versionKey(component.type, component.fullName), version.version]));
      op.apply(org, body);
      // Schema changes are kept as they were asked for, so a restarted org can make them again.
      if (SCHEMA_OPS.has(String(body.op))) metadataState(org).schemaChanges.push(structuredClone(body));
      const changed = syncVersions(org, IMPLEMENTED, metadataAdmin(org))
        .filter(({ component, version }) => before.get(versionKey(component.type, component.fullName)) !== version.version)
        .map(({ component, version }) => ({ type: component.type, fullName: component.fullName, id: component.id, version: version.version, lastModifiedDate: new Date(version.lastModifiedMs).toISOString() }));
      return c.json({ op: body.op, changed });
    } catch (error) {
      if (error instanceof MetadataInputError) return failure(c, error);
      throw error;
    }
  });
}

function failure(c: Context<AppEnv>, error: MetadataInputError, status: ContentfulStatusCode = 400): Response {
  return c.json({ error: 'INVALID_FIELD', message: error.message, field: error.path }, status);
}

function requireObject(org: Org, body: Body) {
  if (typeof body.object !== 'string' || !body.object) throw new MetadataInputError('object', '"object" (an object API name) is required.');
  const object = org.schema.object(body.object);
  if (!object) throw new MetadataInputError('object', `No object "${body.object}" in this org.`);
  return object;
}

function requireRecord(value: unknown, path: string): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MetadataInputError(path, `"${path}" must be an object.`);
  return value as Body;
}

function replaceField(org: Org, objectName: string, field: FieldDef): void {
  const object = org.schema.object(objectName)!;
  const at = object.def.fields.findIndex((f) => f.name.toLowerCase() === field.name.toLowerCase());
  const fields = at >= 0 ? object.def.fields.map((f, i) => (i === at ? field : f)) : [...object.def.fields, field];
  org.defineObject({ ...object.def, fields });
}

function addField(org: Org, body: Body): void {
  const object = requireObject(org, body);
  const input = requireRecord(body.field, 'field');
  const existing = typeof input.fullName === 'string' ? object.field(input.fullName) : undefined;
  if (existing && !existing.custom && !existing.name.endsWith('__c')) throw new MetadataInputError('field.fullName', `${existing.name} is a standard field.`);
  const def = fieldDefFromMetadata(org.schema, object, input);
  replaceField(org, object.name, def);
  if (def.rollup) org.recomputeAllRollups();
}

/**
 * Deletes a custom field as Setup does: it leaves describe, SOQL and every write at once. Salesforce
 * refuses to delete a standard field, or one a formula, roll-up or validation rule still uses.
 */
function deleteField(org: Org, body: Body): void {
  const object = requireObject(org, body);
  if (typeof body.field !== 'string' || !body.field) throw new MetadataInputError('field', '"field" (a custom field API name) is required.');
  const field = object.field(body.field);
  if (!field) throw new MetadataInputError('field', `No field "${body.field}" on ${object.name}.`);
  if (!field.custom && !field.name.endsWith('__c')) throw new MetadataInputError('field', `${object.name}.${field.name} is a standard field; only custom fields can be deleted.`);
  const uses = (text: string | undefined): boolean => text !== undefined && new RegExp(`\\b${field.name}\\b`, 'i').test(text);
  const formula = object.def.fields.find((f) => f.name !== field.name && uses(f.formulaText));
  if (formula) throw new MetadataInputError('field', `${object.name}.${field.name} is used by the formula of ${formula.name}; change that field first.`);
  for (const master of org.schema.objects()) {
    const rollup = master.def.fields.find((f) => f.rollup?.childObject === object.name && f.rollup.summarizedField?.toLowerCase() === field.name.toLowerCase());
    if (rollup) throw new MetadataInputError('field', `${object.name}.${field.name} is summarized by the roll-up ${master.name}.${rollup.name}; change that field first.`);
  }
  const rule = validationRules(org).find((r) => r.object === object.name && uses(r.errorConditionFormula));
  if (rule) throw new MetadataInputError('field', `${object.name}.${field.name} is used by the validation rule ${rule.fullName}; change or delete the rule first.`);
  org.defineObject({ ...object.def, fields: object.def.fields.filter((f) => f.name !== field.name) });
}

function setPicklistValues(org: Org, body: Body): void {
  const object = requireObject(org, body);
  if (typeof body.field !== 'string') throw new MetadataInputError('field', '"field" (a picklist field API name) is required.');
  const field = object.field(body.field);
  if (!field) throw new MetadataInputError('field', `No field "${body.field}" on ${object.name}.`);
  if (field.type !== 'picklist' && field.type !== 'multipicklist') throw new MetadataInputError('field', `${object.name}.${field.name} is not a picklist.`);
  if (body.restricted !== undefined && typeof body.restricted !== 'boolean') throw new MetadataInputError('restricted', '"restricted" must be true or false.');
  const values = picklistValuesFromInput(body.values, 'values');
  const next: FieldDef = { ...field, picklistValues: values };
  if (typeof body.restricted === 'boolean') next.restrictedPicklist = body.restricted;
  if (field.type === 'picklist') {
    const initial = values.find((v) => v.defaultValue && v.active);
    if (initial) Object.assign(next, { defaultValue: initial.value, defaultedOnCreate: true });
    else {
      delete next.defaultValue;
      next.defaultedOnCreate = false;
    }
  }
  replaceField(org, object.name, next);
}

const NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$/;

function upsertValidationRule(org: Org, body: Body): void {
  const object = requireObject(org, body);
  const rule = requireRecord(body.rule, 'rule');
  const text = (key: string, required: boolean, max: number): string | undefined => {
    const v = rule[key];
    if (v === undefined || v === null) {
      if (required) throw new MetadataInputError(`rule.${key}`, `"${key}" is required.`);
      return undefined;
    }
    if (typeof v !== 'string' || !v.trim() || v.length > max) throw new MetadataInputError(`rule.${key}`, `"${key}" must be a non-empty string of at most ${max} characters.`);
    return v;
  };
  const fullName = text('fullName', true, 40)!;
  if (!NAME.test(fullName)) throw new MetadataInputError('rule.fullName', `"${fullName}" is not a valid rule name: letters, digits and single underscores, starting with a letter.`);
  if (rule.active !== undefined && typeof rule.active !== 'boolean') throw new MetadataInputError('rule.active', '"active" must be true or false.');
  for (const key of Object.keys(rule)) {
    if (!['fullName', 'active', 'description', 'errorConditionFormula', 'errorMessage', 'errorDisplayField'].includes(key)) throw new MetadataInputError(`rule.${key}`, `Unknown rule property "${key}".`);
  }
  const displayField = text('errorDisplayField', false, 255);
  const shown = displayField === undefined ? undefined : object.field(displayField);
  if (displayField !== undefined && !shown) throw new MetadataInputError('rule.errorDisplayField', `No field "${displayField}" on ${object.name}.`);
  const previous = findValidationRule(org, object.name, fullName);
  const next: ValidationRuleMetadata = {
    object: object.name,
    fullName,
    active: (rule.active as boolean | undefined) ?? previous?.active ?? true,
    errorConditionFormula: text('errorConditionFormula', true, 3900)!,
    errorMessage: text('errorMessage', true, 255)!,
  };
  const description = text('description', false, 255);
  if (description !== undefined) next.description = description;
  if (shown) next.errorDisplayField = shown.name;
  try {
    compileRuleFormula(org, object, next.errorConditionFormula);
  } catch (error) {
    if (error instanceof SpecError) throw new MetadataInputError('rule.errorConditionFormula', error.message);
    throw error;
  }
  putValidationRule(org, next);
  enableBehaviours(org);
}

function deleteValidationRule(org: Org, body: Body): void {
  const object = requireObject(org, body);
  if (typeof body.name !== 'string' || !body.name) throw new MetadataInputError('name', '"name" (the rule name, without the object) is required.');
  if (!removeValidationRule(org, object.name, body.name)) throw new MetadataInputError('name', `No validation rule "${body.name}" on ${object.name}.`);
}

function upsertApex(org: Org, body: Body, kind: 'class' | 'trigger'): void {
  const name = body.name;
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 40) throw new MetadataInputError('name', '"name" must be an Apex identifier of at most 40 characters.');
  if (typeof body.body !== 'string' || !body.body.trim()) throw new MetadataInputError('body', '"body" (the Apex source) is required.');
  if (body.body.length > 1_000_000) throw new MetadataInputError('body', 'Apex source is limited to 1,000,000 characters.');
  const apiVersion = body.apiVersion === undefined ? undefined : String(body.apiVersion);
  if (apiVersion !== undefined && !API_VERSIONS.includes(apiVersion.includes('.') ? apiVersion : `${apiVersion}.0`)) {
    throw new MetadataInputError('apiVersion', `"apiVersion" must be one of ${API_VERSIONS[0]} to ${API_VERSIONS[API_VERSIONS.length - 1]}.`);
  }
  const status = body.status ?? 'Active';
  if (status !== 'Active' && status !== 'Inactive') throw new MetadataInputError('status', '"status" is "Active" or "Inactive".');
  const state = metadataState(org);
  const source = { name, body: body.body, status: status as 'Active' | 'Inactive' };
  if (kind === 'class') {
    const previous = state.apexClasses.get(name.toLowerCase());
    state.apexClasses.set(name.toLowerCase(), { ...source, apiVersion: normalize(apiVersion) ?? previous?.apiVersion ?? '59.0' });
    return;
  }
  const object = requireObject(org, body);
  const previous = state.apexTriggers.get(name.toLowerCase());
  state.apexTriggers.set(name.toLowerCase(), { ...source, object: object.name, apiVersion: normalize(apiVersion) ?? previous?.apiVersion ?? '59.0' });
}

function normalize(version: string | undefined): string | undefined {
  return version === undefined ? undefined : version.includes('.') ? version : `${version}.0`;
}
