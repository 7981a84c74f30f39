/**
 * Reading an sObject describe document (as Salesforce's REST API returns it, and as the vault
 * stores it for each schema version) into the summary backup and restore decide on. Pure: the
 * same answer for a describe fetched now or one stored a year ago.
 */
import type { FieldSummary, ObjectDescription } from './org-client.ts';

interface RawField {
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
}

interface RawDescribe {
  name: string;
  label?: string;
  queryable?: boolean;
  retrieveable?: boolean;
  fields: RawField[];
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
    fields: raw.fields.map(fieldSummary),
    raw,
  };
}

function fieldSummary(f: RawField): FieldSummary {
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
  };
}
