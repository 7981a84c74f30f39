/**
 * Metadata API retrieve: resolve an unpackaged `package.xml` (named members and `*` wildcards)
 * to components, pack them in source format under `unpackaged/` (or at the root with
 * singlePackage), and hand the zip out through checkRetrieveStatus.
 *
 * Salesforce behaviours kept: `CustomObject: *` retrieves custom objects only (standard ones must
 * be named); retrieving a child (CustomField, ValidationRule, RecordType) yields a partial
 * `.object` file; profiles only carry permissions on what is retrieved with them; members that do
 * not exist are reported as messages while the retrieve still succeeds; the zip is deleted from
 * the server once a status check has returned it. Folders are members of their content type
 * (`Report: Sales_Reports` retrieves `reports/Sales_Reports-meta.xml`), their components are
 * named `Folder/Name`, and a wildcard retrieves none of them.
 */
import JSZip from 'jszip';
import type { Org } from '../org/org.ts';
import { componentFiles, objectBody, profileBody } from './components.ts';
import type { ObjectScope, ProfileScope } from './components.ts';
import { metadataState } from './model.ts';
import type { RetrieveJob } from './model.ts';
import { FOLDER_TYPE_OF, isImplemented, isInFolderType, knownType, MetadataApiError } from './types.ts';
import type { ImplementedType } from './types.ts';
import { fileProperties, syncVersions, versionKey } from './versions.ts';
import type { VersionedComponent } from './versions.ts';
import { metadataFile, record } from './xml.ts';
import type { XmlRecord } from './xml.ts';

export interface RetrieveRequest {
  apiVersion?: string;
  singlePackage: boolean;
  /** The unpackaged manifest's types; members may be `*`. */
  types: { name: string; members: string[] }[];
  /** The manifest's version; the call's apiVersion when absent. */
  version?: string;
  packageNames: string[];
}

const lower = (s: string): string => s.toLowerCase();
/** Retrieve results kept per org, oldest dropped first. */
const MAX_JOBS = 100;

function emptyObjectScope(): ObjectScope {
  return { whole: false, fields: new Set(), validationRules: new Set(), recordTypes: new Set() };
}

/** Starts a retrieve. The package is built at once; its status only says so from the second check. */
export async function startRetrieve(org: Org, request: RetrieveRequest, userId: string): Promise<RetrieveJob> {
  const state = metadataState(org);
  const prefix = request.singlePackage ? '' : 'unpackaged/';
  const packagePath = `${prefix}package.xml`;
  const all = syncVersions(org);
  const byType = new Map<string, VersionedComponent[]>();
  for (const vc of all) byType.set(vc.component.type, [...(byType.get(vc.component.type) ?? []), vc]);

  const messages: RetrieveJob['messages'] = [];
  const selected = new Map<string, VersionedComponent>();
  for (const { name, members } of request.types) {
    if (!knownType(name)) {
      messages.push({ fileName: packagePath, problem: `Unknown type name '${name}' specified in package.xml` });
      continue;
    }
    if (!isImplemented(name)) continue;
    const candidates = byType.get(name) ?? [];
    const folders = isInFolderType(name) ? (byType.get(FOLDER_TYPE_OF[name]) ?? []) : [];
    for (const member of members) {
      if (isInFolderType(name)) {
        // Folders are named as members of their content type; `*` retrieves nothing of a foldered type.
        if (member === '*') continue;
        const pool = member.includes('/') ? candidates : folders;
        const vc = pool.find((c) => lower(c.component.fullName) === lower(member));
        if (vc) selected.set(versionKey(vc.component.type, vc.component.fullName), vc);
        else messages.push({ fileName: packagePath, problem: `Entity of type '${name}' named '${member}' cannot be found` });
        continue;
      }
      if (member === '*') {
        // Standard objects are never part of a CustomObject wildcard.
        for (const vc of candidates) if (!vc.component.standard) selected.set(versionKey(name, vc.component.fullName), vc);
        continue;
      }
      const vc = candidates.find((c) => lower(c.component.fullName) === lower(member));
      if (vc) selected.set(versionKey(name, vc.component.fullName), vc);
      else messages.push({ fileName: packagePath, problem: `Entity of type '${name}' named '${member}' cannot be found` });
    }
  }
  for (const name of request.packageNames) messages.push({ fileName: packagePath, problem: `No package named '${name}' found` });

  const objects = new Map<string, ObjectScope>();
  const profileScope: ProfileScope = { objects: new Set(), fields: new Set(), layouts: new Set(), recordTypes: new Set(), classes: new Set() };
  const scopeOf = (object: string): ObjectScope => {
    let scope = objects.get(object);
    if (!scope) objects.set(object, (scope = emptyObjectScope()));
    return scope;
  };
  const of = (type: ImplementedType): VersionedComponent[] => [...selected.values()].filter((vc) => vc.component.type === type);
  for (const { component } of of('CustomObject')) {
    scopeOf(component.fullName).whole = true;
    profileScope.objects.add(lower(component.fullName));
    const schemaObject = org.schema.object(component.fullName);
    for (const field of schemaObject?.def.fields ?? []) profileScope.fields.add(lower(`${component.fullName}.${field.name}`));
    for (const rt of schemaObject?.def.recordTypes ?? []) profileScope.recordTypes.add(lower(`${component.fullName}.${rt.developerName}`));
  }
  const child = (type: ImplementedType, into: 'fields' | 'validationRules' | 'recordTypes'): void => {
    for (const { component } of of(type)) {
      const name = component.fullName.slice(component.parent!.length + 1);
      scopeOf(component.parent!)[into].add(lower(name));
      if (type === 'CustomField') profileScope.fields.add(lower(component.fullName));
      if (type === 'RecordType') profileScope.recordTypes.add(lower(component.fullName));
    }
  };
  child('CustomField', 'fields');
  child('ValidationRule', 'validationRules');
  child('RecordType', 'recordTypes');
  for (const { component } of of('Layout')) profileScope.layouts.add(lower(component.fullName));
  for (const { component } of of('ApexClass')) profileScope.classes.add(lower(component.fullName));

  const zip = new JSZip();
  const date = new Date(org.clock.nowMs());
  const add = (path: string, content: string | Buffer): void => void zip.file(`${prefix}${path}`, content, { date, createFolders: false });
  add('package.xml', packageXml(request));
  for (const [objectName, scope] of objects) {
    const object = org.schema.object(objectName);
    if (object) add(`objects/${object.name}.object`, metadataFile('CustomObject', objectBody(org, state, object, scope)));
  }
  for (const { component } of selected.values()) {
    if (component.parent || component.type === 'CustomObject') continue;
    const body = component.type === 'Profile' ? profileBody(org, state, org.get(component.id)!, profileScope) : component.body;
    for (const file of componentFiles(component, body)) add(file.path, file.content);
  }

  const nowIso = date.toISOString();
  const properties: XmlRecord[] = [
    {
      createdById: userId,
      createdByName: userName(org, userId),
      createdDate: nowIso,
      fileName: packagePath,
      fullName: packagePath,
      id: '',
      lastModifiedById: userId,
      lastModifiedByName: userName(org, userId),
      lastModifiedDate: nowIso,
      manageableState: 'unmanaged',
      type: 'Package',
    },
    ...[...selected.values()].map((vc) => fileProperties(org, vc, prefix)),
  ].sort((a, b) => compare(String(a.fileName), String(b.fileName)) || compare(String(a.fullName), String(b.fullName)));

  const job: RetrieveJob = {
    id: state.ids.next('09S'),
    checks: 0,
    zipFile: await zip.generateAsync({ type: 'base64', compression: 'DEFLATE' }),
    fileProperties: properties,
    messages,
  };
  state.jobs.set(job.id, job);
  // Results nobody collects would otherwise pile up; Salesforce expires them too.
  for (const id of state.jobs.keys()) {
    if (state.jobs.size <= MAX_JOBS) break;
    state.jobs.delete(id);
  }
  return job;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function userName(org: Org, id: string): string {
  const user = org.get(id);
  return user ? [user.FirstName, user.LastName].filter((p) => typeof p === 'string' && p).join(' ') : '';
}

/** The manifest as the zip returns it: the request's types by name, and its version. */
function packageXml(request: RetrieveRequest): string {
  const types = [...request.types].sort((a, b) => compare(a.name, b.name)).map((t) => ({ members: t.members, name: t.name }));
  return metadataFile('Package', record({ types, version: request.version ?? request.apiVersion }, []));
}

/**
 * checkRetrieveStatus: InProgress on the first check, then the result. With `includeZip` (the
 * default) the zip is returned once and then deleted, as Salesforce does.
 */
export function checkRetrieve(org: Org, asyncProcessId: string, includeZip: boolean): XmlRecord {
  const state = metadataState(org);
  const job = findJob(state.jobs, asyncProcessId);
  job.checks++;
  if (job.checks === 1) return { done: false, id: job.id, status: 'InProgress', success: false };
  if (job.zipFile === undefined && includeZip) throw new MetadataApiError('INVALID_CROSS_REFERENCE_KEY', 'Retrieve result has been deleted.');
  const result: XmlRecord = {
    done: true,
    fileProperties: job.fileProperties as XmlRecord[],
    id: job.id,
    messages: job.messages.map((m) => ({ fileName: m.fileName, problem: m.problem })),
    status: 'Succeeded',
    success: true,
    zipFile: includeZip ? job.zipFile : undefined,
  };
  if (includeZip) job.zipFile = undefined;
  return result;
}

/** checkStatus (API 30.0 and earlier): the AsyncResult of a retrieve. */
export function checkAsyncStatus(org: Org, asyncProcessId: string): XmlRecord {
  const job = findJob(metadataState(org).jobs, asyncProcessId);
  job.checks++;
  const done = job.checks > 1;
  return { done, id: job.id, state: done ? 'Completed' : 'InProgress' };
}

function findJob(jobs: Map<string, RetrieveJob>, id: string): RetrieveJob {
  // Clients may pass the 15-character form of the ID.
  const job = jobs.get(id) ?? [...jobs.values()].find((j) => j.id.slice(0, 15) === id.slice(0, 15) && id.length >= 15);
  if (!job) throw new MetadataApiError('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id: ${id}`);
  return job;
}
