/**
 * The sObject describe and describeGlobal payloads, derived from the schema. Shapes follow real
 * orgs at API v59: the 45 top-level describe keys, the 57 keys of every field, the 28 keys of a
 * describeGlobal entry, all in the alphabetical order Salesforce prints them.
 *
 * A definition can carry `describeHints` for the few describe properties that are facts about a
 * standard field rather than consequences of its type (a person-name part is not permissionable,
 * `PhotoUrl` is an `imageurl`); everything else is derived.
 */
import { notFound } from './errors.ts';
import type { FieldDef, FieldType, ObjectDef, RecordTypeDef, Schema } from './schema.ts';

export interface FieldDescribeHints {
  /** Overrides the derived value (false for system-computed fields that are not formulas). */
  calculated?: boolean;
  extraTypeInfo?: string | null;
  permissionable?: boolean;
  searchPrefilterable?: boolean;
  namePointing?: boolean;
  byteLength?: number;
  aggregatable?: boolean;
  formulaTreatNullNumberAsZero?: boolean;
  /** Encrypted fields: `all`, `lastFour`, `creditCard`, `ssn`, `sin` or `nino`. */
  maskType?: string;
  writeRequiresMasterRead?: boolean;
  /** The parent's childRelationships entry, where describe differs from what a delete does. */
  childCascadeDelete?: boolean;
  childRestrictedDelete?: boolean;
  /** Leave this reference out of the parent's childRelationships (MasterRecordId). */
  hideChildRelationship?: boolean;
  /** The name describe shows for a child relationship the field itself gives no name to. */
  childRelationshipName?: string;
}

export interface ObjectDescribeHints {
  /** Pairs of [name, label]; by default derived from the object's owner field. */
  supportedScopes?: ReadonlyArray<readonly [string, string]>;
  deepCloneable?: boolean;
  mruEnabled?: boolean;
  compactLayoutable?: boolean;
  searchLayoutable?: boolean;
  /** Which URL entries the object has, where the default (layoutable and searchable) is wrong. */
  approvalLayouts?: boolean;
  listviews?: boolean;
  quickActions?: boolean;
  /** Further URL entries, as paths below `/services/data/vXX.X/sobjects/<name>`. */
  extraUrls?: Record<string, string>;
}

export interface DescribeOptions {
  /** The org's instance URL for the `ui*` templates; relative templates when absent. */
  instanceUrl?: string;
  /**
   * The record types the API user's profile is assigned (developer names) and its default, when
   * the profile narrows them (the `recordTypes` behaviour); every active one otherwise.
   */
  recordTypeAccess?: { available?: readonly string[]; default: string | null };
}

type HintedField = FieldDef & { describeHints?: FieldDescribeHints };
type HintedObject = ObjectDef & { describeHints?: ObjectDescribeHints };

const MASTER_RECORD_TYPE_ID = '012000000000000AAA';

const SOAP_TYPES: Record<FieldType, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  multipicklist: 'xsd:string',
  combobox: 'xsd:string',
  encryptedstring: 'xsd:string',
  boolean: 'xsd:boolean',
  int: 'xsd:int',
  long: 'xsd:long',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
  time: 'xsd:time',
  base64: 'xsd:base64Binary',
  address: 'urn:address',
  location: 'urn:location',
  anyType: 'xsd:anyType',
};

const TEXT_TYPES = new Set<FieldType>([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'combobox',
  'encryptedstring',
]);
const DECIMAL_TYPES = new Set<FieldType>(['double', 'currency', 'percent']);
const UNSORTABLE = new Set<FieldType>(['multipicklist', 'address', 'location', 'base64', 'encryptedstring']);
const UNGROUPABLE = new Set<FieldType>([
  'double',
  'currency',
  'percent',
  'datetime',
  'time',
  'multipicklist',
  'combobox',
  'address',
  'location',
  'base64',
  'encryptedstring',
  'anyType',
]);
const UNAGGREGATABLE = new Set<FieldType>(['boolean', 'multipicklist', 'address', 'location', 'base64', 'encryptedstring']);
const NOT_PREFILTERABLE = new Set(['MasterRecordId', 'RecordTypeId']);
const NEVER_PERMISSIONABLE = new Set(['IsDeleted', 'SystemModstamp', 'OwnerId', 'RecordTypeId', 'MasterRecordId']);

/** `59.0`, `v59.0` and `59` all name API version v59.0. */
function versionSegment(apiVersion: string): string {
  const bare = apiVersion.replace(/^v/i, '');
  return `v${bare.includes('.') ? bare : `${bare}.0`}`;
}

function describeField(field: HintedField): Record<string, unknown> {
  const h = field.describeHints ?? {};
  const t = field.type;
  const idLike = t === 'id' || t === 'reference';
  const longText = t === 'textarea' && (field.length ?? 0) > 255;
  const calculated = h.calculated ?? Boolean(field.formula || field.rollup);
  const isFormula = calculated && Boolean(field.formula);
  const length = idLike ? 18 : TEXT_TYPES.has(t) || t === 'base64' ? (field.length ?? 0) : 0;
  // Salesforce reserves three bytes a character, except for multi-select picklists.
  const byteLength = h.byteLength ?? (idLike ? 18 : t === 'multipicklist' ? length : TEXT_TYPES.has(t) ? length * 3 : 0);

  const picklistDefault = field.picklistValues?.find((p) => p.defaultValue)?.value;
  let defaultValue: unknown = null;
  let defaultValueFormula: string | null = null;
  if (t === 'boolean') {
    defaultValue = typeof field.defaultValue === 'boolean' ? field.defaultValue : false;
  } else if (picklistDefault !== undefined) {
    defaultValue = picklistDefault;
  } else if (field.defaultValue !== undefined && field.defaultValue !== null) {
    defaultValueFormula = typeof field.defaultValue === 'string' ? JSON.stringify(field.defaultValue) : String(field.defaultValue);
  }
  const defaultedOnCreate =
    field.defaultedOnCreate ??
    (!isFormula && (t === 'boolean' || picklistDefault !== undefined || field.defaultValue !== undefined || Boolean(field.autoNumber)));

  return {
    aggregatable: h.aggregatable ?? !(longText || UNAGGREGATABLE.has(t)),
    aiPredictionField: false,
    autoNumber: Boolean(field.autoNumber),
    byteLength,
    calculated,
    calculatedFormula: isFormula ? (field.formulaText ?? null) : null,
    // Field-level cascadeDelete is a master-detail property; the lookups Salesforce cascades
    // (Contact.AccountId) show it only in the parent's childRelationships.
    cascadeDelete: field.relationshipOrder !== undefined && Boolean(field.cascadeDelete),
    caseSensitive: Boolean(field.caseSensitive),
    compoundFieldName: field.compoundFieldName ?? null,
    controllerName: field.controllerName ?? null,
    createable: field.createable,
    custom: Boolean(field.custom),
    defaultValue,
    defaultValueFormula,
    defaultedOnCreate,
    dependentPicklist: field.controllerName !== undefined,
    deprecatedAndHidden: Boolean(field.deprecatedAndHidden),
    digits: t === 'int' ? (field.digits ?? 9) : t === 'long' ? (field.digits ?? 18) : 0,
    displayLocationInDecimal: false,
    encrypted: Boolean(field.encrypted),
    externalId: Boolean(field.externalId),
    extraTypeInfo:
      h.extraTypeInfo !== undefined ? h.extraTypeInfo : t === 'textarea' ? (field.htmlFormatted ? 'richtextarea' : 'plaintextarea') : null,
    filterable: field.filterable ?? !(longText || t === 'base64' || t === 'encryptedstring'),
    filteredLookupInfo: null,
    formulaTreatNullNumberAsZero: h.formulaTreatNullNumberAsZero ?? false,
    groupable: field.groupable ?? !(longText || UNGROUPABLE.has(t) || (isFormula && t === 'string') || field.autoNumber),
    highScaleNumber: false,
    htmlFormatted: Boolean(field.htmlFormatted),
    idLookup: Boolean(field.idLookup),
    inlineHelpText: field.inlineHelpText ?? null,
    label: field.label,
    length,
    mask: field.encrypted ? (field.maskChar ?? 'X') : null,
    maskType: field.encrypted ? (h.maskType ?? 'all') : null,
    name: field.name,
    nameField: Boolean(field.nameField),
    namePointing: h.namePointing ?? Boolean(field.polymorphicForeignKey),
    nillable: field.nillable,
    permissionable: h.permissionable ?? isPermissionable(field, calculated),
    picklistValues: (field.picklistValues ?? []).map((p) => ({
      active: p.active,
      defaultValue: p.defaultValue,
      label: p.label,
      validFor: null,
      value: p.value,
    })),
    polymorphicForeignKey: Boolean(field.polymorphicForeignKey),
    precision: DECIMAL_TYPES.has(t) ? (field.precision ?? 18) : t === 'multipicklist' ? (field.precision ?? 4) : 0,
    queryByDistance: t === 'address' || t === 'location',
    referenceTargetField: null,
    referenceTo: t === 'reference' ? [...(field.referenceTo ?? [])] : [],
    relationshipName: field.relationshipName ?? null,
    relationshipOrder: field.relationshipOrder ?? null,
    restrictedDelete: Boolean(field.restrictedDelete),
    restrictedPicklist: Boolean(field.restrictedPicklist),
    scale: DECIMAL_TYPES.has(t) ? (field.scale ?? 0) : 0,
    searchPrefilterable:
      h.searchPrefilterable ??
      (t === 'reference' && field.nillable && Boolean(field.relationshipName) && !field.audit && !NOT_PREFILTERABLE.has(field.name)),
    soapType: SOAP_TYPES[t],
    sortable: field.sortable ?? !(longText || UNSORTABLE.has(t)),
    type: t,
    unique: Boolean(field.unique),
    updateable: field.updateable,
    writeRequiresMasterRead: h.writeRequiresMasterRead ?? false,
  };
}

/** Whether field-level security applies: optional fields a user can set or read computed. */
function isPermissionable(field: FieldDef, calculated: boolean): boolean {
  if (field.type === 'id' || field.audit || NEVER_PERMISSIONABLE.has(field.name)) return false;
  if (field.relationshipOrder !== undefined || field.nameField) return false;
  if (field.type === 'address' || field.type === 'location') return true;
  const optional = field.nillable || field.type === 'boolean';
  if (field.custom) return optional;
  return optional && (field.createable || field.updateable || calculated);
}

function childRelationships(schema: Schema, objectName: string): Record<string, unknown>[] {
  return schema
    .childRelationships(objectName)
    .map((rel) => ({ rel, hints: (schema.object(rel.childSObject)?.field(rel.field) as HintedField | undefined)?.describeHints }))
    .filter(({ hints }) => !hints?.hideChildRelationship)
    .sort((a, b) => compare(a.rel.childSObject, b.rel.childSObject) || compare(a.rel.field, b.rel.field))
    .map(({ rel, hints }) => ({
      cascadeDelete: hints?.childCascadeDelete ?? rel.cascadeDelete,
      childSObject: rel.childSObject,
      deprecatedAndHidden: false,
      field: rel.field,
      junctionIdListNames: [],
      junctionReferenceTo: [],
      relationshipName: rel.relationshipName ?? hints?.childRelationshipName ?? null,
      restrictedDelete: hints?.childRestrictedDelete ?? rel.restrictedDelete,
    }));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Objects that support record types list them all, inactive ones included, with Master last;
 * Master is added when the definition leaves it out. Objects without record types list none.
 */
function recordTypeInfos(def: ObjectDef, base: string, access?: DescribeOptions['recordTypeAccess']): Record<string, unknown>[] {
  const defined = def.recordTypes ?? [];
  if (defined.length === 0) return [];
  const all: RecordTypeDef[] = defined.some((rt) => rt.master)
    ? [...defined]
    : [
        ...defined,
        {
          id: MASTER_RECORD_TYPE_ID,
          developerName: 'Master',
          name: 'Master',
          active: true,
          defaultRecordTypeMapping: !defined.some((rt) => rt.defaultRecordTypeMapping),
          master: true,
        },
      ];
  return all
    .sort((a, b) => Number(a.master) - Number(b.master) || compare(a.name, b.name))
    .map((rt) => ({
      active: rt.active,
      available: rt.active && (rt.master || !access?.available || access.available.includes(rt.developerName)),
      defaultRecordTypeMapping: access ? (access.default === null ? rt.master : rt.developerName === access.default) : rt.defaultRecordTypeMapping,
      developerName: rt.developerName,
      master: rt.master,
      name: rt.name,
      recordTypeId: rt.id,
      urls: { layout: `${base}/describe/layouts/${rt.id}` },
    }));
}

function supportedScopes(def: HintedObject): { label: string; name: string }[] {
  const plural = def.labelPlural.toLowerCase();
  let scopes: ReadonlyArray<readonly [string, string]> | undefined = def.describeHints?.supportedScopes;
  if (!scopes) {
    const owner = def.fields.find((f) => f.name === 'OwnerId');
    const list: [string, string][] = [['everything', `All ${plural}`]];
    if (owner) list.push(['mine', `My ${plural}`]);
    if (owner?.referenceTo?.includes('Group')) {
      list.push(['queue_owned', `Queue owned ${plural}`], ['user_owned', `User owned ${plural}`]);
    }
    scopes = list;
  }
  return [...scopes].sort((a, b) => compare(a[0], b[0])).map(([name, label]) => ({ label, name }));
}

function objectUrls(def: HintedObject, base: string, ui: { instanceUrl: string } | null): Record<string, string> {
  const h = def.describeHints ?? {};
  const layoutable = def.layoutable;
  const usual = layoutable && def.searchable;
  const urls: Record<string, string> = {};
  if (layoutable && (h.compactLayoutable ?? true)) urls.compactLayouts = `${base}/describe/compactLayouts`;
  urls.rowTemplate = `${base}/{ID}`;
  if (layoutable && (h.approvalLayouts ?? usual)) urls.approvalLayouts = `${base}/describe/approvalLayouts`;
  if (ui && layoutable) {
    urls.uiDetailTemplate = `${ui.instanceUrl}/{ID}`;
    urls.uiEditTemplate = `${ui.instanceUrl}/{ID}/e`;
  }
  for (const [key, path] of Object.entries(h.extraUrls ?? {})) urls[key] = `${base}${path}`;
  if (h.listviews ?? usual) urls.listviews = `${base}/listviews`;
  urls.describe = `${base}/describe`;
  if (ui && layoutable) urls.uiNewRecord = `${ui.instanceUrl}/${def.keyPrefix}/e`;
  if (layoutable && (h.quickActions ?? true)) urls.quickActions = `${base}/quickActions`;
  if (layoutable) urls.layouts = `${base}/describe/layouts`;
  urls.sobject = base;
  return urls;
}

/** The flags describe and describeGlobal share. */
function objectFlags(def: HintedObject): Record<string, unknown> {
  const h = def.describeHints ?? {};
  return {
    activateable: Boolean(def.activateable),
    associateEntityType: null,
    associateParentEntity: null,
    createable: def.createable,
    custom: def.custom,
    customSetting: false,
    deepCloneable: h.deepCloneable ?? false,
    deletable: def.deletable,
    deprecatedAndHidden: false,
    feedEnabled: Boolean(def.feedEnabled),
    hasSubtypes: false,
    isInterface: false,
    isSubtype: false,
    keyPrefix: def.keyPrefix,
    label: def.label,
    labelPlural: def.labelPlural,
    layoutable: def.layoutable,
    mergeable: Boolean(def.mergeable),
    mruEnabled: h.mruEnabled ?? (def.layoutable && def.searchable && !def.custom),
    name: def.name,
    queryable: def.queryable,
    replicateable: def.replicateable,
    retrieveable: def.retrieveable,
    searchable: def.searchable,
    triggerable: def.triggerable,
    undeletable: def.undeletable,
    updateable: def.updateable,
  };
}

/** GET /services/data/vXX.X/sobjects/{name}/describe. Throws NOT_FOUND for an unknown object. */
export function describeSObject(
  schema: Schema,
  objectName: string,
  apiVersion: string,
  options: DescribeOptions = {},
): Record<string, unknown> {
  const object = schema.object(objectName);
  if (!object) throw notFound();
  const def = object.def as HintedObject;
  const h = def.describeHints ?? {};
  const base = `/services/data/${versionSegment(apiVersion)}/sobjects/${def.name}`;
  const flags = objectFlags(def);
  return {
    actionOverrides: [],
    activateable: flags.activateable,
    associateEntityType: null,
    associateParentEntity: null,
    childRelationships: childRelationships(schema, def.name),
    compactLayoutable: h.compactLayoutable ?? def.layoutable,
    createable: flags.createable,
    custom: flags.custom,
    customSetting: false,
    deepCloneable: flags.deepCloneable,
    defaultImplementation: null,
    deletable: flags.deletable,
    deprecatedAndHidden: false,
    extendedBy: null,
    extendsInterfaces: null,
    feedEnabled: flags.feedEnabled,
    fields: def.fields.map((f) => describeField(f)),
    hasSubtypes: false,
    implementedBy: null,
    implementsInterfaces: null,
    isInterface: false,
    isSubtype: false,
    keyPrefix: def.keyPrefix,
    label: def.label,
    labelPlural: def.labelPlural,
    layoutable: def.layoutable,
    listviewable: null,
    lookupLayoutable: null,
    mergeable: flags.mergeable,
    mruEnabled: flags.mruEnabled,
    name: def.name,
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    queryable: def.queryable,
    recordTypeInfos: recordTypeInfos(def, base, options.recordTypeAccess),
    replicateable: def.replicateable,
    retrieveable: def.retrieveable,
    searchLayoutable: h.searchLayoutable ?? def.searchable,
    searchable: def.searchable,
    sobjectDescribeOption: 'FULL',
    supportedScopes: supportedScopes(def),
    triggerable: def.triggerable,
    undeletable: def.undeletable,
    updateable: def.updateable,
    urls: objectUrls(def, base, { instanceUrl: (options.instanceUrl ?? '').replace(/\/+$/, '') }),
  };
}

/** GET /services/data/vXX.X/sobjects: every object of the schema, sorted by name. */
export function describeGlobal(schema: Schema, apiVersion: string): Record<string, unknown> {
  const version = versionSegment(apiVersion);
  const sobjects = schema
    .objects()
    .map((o) => o.def as HintedObject)
    .sort((a, b) => compare(a.name, b.name))
    .map((def) => ({ ...objectFlags(def), urls: objectUrls(def, `/services/data/${version}/sobjects/${def.name}`, null) }));
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects };
}
