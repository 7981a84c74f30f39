/**
 * The emulated org's schema model. Object and field definitions are plain data; the describe
 * payloads (emulator/org/describe.ts) and every validation rule are derived from them, so one
 * definition drives REST, SOQL, writes and, later, Bulk and Metadata.
 */

/** The `type` values a Salesforce field describe can carry. */
export type FieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'multipicklist'
  | 'combobox'
  | 'boolean'
  | 'int'
  | 'long'
  | 'double'
  | 'currency'
  | 'percent'
  | 'date'
  | 'datetime'
  | 'time'
  | 'reference'
  | 'base64'
  | 'address'
  | 'location'
  | 'encryptedstring'
  | 'anyType';

export interface PicklistValue {
  value: string;
  label: string;
  active: boolean;
  defaultValue: boolean;
}

/** A stored record: field API name (canonical case) to value. Datetimes are canonical strings. */
export type StoredRecord = Record<string, unknown> & { Id: string };

/** Read access a formula needs: the record itself and parents by ID. */
export interface FormulaContext {
  record: StoredRecord;
  lookup(id: string): StoredRecord | undefined;
}

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  /** Characters for text types; 0 otherwise. */
  length?: number;
  precision?: number;
  scale?: number;
  /** Digits for int fields. */
  digits?: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  defaultedOnCreate?: boolean;
  unique?: boolean;
  caseSensitive?: boolean;
  externalId?: boolean;
  idLookup?: boolean;
  nameField?: boolean;
  autoNumber?: boolean;
  /** Display format for auto-number fields, e.g. `INV-{0000}`. */
  autoNumberFormat?: string;
  filterable?: boolean;
  sortable?: boolean;
  groupable?: boolean;
  custom?: boolean;
  /** A formula: computed on read, never stored, never moves SystemModstamp. */
  formula?: (ctx: FormulaContext) => unknown;
  /** Source text shown in describe's calculatedFormula. */
  formulaText?: string;
  /** A roll-up summary on a master: recomputed on child writes and stored (it moves SystemModstamp). */
  rollup?: RollupDef;
  referenceTo?: string[];
  relationshipName?: string;
  /** The name the parent uses for this relationship in subqueries (Contacts, Invoice_Lines__r).
   * Null hides the relationship from subqueries, as Salesforce does for some standard lookups. */
  childRelationshipName?: string | null;
  /** 0 for the first master-detail field, 1 for the second; absent for lookups. */
  relationshipOrder?: number;
  /** Master-detail: deleting the parent deletes the child. */
  cascadeDelete?: boolean;
  /** Lookup option: the parent cannot be deleted while children point at it. */
  restrictedDelete?: boolean;
  /** Polymorphic lookup (WhoId, WhatId, OwnerId with queues). */
  polymorphicForeignKey?: boolean;
  picklistValues?: PicklistValue[];
  restrictedPicklist?: boolean;
  /** Multi-select and dependent picklists keep this; others leave it undefined. */
  controllerName?: string;
  /** For components of compound fields (BillingStreet → BillingAddress). */
  compoundFieldName?: string;
  /** Classic encryption: masked on read unless the user has View Encrypted Data. */
  encrypted?: boolean;
  /** Mask pattern for encrypted fields (`X` or `*`). */
  maskChar?: 'X' | '*';
  /** Audit fields (CreatedDate, CreatedById, LastModifiedDate, LastModifiedById) are createable only
   * when the org allows setting them. */
  audit?: boolean;
  /** A value a newly created record gets when the caller leaves the field out. */
  defaultValue?: unknown;
  inlineHelpText?: string;
  htmlFormatted?: boolean;
  deprecatedAndHidden?: boolean;
}

export interface RollupDef {
  childObject: string;
  /** The child's master-detail field that points at this object. */
  childField: string;
  op: 'count' | 'sum' | 'min' | 'max';
  /** Child field summarised (not used for count). */
  summarizedField?: string;
}

export interface RecordTypeDef {
  id: string;
  developerName: string;
  name: string;
  active: boolean;
  defaultRecordTypeMapping: boolean;
  master: boolean;
}

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  fields: FieldDef[];
  queryable: boolean;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  undeletable: boolean;
  retrieveable: boolean;
  replicateable: boolean;
  searchable: boolean;
  triggerable: boolean;
  layoutable: boolean;
  feedEnabled?: boolean;
  mergeable?: boolean;
  activateable?: boolean;
  /** Big objects (`__b`): no SystemModstamp, no IsDeleted, no queryAll, no Bulk query, index-only filters. */
  bigObject?: boolean;
  /** Objects the Bulk API cannot read (for discovery's "unsupported" reason). */
  bulkQueryable?: boolean;
  recordTypes?: RecordTypeDef[];
  /** Whether the Recycle Bin keeps deleted records of this object (false for objects hard-deleted at once). */
  recycleBin?: boolean;
  /** Whether Change Data Capture can be enabled for the object. */
  cdcCapable?: boolean;
}

/** Field lookup is case-insensitive in Salesforce; this index keeps that cheap. */
export class ObjectSchema {
  readonly def: ObjectDef;
  private readonly byName: Map<string, FieldDef>;
  private readonly byLowerName: Map<string, FieldDef>;
  private readonly byLowerRelationship: Map<string, FieldDef>;

  constructor(def: ObjectDef) {
    this.def = def;
    this.byName = new Map(def.fields.map((f) => [f.name, f]));
    this.byLowerName = new Map(def.fields.map((f) => [f.name.toLowerCase(), f]));
    this.byLowerRelationship = new Map(
      def.fields.filter((f) => f.relationshipName).map((f) => [f.relationshipName!.toLowerCase(), f]),
    );
  }

  get name(): string {
    return this.def.name;
  }

  field(name: string): FieldDef | undefined {
    // Most callers pass the canonical name; only user input needs the case-insensitive lookup.
    return this.byName.get(name) ?? this.byLowerName.get(name.toLowerCase());
  }

  /** The reference field behind a relationship name (`Account` → AccountId, `Parent__r` → Parent__c). */
  relationship(name: string): FieldDef | undefined {
    return this.byLowerRelationship.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.byLowerName.has(name.toLowerCase());
  }
}

/** A child relationship as describe shows it, derived from the children's reference fields. */
export interface ChildRelationship {
  childSObject: string;
  field: string;
  relationshipName: string | null;
  cascadeDelete: boolean;
  restrictedDelete: boolean;
}

/** The whole catalog: every object the org has, visible or not. */
export class Schema {
  private readonly byLower = new Map<string, ObjectSchema>();
  private readonly byPrefix = new Map<string, ObjectSchema>();
  private childrenCache = new Map<string, ChildRelationship[]>();

  constructor(defs: ObjectDef[]) {
    for (const def of defs) this.add(def);
  }

  add(def: ObjectDef): ObjectSchema {
    const schema = new ObjectSchema(def);
    this.byLower.set(def.name.toLowerCase(), schema);
    this.byPrefix.set(def.keyPrefix, schema);
    this.childrenCache = new Map();
    return schema;
  }

  /** Replace an object's definition (metadata changes such as an added field). */
  replace(def: ObjectDef): ObjectSchema {
    return this.add(def);
  }

  object(name: string): ObjectSchema | undefined {
    return this.byLower.get(name.toLowerCase());
  }

  /** The object an ID belongs to, from its three-character key prefix. */
  objectForId(id: string): ObjectSchema | undefined {
    return this.byPrefix.get(id.slice(0, 3));
  }

  objects(): ObjectSchema[] {
    return [...this.byLower.values()];
  }

  /** Child relationships of an object, derived from every reference field that points at it. */
  childRelationships(objectName: string): ChildRelationship[] {
    const key = objectName.toLowerCase();
    const cached = this.childrenCache.get(key);
    if (cached) return cached;
    const result: ChildRelationship[] = [];
    for (const child of this.byLower.values()) {
      for (const field of child.def.fields) {
        if (field.type !== 'reference' || !field.referenceTo) continue;
        if (!field.referenceTo.some((t) => t.toLowerCase() === key)) continue;
        result.push({
          childSObject: child.name,
          field: field.name,
          relationshipName: field.relationshipName ? childRelationshipName(child.def, field) : null,
          cascadeDelete: Boolean(field.cascadeDelete),
          restrictedDelete: Boolean(field.restrictedDelete),
        });
      }
    }
    this.childrenCache.set(key, result);
    return result;
  }
}

/**
 * The name a parent uses in a subquery for a child relationship. Standard objects use the plural
 * label without spaces (Contacts, Opportunities); custom relationships end in `__r`. A field can
 * carry an explicit one in `childRelationshipName`.
 */
function childRelationshipName(child: ObjectDef, field: FieldDef): string | null {
  if (field.childRelationshipName !== undefined) return field.childRelationshipName;
  if (field.custom) return `${child.labelPlural.replace(/[^A-Za-z0-9]/g, '_')}__r`;
  return child.labelPlural.replace(/[^A-Za-z0-9]/g, '');
}
