/**
 * The confirmation before any delete: every record an archive would delete must be in the vault
 * at its live SystemModstamp (the vault's latest version is the record as it is now), with its
 * file bodies (an attachment's or a document's body, and the latest version of every file linked
 * to it) in the catalog and the blob store. Anything else is a refusal with its reason.
 */
import type { ObjectDescription, OrgClient } from '../core/org-client.ts';
import { parseSalesforceDatetime } from '../core/time.ts';
import type { BlobStore, FileCatalog, VersionStore } from '../store/port.ts';
import type { ArchiveNode } from './select.ts';

/** Why a record may not be deleted. */
export interface Refusal {
  code: 'NOT_BACKED_UP' | 'CHANGED_SINCE_BACKUP' | 'FILE_NOT_IN_VAULT';
  message: string;
}

export interface ConfirmDeps {
  store: VersionStore & FileCatalog;
  blobs: BlobStore;
  client: OrgClient;
}

const HEADS_PER_CALL = 1000;
const IDS_PER_QUERY = 200;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The refusals among `nodes`, by record ID; a record absent from the answer is safe to delete.
 * Reads the vault's heads per object, the versions and file rows of objects with bodies, and from
 * the org the latest version of each file linked to a record (ContentDocumentLink).
 */
export async function confirmInVault(deps: ConfirmDeps, orgId: string, nodes: readonly ArchiveNode[], describes: ReadonlyMap<string, ObjectDescription>): Promise<Map<string, Refusal>> {
  const refusals = new Map<string, Refusal>();
  const safe = await checkHeads(deps, orgId, nodes, refusals);
  for (const node of safe) {
    const bodies = (describes.get(node.objectName)?.fields ?? []).filter((f) => f.type === 'base64').map((f) => f.name);
    if (!bodies.length) continue;
    const missing = await missingBody(deps, orgId, node.objectName, node.recordId, node.systemModstamp!, bodies);
    if (missing) refusals.set(node.recordId, { code: 'FILE_NOT_IN_VAULT', message: `Its file body (${node.objectName}.${missing}) is not in the vault: turn on file backup (\`orgvault backup --mode objects-and-files\`, or the dashboard's Files toggle), back up, then archive.` });
  }
  const links = safe.filter((n) => n.documentId !== null && !refusals.has(n.recordId));
  for (const [linkId, refusal] of await checkLinkedFiles(deps, orgId, links)) refusals.set(linkId, refusal);
  return refusals;
}

/** Records whose vault head is their live version; the others are refused. */
async function checkHeads(deps: ConfirmDeps, orgId: string, nodes: readonly ArchiveNode[], refusals: Map<string, Refusal>): Promise<ArchiveNode[]> {
  const safe: ArchiveNode[] = [];
  const byObject = new Map<string, ArchiveNode[]>();
  for (const node of nodes) byObject.set(node.objectName, [...(byObject.get(node.objectName) ?? []), node]);
  for (const [objectName, group] of byObject) {
    for (let at = 0; at < group.length; at += HEADS_PER_CALL) {
      const chunk = group.slice(at, at + HEADS_PER_CALL);
      const heads = await deps.store.headsOf(orgId, objectName, chunk.map((n) => n.recordId));
      for (const node of chunk) {
        const refusal = headRefusal(node.systemModstamp, heads.get(node.recordId), objectName);
        if (refusal) refusals.set(node.recordId, refusal);
        else safe.push(node);
      }
    }
  }
  return safe;
}

function headRefusal(live: number | null, head: { systemModstamp: number; isDeleted: boolean } | undefined, objectName: string): Refusal | undefined {
  if (live === null) return { code: 'NOT_BACKED_UP', message: `Not backed up: ${objectName} has no SystemModstamp, which a backup needs to capture it.` };
  if (!head) return { code: 'NOT_BACKED_UP', message: `Not backed up: the vault holds no version of it. Run a backup of ${objectName} first.` };
  if (head.isDeleted) return { code: 'CHANGED_SINCE_BACKUP', message: `Changed since the last backup (run a backup first): the vault last saw it deleted at ${iso(head.systemModstamp)}, and it is live again.` };
  if (head.systemModstamp !== live) {
    return { code: 'CHANGED_SINCE_BACKUP', message: `Changed since the last backup (run a backup first): modified in the org at ${iso(live)}, the vault's latest version is of ${iso(head.systemModstamp)}.` };
  }
  return undefined;
}

/**
 * The first body field of a record whose body the vault lacks at `stamp` (catalog row and blob),
 * or undefined. An empty body (a stated size of 0) needs none.
 */
async function missingBody(deps: ConfirmDeps, orgId: string, objectName: string, recordId: string, stamp: number, bodies: readonly string[]): Promise<string | undefined> {
  const version = await deps.store.versionAsOf(orgId, objectName, recordId, stamp);
  const stated = version ? (objectName === 'ContentVersion' ? version.fields.ContentSize : version.fields.BodyLength) : undefined;
  if (stated === 0) return undefined;
  const files = await deps.store.filesOf(orgId, recordId);
  for (const field of bodies) {
    const file = files.find((f) => f.field === field && f.systemModstamp === stamp);
    if (!file || !(await deps.blobs.has(file.address))) return field;
  }
  return undefined;
}

/**
 * The files linked to records (ContentDocumentLink): the latest version of each document must be
 * in the vault at its live SystemModstamp with its body. Links to a file that is not are refused.
 */
async function checkLinkedFiles(deps: ConfirmDeps, orgId: string, links: readonly ArchiveNode[]): Promise<Map<string, Refusal>> {
  const refusals = new Map<string, Refusal>();
  if (!links.length) return refusals;
  const documents = [...new Set(links.map((l) => l.documentId!))];
  const latest = new Map<string, { id: string; stamp: number | null }>();
  for (let at = 0; at < documents.length; at += IDS_PER_QUERY) {
    const chunk = documents.slice(at, at + IDS_PER_QUERY);
    const soql = `SELECT Id, ContentDocumentId, SystemModstamp FROM ContentVersion WHERE ContentDocumentId IN (${chunk.map((id) => `'${id}'`).join(',')}) AND IsLatest = true`;
    for await (const page of deps.client.query(soql)) {
      for (const record of page) latest.set(String(record.ContentDocumentId), { id: String(record.Id), stamp: parseSalesforceDatetime(record.SystemModstamp) ?? null });
    }
  }
  const versionIds = [...latest.values()].map((v) => v.id);
  const heads = new Map<string, { systemModstamp: number; isDeleted: boolean }>();
  for (let at = 0; at < versionIds.length; at += HEADS_PER_CALL) {
    for (const [id, head] of await deps.store.headsOf(orgId, 'ContentVersion', versionIds.slice(at, at + HEADS_PER_CALL))) heads.set(id, head);
  }
  const verdicts = new Map<string, Refusal | null>();
  for (const documentId of documents) {
    const version = latest.get(documentId);
    let refusal: Refusal | undefined;
    if (!version) refusal = { code: 'FILE_NOT_IN_VAULT', message: `Its file ${documentId} could not be read from the org (the API user may lack Query All Files), so the vault's copy cannot be confirmed.` };
    else {
      const head = headRefusal(version.stamp, heads.get(version.id), 'ContentVersion');
      if (head) refusal = { code: head.code, message: `Its file ${documentId} (version ${version.id}): ${head.message}` };
      else if (await missingBody(deps, orgId, 'ContentVersion', version.id, version.stamp!, ['VersionData'])) {
        refusal = { code: 'FILE_NOT_IN_VAULT', message: `Its file ${documentId} (version ${version.id}) is in the vault without its body: turn on file backup, back up, then archive.` };
      }
    }
    verdicts.set(documentId, refusal ?? null);
  }
  for (const link of links) {
    const refusal = verdicts.get(link.documentId!);
    if (refusal) refusals.set(link.recordId, refusal);
  }
  return refusals;
}
