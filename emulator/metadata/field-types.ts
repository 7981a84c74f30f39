/**
 * Custom fields both ways: a schema FieldDef as the Metadata API's CustomField (the `<fields>` of
 * an `.object` file), and a CustomField from the admin API as the FieldDef `org.defineObject`
 * takes. The Metadata API names types differently from describe (Text for string, Number for
 * double, Lookup and MasterDetail for reference), and carries relationships from the other side:
 * its `relationshipName` is the child relationship the parent sees, without `__r`.
 */
import type { FieldDef, ObjectDef, ObjectSchema, PicklistValue, Schema } from '../org/schema.ts';
import type { XmlRecord } from './xml.ts';

/** An admin request the emulator refuses; `path` names the offending property (`field.length`). */
export class MetadataInputError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

type Hinted = FieldDef & { describeHints?: { formulaTreatNullNumberAsZero?: boolean; maskType?: string } };

/** The Metadata API type of a field; undefined for standard-only types (id, address, base64…). */
export function metadataFieldType(field: FieldDef): string | undefined {
  if (field.rollup) return 'Summary';
  if (field.autoNumber) return 'AutoNumber';
  switch (field.type) {
    case 'string':
      return 'Text';
    case 'textarea':
      return field.htmlFormatted ? 'Html' : (field.length ?? 0) > 255 ? 'LongTextArea' : 'TextArea';
    case 'picklist':
    case 'combobox':
      return 'Picklist';
    case 'multipicklist':
      return 'MultiselectPicklist';
    case 'boolean':
      return 'Checkbox';
    case 'int':
    case 'long':
    case 'double':
      return 'Number';
    case 'currency':
      return 'Currency';
    case 'percent':
      return 'Percent';
    case 'date':
      return 'Date';
    case 'datetime':
      return 'DateTime';
    case 'time':
      return 'Time';
    case 'email':
      return 'Email';
    case 'phone':
      return 'Phone';
    case 'url':
      return 'Url';
    case 'encryptedstring':
      return 'EncryptedText';
    case 'location':
      return 'Location';
    case 'reference':
      return field.cascadeDelete && field.relationshipOrder !== undefined ? 'MasterDetail' : 'Lookup';
    default:
      return undefined;
  }
}

/** The child relationship name as the Metadata API spells it: `Invoices` for `Invoices__r`. */
function metadataRelationshipName(child: ObjectDef, field: FieldDef): string | undefined {
  if (field.childRelationshipName === null) return undefined;
  const name = field.childRelationshipName ?? child.labelPlural.replace(/[^A-Za-z0-9]/g, '_');
  return name.replace(/__r$/, '');
}

function valueSet(field: FieldDef): XmlRecord {
  return {
    restricted: field.restrictedPicklist ? true : undefined,
    valueSetDefinition: {
      sorted: false,
      value: (field.picklistValues ?? []).map((p) => ({ fullName: p.value, default: p.defaultValue, isActive: p.active ? undefined : false, label: p.label })),
    },
  };
}

/** A custom field as the `<fields>` element of an `.object` file and CustomField's readMetadata. */
export function customFieldRecord(object: ObjectDef, field: FieldDef, fullName = field.name): XmlRecord {
  const type = metadataFieldType(field);
  const f = field as Hinted;
  const required = !field.nillable && field.type !== 'boolean';
  const r: XmlRecord = {
    fullName,
    description: undefined,
    externalId: Boolean(field.externalId),
    inlineHelpText: field.inlineHelpText,
    label: field.label,
    trackTrending: false,
    type,
  };
  if (field.formulaText !== undefined) {
    r.formula = field.formulaText;
    r.formulaTreatBlanksAs = f.describeHints?.formulaTreatNullNumberAsZero ? 'BlankAsZero' : 'BlankAsBlank';
    if (type === 'Number' || type === 'Currency' || type === 'Percent') {
      r.precision = field.precision ?? 18;
      r.scale = field.scale ?? 0;
    }
    return r;
  }
  switch (type) {
    case 'AutoNumber':
      r.displayFormat = field.autoNumberFormat ?? '{0}';
      break;
    case 'Text':
      r.length = field.length ?? 255;
      r.required = required;
      r.unique = Boolean(field.unique);
      if (field.unique) r.caseSensitive = Boolean(field.caseSensitive);
      break;
    case 'TextArea':
      r.required = required;
      break;
    case 'LongTextArea':
    case 'Html':
      r.length = field.length ?? 32768;
      r.visibleLines = type === 'Html' ? 25 : 3;
      break;
    case 'Email':
      r.required = required;
      r.unique = Boolean(field.unique);
      break;
    case 'Phone':
    case 'Url':
    case 'Date':
    case 'DateTime':
    case 'Time':
      r.required = required;
      break;
    case 'Picklist':
      r.required = required;
      r.valueSet = valueSet(field);
      break;
    case 'MultiselectPicklist':
      r.required = required;
      r.valueSet = valueSet(field);
      r.visibleLines = field.precision ?? 4;
      break;
    case 'Checkbox':
      r.defaultValue = String(field.defaultValue === true);
      break;
    case 'Number':
      r.precision = field.type === 'int' ? (field.digits ?? 9) : (field.precision ?? 18);
      r.required = required;
      r.scale = field.type === 'int' ? 0 : (field.scale ?? 0);
      r.unique = Boolean(field.unique);
      break;
    case 'Currency':
    case 'Percent':
      r.precision = field.precision ?? 18;
      r.required = required;
      r.scale = field.scale ?? 2;
      break;
    case 'EncryptedText':
      r.length = field.length ?? 175;
      r.maskChar = field.maskChar === 'X' ? 'X' : 'asterisk';
      r.maskType = f.describeHints?.maskType ?? 'all';
      r.required = required;
      break;
    case 'Lookup':
      r.deleteConstraint = field.restrictedDelete ? 'Restrict' : 'SetNull';
      r.referenceTo = field.referenceTo?.[0];
      r.relationshipLabel = object.labelPlural;
      r.relationshipName = metadataRelationshipName(object, field);
      r.required = required;
      break;
    case 'MasterDetail':
      r.referenceTo = field.referenceTo?.[0];
      r.relationshipLabel = object.labelPlural;
      r.relationshipName = metadataRelationshipName(object, field);
      r.relationshipOrder = field.relationshipOrder ?? 0;
      r.reparentableMasterDetail = field.updateable;
      r.writeRequiresMasterRead = false;
      break;
    case 'Summary': {
      const rollup = field.rollup!;
      r.summarizedField = rollup.summarizedField ? `${rollup.childObject}.${rollup.summarizedField}` : undefined;
      r.summaryForeignKey = `${rollup.childObject}.${rollup.childField}`;
      r.summaryOperation = rollup.op;
      break;
    }
    default:
      break;
  }
  return r;
}

/** A standard field in a standard object's file: only what an org can customize about it. */
export function standardFieldRecord(object: ObjectDef, field: FieldDef): XmlRecord {
  const type = metadataFieldType(field);
  return {
    fullName: field.name,
    trackFeedHistory: object.feedEnabled ? false : undefined,
    type: type === 'Picklist' || type === 'MultiselectPicklist' || type === 'Lookup' ? type : undefined,
  };
}

// ------------------------------------------------------------------------------ admin input

type Input = Record<string, unknown>;

const FIELD_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*__c$/;
const SUPPORTED = ['Text', 'TextArea', 'LongTextArea', 'Html', 'Email', 'Phone', 'Url', 'Number', 'Currency', 'Percent', 'Checkbox', 'Date', 'DateTime', 'Time', 'Picklist', 'MultiselectPicklist', 'Lookup', 'MasterDetail', 'AutoNumber', 'EncryptedText', 'Summary'];

function str(input: Input, key: string, path: string, required = false): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) {
    if (required) throw new MetadataInputError(`${path}.${key}`, `"${key}" is required.`);
    return undefined;
  }
  if (typeof v !== 'string' || !v.trim()) throw new MetadataInputError(`${path}.${key}`, `"${key}" must be a non-empty string.`);
  return v;
}

/** Numbers arrive as JSON numbers or, copied from Metadata API XML, as numeric strings. */
function int(input: Input, key: string, path: string, min: number, max: number, fallback?: number): number {
  const v = input[key] ?? fallback;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new MetadataInputError(`${path}.${key}`, `"${key}" must be an integer from ${min} to ${max}.`);
  }
  return n;
}

function bool(input: Input, key: string, path: string): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new MetadataInputError(`${path}.${key}`, `"${key}" must be true or false.`);
}

/**
 * Picklist entries from admin input: strings, or `{fullName|value, label?, default?, isActive?}`
 * as CustomValue has them. At least one, no duplicates.
 */
export function picklistValuesFromInput(values: unknown, path: string): PicklistValue[] {
  if (!Array.isArray(values) || values.length === 0) throw new MetadataInputError(path, 'Give at least one picklist value.');
  const seen = new Set<string>();
  return values.map((entry, i) => {
    const at = `${path}[${i}]`;
    let value: PicklistValue;
    if (typeof entry === 'string' && entry.trim()) value = { value: entry, label: entry, active: true, defaultValue: false };
    else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      const e = entry as Input;
      const name = e.fullName ?? e.value;
      if (typeof name !== 'string' || !name.trim()) throw new MetadataInputError(`${at}.fullName`, 'Each value needs a "fullName".');
      const label = e.label === undefined ? name : e.label;
      if (typeof label !== 'string') throw new MetadataInputError(`${at}.label`, '"label" must be a string.');
      value = { value: name, label, active: bool(e, 'isActive', at) ?? bool(e, 'active', at) ?? true, defaultValue: bool(e, 'default', at) ?? false };
    } else throw new MetadataInputError(at, 'A picklist value is a string or an object with "fullName".');
    if (seen.has(value.value.toLowerCase())) throw new MetadataInputError(at, `Duplicate picklist value "${value.value}".`);
    seen.add(value.value.toLowerCase());
    if (value.value.length > 255) throw new MetadataInputError(at, 'A picklist value has at most 255 characters.');
    return value;
  });
}

function picklistInput(input: Input, path: string): PicklistValue[] {
  if (input.values !== undefined) return picklistValuesFromInput(input.values, `${path}.values`);
  const set = input.valueSet as Input | undefined;
  const definition = (set?.valueSetDefinition as Input | undefined)?.value;
  if (definition === undefined) throw new MetadataInputError(`${path}.valueSet`, 'A picklist needs "valueSet.valueSetDefinition.value" (or the shorthand "values").');
  return picklistValuesFromInput(Array.isArray(definition) ? definition : [definition], `${path}.valueSet.valueSetDefinition.value`);
}

/**
 * The FieldDef for a CustomField given to the admin API (the Metadata API's shape, JSON-ised).
 * Formula and geolocation fields are refused: the emulator cannot evaluate arbitrary formulas.
 */
export function fieldDefFromMetadata(schema: Schema, object: ObjectSchema, input: Input, path = 'field'): FieldDef {
  const name = str(input, 'fullName', path, true)!;
  if (!FIELD_NAME.test(name) || name.length > 43) {
    throw new MetadataInputError(`${path}.fullName`, `"${name}" is not a custom field name: letters, digits and single underscores, ending in __c, at most 40 characters before it.`);
  }
  const type = str(input, 'type', path, true)!;
  if (input.formula !== undefined) throw new MetadataInputError(`${path}.formula`, 'Formula fields are not supported by the emulator.');
  if (!SUPPORTED.includes(type)) throw new MetadataInputError(`${path}.type`, `Unsupported field type "${type}"; one of ${SUPPORTED.join(', ')}.`);
  const label = str(input, 'label', path) ?? name.replace(/__c$/, '').replace(/_/g, ' ');
  if (label.length > 40) throw new MetadataInputError(`${path}.label`, 'A field label has at most 40 characters.');
  const required = bool(input, 'required', path) ?? false;
  const def: FieldDef = { name, label, type: 'string', nillable: !required, createable: true, updateable: true, custom: true };
  const help = str(input, 'inlineHelpText', path);
  if (help) def.inlineHelpText = help;
  const flags = (): void => {
    if (bool(input, 'externalId', path)) def.externalId = def.idLookup = true;
    if (bool(input, 'unique', path)) {
      def.unique = def.idLookup = true;
      def.caseSensitive = bool(input, 'caseSensitive', path) ?? false;
    }
  };
  switch (type) {
    case 'Text':
      Object.assign(def, { type: 'string', length: int(input, 'length', path, 1, 255) });
      flags();
      break;
    case 'TextArea':
      Object.assign(def, { type: 'textarea', length: 255 });
      break;
    case 'LongTextArea':
    case 'Html':
      Object.assign(def, { type: 'textarea', length: int(input, 'length', path, 256, 131072, 32768), nillable: true });
      if (type === 'Html') def.htmlFormatted = true;
      break;
    case 'Email':
      Object.assign(def, { type: 'email', length: 80 });
      flags();
      break;
    case 'Phone':
      Object.assign(def, { type: 'phone', length: 40 });
      break;
    case 'Url':
      Object.assign(def, { type: 'url', length: 255 });
      break;
    case 'Number':
    case 'Currency':
    case 'Percent': {
      const precision = int(input, 'precision', path, 1, 18, 18);
      const scale = int(input, 'scale', path, 0, precision, type === 'Number' ? 0 : 2);
      Object.assign(def, { type: type === 'Number' ? 'double' : type.toLowerCase(), precision, scale });
      if (type === 'Number') flags();
      break;
    }
    case 'Checkbox': {
      const dv = input.defaultValue === undefined ? false : bool(input, 'defaultValue', path);
      Object.assign(def, { type: 'boolean', nillable: false, defaultValue: dv ?? false, defaultedOnCreate: true });
      break;
    }
    case 'Date':
    case 'DateTime':
    case 'Time':
      def.type = type === 'DateTime' ? 'datetime' : (type.toLowerCase() as 'date' | 'time');
      break;
    case 'Picklist':
    case 'MultiselectPicklist': {
      const values = picklistInput(input, path);
      const restricted = bool((input.valueSet as Input | undefined) ?? {}, 'restricted', `${path}.valueSet`) ?? bool(input, 'restricted', path);
      if (type === 'Picklist') {
        Object.assign(def, { type: 'picklist', length: 255, picklistValues: values });
        const initial = values.find((v) => v.defaultValue);
        if (initial) Object.assign(def, { defaultValue: initial.value, defaultedOnCreate: true });
      } else Object.assign(def, { type: 'multipicklist', length: 4099, precision: int(input, 'visibleLines', path, 3, 10, 4), picklistValues: values });
      if (restricted) def.restrictedPicklist = true;
      break;
    }
    case 'Lookup':
    case 'MasterDetail':
      referenceField(schema, object, input, path, def, type === 'MasterDetail');
      break;
    case 'AutoNumber': {
      const format = str(input, 'displayFormat', path, true)!;
      if (!/\{0+\}/.test(format)) throw new MetadataInputError(`${path}.displayFormat`, 'An auto-number display format needs {0}, {00}… for the number.');
      Object.assign(def, { type: 'string', length: 30, autoNumber: true, autoNumberFormat: format, nillable: false, createable: false, updateable: false, defaultedOnCreate: true });
      break;
    }
    case 'EncryptedText': {
      const mask = str(input, 'maskChar', path) ?? 'asterisk';
      if (mask !== 'asterisk' && mask !== 'X') throw new MetadataInputError(`${path}.maskChar`, '"maskChar" is "asterisk" or "X".');
      Object.assign(def, { type: 'encryptedstring', length: int(input, 'length', path, 1, 175), encrypted: true, maskChar: mask === 'X' ? 'X' : '*' });
      break;
    }
    case 'Summary':
      summaryField(schema, object, input, path, def);
      break;
  }
  return def;
}

function referenceField(schema: Schema, object: ObjectSchema, input: Input, path: string, def: FieldDef, master: boolean): void {
  const target = schema.object(str(input, 'referenceTo', path, true)!);
  if (!target) throw new MetadataInputError(`${path}.referenceTo`, `No object "${String(input.referenceTo)}" in this org.`);
  const relationship = str(input, 'relationshipName', path, true)!;
  if (!/^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$/.test(relationship)) throw new MetadataInputError(`${path}.relationshipName`, '"relationshipName" takes letters, digits and single underscores.');
  Object.assign(def, {
    type: 'reference',
    length: 18,
    referenceTo: [target.name],
    relationshipName: def.name.replace(/__c$/, '__r'),
    childRelationshipName: `${relationship}__r`,
  });
  if (!master) {
    const constraint = str(input, 'deleteConstraint', path) ?? 'SetNull';
    if (!['SetNull', 'Restrict'].includes(constraint)) throw new MetadataInputError(`${path}.deleteConstraint`, '"deleteConstraint" is "SetNull" or "Restrict".');
    if (constraint === 'Restrict') def.restrictedDelete = true;
    return;
  }
  const masters = object.def.fields.filter((f) => f.name !== def.name && f.relationshipOrder !== undefined);
  if (masters.length >= 2) throw new MetadataInputError(`${path}.type`, `${object.name} already has two master-detail relationships.`);
  Object.assign(def, {
    nillable: false,
    cascadeDelete: true,
    relationshipOrder: masters.length,
    updateable: bool(input, 'reparentableMasterDetail', path) ?? false,
  });
}

function summaryField(schema: Schema, object: ObjectSchema, input: Input, path: string, def: FieldDef): void {
  const key = str(input, 'summaryForeignKey', path, true)!;
  const [childName, childFieldName] = key.split('.');
  const child = childName ? schema.object(childName) : undefined;
  const childField = child && childFieldName ? child.field(childFieldName) : undefined;
  if (!child || !childField || childField.relationshipOrder === undefined || !childField.referenceTo?.some((t) => t.toLowerCase() === object.name.toLowerCase())) {
    throw new MetadataInputError(`${path}.summaryForeignKey`, `"${key}" is not a master-detail field pointing at ${object.name}.`);
  }
  const op = str(input, 'summaryOperation', path, true)!;
  if (!['count', 'sum', 'min', 'max'].includes(op)) throw new MetadataInputError(`${path}.summaryOperation`, '"summaryOperation" is count, sum, min or max.');
  let summarized: FieldDef | undefined;
  if (op !== 'count') {
    const name = str(input, 'summarizedField', path, true)!.split('.').pop()!;
    summarized = child.field(name);
    if (!summarized || !['int', 'double', 'currency', 'percent'].includes(summarized.type)) {
      throw new MetadataInputError(`${path}.summarizedField`, `"${String(input.summarizedField)}" is not a number field of ${child.name}.`);
    }
  }
  Object.assign(def, {
    type: summarized && summarized.type !== 'int' ? summarized.type : 'double',
    precision: 18,
    scale: summarized?.scale ?? 0,
    createable: false,
    updateable: false,
    nillable: true,
    rollup: { childObject: child.name, childField: childField.name, op, ...(summarized ? { summarizedField: summarized.name } : {}) },
  });
}
