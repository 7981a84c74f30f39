/**
 * The org's metadata components, generated from its schema, its records and the metadata state:
 * what listMetadata lists, readMetadata reads and retrieve packs. Every component renders to the
 * body of its Metadata API file; readMetadata returns the same body with the fullName, so the two
 * views cannot drift apart.
 *
 * Profiles follow the rule a backup must know about: a retrieved profile only carries the
 * permissions on components retrieved with it (objects, fields, layouts, record types, classes).
 */
import { CUSTOMER_INTERACTION_INDEX } from '../org/catalog/index.ts';
import { describeSObject } from '../org/describe.ts';
import type { Org } from '../org/org.ts';
import type { FieldDef, ObjectDef, ObjectSchema, RecordTypeDef, StoredRecord } from '../org/schema.ts';
import { parseDatetime } from '../org/values.ts';
import { LATEST_API_VERSION } from '../server/context.ts';
import { customFieldRecord, standardFieldRecord } from './field-types.ts';
import { layoutFieldNames } from './model.ts';
import type { MetadataState, ValidationRuleMetadata } from './model.ts';
import { FOLDER_TYPE_OF, typeInfo } from './types.ts';
import type { ImplementedType } from './types.ts';
import type { FolderedType } from './seed.ts';
import { metadataFile, node, parseMetadataFile, record } from './xml.ts';
import type { XmlNode, XmlRecord } from './xml.ts';

/** Dates the org already records for a component (profiles and record types are records). */
export interface KnownDates {
  createdMs: number;
  createdById: string;
  lastModifiedMs: number;
  lastModifiedById: string;
}

export interface Component {
  type: ImplementedType;
  fullName: string;
  /** Path inside a package, e.g. `objects/Account.object`; child components share their parent's. */
  fileName: string;
  /** Empty for standard objects, which have no metadata ID. */
  id: string;
  /** Standard objects: FileProperties show epoch dates and no manageable state. */
  standard: boolean;
  /** Root element of the file, and the xsi:type of the readMetadata record. */
  root: string;
  /** The file's body (the readMetadata record without fullName); for code, the -meta.xml body. */
  body: XmlNode[];
  /** Source of Apex classes and triggers, the `.cls` or `.trigger` file; an email template's body. */
  source?: string;
  /** A document's bytes (its file beside the `-meta.xml`). */
  binary?: Buffer;
  /** Folders are a `-meta.xml` file beside the folder of their components (`reports/Sales-meta.xml`). */
  isFolder?: boolean;
  known?: KnownDates;
  /** The object a CustomField, ValidationRule or RecordType lives in. */
  parent?: string;
}

/** Which children of an object a partial `.object` file carries (names lower case, no prefix). */
export interface ObjectScope {
  whole: boolean;
  fields: Set<string>;
  validationRules: Set<string>;
  recordTypes: Set<string>;
}

/** The components retrieved beside a profile; its permissions are limited to them. */
export interface ProfileScope {
  objects: Set<string>;
  /** `object.field`, lower case. */
  fields: Set<string>;
  layouts: Set<string>;
  /** `object.developername`, lower case. */
  recordTypes: Set<string>;
  classes: Set<string>;
}

/** Objects without custom fields, layouts or a CustomObject component. */
const NOT_CUSTOMIZABLE = new Set(['Profile', 'Group', 'RecordType', 'Organization', 'LoginHistory', 'SetupAuditTrail', 'ContentDocument', 'ContentDocumentLink', 'Note', 'Attachment', 'Folder', 'CaseComment', 'Document']);
/** Objects whose access follows another's (activities, line items, members): no object permissions. */
const NO_OBJECT_PERMISSIONS = new Set(['User', 'Task', 'Event', 'OpportunityLineItem', 'OpportunityContactRole', 'PricebookEntry', 'CampaignMember', 'ContentVersion']);
/** Salesforce's API names of standard profiles; custom profiles keep their names. */
const PROFILE_NAMES: Record<string, string> = {
  'System Administrator': 'Admin',
  'Standard User': 'Standard',
  'Marketing User': 'MarketingProfile',
  'Contract Manager': 'ContractManager',
  'Read Only': 'ReadOnly',
  'Solution Manager': 'SolutionManager',
  'Standard Platform User': 'StandardAul',
};

const lower = (s: string): string => s.toLowerCase();
const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function bodyOf(value: XmlRecord): XmlNode[] {
  return record({ ...value, fullName: undefined });
}

function isCustom(field: FieldDef): boolean {
  return Boolean(field.custom) || field.name.endsWith('__c');
}

/** Objects that are CustomObject components (standard ones included), by name. */
export function metadataObjects(org: Org): ObjectSchema[] {
  return org.schema.objects().filter((o) => o.def.custom || !NOT_CUSTOMIZABLE.has(o.name)).sort(byName);
}

function knownDates(record: StoredRecord | undefined): KnownDates | undefined {
  if (!record) return undefined;
  const created = parseDatetime(String(record.CreatedDate ?? ''));
  const modified = parseDatetime(String(record.LastModifiedDate ?? ''));
  if (Number.isNaN(created) || Number.isNaN(modified)) return undefined;
  return { createdMs: created, createdById: String(record.CreatedById), lastModifiedMs: modified, lastModifiedById: String(record.LastModifiedById) };
}

/** The org's validation rules: one store, whether deployed, seeded or added as behaviours. */
function allRules(state: MetadataState): ValidationRuleMetadata[] {
  return [...state.rules.values()];
}

function rulesOf(org: Org, state: MetadataState, objectName: string): ValidationRuleMetadata[] {
  const key = lower(objectName);
  return allRules(state).filter((r) => lower(r.object) === key).sort((a, b) => (a.fullName < b.fullName ? -1 : 1));
}

function ruleRecord(rule: ValidationRuleMetadata, fullName = rule.fullName): XmlRecord {
  return {
    fullName,
    active: rule.active,
    description: rule.description,
    errorConditionFormula: rule.errorConditionFormula,
    errorDisplayField: rule.errorDisplayField,
    errorMessage: rule.errorMessage,
  };
}

function recordTypeRecord(org: Org, rt: RecordTypeDef, fullName = rt.developerName): XmlRecord {
  const description = org.get(rt.id)?.Description;
  return { fullName, active: rt.active, description: typeof description === 'string' ? description : undefined, label: rt.name };
}

function customRecordTypes(def: ObjectDef): RecordTypeDef[] {
  return (def.recordTypes ?? []).filter((rt) => !rt.master).sort((a, b) => (a.developerName < b.developerName ? -1 : 1));
}

/** Standard fields an org can customize (help text, history tracking): the editable ones. */
function customizableStandardField(field: FieldDef): boolean {
  return !isCustom(field) && (field.createable || field.updateable) && field.type !== 'id' && field.name !== 'RecordTypeId';
}

/** The body of an `.object` file, whole or with only the children a retrieve named. */
export function objectBody(org: Org, state: MetadataState, object: ObjectSchema, scope?: ObjectScope): XmlNode[] {
  const def = object.def;
  const whole = !scope || scope.whole;
  const fields = def.fields
    .filter((f) => (isCustom(f) ? f.name !== 'Name' : !def.custom && customizableStandardField(f)))
    .filter((f) => whole || scope!.fields.has(lower(f.name)))
    .sort(byName)
    .map((f) => (isCustom(f) ? customFieldRecord(def, f) : standardFieldRecord(def, f)));
  const validationRules = rulesOf(org, state, def.name).filter((r) => whole || scope!.validationRules.has(lower(r.fullName))).map((r) => ruleRecord(r));
  const recordTypes = customRecordTypes(def).filter((rt) => whole || scope!.recordTypes.has(lower(rt.developerName))).map((rt) => recordTypeRecord(org, rt));
  if (!whole) return record({ fields, recordTypes, validationRules });
  if (def.name.endsWith('__b')) {
    const index = def.name === 'Customer_Interaction__b'
      ? { fullName: 'Customer_Interaction_Index', fields: CUSTOMER_INTERACTION_INDEX.map((name) => ({ name, sortDirection: 'DESC' })), label: 'Customer Interaction Index' }
      : undefined;
    return record({ deploymentStatus: 'Deployed', fields, indexes: index, label: def.label, pluralLabel: def.labelPlural });
  }
  const master = def.fields.some((f) => f.relationshipOrder !== undefined);
  const parented = master || def.fields.some((f) => f.cascadeDelete && f.type === 'reference' && !isCustom(f));
  if (!def.custom) {
    return record({
      compactLayoutAssignment: 'SYSTEM',
      enableFeeds: Boolean(def.feedEnabled),
      enableHistory: false,
      externalSharingModel: 'Private',
      fields,
      recordTypes,
      sharingModel: parented ? 'ControlledByParent' : 'ReadWrite',
      validationRules,
    });
  }
  const name = def.fields.find((f) => f.name === 'Name');
  return record({
    allowInChatterGroups: false,
    compactLayoutAssignment: 'SYSTEM',
    deploymentStatus: 'Deployed',
    enableActivities: def.fields.some((f) => f.name === 'LastActivityDate'),
    enableBulkApi: true,
    enableFeeds: Boolean(def.feedEnabled),
    enableHistory: false,
    enableLicensing: false,
    enableReports: true,
    enableSearch: def.searchable,
    enableSharing: true,
    enableStreamingApi: true,
    externalSharingModel: master ? 'ControlledByParent' : 'Private',
    fields,
    label: def.label,
    nameField: name
      ? { displayFormat: name.autoNumber ? name.autoNumberFormat : undefined, label: name.label, trackHistory: false, type: name.autoNumber ? 'AutoNumber' : 'Text' }
      : undefined,
    pluralLabel: def.labelPlural,
    recordTypes,
    sharingModel: master ? 'ControlledByParent' : 'ReadWrite',
    validationRules,
    visibility: 'Public',
  });
}

// ------------------------------------------------------------------------------ layouts

export function layoutName(def: ObjectDef): string {
  return `${def.name}-${def.label} Layout`;
}

function behavior(field: FieldDef): string {
  if ((!field.createable && !field.updateable) || field.formula || field.rollup || field.autoNumber) return 'Readonly';
  if (!field.nillable && field.type !== 'boolean' && !field.defaultedOnCreate) return 'Required';
  return 'Edit';
}

function layoutBody(org: Org, state: MetadataState, object: ObjectSchema): XmlNode[] {
  const fields = layoutFieldNames(state, object.def).map((n) => object.field(n)).filter((f): f is FieldDef => Boolean(f));
  const half = Math.ceil(fields.length / 2);
  const column = (items: FieldDef[]): XmlRecord => ({ layoutItems: items.map((f) => ({ behavior: behavior(f), field: f.name })) });
  const system = ['CreatedById', 'LastModifiedById'].filter((n) => object.has(n));
  const related = org.schema
    .childRelationships(object.name)
    .filter((rel) => rel.relationshipName?.endsWith('__r'))
    .sort((a, b) => (`${a.childSObject}.${a.field}` < `${b.childSObject}.${b.field}` ? -1 : 1))
    .map((rel) => ({ fields: 'NAME', relatedList: `${rel.childSObject}.${rel.field}` }));
  return record({
    layoutSections: [
      { customLabel: false, detailHeading: false, editHeading: true, label: 'Information', layoutColumns: [column(fields.slice(0, half)), column(fields.slice(half))], style: 'TwoColumnsTopToBottom' },
      {
        customLabel: false,
        detailHeading: true,
        editHeading: false,
        label: 'System Information',
        layoutColumns: system.map((n) => ({ layoutItems: [{ behavior: 'Readonly', field: n }] })),
        style: 'TwoColumnsTopToBottom',
      },
    ],
    relatedLists: related,
    showEmailCheckbox: false,
    showHighlightsPanel: false,
    showInteractionLogPanel: false,
    showRunAssignmentRulesCheckbox: false,
    showSubmitAndAttachButton: false,
  });
}

// ------------------------------------------------------------------------------ permissions

interface ObjectPermission {
  read: boolean;
  create: boolean;
  edit: boolean;
  delete: boolean;
  viewAll: boolean;
  modifyAll: boolean;
}

interface Access {
  object(def: ObjectDef): ObjectPermission;
  field(def: ObjectDef, field: FieldDef): { readable: boolean; editable: boolean };
  apex: boolean;
  userPermissions: string[];
  license: string;
}

const permissionable = new WeakMap<ObjectDef, Set<string>>();

/** Fields that take field-level security, as describe reports them. */
function permissionableFields(org: Org, object: ObjectSchema): FieldDef[] {
  let names = permissionable.get(object.def);
  if (!names) {
    const described = describeSObject(org.schema, object.name, LATEST_API_VERSION) as { fields: { name: string; permissionable: boolean }[] };
    names = new Set(described.fields.filter((f) => f.permissionable).map((f) => f.name));
    permissionable.set(object.def, names);
  }
  const set = names;
  return object.def.fields.filter((f) => set.has(f.name)).sort(byName);
}

function permissionObjects(org: Org): ObjectSchema[] {
  return metadataObjects(org).filter((o) => !NO_OBJECT_PERMISSIONS.has(o.name));
}

function fieldEditable(field: FieldDef): boolean {
  // An address is edited through its components, so its permission follows theirs.
  if (field.type === 'address') return true;
  return (field.createable || field.updateable) && !field.formula && !field.rollup && !field.autoNumber;
}

const NONE: ObjectPermission = { read: false, create: false, edit: false, delete: false, viewAll: false, modifyAll: false };

/**
 * What a profile grants. The API user's profile is the org's access control (the admin API's
 * permission switches); the other standard profiles grant what their names say.
 */
function profileAccess(org: Org, profile: StoredRecord): Access {
  const apiUser = profile.Id === org.get(org.apiUserId)?.ProfileId;
  const modifyAll = profile.PermissionsModifyAllData === true;
  const name = String(profile.Name ?? '');
  const kind = apiUser ? 'api' : modifyAll ? 'admin' : name.startsWith('Minimum Access') ? 'none' : profile.PermissionsViewAllData === true ? 'read' : 'standard';
  const state = org.access.exportState();
  const readOnly = new Set(state.readOnlyObjects);
  const object = (def: ObjectDef): ObjectPermission => {
    switch (kind) {
      case 'api': {
        if (!org.access.canReadObject(def.name)) return NONE;
        const write = !readOnly.has(lower(def.name));
        const p = { read: true, create: def.createable && write, edit: def.updateable && write, delete: def.deletable && write };
        return { ...p, viewAll: state.permissions.viewAllData, modifyAll: state.permissions.modifyAllData && p.create && p.edit && p.delete };
      }
      case 'admin':
        return { read: true, create: def.createable, edit: def.updateable, delete: def.deletable, viewAll: true, modifyAll: def.createable && def.updateable && def.deletable };
      case 'read':
        return { ...NONE, read: true, viewAll: true };
      case 'none':
        return NONE;
      default:
        return { read: true, create: def.createable, edit: def.updateable, delete: def.deletable, viewAll: false, modifyAll: false };
    }
  };
  const userPermissions = Object.keys(profile)
    .filter((k) => k.startsWith('Permissions') && profile[k] === true)
    .map((k) => k.slice('Permissions'.length));
  if (apiUser) {
    const overrides: Record<string, boolean> = {
      ApiEnabled: state.permissions.apiEnabled,
      ViewAllData: state.permissions.viewAllData,
      ModifyAllData: state.permissions.modifyAllData,
      ViewEncryptedData: state.permissions.viewEncryptedData,
      QueryAllFiles: state.permissions.queryAllFiles,
      CreateAuditFields: state.permissions.setAuditFields,
    };
    for (const [perm, on] of Object.entries(overrides)) {
      const at = userPermissions.indexOf(perm);
      if (on && at < 0) userPermissions.push(perm);
      if (!on && at >= 0) userPermissions.splice(at, 1);
    }
  }
  return {
    object,
    field(def, field) {
      const o = object(def);
      const readable = o.read && (kind !== 'api' || org.access.canReadField(def.name, field.name));
      return { readable, editable: readable && (o.edit || o.create) && fieldEditable(field) };
    },
    apex: kind === 'api' || kind === 'admin',
    userPermissions: userPermissions.sort(),
    license: name.includes('API Only') ? 'Salesforce Integration' : 'Salesforce',
  };
}

function objectPermissionRecord(name: string, p: ObjectPermission): XmlRecord {
  return { allowCreate: p.create, allowDelete: p.delete, allowEdit: p.edit, allowRead: p.read, modifyAllRecords: p.modifyAll, object: name, viewAllRecords: p.viewAll };
}

/** A profile's body; with a scope, only the permissions on the components retrieved with it. */
export function profileBody(org: Org, state: MetadataState, profile: StoredRecord, scope?: ProfileScope): XmlNode[] {
  const access = profileAccess(org, profile);
  const within = (set: keyof ProfileScope, key: string): boolean => !scope || scope[set].has(lower(key));
  const objects = permissionObjects(org);
  const objectPermissions = objects
    .filter((o) => within('objects', o.name))
    .map((o) => ({ name: o.name, p: access.object(o.def) }))
    .filter(({ p }) => p.read)
    .map(({ name, p }) => objectPermissionRecord(name, p));
  const fieldPermissions = objects.flatMap((o) =>
    permissionableFields(org, o)
      .filter((f) => within('fields', `${o.name}.${f.name}`))
      .map((f) => ({ ...access.field(o.def, f), field: `${o.name}.${f.name}` })),
  );
  const layoutAssignments: XmlRecord[] = [];
  const recordTypeVisibilities: XmlRecord[] = [];
  for (const o of metadataObjects(org)) {
    const readable = NO_OBJECT_PERMISSIONS.has(o.name) || access.object(o.def).read;
    if (!readable) continue;
    const layout = layoutName(o.def);
    const types = customRecordTypes(o.def);
    if (o.def.layoutable && within('layouts', layout)) {
      layoutAssignments.push({ layout });
      for (const rt of types) layoutAssignments.push({ layout, recordType: `${o.name}.${rt.developerName}` });
    }
    for (const rt of types) {
      const key = `${o.name}.${rt.developerName}`;
      if (within('recordTypes', key)) recordTypeVisibilities.push({ default: rt.defaultRecordTypeMapping, recordType: key, visible: rt.active });
    }
  }
  const classAccesses = [...state.apexClasses.values()]
    .filter((c) => within('classes', c.name))
    .sort(byName)
    .map((c) => ({ apexClass: c.name, enabled: access.apex }));
  return record(
    {
      classAccesses,
      custom: false,
      fieldPermissions,
      layoutAssignments,
      objectPermissions,
      recordTypeVisibilities,
      userLicense: access.license,
      userPermissions: access.userPermissions.map((name) => ({ enabled: true, name })),
    },
    [],
  );
}

function permissionSetBody(org: Org, state: MetadataState, name: string): XmlNode[] {
  const set = state.permissionSets.get(lower(name))!;
  const fieldPermissions = set.fieldObjects.flatMap((objectName) => {
    const object = org.schema.object(objectName);
    if (!object) return [];
    return permissionableFields(org, object)
      .filter(isCustom)
      .map((f) => ({ editable: set.editFields && fieldEditable(f), field: `${object.name}.${f.name}`, readable: true }));
  });
  return record(
    {
      classAccesses: set.classes.filter((c) => state.apexClasses.has(lower(c))).sort().map((apexClass) => ({ apexClass, enabled: true })),
      description: set.description,
      fieldPermissions,
      hasActivationRequired: false,
      label: set.label,
      objectPermissions: set.objects
        .filter((o) => org.schema.object(o.object))
        .map((o) => objectPermissionRecord(o.object, { read: o.read, create: o.create, edit: o.edit, delete: o.delete, viewAll: o.viewAll, modifyAll: o.modifyAll })),
      userPermissions: [...set.userPermissions].sort().map((n) => ({ enabled: true, name: n })),
    },
    [],
  );
}

export function profileFullName(profile: StoredRecord): string {
  const name = String(profile.Name ?? profile.Id);
  return PROFILE_NAMES[name] ?? name;
}

// ------------------------------------------------------------------------------ enumeration

/** Every component of a type, ordered by fullName. */
export function listComponents(org: Org, state: MetadataState, type: ImplementedType): Component[] {
  const components = generate(org, state, type);
  return components.sort((a, b) => (lower(a.fullName) < lower(b.fullName) ? -1 : lower(a.fullName) > lower(b.fullName) ? 1 : 0));
}

/** One component by fullName, case-insensitively as the Metadata API matches them. */
export function findComponent(org: Org, state: MetadataState, type: ImplementedType, fullName: string): Component | undefined {
  const wanted = lower(fullName);
  return generate(org, state, type).find((c) => lower(c.fullName) === wanted);
}

function generate(org: Org, state: MetadataState, type: ImplementedType): Component[] {
  switch (type) {
    case 'CustomObject':
      return metadataObjects(org).map((o) => ({
        type,
        fullName: o.name,
        fileName: `objects/${o.name}.object`,
        id: o.def.custom ? state.idFor(`CustomObject:${lower(o.name)}`, '01I') : '',
        standard: !o.def.custom,
        root: 'CustomObject',
        body: objectBody(org, state, o),
      }));
    case 'CustomField':
      return metadataObjects(org).flatMap((o) =>
        o.def.fields
          .filter((f) => isCustom(f) && f.name !== 'Name')
          .map((f) => {
            const fullName = `${o.name}.${f.name}`;
            return { type, fullName, fileName: `objects/${o.name}.object`, id: state.idFor(`CustomField:${lower(fullName)}`, '00N'), standard: false, root: 'CustomField', body: bodyOf(customFieldRecord(o.def, f)), parent: o.name };
          }),
      );
    case 'ValidationRule':
      return allRules(state)
        .filter((r) => org.schema.object(r.object))
        .map((r) => {
          const fullName = `${r.object}.${r.fullName}`;
          return { type, fullName, fileName: `objects/${r.object}.object`, id: state.idFor(`ValidationRule:${lower(fullName)}`, '03d'), standard: false, root: 'ValidationRule', body: bodyOf(ruleRecord(r)), parent: r.object };
        });
    case 'RecordType':
      return metadataObjects(org).flatMap((o) =>
        customRecordTypes(o.def).map((rt) => ({
          type,
          fullName: `${o.name}.${rt.developerName}`,
          fileName: `objects/${o.name}.object`,
          id: rt.id,
          standard: false,
          root: 'RecordType',
          body: bodyOf(recordTypeRecord(org, rt)),
          known: knownDates(org.get(rt.id)),
          parent: o.name,
        })),
      );
    case 'Layout':
      return metadataObjects(org)
        .filter((o) => o.def.layoutable)
        .map((o) => {
          const fullName = layoutName(o.def);
          return { type, fullName, fileName: `layouts/${fullName}.layout`, id: state.idFor(`Layout:${lower(fullName)}`, '00h'), standard: false, root: 'Layout', body: layoutBody(org, state, o) };
        });
    case 'Profile':
      return [...org.records('Profile')]
        .filter((p) => !p.IsDeleted)
        .map((p) => {
          const fullName = profileFullName(p);
          return { type, fullName, fileName: `profiles/${fullName}.profile`, id: p.Id, standard: false, root: 'Profile', body: profileBody(org, state, p), known: knownDates(p) };
        });
    case 'PermissionSet':
      return [...state.permissionSets.values()].map((p) => ({
        type,
        fullName: p.name,
        fileName: `permissionsets/${p.name}.permissionset`,
        id: state.idFor(`PermissionSet:${lower(p.name)}`, '0PS'),
        standard: false,
        root: 'PermissionSet',
        body: permissionSetBody(org, state, p.name),
      }));
    case 'ApexClass':
      return [...state.apexClasses.values()].map((c) => ({
        type,
        fullName: c.name,
        fileName: `classes/${c.name}.cls`,
        id: state.idFor(`ApexClass:${lower(c.name)}`, '01p'),
        standard: false,
        root: 'ApexClass',
        body: record({ apiVersion: c.apiVersion, status: c.status }),
        source: c.body,
      }));
    case 'ApexTrigger':
      return [...state.apexTriggers.values()].map((t) => ({
        type,
        fullName: t.name,
        fileName: `triggers/${t.name}.trigger`,
        id: state.idFor(`ApexTrigger:${lower(t.name)}`, '01q'),
        standard: false,
        root: 'ApexTrigger',
        body: record({ apiVersion: t.apiVersion, status: t.status }),
        source: t.body,
      }));
    case 'ReportFolder':
    case 'DashboardFolder':
    case 'DocumentFolder':
    case 'EmailFolder':
      return folderComponents(state, type);
    case 'Report':
    case 'Dashboard':
    case 'Document':
    case 'EmailTemplate':
      return folderedComponents(state, type);
    case 'Flow':
      return [...state.flows.values()].map((f) => ({
        type,
        fullName: f.name,
        fileName: `flows/${f.name}.flow`,
        id: state.idFor(`Flow:${lower(f.name)}`, '301'),
        standard: false,
        root: 'Flow',
        body: parseMetadataFile(f.xml).body,
      }));
  }
}

// ------------------------------------------------------------------------------ folders

/** Key prefixes of folder and in-folder component IDs (Folder, Report, Dashboard, Document, EmailTemplate). */
const FOLDERED_ID_PREFIX: Record<FolderedType, string> = { Report: '00O', Dashboard: '01Z', Document: '015', EmailTemplate: '00X' };
const FOLDER_CONTENT: Record<string, FolderedType> = Object.fromEntries(Object.entries(FOLDER_TYPE_OF).map(([content, folder]) => [folder, content as FolderedType]));

function folderComponents(state: MetadataState, type: ImplementedType): Component[] {
  const contentType = FOLDER_CONTENT[type]!;
  const directory = typeInfo(contentType)!.directoryName;
  return [...state.folders.values()]
    .filter((f) => f.contentType === contentType)
    .map((f) => ({
      type,
      fullName: f.name,
      fileName: `${directory}/${f.name}`,
      id: state.idFor(`Folder:${lower(contentType)}:${lower(f.name)}`, '00l'),
      standard: false,
      root: type,
      body: record({ accessType: f.accessType, name: f.label, publicFolderAccess: f.accessType === 'Public' ? f.publicFolderAccess : undefined }),
      isFolder: true,
    }));
}

function folderedComponents(state: MetadataState, type: FolderedType): Component[] {
  const info = typeInfo(type)!;
  return [...state.foldered.values()]
    .filter((item) => item.type === type)
    .map((item) => {
      const fullName = `${item.folder}/${item.name}`;
      const parsed = parseMetadataFile(item.xml);
      const component: Component = {
        type,
        fullName,
        // A document's name carries its own extension; the others take their type's suffix.
        fileName: `${info.directoryName}/${fullName}${info.suffix ? `.${info.suffix}` : ''}`,
        id: state.idFor(`${type}:${lower(fullName)}`, FOLDERED_ID_PREFIX[type]),
        standard: false,
        root: parsed.root,
        body: parsed.body,
      };
      if (type === 'EmailTemplate') component.source = item.content ?? '';
      if (type === 'Document') component.binary = Buffer.from(item.content ?? '', 'base64');
      return component;
    });
}

/** The readMetadata record of a component: its body with fullName (and content, for code, email templates and documents). */
export function readRecord(component: Component): XmlNode[] {
  const head = [node('fullName', component.fullName)];
  if (component.source !== undefined) head.push(node('content', Buffer.from(component.source, 'utf8').toString('base64')));
  if (component.binary !== undefined) head.push(node('content', component.binary.toString('base64')));
  return [...head, ...component.body];
}

/** The files a component occupies in a package (code has its source and a -meta.xml, a document its bytes and a -meta.xml). */
export function componentFiles(component: Component, body = component.body): { path: string; content: string | Buffer }[] {
  if (component.isFolder) return [{ path: `${component.fileName}-meta.xml`, content: metadataFile(component.root, body) }];
  if (component.binary !== undefined) {
    return [
      { path: component.fileName, content: component.binary },
      { path: `${component.fileName}-meta.xml`, content: metadataFile(component.root, body) },
    ];
  }
  if (component.source !== undefined) {
    return [
      { path: component.fileName, content: component.source },
      { path: `${component.fileName}-meta.xml`, content: metadataFile(component.root, body) },
    ];
  }
  return [{ path: component.fileName, content: metadataFile(component.root, body) }];
}
