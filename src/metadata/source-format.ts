/**
 * A retrieve's files cut into one set of files per component, in source format (as `sf project
 * retrieve` writes them): an object's `.object` file is decomposed into
 * `objects/Account/Account.object-meta.xml` and one file per field, validation rule, record type…
 * (`objects/Account/fields/Rating__c.field-meta.xml`), so that a changed field is a new version of
 * that field only. Other components keep their retrieve paths (`classes/Foo.cls` with its
 * `-meta.xml`, a bundle's folder). Text is cut, never re-serialised: what Salesforce sent is what is
 * stored, apart from the indentation of a decomposed child.
 */
import type { MetadataComponentRef, MetadataFiles } from '../core/metadata.ts';
import { componentKey } from '../core/metadata.ts';
import type { MetadataFileProperties } from '../core/org-client.ts';

const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

/** The children of an object file that are components of their own: element → type, folder, suffix. */
export const OBJECT_CHILDREN: Readonly<Record<string, { type: string; folder: string; suffix: string }>> = {
  fields: { type: 'CustomField', folder: 'fields', suffix: 'field' },
  validationRules: { type: 'ValidationRule', folder: 'validationRules', suffix: 'validationRule' },
  recordTypes: { type: 'RecordType', folder: 'recordTypes', suffix: 'recordType' },
  listViews: { type: 'ListView', folder: 'listViews', suffix: 'listView' },
  webLinks: { type: 'WebLink', folder: 'webLinks', suffix: 'webLink' },
  compactLayouts: { type: 'CompactLayout', folder: 'compactLayouts', suffix: 'compactLayout' },
  businessProcesses: { type: 'BusinessProcess', folder: 'businessProcesses', suffix: 'businessProcess' },
  fieldSets: { type: 'FieldSet', folder: 'fieldSets', suffix: 'fieldSet' },
  sharingReasons: { type: 'SharingReason', folder: 'sharingReasons', suffix: 'sharingReason' },
  indexes: { type: 'Index', folder: 'indexes', suffix: 'index' },
};

/**
 * Folder types and the type of what each holds. describeMetadata names only the in-folder types
 * (`inFolder`); their folders are listed, read and stored as components of these types (a
 * folder's files are one `-meta.xml` beside the folder: `reports/Sales-meta.xml`), and a
 * package.xml names a folder as a member of its content type. EmailFolder holds Classic email
 * templates, EmailTemplateFolder Lightning ones.
 */
export const FOLDER_CONTENT_TYPES: Readonly<Record<string, string>> = {
  ReportFolder: 'Report',
  DashboardFolder: 'Dashboard',
  DocumentFolder: 'Document',
  EmailFolder: 'EmailTemplate',
  EmailTemplateFolder: 'EmailTemplate',
};

/** The folder types of an in-folder type, the one every org has first. */
export function folderTypesOf(contentType: string): string[] {
  return Object.keys(FOLDER_CONTENT_TYPES).filter((t) => FOLDER_CONTENT_TYPES[t] === contentType);
}

/** The component types an object file holds besides the object itself. */
export const OBJECT_CHILD_TYPES: ReadonlySet<string> = new Set(Object.values(OBJECT_CHILDREN).map((c) => c.type));

interface Element {
  tag: string;
  /** From `<` of the opening tag to `>` of the closing one. */
  start: number;
  end: number;
  /** The text of the element's first direct `<fullName>` child, if any. */
  fullName: string | undefined;
}

const TOKEN = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g;

/** The root element's direct children, with positions in `xml`. */
function topLevelElements(xml: string): { elements: Element[]; rootTag: string | undefined } {
  const elements: Element[] = [];
  let depth = 0;
  let rootTag: string | undefined;
  let current: Element | undefined;
  let fullNameStart = -1;
  for (const match of xml.matchAll(TOKEN)) {
    const [token, closing, tag, selfClosing] = match;
    if (tag === undefined) continue;
    const at = match.index;
    if (closing) {
      depth--;
      if (depth === 2 && tag === 'fullName' && current && current.fullName === undefined && fullNameStart >= 0) current.fullName = decode(xml.slice(fullNameStart, at));
      if (depth === 1 && current) {
        current.end = at + token.length;
        elements.push(current);
        current = undefined;
      }
      continue;
    }
    if (depth === 0) rootTag = tag;
    if (depth === 1) {
      current = { tag, start: at, end: at + token.length, fullName: undefined };
      fullNameStart = -1;
      if (selfClosing) {
        elements.push(current);
        current = undefined;
        continue;
      }
    }
    if (depth === 2 && tag === 'fullName' && !selfClosing) fullNameStart = at + token.length;
    if (!selfClosing) depth++;
  }
  return { elements, rootTag };
}

function decode(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!).trim();
}

/** A child element as a file of its own: its inner text under a root named for its type, one level less indented. */
function childFile(xml: string, element: Element, rootName: string): string {
  const open = xml.indexOf('>', element.start) + 1;
  const close = xml.lastIndexOf('</', element.end);
  const inner = xml.slice(open, close).replace(/\n {4}/g, '\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${rootName} xmlns="${METADATA_NS}">${inner}</${rootName}>\n`;
}

/** The object file without the children that are files of their own, blank lines left by them removed. */
function objectFile(xml: string, removed: readonly Element[]): string {
  let out = '';
  let at = 0;
  for (const element of removed) {
    // Take the indentation and line break before the element with it.
    let from = element.start;
    while (from > at && (xml[from - 1] === ' ' || xml[from - 1] === '\t')) from--;
    if (from > at && xml[from - 1] === '\n') from--;
    out += xml.slice(at, from);
    at = element.end;
  }
  return out + xml.slice(at);
}

/**
 * Cuts a retrieve into the files of each wanted component. `wanted` are the components asked for
 * (by `Type:FullName`); `listed` every component the org listed, so that an object's children that
 * are not components of their own (standard fields, which listMetadata does not name) stay with
 * the object. A wanted component the retrieve did not return is absent from the answer.
 */
export function componentsFromRetrieve(
  files: ReadonlyMap<string, string>,
  fileProperties: readonly MetadataFileProperties[],
  wanted: ReadonlyMap<string, MetadataComponentRef>,
  listed: ReadonlySet<string>,
): Map<string, MetadataFiles> {
  const out = new Map<string, MetadataFiles>();
  const add = (key: string, path: string, text: string): void => {
    if (!wanted.has(key)) return;
    let component = out.get(key);
    if (!component) out.set(key, (component = {}));
    component[path] = text;
  };

  for (const [path, xml] of files) {
    const match = /^objects\/([^/]+)\.object$/.exec(path);
    if (!match) continue;
    const objectName = match[1]!;
    const { elements, rootTag } = topLevelElements(xml);
    if (rootTag !== 'CustomObject') continue;
    const objectKey = componentKey({ type: 'CustomObject', fullName: objectName });
    const removed: Element[] = [];
    for (const element of elements) {
      const child = OBJECT_CHILDREN[element.tag];
      if (!child || element.fullName === undefined) continue;
      removed.push(element);
      const childKey = componentKey({ type: child.type, fullName: `${objectName}.${element.fullName}` });
      // A child listed on its own is its own component; one that is not belongs to the object.
      const owner = listed.has(childKey) ? childKey : objectKey;
      add(owner, `objects/${objectName}/${child.folder}/${element.fullName}.${child.suffix}-meta.xml`, childFile(xml, element, child.type));
    }
    // A partial object file (only children were retrieved) says nothing of the object itself.
    if (wanted.has(objectKey) && fileProperties.some((p) => p.type === 'CustomObject' && p.fullName === objectName)) {
      add(objectKey, `objects/${objectName}/${objectName}.object-meta.xml`, objectFile(xml, removed));
    }
  }

  for (const p of fileProperties) {
    if (p.type === 'CustomObject' || OBJECT_CHILD_TYPES.has(p.type) || p.type === 'Package' || !p.fileName) continue;
    let key = componentKey(p);
    let folder = p.type in FOLDER_CONTENT_TYPES;
    if (!folder && !p.fullName.includes('/') && folderTypesOf(p.type).length > 0) {
      // A folder reported under its content type (`Report` `Sales`): the folder asked for.
      const type = folderTypesOf(p.type).find((t) => wanted.has(componentKey({ type: t, fullName: p.fullName })));
      if (!type) continue;
      key = componentKey({ type, fullName: p.fullName });
      folder = true;
    }
    for (const [path, text] of files) {
      // A folder's own file only: the components in it are components of their own.
      if (folder ? path === `${p.fileName}-meta.xml` || (path === p.fileName && path.endsWith('-meta.xml')) : path === p.fileName || path === `${p.fileName}-meta.xml` || path.startsWith(`${p.fileName}/`)) add(key, path, text);
    }
  }
  return out;
}
