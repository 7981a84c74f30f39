/**
 * Reading an sObject describe document (as Salesforce's REST API returns it, and as the vault
 * stores it for each schema version) into the summary backup and restore decide on. Pure: the
 * same answer for a describe fetched now or one stored a year ago.
 */
import type { FieldSummary, ObjectDescription } from './org-client.ts';

export interface RawField {
  name: string;
  type: string;
  label?: string;
  calculated?: boolean;
  compoundFieldName?: string | null;
  referenceTo?: string[] | null;
  relationshipName?: string | null;
  nillable?: boolean;
  createable?: boolean;
  updateable?: boolean;
  externalId?: boolean;
  idLookup?: boolean;
  length?: number;
  restrictedPicklist?: boolean;
  picklistValues?: { value: string; active?: boolean }[] | null;
  defaultedOnCreate?: boolean;
  relationshipOrder?: number | null;
  cascadeDelete?: boolean;
  autoNumber?: boolean;
  unique?: boolean;
}

interface RawDescribe {
  name: string;
  label?: string;
  queryable?: boolean;
  retrieveable?: boolean;
  createable?: boolean;
  updateable?: boolean;
  undeletable?: boolean;
  fields: RawField[];
  childRelationships?: { childSObject: string; field: string; cascadeDelete?: boolean; relationshipName?: string | null }[] | null;
  recordTypeInfos?: { recordTypeId: string; name: string; developerName?: string; available?: boolean; active?: boolean; master?: boolean; defaultRecordTypeMapping?: boolean }[] | null;
}

function isRawDescribe(value: unknown): value is RawDescribe {
  const v = value as Partial<RawDescribe> | null;
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && Array.isArray(v.fields) && v.fields.every((f) => typeof f?.name === 'string' && typeof f.type === 'string');
}

/** The summary of a describe document; a TypeError when the document is not one. */
export function describeFromRaw(raw: unknown): ObjectDescription {
  if (!isRawDescribe(raw)) throw new TypeError('Not an sObject describe: it needs a name and a list of fields with names and types.');
  return {
    name: raw.name,
    label: raw.label ?? raw.name,
    queryable: raw.queryable ?? true,
    retrieveable: raw.retrieveable ?? true,
    createable: raw.createable ?? false,
    updateable: raw.updateable ?? false,
    undeletable: raw.undeletable ?? false,
    fields: raw.fields.map(fieldSummary),
    childRelationships: (raw.childRelationships ?? []).map((c) => ({ childObject: c.childSObject, field: c.field, cascadeDelete: c.cascadeDelete ?? false })),
    recordTypes: (raw.recordTypeInfos ?? []).map((r) => ({
      id: r.recordTypeId,
      name: r.name,
      developerName: r.developerName ?? r.name,
      available: r.available ?? true,
      active: r.active ?? true,
      master: r.master ?? false,
      isDefault: r.defaultRecordTypeMapping ?? false,
    })),
    raw,
  };
}

/** A field's summary from its describe entry; anything the entry leaves out takes describe's default. */
export function fieldSummary(f: RawField): FieldSummary {
  return {
    name: f.name,
    type: f.type,
    label: f.label ?? f.name,
    calculated: f.calculated ?? false,
    compoundFieldName: f.compoundFieldName ?? null,
    referenceTo: f.referenceTo ?? [],
    relationshipName: f.relationshipName ?? null,
    nillable: f.nillable ?? true,
    createable: f.createable ?? false,
    updateable: f.updateable ?? false,
    externalId: f.externalId ?? false,
    idLookup: f.idLookup ?? false,
    length: f.length ?? 0,
    restrictedPicklist: f.restrictedPicklist ?? false,
    picklistValues: (f.picklistValues ?? []).filter((p) => p.active !== false).map((p) => p.value),
    defaultedOnCreate: f.defaultedOnCreate ?? false,
    masterDetail: typeof f.relationshipOrder === 'number',
    cascadeDelete: f.cascadeDelete ?? false,
    autoNumber: f.autoNumber ?? false,
    unique: f.unique ?? false,
  };
}
