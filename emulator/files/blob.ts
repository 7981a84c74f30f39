/**
 * File bodies. The API writes base64 fields as base64 text and reads them back from the blob
 * endpoint as bytes, so the org keeps bodies as bytes: a body costs its own size in memory, may be
 * larger than a JavaScript string can hold (ContentVersion takes 2 GB), and is served without
 * decoding. Bodies written before the files model was installed, or loaded from a state file, are
 * still base64 text; every reader here accepts both.
 */
import { randomUUID } from 'node:crypto';
import { fileExtension } from '../org/catalog/files.ts';
import type { StoredRecord } from '../org/schema.ts';

/**
 * A body held as bytes in a record's base64 field. It prints as base64 (JSON and `String()`), the
 * form the state file and any code that expects base64 text see.
 */
export class StoredBlob {
  constructor(readonly bytes: Buffer) {}

  toJSON(): string {
    return this.bytes.toString('base64');
  }

  toString(): string {
    return this.toJSON();
  }
}

/** The objects with a body, its field, and the stored size field its formula falls back on. */
export const FILE_BODIES: Readonly<Record<string, { body: string; size: string }>> = {
  ContentVersion: { body: 'VersionData', size: 'ContentSize' },
  Attachment: { body: 'Body', size: 'BodyLength' },
  Document: { body: 'Body', size: 'BodyLength' },
};

/** Bytes decoded from base64 bodies, per record object: records are replaced, never changed. */
const decoded = new WeakMap<StoredRecord, Buffer>();

/** The bytes of a record's body field, or undefined when it has none. */
export function bodyBytes(record: StoredRecord, field: string): Buffer | undefined {
  const value = record[field];
  if (value instanceof StoredBlob) return value.bytes;
  if (typeof value !== 'string') return undefined;
  let bytes = decoded.get(record);
  if (!bytes) {
    bytes = Buffer.from(value, 'base64');
    decoded.set(record, bytes);
  }
  return bytes;
}

// Multipart uploads hand their bytes to the write pipeline, which only takes base64 text for a
// base64 field, under a token the files behaviour swaps back: no base64 round trip, and no
// string-length ceiling on the body.
const pending = new Map<string, Buffer>();
const TOKEN_PREFIX = 'orgvault-upload:';

/** Parks uploaded bytes for the write that follows; `release` it once the write is done. */
export function parkUpload(bytes: Buffer): { token: string; release(): void } {
  const token = `${TOKEN_PREFIX}${randomUUID()}`;
  pending.set(token, bytes);
  return { token, release: () => pending.delete(token) };
}

/** A written body value (base64 text, an upload token, or a blob) as a blob; null for none. */
export function toStoredBlob(value: unknown): StoredBlob | null {
  if (value instanceof StoredBlob) return value;
  if (typeof value !== 'string') return null;
  const parked = value.startsWith(TOKEN_PREFIX) ? pending.get(value) : undefined;
  return new StoredBlob(parked ?? Buffer.from(value, 'base64'));
}

const MIME_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  txt: 'text/plain',
  csv: 'text/csv',
  htm: 'text/html',
  html: 'text/html',
  xml: 'application/xml',
  json: 'application/json',
  zip: 'application/zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  rtf: 'application/rtf',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
};

const OCTET_STREAM = 'application/octet-stream';

/**
 * The Content-Type a body is served with: the MIME type the record states (Attachment and Document
 * ContentType), else the one of its file extension (ContentVersion PathOnClient, Document Type,
 * Attachment Name), else application/octet-stream.
 */
export function bodyContentType(objectName: string, record: StoredRecord): string {
  const stated = typeof record.ContentType === 'string' && record.ContentType.includes('/') ? record.ContentType : undefined;
  if (stated) return stated;
  const extension =
    objectName === 'ContentVersion'
      ? fileExtension(record.PathOnClient)
      : objectName === 'Document' && typeof record.Type === 'string' && record.Type
        ? record.Type.toLowerCase()
        : fileExtension(record.Name);
  return (extension && MIME_TYPES[extension]) ?? OCTET_STREAM;
}
