/**
 * Salesforce Files as the write pipeline sees them. A file is a ContentDocument whose bytes live in
 * its ContentVersions; clients never create the document, they insert a version:
 * - without ContentDocumentId, a new document is made (Title, owner, size, latest version) and
 *   linked to its owner and to FirstPublishLocationId;
 * - with it, the version becomes the document's latest: VersionNumber counts up, IsLatest moves,
 *   the document follows (LatestPublishedVersionId, size, title).
 * Deleting a document takes its versions and links with it; they stay visible to queryAll until
 * the document comes back. Attachment and Document bodies are kept as bytes with their size.
 *
 * Seeding writes in system mode, which skips behaviours: seeders build the model themselves, with
 * base64 bodies whose sizes the catalog's formulas compute.
 */
import { createHash } from 'node:crypto';
import { SalesforceError } from '../org/errors.ts';
import type { Org, WriteContext } from '../org/org.ts';
import type { StoredRecord } from '../org/schema.ts';
import { parseDatetime } from '../org/values.ts';
import { FILE_BODIES, toStoredBlob } from './blob.ts';

/** The behaviour's name in `Org.behaviours`. */
export const FILES_BEHAVIOUR = 'files';

/** Attachment bodies are capped at 25 MB, Document bodies at 5 MB (object reference). */
export const ATTACHMENT_MAX_BYTES = 25 * 2 ** 20;
export const DOCUMENT_MAX_BYTES = 5 * 2 ** 20;

/** Installs the files content model on an org. Installing it again replaces it. */
export function installFiles(org: Org): void {
  org.addBehaviour({ name: FILES_BEHAVIOUR, validate, afterSave });
}

/** Whether the org has the files content model (uploads rely on it to take bytes). */
export function hasFiles(org: Org): boolean {
  return org.behaviours.some((b) => b.name === FILES_BEHAVIOUR);
}

// ------------------------------------------------------------------------------------ pipeline

function validate(ctx: WriteContext): SalesforceError[] | undefined {
  switch (ctx.object.name) {
    case 'ContentVersion':
      return ctx.operation === 'create' ? prepareVersion(ctx) : undefined;
    case 'Attachment':
    case 'Document':
      return ctx.operation === 'create' || ctx.operation === 'update' ? storeBody(ctx) : undefined;
    case 'ContentDocument':
      if (ctx.operation === 'delete') captureContents(ctx);
      return undefined;
    default:
      return undefined;
  }
}

function afterSave(ctx: WriteContext): void {
  if (ctx.object.name === 'ContentVersion') {
    if (ctx.operation === 'create') publishVersion(ctx);
    else if (ctx.operation === 'update') followTitle(ctx);
  } else if (ctx.object.name === 'ContentDocument') {
    if (ctx.operation === 'delete') keepContentsDeleted(ctx);
    else if (ctx.operation === 'undelete') restoreContents(ctx);
  }
}

// ------------------------------------------------------------------------------------ bodies

/** Attachment and Document: the body as bytes, its size, and the object's size limit. */
function storeBody(ctx: WriteContext): SalesforceError[] | undefined {
  const { body, size } = FILE_BODIES[ctx.object.name]!;
  if (!(body in ctx.input)) return undefined;
  // The record is the one about to be stored: these are its stored values, as a trigger's before
  // phase would set them.
  const blob = toStoredBlob(ctx.record[body]);
  ctx.record[body] = blob;
  ctx.record[size] = blob ? blob.bytes.length : null;
  const attachment = ctx.object.name === 'Attachment';
  if (blob && blob.bytes.length > (attachment ? ATTACHMENT_MAX_BYTES : DOCUMENT_MAX_BYTES)) {
    return [
      attachment
        ? new SalesforceError('MAXIMUM_SIZE_OF_ATTACHMENT', 'attachment data exceeded maximum size', { fields: ['BodyLength'] })
        : new SalesforceError('MAXIMUM_SIZE_OF_DOCUMENT', 'document data exceeded maximum size', { fields: ['BodyLength'] }),
    ];
  }
  return undefined;
}

// ------------------------------------------------------------------------------------ versions

/** Versions whose document this write created (their first version), until afterSave links it. */
const firstVersions = new WeakSet<StoredRecord>();

function missing(field: string): SalesforceError {
  return new SalesforceError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${field}]`, { fields: [field] });
}

/**
 * A new version, before it is stored: body, checksum and size, the defaults Salesforce fills in,
 * and its document (made here when the version starts a new file, so that the stored version
 * already carries its ContentDocumentId).
 */
function prepareVersion(ctx: WriteContext): SalesforceError[] | undefined {
  const { org, options } = ctx;
  const version = ctx.record;
  const blob = toStoredBlob(version.VersionData);
  if (!blob && !version.ContentUrl) return [missing('VersionData')];
  if (blob && !version.PathOnClient) return [missing('PathOnClient')];
  if (!version.Title) version.Title = titleOf(version.PathOnClient);
  if (!version.Title) return [missing('Title')];
  if (blob) {
    version.VersionData = blob;
    version.ContentSize = blob.bytes.length;
    version.Checksum = createHash('md5').update(blob.bytes).digest('hex');
  }
  version.IsLatest = true;
  version.ContentModifiedDate = version.CreatedDate;
  version.ContentModifiedById = options.userId;

  const documentId = typeof version.ContentDocumentId === 'string' ? version.ContentDocumentId : undefined;
  if (documentId) {
    const document = org.get(documentId)!;
    const versions = versionsOf(org, documentId);
    version.VersionNumber = String(versions.reduce((n, v) => Math.max(n, Number(v.VersionNumber) || 0), 0) + 1);
    version.PublishStatus = document.PublishStatus ?? 'P';
    const first = versions.find((v) => v.VersionNumber === '1') ?? versions[0];
    version.FirstPublishLocationId ??= first?.FirstPublishLocationId ?? null;
    return undefined;
  }

  // Without a location the file goes to the owner's personal library (PublishStatus R); a file
  // published to a record is public (P).
  const owner = String(version.OwnerId ?? options.userId);
  version.FirstPublishLocationId ??= owner;
  version.PublishStatus = String(version.FirstPublishLocationId).startsWith('005') ? 'R' : 'P';
  version.VersionNumber = '1';
  const document = org.load(
    'ContentDocument',
    {
      Title: version.Title,
      OwnerId: owner,
      PublishStatus: version.PublishStatus,
      LatestPublishedVersionId: version.Id,
      ContentSize: version.ContentSize ?? null,
      ContentModifiedDate: version.CreatedDate,
      SharingOption: version.SharingOption,
      SharingPrivacy: version.SharingPrivacy,
      Description: version.Description ?? null,
      IsArchived: false,
    },
    { userId: options.userId, stampMs: stampOf(version) },
  );
  version.ContentDocumentId = document.Id;
  firstVersions.add(version);
  return undefined;
}

/** Once the version is stored: the document moves to it, or (a new file) gets its links. */
function publishVersion(ctx: WriteContext): void {
  const { org, options } = ctx;
  const version = ctx.record;
  const stampMs = stampOf(version);
  const documentId = String(version.ContentDocumentId);
  if (firstVersions.has(version)) {
    const owner = String(version.OwnerId);
    const location = String(version.FirstPublishLocationId);
    // Salesforce links a new file to its owner (inferred access) and to the record it was
    // published to (viewer access).
    link(org, documentId, owner, 'I', options.userId, stampMs);
    if (location !== owner) link(org, documentId, location, 'V', options.userId, stampMs);
    return;
  }
  const stamp = String(version.SystemModstamp);
  for (const other of versionsOf(org, documentId)) {
    if (other.Id !== version.Id && other.IsLatest) replace(org, other, { IsLatest: false, SystemModstamp: stamp });
  }
  const document = org.get(documentId);
  if (!document) return;
  replace(org, document, {
    LatestPublishedVersionId: version.Id,
    Title: version.Title,
    ContentSize: version.ContentSize ?? null,
    ContentModifiedDate: stamp,
    LastModifiedDate: stamp,
    LastModifiedById: options.userId,
    SystemModstamp: stamp,
  });
}

/** Renaming the latest version renames the file. */
function followTitle(ctx: WriteContext): void {
  const version = ctx.record;
  if (!version.IsLatest || ctx.input.Title === undefined) return;
  const document = typeof version.ContentDocumentId === 'string' ? ctx.org.get(version.ContentDocumentId) : undefined;
  if (!document || document.Title === version.Title) return;
  const stamp = String(version.SystemModstamp);
  replace(ctx.org, document, { Title: version.Title, LastModifiedDate: stamp, LastModifiedById: ctx.options.userId, SystemModstamp: stamp });
}

function link(org: Org, documentId: string, entityId: string, shareType: 'I' | 'V', userId: string, stampMs: number): void {
  org.insert(
    'ContentDocumentLink',
    { ContentDocumentId: documentId, LinkedEntityId: entityId, ShareType: shareType, Visibility: 'AllUsers' },
    { userId, system: true, stampMs },
  );
}

// ------------------------------------------------------------------------------------ delete

/** A document's live versions and links as they were just before it was deleted. */
const contentsAtDelete = new WeakMap<StoredRecord, StoredRecord[]>();

function captureContents(ctx: WriteContext): void {
  const id = ctx.record.Id;
  const contents = [...versionsOf(ctx.org, id)];
  for (const link of ctx.org.records('ContentDocumentLink')) if (link.ContentDocumentId === id && !link.IsDeleted) contents.push(link);
  contentsAtDelete.set(ctx.record, contents);
}

/**
 * The catalog keeps versions and links out of the Recycle Bin (they cannot be undeleted on their
 * own), so the cascade removes them outright; Salesforce keeps them with their document, deleted.
 * They are put back as deleted rows, for queryAll and for the document's undelete.
 */
function keepContentsDeleted(ctx: WriteContext): void {
  const contents = ctx.previous ? contentsAtDelete.get(ctx.previous) : undefined;
  if (!contents) return;
  const stamp = String(ctx.record.SystemModstamp);
  for (const record of contents) {
    if (ctx.org.get(record.Id)) continue;
    replace(ctx.org, record, { IsDeleted: true, SystemModstamp: stamp });
  }
}

function restoreContents(ctx: WriteContext): void {
  const { org } = ctx;
  const id = ctx.record.Id;
  const stamp = String(ctx.record.SystemModstamp);
  for (const objectName of ['ContentVersion', 'ContentDocumentLink']) {
    for (const record of [...org.records(objectName)]) {
      if (record.ContentDocumentId !== id || !record.IsDeleted) continue;
      const entity = typeof record.LinkedEntityId === 'string' ? org.get(record.LinkedEntityId) : undefined;
      if (objectName === 'ContentDocumentLink' && (!entity || entity.IsDeleted)) continue;
      replace(org, record, { IsDeleted: false, SystemModstamp: stamp });
    }
  }
}

// ------------------------------------------------------------------------------------ helpers

function versionsOf(org: Org, documentId: string): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (const version of org.records('ContentVersion')) if (version.ContentDocumentId === documentId && !version.IsDeleted) out.push(version);
  return out;
}

/** `report.final.PDF` → `report.final`: the title Salesforce gives a version without one. */
function titleOf(pathOnClient: unknown): string | null {
  if (typeof pathOnClient !== 'string') return null;
  const name = pathOnClient.split(/[\\/]/).pop() ?? '';
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name) || null;
}

function stampOf(record: StoredRecord): number {
  const ms = parseDatetime(String(record.SystemModstamp ?? record.CreatedDate));
  return Number.isNaN(ms) ? Date.now() : ms;
}

/**
 * Replaces a stored record with changed values, inside the running transaction. Used for values
 * the platform maintains and the write pipeline would refuse (formula-backed sizes, read-only
 * flags), so it neither validates nor moves LastModifiedDate unless told to.
 */
function replace(org: Org, record: StoredRecord, changes: Record<string, unknown>): void {
  const object = org.schema.objectForId(record.Id);
  if (!object) return;
  org.load(object.name, { ...record, ...changes }, { userId: String(record.CreatedById ?? org.apiUserId), stampMs: stampOf(record) });
}

