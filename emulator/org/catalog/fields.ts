/**
 * Builders for catalog field and object definitions. Defaults follow what Salesforce shows for an
 * ordinary optional field (nillable, createable, updateable); each builder only states what differs,
 * so the object files read like the describe they stand for.
 */
import type { FieldDef, FieldType, ObjectDef, PicklistValue, RecordTypeDef, StoredRecord } from '../schema.ts';
import type { FieldDescribeHints, ObjectDescribeHints } from '../describe.ts';
import { idChecksum } from '../ids.ts';

export type CatalogField = FieldDef & { describeHints?: FieldDescribeHints };
export type CatalogObject = ObjectDef & { fields: CatalogField[]; describeHints?: ObjectDescribeHints };
export type FieldOptions = Partial<CatalogField>;

export const READ_ONLY = { createable: false, updateable: false } as const;
export const REQUIRED = { nillable: false } as const;
/** Set on create, fixed afterwards (master-detail parents, ContentVersion.ContentDocumentId). */
export const CREATE_ONLY = { updateable: false } as const;

function field(type: FieldType, name: string, label: string, options: FieldOptions = {}): CatalogField {
  const def: CatalogField = { name, label, type, nillable: true, createable: true, updateable: true };
  if (name.endsWith('__c')) def.custom = true;
  return { ...def, ...options };
}

/** Picklist entries: a plain string is both value and label; a pair is [value, label]. */
export type PicklistEntry = string | readonly [string, string];

export function picklistValues(entries: readonly PicklistEntry[], defaultValue?: string): PicklistValue[] {
  return entries.map((entry) => {
    const [value, label] = typeof entry === 'string' ? [entry, entry] : entry;
    return { value, label, active: true, defaultValue: value === defaultValue };
  });
}

export const text = (name: string, label: string, length: number, o: FieldOptions = {}) =>
  field('string', name, label, { length, ...o });
export const textarea = (name: string, label: string, length: number, o: FieldOptions = {}) =>
  field('textarea', name, label, { length, ...o });
export const email = (name: string, label: string, o: FieldOptions = {}) =>
  field('email', name, label, { length: 80, ...o });
export const phone = (name: string, label: string, o: FieldOptions = {}) =>
  field('phone', name, label, { length: 40, ...o });
export const url = (name: string, label: string, o: FieldOptions = {}) =>
  field('url', name, label, { length: 255, ...o });
export const date = (name: string, label: string, o: FieldOptions = {}) => field('date', name, label, o);
export const datetime = (name: string, label: string, o: FieldOptions = {}) =>
  field('datetime', name, label, o);
export const int = (name: string, label: string, digits: number, o: FieldOptions = {}) =>
  field('int', name, label, { digits, ...o });
export const double = (name: string, label: string, precision: number, scale: number, o: FieldOptions = {}) =>
  field('double', name, label, { precision, scale, ...o });
export const currency = (name: string, label: string, precision: number, scale: number, o: FieldOptions = {}) =>
  field('currency', name, label, { precision, scale, ...o });
export const percent = (name: string, label: string, precision: number, scale: number, o: FieldOptions = {}) =>
  field('percent', name, label, { precision, scale, ...o });
export const base64 = (name: string, label: string, o: FieldOptions = {}) =>
  field('base64', name, label, { length: 0, ...o });

export function picklist(
  name: string,
  label: string,
  entries: readonly PicklistEntry[],
  o: FieldOptions & { default?: string } = {},
): CatalogField {
  const { default: defaultValue, ...rest } = o;
  const extra: FieldOptions = defaultValue === undefined ? {} : { defaultValue, defaultedOnCreate: true };
  return field('picklist', name, label, {
    length: 255,
    picklistValues: picklistValues(entries, defaultValue),
    ...extra,
    ...rest,
  });
}

export function multipicklist(
  name: string,
  label: string,
  entries: readonly PicklistEntry[],
  o: FieldOptions = {},
): CatalogField {
  // Salesforce reports 4099 characters and the number of visible lines as precision.
  return field('multipicklist', name, label, {
    length: 4099,
    precision: 4,
    picklistValues: picklistValues(entries),
    ...o,
  });
}

export const combobox = (name: string, label: string, entries: readonly PicklistEntry[], o: FieldOptions = {}) =>
  field('combobox', name, label, { length: 255, picklistValues: picklistValues(entries), ...o });

export function checkbox(name: string, label: string, defaultValue = false, o: FieldOptions = {}): CatalogField {
  return field('boolean', name, label, { nillable: false, defaultValue, defaultedOnCreate: true, ...o });
}

export function reference(
  name: string,
  label: string,
  referenceTo: string | string[],
  relationshipName: string | undefined,
  o: FieldOptions = {},
): CatalogField {
  const targets = Array.isArray(referenceTo) ? referenceTo : [referenceTo];
  const def = field('reference', name, label, { length: 18, referenceTo: targets, ...o });
  if (relationshipName !== undefined) def.relationshipName = relationshipName;
  return def;
}

/** A polymorphic lookup; Salesforce resolves its relationship through the `Name` entity. */
export function polymorphic(
  name: string,
  label: string,
  referenceTo: string[],
  relationshipName: string,
  o: FieldOptions = {},
): CatalogField {
  return reference(name, label, referenceTo, relationshipName, { polymorphicForeignKey: true, ...o });
}

export function encryptedText(name: string, label: string, length: number, maskChar: 'X' | '*', o: FieldOptions = {}) {
  return field('encryptedstring', name, label, { length, encrypted: true, maskChar, ...o });
}

/** A text formula: Salesforce gives text formulas 1300 characters and returns null for blank. */
export function formulaText(
  name: string,
  label: string,
  formulaSource: string,
  compute: (record: StoredRecord, lookup: (id: string) => StoredRecord | undefined) => string | null,
  o: FieldOptions = {},
): CatalogField {
  return field('string', name, label, {
    length: 1300,
    ...READ_ONLY,
    formulaText: formulaSource,
    formula: (ctx) => {
      const value = compute(ctx.record, (id) => ctx.lookup(id));
      return value === '' ? null : value;
    },
    ...o,
  });
}

// ---------------------------------------------------------------------------------------------
// System fields, in the order real describes list them.

export function idField(label: string): CatalogField {
  return field('id', 'Id', label, {
    length: 18,
    nillable: false,
    ...READ_ONLY,
    defaultedOnCreate: true,
    idLookup: true,
  });
}

export function isDeleted(): CatalogField {
  return checkbox('IsDeleted', 'Deleted', false, READ_ONLY);
}

function userStamp(name: string, label: string, relationshipName: string): CatalogField {
  return reference(name, label, 'User', relationshipName, {
    nillable: false,
    ...READ_ONLY,
    defaultedOnCreate: true,
    audit: true,
    // User's describe lists these children without a name; they are not subquery relationships.
    childRelationshipName: null,
  });
}

function stamp(name: string, label: string, audit: boolean): CatalogField {
  return datetime(name, label, { nillable: false, ...READ_ONLY, defaultedOnCreate: true, ...(audit ? { audit } : {}) });
}

/** CreatedDate, CreatedById, LastModifiedDate, LastModifiedById. */
export function auditFields(): CatalogField[] {
  return [
    stamp('CreatedDate', 'Created Date', true),
    userStamp('CreatedById', 'Created By ID', 'CreatedBy'),
    stamp('LastModifiedDate', 'Last Modified Date', true),
    userStamp('LastModifiedById', 'Last Modified By ID', 'LastModifiedBy'),
  ];
}

export function createdFields(): CatalogField[] {
  return auditFields().slice(0, 2);
}

export function systemModstamp(): CatalogField {
  return stamp('SystemModstamp', 'System Modstamp', false);
}

/** Audit fields plus SystemModstamp, the usual block after OwnerId. */
export function stampFields(): CatalogField[] {
  return [...auditFields(), systemModstamp()];
}

export function ownerId(o: { referenceTo?: string[]; label?: string } = {}): CatalogField {
  const referenceTo = o.referenceTo ?? ['User'];
  return reference('OwnerId', o.label ?? 'Owner ID', referenceTo, 'Owner', {
    nillable: false,
    defaultedOnCreate: true,
    childRelationshipName: null,
    ...(referenceTo.length > 1 ? { polymorphicForeignKey: true } : {}),
  });
}

export function lastViewedFields(): CatalogField[] {
  return [
    datetime('LastViewedDate', 'Last Viewed Date', READ_ONLY),
    datetime('LastReferencedDate', 'Last Referenced Date', READ_ONLY),
  ];
}

export function lastActivityDate(): CatalogField {
  return date('LastActivityDate', 'Last Activity', READ_ONLY);
}

export function masterRecordId(objectName: string): CatalogField {
  // Set by merge only; real describes keep it out of the parent's child relationships.
  return reference('MasterRecordId', 'Master Record ID', objectName, 'MasterRecord', {
    ...READ_ONLY,
    childRelationshipName: null,
    describeHints: { hideChildRelationship: true },
  });
}

export function recordTypeIdField(): CatalogField {
  return reference('RecordTypeId', 'Record Type ID', 'RecordType', 'RecordType', { childRelationshipName: null });
}

export const GEOCODE_ACCURACY: readonly string[] = [
  'Address',
  'NearAddress',
  'Block',
  'Street',
  'ExtendedZip',
  'Zip',
  'Neighborhood',
  'City',
  'County',
  'State',
  'Unknown',
];

/** Null when every component is blank, as REST prints an empty address. */
function addressValue(record: StoredRecord, prefix: string): Record<string, unknown> | null {
  const get = (part: string): unknown => record[`${prefix}${part}`] ?? null;
  const value = {
    city: get('City'),
    country: get('Country'),
    geocodeAccuracy: get('GeocodeAccuracy'),
    latitude: get('Latitude'),
    longitude: get('Longitude'),
    postalCode: get('PostalCode'),
    state: get('State'),
    street: get('Street'),
  };
  return Object.values(value).every((v) => v === null) ? null : value;
}

/**
 * An address compound: Street, City, State, PostalCode, Country, Latitude, Longitude,
 * GeocodeAccuracy and the read-only compound itself, computed from its components.
 */
export function addressFields(prefix: string, labelPrefix: string, o: FieldOptions = {}): CatalogField[] {
  const compound = `${prefix}Address`;
  const lp = labelPrefix ? `${labelPrefix} ` : '';
  const part = { compoundFieldName: compound, ...o };
  return [
    textarea(`${prefix}Street`, `${lp}Street`, 255, part),
    text(`${prefix}City`, `${lp}City`, 40, part),
    text(`${prefix}State`, `${lp}State/Province`, 80, part),
    text(`${prefix}PostalCode`, `${lp}Zip/Postal Code`, 20, part),
    text(`${prefix}Country`, `${lp}Country`, 80, part),
    double(`${prefix}Latitude`, `${lp}Latitude`, 18, 15, part),
    double(`${prefix}Longitude`, `${lp}Longitude`, 18, 15, part),
    picklist(`${prefix}GeocodeAccuracy`, `${lp}Geocode Accuracy`, GEOCODE_ACCURACY, {
      length: 40,
      restrictedPicklist: true,
      ...part,
    }),
    field('address', compound, `${lp}Address`, {
      ...READ_ONLY,
      formula: (ctx) => addressValue(ctx.record, prefix),
      describeHints: { calculated: false },
    }),
  ];
}

/** LastName, FirstName, Salutation and the read-only Name Salutation leaves out. */
export function personNameFields(salutations: readonly string[], o: { nameLabel?: string } = {}): CatalogField[] {
  const part: FieldOptions = { compoundFieldName: 'Name', describeHints: { extraTypeInfo: 'personname', permissionable: false } };
  return [
    text('LastName', 'Last Name', 80, { ...REQUIRED, ...part }),
    text('FirstName', 'First Name', 40, part),
    picklist('Salutation', 'Salutation', salutations, { length: 40, ...part }),
    text('Name', o.nameLabel ?? 'Full Name', 121, {
      nillable: false,
      ...READ_ONLY,
      nameField: true,
      formula: (ctx) => {
        const parts = [ctx.record.FirstName, ctx.record.LastName].filter((v) => typeof v === 'string' && v !== '');
        return parts.length ? parts.join(' ') : null;
      },
      describeHints: { extraTypeInfo: 'personname', calculated: false },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Objects and record types.

/** What most business objects allow; setup and read-only objects override it. */
export const DATA_OBJECT = {
  custom: false,
  queryable: true,
  createable: true,
  updateable: true,
  deletable: true,
  undeletable: true,
  retrieveable: true,
  replicateable: true,
  searchable: true,
  triggerable: true,
  layoutable: true,
  recycleBin: true,
  bulkQueryable: true,
} as const;

/** A read-only system object: queryable and nothing else. */
export const READ_ONLY_OBJECT = {
  custom: false,
  queryable: true,
  createable: false,
  updateable: false,
  deletable: false,
  undeletable: false,
  retrieveable: true,
  replicateable: false,
  searchable: false,
  triggerable: false,
  layoutable: false,
  recycleBin: false,
  bulkQueryable: true,
} as const;

export const MASTER_RECORD_TYPE_ID = '012000000000000AAA';

export function masterRecordType(defaultRecordTypeMapping = true): RecordTypeDef {
  return {
    id: MASTER_RECORD_TYPE_ID,
    developerName: 'Master',
    name: 'Master',
    active: true,
    defaultRecordTypeMapping,
    master: true,
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A stable 18-character RecordType ID (prefix 012) for the n-th record type of the catalog. */
export function recordTypeId(n: number): string {
  const id15 = `0125g000000Rt${BASE62[Math.floor(n / 62) % 62]}${BASE62[n % 62]}`;
  return id15 + idChecksum(id15);
}
