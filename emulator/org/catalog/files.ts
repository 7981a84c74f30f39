/**
 * Notes, attachments, documents and Salesforce Files (ContentVersion, ContentDocument,
 * ContentDocumentLink). Binary bodies are base64 fields; their sizes and file types are computed
 * from the body and the client path so they can never disagree with it.
 */
import type { StoredRecord } from '../schema.ts';
import {
  CREATE_ONLY,
  DATA_OBJECT,
  READ_ONLY,
  REQUIRED,
  auditFields,
  base64,
  checkbox,
  date,
  datetime,
  idField,
  int,
  isDeleted,
  lastViewedFields,
  masterRecordType,
  ownerId,
  picklist,
  polymorphic,
  reference,
  stampFields,
  systemModstamp,
  text,
  textarea,
  url,
} from './fields.ts';
import type { CatalogField, CatalogObject, FieldOptions } from './fields.ts';
import { ATTACHMENT_PARENTS, CONTENT_LINK_TARGETS, NOTE_PARENTS } from './targets.ts';

/** Decoded size of a base64 body, without decoding it. */
export function base64ByteLength(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const clean = /\s/.test(value) ? value.replace(/\s+/g, '') : value;
  const padding = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - padding;
}

/** Lower-case extension of a client path (`report.PDF` → `pdf`), or null. */
export function fileExtension(pathOnClient: unknown): string | null {
  if (typeof pathOnClient !== 'string') return null;
  const name = pathOnClient.split(/[\\/]/).pop() ?? '';
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : null;
}

const FILE_TYPES: Record<string, string> = {
  pdf: 'PDF',
  png: 'PNG',
  jpg: 'JPG',
  jpeg: 'JPEG',
  gif: 'GIF',
  bmp: 'BMP',
  txt: 'TEXT',
  csv: 'CSV',
  html: 'HTML',
  htm: 'HTML',
  xml: 'XML',
  json: 'JSON',
  zip: 'ZIP',
  doc: 'WORD',
  docx: 'WORD_X',
  xls: 'EXCEL',
  xlsx: 'EXCEL_X',
  ppt: 'POWER_POINT',
  pptx: 'POWER_POINT_X',
  rtf: 'RTF',
  mp4: 'MP4',
  mp3: 'MP3',
};

/** Salesforce's FileType for an extension; UNKNOWN for the rest. */
export function fileType(extension: string | null): string | null {
  if (extension === null) return null;
  return FILE_TYPES[extension] ?? 'UNKNOWN';
}

/** A size field computed from a base64 body, keeping a stored value when the body is absent. */
function bodyLength(name: string, label: string, bodyField: string, o: FieldOptions = {}): CatalogField {
  return int(name, label, 18, {
    ...READ_ONLY,
    describeHints: { calculated: false },
    formula: (ctx) => base64ByteLength(ctx.record[bodyField]) ?? ctx.record[name] ?? null,
    ...o,
  });
}

export function note(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Note ID'),
    isDeleted(),
    polymorphic('ParentId', 'Parent ID', NOTE_PARENTS, 'Parent', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'Notes',
    }),
    text('Title', 'Title', 80, { ...REQUIRED, nameField: true }),
    checkbox('IsPrivate', 'Private'),
    textarea('Body', 'Body', 32000),
    ownerId(),
    ...stampFields(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Note',
    label: 'Note',
    labelPlural: 'Notes',
    keyPrefix: '002',
    searchable: false,
    fields,
  };
}

export function attachment(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Attachment ID'),
    isDeleted(),
    polymorphic('ParentId', 'Parent ID', ATTACHMENT_PARENTS, 'Parent', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'Attachments',
    }),
    text('Name', 'File Name', 255, { ...REQUIRED, nameField: true }),
    checkbox('IsPrivate', 'Private'),
    text('ContentType', 'Content Type', 120),
    bodyLength('BodyLength', 'Body Length', 'Body'),
    base64('Body', 'Body', REQUIRED),
    ownerId(),
    ...stampFields(),
    textarea('Description', 'Description', 500),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Attachment',
    label: 'Attachment',
    labelPlural: 'Attachments',
    keyPrefix: '00P',
    searchable: false,
    layoutable: false,
    fields,
  };
}

export function folder(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Folder ID'),
    text('Name', 'Name', 40, { ...REQUIRED, nameField: true }),
    text('DeveloperName', 'Folder Unique Name', 80, { defaultedOnCreate: true }),
    picklist('AccessType', 'Access Type', ['Shared', 'Public', 'Hidden', 'PublicInternal'], { length: 40, ...REQUIRED, restrictedPicklist: true }),
    checkbox('IsReadonly', 'Read Only', false, READ_ONLY),
    picklist('Type', 'Type', ['Document', 'Email', 'Report', 'Dashboard', 'EmailTemplate'], {
      length: 40,
      ...REQUIRED,
      ...CREATE_ONLY,
      restrictedPicklist: true,
    }),
    text('NamespacePrefix', 'Namespace Prefix', 15, READ_ONLY),
    reference('ParentId', 'Parent Folder ID', 'Folder', 'Parent', { childRelationshipName: 'SubFolders' }),
    ...stampFields(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Folder',
    label: 'Folder',
    labelPlural: 'Folders',
    keyPrefix: '00l',
    undeletable: false,
    searchable: false,
    triggerable: false,
    layoutable: false,
    recycleBin: false,
    fields,
  };
}

export function documentObject(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Document ID'),
    // A document lives in a folder, or in a user's personal folder (the user's ID).
    polymorphic('FolderId', 'Folder ID', ['Folder', 'User'], 'Folder', { ...REQUIRED, childRelationshipName: null }),
    isDeleted(),
    text('Name', 'Document Name', 255, { ...REQUIRED, nameField: true }),
    text('DeveloperName', 'Document Unique Name', 80, { ...REQUIRED, defaultedOnCreate: true }),
    text('NamespacePrefix', 'Namespace Prefix', 15, READ_ONLY),
    text('ContentType', 'MIME Type', 120),
    text('Type', 'File Extension', 40),
    checkbox('IsPublic', 'Externally Available'),
    bodyLength('BodyLength', 'Body Length', 'Body'),
    base64('Body', 'Body'),
    text('Url', 'Url', 255),
    textarea('Description', 'Description', 255),
    text('Keywords', 'Keywords', 255),
    checkbox('IsInternalUseOnly', 'Internal Use Only'),
    reference('AuthorId', 'Author ID', 'User', 'Author', { ...REQUIRED, defaultedOnCreate: true, childRelationshipName: null }),
    ...stampFields(),
    checkbox('IsBodySearchable', 'Document Content Searchable', false, READ_ONLY),
    ...lastViewedFields(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Document',
    label: 'Document',
    labelPlural: 'Documents',
    keyPrefix: '015',
    triggerable: false,
    fields,
  };
}

const SHARING_OPTIONS = [
  ['A', 'Allowed'],
  ['R', 'Restricted'],
] as const;
const SHARING_PRIVACY = [
  ['N', 'None'],
  ['P', 'Private on Records'],
] as const;
const PUBLISH_STATUSES = [
  ['U', 'Upload Interrupted'],
  ['P', 'Public'],
  ['R', 'Private Library'],
] as const;

function latestVersion(record: StoredRecord, lookup: (id: string) => StoredRecord | undefined): StoredRecord | undefined {
  const id = record.LatestPublishedVersionId;
  return typeof id === 'string' ? lookup(id) : undefined;
}

export function contentVersion(): CatalogObject {
  const fields: CatalogField[] = [
    idField('ContentVersion ID'),
    // Set it to add a version to an existing file; leave it out and a new ContentDocument is made.
    reference('ContentDocumentId', 'ContentDocument ID', 'ContentDocument', 'ContentDocument', {
      ...CREATE_ONLY,
      defaultedOnCreate: true,
      cascadeDelete: true,
      childRelationshipName: 'ContentVersions',
    }),
    checkbox('IsLatest', 'Is Latest', false, READ_ONLY),
    url('ContentUrl', 'Content URL', { length: 1300 }),
    text('VersionNumber', 'Version Number', 20, { ...READ_ONLY, defaultedOnCreate: true }),
    text('Title', 'Title', 255, { ...REQUIRED, nameField: true, defaultedOnCreate: true }),
    textarea('Description', 'Description', 1000),
    text('ReasonForChange', 'Reason For Change', 1000),
    picklist('SharingOption', 'Prevent others from sharing and unsharing', SHARING_OPTIONS, {
      length: 40,
      ...REQUIRED,
      restrictedPicklist: true,
      default: 'A',
    }),
    picklist('SharingPrivacy', 'File Privacy on Records', SHARING_PRIVACY, {
      length: 40,
      ...REQUIRED,
      restrictedPicklist: true,
      default: 'N',
    }),
    text('PathOnClient', 'Path On Client', 500, CREATE_ONLY),
    int('RatingCount', 'Rating Count', 9, READ_ONLY),
    isDeleted(),
    datetime('ContentModifiedDate', 'Content Modified Date', { ...READ_ONLY, defaultedOnCreate: true }),
    reference('ContentModifiedById', 'User ID', 'User', 'ContentModifiedBy', { ...READ_ONLY, childRelationshipName: null }),
    int('PositiveRatingCount', 'Positive Rating Count', 9, READ_ONLY),
    int('NegativeRatingCount', 'Negative Rating Count', 9, READ_ONLY),
    ownerId(),
    ...stampFields(),
    textarea('TagCsv', 'Tags', 2000),
    text('FileType', 'File Type', 20, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => fileType(fileExtension(ctx.record.PathOnClient)) ?? ctx.record.FileType ?? null,
    }),
    picklist('PublishStatus', 'Publish Status', PUBLISH_STATUSES, { length: 40, ...REQUIRED, ...READ_ONLY, restrictedPicklist: true }),
    base64('VersionData', 'Version Data', CREATE_ONLY),
    bodyLength('ContentSize', 'Size', 'VersionData'),
    text('FileExtension', 'File Extension', 40, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => fileExtension(ctx.record.PathOnClient) ?? ctx.record.FileExtension ?? null,
    }),
    polymorphic('FirstPublishLocationId', 'First Publish Location ID', CONTENT_LINK_TARGETS, 'FirstPublishLocation', {
      ...CREATE_ONLY,
      childRelationshipName: null,
    }),
    picklist('Origin', 'Content Origin', [['C', 'Content'], ['H', 'Chatter']], {
      length: 40,
      ...REQUIRED,
      ...CREATE_ONLY,
      restrictedPicklist: true,
      default: 'C',
    }),
    picklist('ContentLocation', 'Content Location', [['S', 'Salesforce'], ['E', 'External'], ['L', 'Social Customer Service']], {
      length: 40,
      ...REQUIRED,
      ...CREATE_ONLY,
      restrictedPicklist: true,
      default: 'S',
    }),
    text('TextPreview', 'Text Preview', 255, READ_ONLY),
    text('Checksum', 'Checksum', 50, READ_ONLY),
    checkbox('IsMajorVersion', 'Major Version', true, CREATE_ONLY),
    checkbox('IsAssetEnabled', 'Asset File Enabled', false, CREATE_ONLY),
    url('VersionDataUrl', 'Version Data URL', READ_ONLY),
  ];
  return {
    ...DATA_OBJECT,
    name: 'ContentVersion',
    label: 'Content Version',
    labelPlural: 'Content Versions',
    keyPrefix: '068',
    // Versions go away with their document; they are never deleted or undeleted on their own.
    deletable: false,
    undeletable: false,
    recycleBin: false,
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
  };
}

export function contentDocument(): CatalogObject {
  const fromLatest = (name: string, label: string, length: number, compute: (v: StoredRecord) => unknown) =>
    text(name, label, length, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => {
        const version = latestVersion(ctx.record, (id) => ctx.lookup(id));
        return version ? compute(version) : (ctx.record[name] ?? null);
      },
    });
  const [createdDate, createdById, lastModifiedDate, lastModifiedById] = auditFields();
  const fields: CatalogField[] = [
    idField('ContentDocument ID'),
    createdById,
    createdDate,
    lastModifiedById,
    lastModifiedDate,
    checkbox('IsArchived', 'Is Archived', false, READ_ONLY),
    reference('ArchivedById', 'User ID', 'User', 'ArchivedBy', { ...READ_ONLY, childRelationshipName: null }),
    date('ArchivedDate', 'Archived Date', READ_ONLY),
    isDeleted(),
    { ...ownerId(), createable: false },
    systemModstamp(),
    text('Title', 'Title', 255, { ...REQUIRED, createable: false, nameField: true }),
    picklist('PublishStatus', 'Publish Status', PUBLISH_STATUSES, { length: 40, ...REQUIRED, ...READ_ONLY, restrictedPicklist: true }),
    reference('LatestPublishedVersionId', 'Latest Published Version ID', 'ContentVersion', 'LatestPublishedVersion', {
      ...READ_ONLY,
      childRelationshipName: null,
    }),
    ...lastViewedFields(),
    textarea('Description', 'Description', 1000, { createable: false }),
    int('ContentSize', 'Size', 18, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => {
        const version = latestVersion(ctx.record, (id) => ctx.lookup(id));
        return (version && base64ByteLength(version.VersionData)) ?? ctx.record.ContentSize ?? null;
      },
    }),
    fromLatest('FileType', 'File Type', 20, (v) => fileType(fileExtension(v.PathOnClient))),
    fromLatest('FileExtension', 'File Extension', 40, (v) => fileExtension(v.PathOnClient)),
    picklist('SharingOption', 'Prevent others from sharing and unsharing', SHARING_OPTIONS, {
      length: 40,
      ...REQUIRED,
      createable: false,
      restrictedPicklist: true,
      default: 'A',
    }),
    picklist('SharingPrivacy', 'File Privacy on Records', SHARING_PRIVACY, {
      length: 40,
      ...REQUIRED,
      createable: false,
      restrictedPicklist: true,
      default: 'N',
    }),
    datetime('ContentModifiedDate', 'Content Modified Date', READ_ONLY),
  ];
  return {
    ...DATA_OBJECT,
    name: 'ContentDocument',
    label: 'Content Document',
    labelPlural: 'Content Documents',
    keyPrefix: '069',
    // Files are made by inserting a ContentVersion.
    createable: false,
    fields,
  };
}

export function contentDocumentLink(): CatalogObject {
  // Real ContentDocumentLink has IsDeleted and SystemModstamp but no created/modified audit fields.
  const fields: CatalogField[] = [
    idField('ContentDocument Link ID'),
    polymorphic('LinkedEntityId', 'Linked Entity ID', CONTENT_LINK_TARGETS, 'LinkedEntity', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'ContentDocumentLinks',
    }),
    reference('ContentDocumentId', 'ContentDocument ID', 'ContentDocument', 'ContentDocument', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'ContentDocumentLinks',
    }),
    isDeleted(),
    systemModstamp(),
    picklist('ShareType', 'Share Type', [['V', 'Viewer'], ['C', 'Collaborator'], ['I', 'Inferred']], {
      length: 40,
      restrictedPicklist: true,
      default: 'V',
    }),
    picklist('Visibility', 'Visibility', ['AllUsers', 'InternalUsers', 'SharedUsers'], {
      length: 40,
      restrictedPicklist: true,
      default: 'AllUsers',
    }),
  ];
  return {
    ...DATA_OBJECT,
    name: 'ContentDocumentLink',
    label: 'ContentDocument Link',
    labelPlural: 'ContentDocument Link',
    keyPrefix: '06A',
    undeletable: false,
    replicateable: false,
    searchable: false,
    layoutable: false,
    recycleBin: false,
    fields,
  };
}
