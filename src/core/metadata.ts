/**
 * Metadata backup's domain types: components of the org's configuration (a custom field, a
 * picklist's value set, a validation rule, an Apex class…) as the Metadata API names them, and
 * the versions of each that the vault holds. Content is the component's files in source format
 * (`classes/Foo.cls` and `classes/Foo.cls-meta.xml`, `objects/Account/fields/Foo__c.field-meta.xml`),
 * stored once per content address however many versions point at it.
 */

/** A component as the Metadata API names it: `CustomField` `Account.Rating__c`. */
export interface MetadataComponentRef {
  type: string;
  fullName: string;
}

/**
 * A component's files in source format: path (relative to the package root) → text. A binary file
 * (a static resource, a document) is held as `BINARY_FILE_PREFIX` + its bytes in base64.
 */
export type MetadataFiles = Record<string, string>;

/** Marks a binary file's base64 text: no text file of metadata starts with a NUL character. */
export const BINARY_FILE_PREFIX = '\u0000base64:';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A retrieved file as MetadataFiles holds it: its text, or its bytes in base64 when it is not UTF-8 text. */
export function metadataFileText(bytes: Uint8Array): string {
  let text: string | undefined;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = undefined;
  }
  return text === undefined || text.includes('\u0000') ? BINARY_FILE_PREFIX + Buffer.from(bytes).toString('base64') : text;
}

export function isBinaryMetadataFile(text: string): boolean {
  return text.startsWith(BINARY_FILE_PREFIX);
}

/** A file's bytes, as they were retrieved (text as UTF-8). */
export function metadataFileBytes(text: string): Uint8Array {
  return isBinaryMetadataFile(text) ? Buffer.from(text.slice(BINARY_FILE_PREFIX.length), 'base64') : Buffer.from(text, 'utf8');
}

/** One stored version of a component, without its files (read them by `contentId`). */
export interface MetadataComponentVersion extends MetadataComponentRef {
  /** The content address of its files; null for a deletion. */
  contentId: string | null;
  /** Salesforce's lastModifiedDate of the component when it was captured (ms), when it says one. */
  lastModifiedDate: number | null;
  /** Salesforce's ID of the component, when the Metadata API gives one. */
  salesforceId: string | null;
  /** When the run that stored this version captured it (ms). */
  capturedAt: number;
  runId: string;
  /** The component was no longer listed by the org: this version marks its deletion. */
  deleted: boolean;
}

/** What a metadata capture hands the vault for one component. */
export interface MetadataVersionInput extends MetadataComponentRef {
  /** The component's files; required unless `deleted`. */
  files?: MetadataFiles;
  deleted: boolean;
  lastModifiedDate: number | null;
  salesforceId: string | null;
}

/** A metadata capture that completed (on its own or as a step of a backup). */
export interface MetadataRunSummary {
  orgId: string;
  runId: string;
  capturedAt: number;
  /** Components the org listed (live heads after the run). */
  components: number;
  /** Component versions the run stored (changes, additions and deletions). */
  changed: number;
  /** Of those, deletions. */
  deleted: number;
}

/** `CustomField:Account.Rating__c` → {type, fullName}; undefined when it is not TYPE:NAME. */
export function parseComponentRef(text: string): MetadataComponentRef | undefined {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1) return undefined;
  return { type: text.slice(0, at), fullName: text.slice(at + 1) };
}

export const componentKey = (c: MetadataComponentRef): string => `${c.type}:${c.fullName}`;
