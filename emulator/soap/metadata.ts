/**
 * Metadata API calls (`http://soap.sforce.com/2006/04/metadata`): describeMetadata, listMetadata,
 * readMetadata, retrieve and its status checks, over the components emulator/metadata generates.
 * Types the org describes but the emulator does not generate list and retrieve as empty.
 * Reports, dashboards, documents and email templates are listed one folder at a time
 * (`{type: 'Report', folder: 'Sales_Reports'}`, `unfiled$public` too); their folders are listed
 * by folder type (ReportFolder, DashboardFolder, DocumentFolder, EmailFolder), which
 * describeMetadata does not name.
 */
import type { Org } from '../org/org.ts';
import type { Session } from '../server/context.ts';
import { findComponent, readRecord } from '../metadata/components.ts';
import { metadataState } from '../metadata/model.ts';
import { checkAsyncStatus, checkRetrieve, startRetrieve } from '../metadata/retrieve.ts';
import { isImplemented, isInFolderType, knownType, MetadataApiError, METADATA_TYPES } from '../metadata/types.ts';
import { fileProperties, syncVersions } from '../metadata/versions.ts';
import { node, record } from '../metadata/xml.ts';
import type { XmlNode } from '../metadata/xml.ts';
import { listOf, recordOf, SoapFault, textOf } from './envelope.ts';
import type { SoapRequest, SoapValue } from './envelope.ts';

export interface MetadataCall {
  org: Org;
  session: Session;
  request: SoapRequest;
  apiVersion: string;
}

/** The Metadata API is for administrators: Salesforce refuses it to users without Modify All Data. */
export function requireMetadataAccess(org: Org, session: Session): void {
  const user = org.get(session.userId);
  const allowed = session.userId === org.apiUserId ? org.access.permissions.modifyAllData : org.get(String(user?.ProfileId ?? ''))?.PermissionsModifyAllData === true;
  if (!allowed) throw new SoapFault('INSUFFICIENT_ACCESS', 'use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions');
}

function requireType(name: string | undefined): string {
  if (!name || !knownType(name)) throw new MetadataApiError('INVALID_TYPE', `Unknown type:${name ?? ''}`);
  return name;
}

export function describeMetadata(): XmlNode[] {
  return [
    node(
      'result',
      record(
        {
          metadataObjects: METADATA_TYPES.map((t) => ({
            childXmlNames: t.childXmlNames,
            directoryName: t.directoryName,
            inFolder: t.inFolder,
            metaFile: t.metaFile,
            suffix: t.suffix ?? undefined,
            xmlName: t.xmlName,
          })),
          organizationNamespace: '',
          partialSaveAllowed: true,
          // A production org: deploying Apex runs tests.
          testRequired: true,
        },
        [],
      ),
    ),
  ];
}

export function listMetadata(call: MetadataCall): XmlNode[] {
  const queries = listOf(call.request.args.queries).map((q) => recordOf(q));
  const out: XmlNode[] = [];
  for (const query of queries) {
    const type = requireType(textOf(query.type));
    const folder = textOf(query.folder);
    if (!isImplemented(type)) continue;
    if (isInFolderType(type)) {
      // One folder at a time (unfiled$public included, though no folder listing returns it);
      // without a folder, Salesforce lists nothing of these types.
      if (!folder) continue;
      const prefix = `${folder.toLowerCase()}/`;
      for (const vc of syncVersions(call.org, [type])) {
        if (vc.component.fullName.toLowerCase().startsWith(prefix)) out.push(node('result', record(fileProperties(call.org, vc), [])));
      }
      continue;
    }
    if (folder) continue;
    for (const vc of syncVersions(call.org, [type])) out.push(node('result', record(fileProperties(call.org, vc), [])));
  }
  return out;
}

export function readMetadata(call: MetadataCall): XmlNode[] {
  const type = requireType(textOf(call.request.args.type));
  const names = listOf(call.request.args.fullNames).map((n) => textOf(n) ?? '');
  const state = metadataState(call.org);
  const records = names.map((name) => {
    const component = isImplemented(type) ? findComponent(call.org, state, type, name) : undefined;
    // A name that does not exist comes back as a nil record in its place.
    return component ? node('records', readRecord(component), { 'xsi:type': type }) : node('records', null);
  });
  return [node('result', records)];
}

function texts(value: SoapValue | SoapValue[] | undefined): string[] {
  return listOf(value).map((v) => (typeof v === 'string' ? v : '')).filter(Boolean);
}

export async function retrieve(call: MetadataCall): Promise<XmlNode[]> {
  // jsforce names the argument `request`; the WSDL and most clients, `retrieveRequest`.
  const request = recordOf(call.request.args.retrieveRequest ?? call.request.args.request);
  const unpackaged = recordOf(request.unpackaged);
  const types = listOf(unpackaged.types)
    .map((t) => recordOf(t))
    .map((t) => ({ name: textOf(t.name) ?? '', members: texts(t.members) }))
    .filter((t) => t.name);
  const job = await startRetrieve(
    call.org,
    {
      apiVersion: textOf(request.apiVersion) ?? call.apiVersion,
      singlePackage: textOf(request.singlePackage) === 'true',
      types,
      version: textOf(unpackaged.version),
      packageNames: texts(request.packageNames),
    },
    call.session.userId,
  );
  return [node('result', record({ done: false, id: job.id, state: 'Queued' }, []))];
}

export function checkRetrieveStatus(call: MetadataCall): XmlNode[] {
  const id = textOf(call.request.args.asyncProcessId ?? call.request.args.id);
  if (!id) throw new SoapFault('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
  const includeZip = textOf(call.request.args.includeZip) !== 'false';
  return [node('result', record(checkRetrieve(call.org, id, includeZip), []))];
}

export function checkStatus(call: MetadataCall): XmlNode[] {
  return texts(call.request.args.asyncProcessId).map((id) => node('result', record(checkAsyncStatus(call.org, id), [])));
}
