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
 * - `{"op":"upsertApexTrigger","name","object","body","apiVersion"?,"status"?}`;
 * - `{"op":"upsertFolder","type":"Report"|"Dashboard"|"Document"|"EmailTemplate","name","label"?,"accessType"?}`
 *   and `{"op":"deleteFolder","type","name"}` (refused while the folder holds anything, as Setup does);
 * - `{"op":"upsertReport","folder","name","label"?,"description"?,"reportType"?,"format"?,"columns"?}`;
 * - `{"op":"upsertDashboard","folder","name","title"?,"description"?,"reports"?}` (reports as `Folder/Name`);
 * - `{"op":"upsertDocument","folder","name","label"?,"description"?,"public"?,"text"|"base64"}` (name with its extension);
 * - `{"op":"upsertEmailTemplate","folder","name","label"?,"subject"?,"body"?,"description"?,"available"?}`;
 * - `{"op":"deleteReport"|"deleteDashboard"|"deleteDocument"|"deleteEmailTemplate","folder","name"}`.
 *   Reports and email templates may be in `unfiled$public`; an upsert keeps what it does not name.
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
import { findValidationRule, folderedKey, folderKey, metadataState, putValidationRule, removeValidationRule, validationRules } from './model.ts';
import { dashboardXml, documentMetaXml, emailTemplateMetaXml, reportXml, UNFILED_PUBLIC } from './seed.ts';
import type { FolderedSource, FolderedType, FolderSource } from './seed.ts';
import { parseMetadataFile } from './xml.ts';
import type { XmlNode } from './xml.ts';
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
  upsertFolder: { fields: ['type', 'name', 'label', 'accessType'], apply: upsertFolder },
  deleteFolder: { fields: ['type', 'name'], apply: deleteFolder },
  upsertReport: { fields: ['folder', 'name', 'label', 'description', 'reportType', 'format', 'columns'], apply: upsertReport },
  upsertDashboard: { fields: ['folder', 'name', 'title', 'description', 'reports'], apply: upsertDashboard },
  upsertDocument: { fields: ['folder', 'name', 'label', 'description', 'public', 'text', 'base64'], apply: upsertDocument },
  upsertEmailTemplate: { fields: ['folder', 'name', 'label', 'subject', 'body', 'description', 'available'], apply: upsertEmailTemplate },
  deleteReport: { fields: ['folder', 'name'], apply: (org, body) => deleteFoldered(org, body, 'Report') },
  deleteDashboard: { fields: ['folder', 'name'], apply: (org, body) => deleteFoldered(org, body, 'Dashboard') },
  deleteDocument: { fields: ['folder', 'name'], apply: (org, body) => deleteFoldered(org, body, 'Document') },
  deleteEmailTemplate: { fields: ['folder', 'name'], apply: (org, body) => deleteFoldered(org, body, 'EmailTemplate') },
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

// ------------------------------------------------------------------------------ folders

const FOLDERED: readonly FolderedType[] = ['Report', 'Dashboard', 'Document', 'EmailTemplate'];
const ACCESS_TYPES = ['Public', 'Shared', 'Hidden', 'PublicInternal'];
/** A document's name: an API name with its file extension. */
const DOCUMENT_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*\.[A-Za-z0-9]{1,10}$/;

function optionalText(body: Body, key: string, max: number): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v.trim() || v.length > max) throw new MetadataInputError(key, `"${key}" must be a non-empty string of at most ${max} characters.`);
  return v;
}

function optionalBoolean(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v !== undefined && typeof v !== 'boolean') throw new MetadataInputError(key, `"${key}" must be true or false.`);
  return v;
}

function apiName(body: Body, key: string, pattern = NAME): string {
  const v = body[key];
  if (typeof v !== 'string' || !pattern.test(v) || v.length > 80) throw new MetadataInputError(key, `"${key}" must be an API name: letters, digits and single underscores, starting with a letter${pattern === DOCUMENT_NAME ? ', then the file extension (logo.png)' : ''}.`);
  return v;
}

function requireFolderedType(body: Body): FolderedType {
  const type = body.type;
  if (typeof type !== 'string' || !(FOLDERED as readonly string[]).includes(type)) throw new MetadataInputError('type', `"type" must be one of ${FOLDERED.join(', ')}.`);
  return type as FolderedType;
}

/** The folder a component goes in: an existing folder of its type, or unfiled$public for reports and email templates. */
function requireFolder(org: Org, body: Body, type: FolderedType): string {
  const folder = body.folder;
  if (typeof folder !== 'string' || !folder) throw new MetadataInputError('folder', '"folder" (a folder API name) is required.');
  if (folder.toLowerCase() === UNFILED_PUBLIC) {
    if (type === 'Report' || type === 'EmailTemplate') return UNFILED_PUBLIC;
    throw new MetadataInputError('folder', `${type === 'Dashboard' ? 'Dashboards' : 'Documents'} cannot be unfiled: name a ${type.toLowerCase()} folder.`);
  }
  const found = metadataState(org).folders.get(folderKey(type, folder));
  if (!found) throw new MetadataInputError('folder', `No ${type === 'EmailTemplate' ? 'email template' : type.toLowerCase()} folder "${folder}" in this org; create it with upsertFolder first.`);
  return found.name;
}

function upsertFolder(org: Org, body: Body): void {
  const contentType = requireFolderedType(body);
  const name = apiName(body, 'name');
  if (name.toLowerCase() === UNFILED_PUBLIC) throw new MetadataInputError('name', `${UNFILED_PUBLIC} is a system folder.`);
  const accessType = body.accessType ?? undefined;
  if (accessType !== undefined && (typeof accessType !== 'string' || !ACCESS_TYPES.includes(accessType))) throw new MetadataInputError('accessType', `"accessType" is one of ${ACCESS_TYPES.join(', ')}.`);
  const state = metadataState(org);
  const key = folderKey(contentType, name);
  const previous = state.folders.get(key);
  const next: FolderSource = {
    contentType,
    name: previous?.name ?? name,
    label: optionalText(body, 'label', 40) ?? previous?.label ?? name.replace(/_/g, ' '),
    accessType: (accessType as FolderSource['accessType'] | undefined) ?? previous?.accessType ?? 'Public',
  };
  if (next.accessType === 'Public') next.publicFolderAccess = previous?.publicFolderAccess ?? 'ReadWrite';
  state.folders.set(key, next);
}

function deleteFolder(org: Org, body: Body): void {
  const contentType = requireFolderedType(body);
  const name = apiName(body, 'name');
  const state = metadataState(org);
  const folder = state.folders.get(folderKey(contentType, name));
  if (!folder) throw new MetadataInputError('name', `No ${contentType} folder "${name}" in this org.`);
  const held = [...state.foldered.values()].filter((item) => item.type === contentType && item.folder.toLowerCase() === folder.name.toLowerCase());
  if (held.length > 0) throw new MetadataInputError('name', `The folder "${folder.name}" is not empty (${held.length} item(s)); delete or move what it holds first.`);
  state.folders.delete(folderKey(contentType, name));
}

/** The component being changed, if any: its previous file's elements by name. */
function previousOf(org: Org, type: FolderedType, folder: string, name: string): { item: FolderedSource | undefined; text: (tag: string) => string | undefined; all: (path: string[]) => string[] } {
  const item = metadataState(org).foldered.get(folderedKey(type, folder, name));
  const nodes: XmlNode[] = item ? parseMetadataFile(item.xml).body : [];
  const values = (list: XmlNode[], path: string[]): string[] => {
    const [head, ...rest] = path;
    const matching = list.filter((n) => n.name === head);
    if (rest.length === 0) return matching.map((n) => n.content).filter((c): c is string => typeof c === 'string');
    return matching.flatMap((n) => (Array.isArray(n.content) ? values(n.content, rest) : []));
  };
  return { item, text: (tag) => values(nodes, [tag])[0], all: (path) => values(nodes, path) };
}

function stringList(body: Body, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x.trim())) throw new MetadataInputError(key, `"${key}" must be a non-empty list of names.`);
  return v as string[];
}

function putFoldered(org: Org, item: FolderedSource): void {
  metadataState(org).foldered.set(folderedKey(item.type, item.folder, item.name), item);
}

function upsertReport(org: Org, body: Body): void {
  const folder = requireFolder(org, body, 'Report');
  const name = apiName(body, 'name');
  const previous = previousOf(org, 'Report', folder, name);
  const reportType = optionalText(body, 'reportType', 120) ?? previous.text('reportType');
  const columns = stringList(body, 'columns') ?? previous.all(['columns', 'field']);
  if (!reportType) throw new MetadataInputError('reportType', '"reportType" (such as Opportunity or AccountList) is required for a new report.');
  if (columns.length === 0) throw new MetadataInputError('columns', '"columns" (the report\'s fields) is required for a new report.');
  const description = optionalText(body, 'description', 255) ?? previous.text('description');
  putFoldered(org, {
    type: 'Report',
    folder,
    name: previous.item?.name ?? name,
    xml: reportXml({ label: optionalText(body, 'label', 40) ?? previous.text('name') ?? name.replace(/_/g, ' '), reportType, format: optionalText(body, 'format', 20) ?? previous.text('format') ?? 'Tabular', columns, ...(description ? { description } : {}) }),
  });
}

function upsertDashboard(org: Org, body: Body): void {
  const folder = requireFolder(org, body, 'Dashboard');
  const name = apiName(body, 'name');
  const previous = previousOf(org, 'Dashboard', folder, name);
  const reports = stringList(body, 'reports') ?? previous.all(['leftSection', 'components', 'report']);
  const state = metadataState(org);
  for (const report of reports) {
    const [f, n] = report.split('/');
    if (!f || !n || !state.foldered.has(folderedKey('Report', f, n))) throw new MetadataInputError('reports', `No report "${report}" in this org: name reports as Folder/Name.`);
  }
  const description = optionalText(body, 'description', 255) ?? previous.text('description');
  putFoldered(org, { type: 'Dashboard', folder, name: previous.item?.name ?? name, xml: dashboardXml({ title: optionalText(body, 'title', 80) ?? previous.text('title') ?? name.replace(/_/g, ' '), reports, ...(description ? { description } : {}) }) });
}

function upsertDocument(org: Org, body: Body): void {
  const folder = requireFolder(org, body, 'Document');
  const name = apiName(body, 'name', DOCUMENT_NAME);
  const previous = previousOf(org, 'Document', folder, name);
  if (body.text !== undefined && body.base64 !== undefined) throw new MetadataInputError('base64', 'Give the document as "text" or as "base64", not both.');
  let content = previous.item?.content;
  if (typeof body.text === 'string') content = Buffer.from(body.text, 'utf8').toString('base64');
  else if (body.text !== undefined) throw new MetadataInputError('text', '"text" must be a string.');
  if (body.base64 !== undefined) {
    if (typeof body.base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(body.base64)) throw new MetadataInputError('base64', '"base64" must be base64 text.');
    content = body.base64;
  }
  if (content === undefined) throw new MetadataInputError('text', 'A new document needs its content: "text" or "base64".');
  if (Buffer.from(content, 'base64').length > 5 * 1024 * 1024) throw new MetadataInputError('base64', 'Documents are limited to 5 MB.');
  const description = optionalText(body, 'description', 255) ?? previous.text('description');
  const isPublic = optionalBoolean(body, 'public') ?? (previous.text('public') === undefined ? false : previous.text('public') === 'true');
  putFoldered(org, { type: 'Document', folder, name: previous.item?.name ?? name, xml: documentMetaXml({ label: optionalText(body, 'label', 255) ?? previous.text('name') ?? name, public: isPublic, ...(description ? { description } : {}) }), content });
}

function upsertEmailTemplate(org: Org, body: Body): void {
  const folder = requireFolder(org, body, 'EmailTemplate');
  const name = apiName(body, 'name');
  const previous = previousOf(org, 'EmailTemplate', folder, name);
  const subject = optionalText(body, 'subject', 255) ?? previous.text('subject');
  if (!subject) throw new MetadataInputError('subject', '"subject" is required for a new email template.');
  if (body.body !== undefined && typeof body.body !== 'string') throw new MetadataInputError('body', '"body" must be the template\'s text.');
  const content = (body.body as string | undefined) ?? previous.item?.content;
  if (content === undefined) throw new MetadataInputError('body', '"body" is required for a new email template.');
  if (content.length > 384_000) throw new MetadataInputError('body', 'Email template bodies are limited to 384,000 characters.');
  const description = optionalText(body, 'description', 255) ?? previous.text('description');
  const available = optionalBoolean(body, 'available') ?? (previous.text('available') === undefined ? true : previous.text('available') === 'true');
  putFoldered(org, {
    type: 'EmailTemplate',
    folder,
    name: previous.item?.name ?? name,
    xml: emailTemplateMetaXml({ label: optionalText(body, 'label', 80) ?? previous.text('name') ?? name.replace(/_/g, ' '), subject, available, type: 'text', ...(description ? { description } : {}) }),
    content,
  });
}

function deleteFoldered(org: Org, body: Body, type: FolderedType): void {
  const folder = requireFolder(org, body, type);
  const name = apiName(body, 'name', type === 'Document' ? DOCUMENT_NAME : NAME);
  const state = metadataState(org);
  if (type === 'Report') {
    const fullName = `${folder}/${name}`.toLowerCase();
    const dashboard = [...state.foldered.values()].find((d) => d.type === 'Dashboard' && previousOf(org, 'Dashboard', d.folder, d.name).all(['leftSection', 'components', 'report']).some((r) => r.toLowerCase() === fullName));
    if (dashboard) throw new MetadataInputError('name', `The report ${folder}/${name} is used by the dashboard ${dashboard.folder}/${dashboard.name}; change the dashboard first.`);
  }
  if (!state.foldered.delete(folderedKey(type, folder, name))) throw new MetadataInputError('name', `No ${type} "${name}" in the folder ${folder}.`);
}
