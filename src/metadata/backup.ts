/**
 * Metadata backup: list the org's components of every type (or the configured ones, less the
 * excluded types), retrieve those that changed since the vault's heads, cut the retrieve into
 * each component's files in source format, and store a version for each component whose content
 * changed, plus a deletion for each that is no longer listed. Identical content is stored once.
 *
 * It runs as a step of every backup job (after the objects; a failure there never costs the data
 * backup) and on its own as a run of kind `metadata`.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { SalesforceApiError } from '../core/errors.ts';
import type { MetadataComponentRef, MetadataComponentVersion, MetadataFiles, MetadataVersionInput } from '../core/metadata.ts';
import { componentKey } from '../core/metadata.ts';
import type { MetadataFileProperties, MetadataTypeDescription, OrgClient } from '../core/org-client.ts';
import type { OrgRegistration, Run, RunStatus } from '../core/vault.ts';
import type { LockManager, MetadataStore, RunLog } from '../store/port.ts';
import { LockHeldError } from '../store/port.ts';
import type { MetadataSettings } from './settings.ts';
import { metadataSettings } from './settings.ts';
import { componentsFromRetrieve, FOLDER_CONTENT_TYPES, folderTypesOf, OBJECT_CHILD_TYPES } from './source-format.ts';

/** Salesforce retrieves at most 10,000 files at once. */
export const RETRIEVE_MAX_FILES = 10_000;
/** Components Salesforce gives no modification date (standard objects) are retrieved again this often. */
const UNDATED_REFRESH_MS = 24 * 60 * 60_000;
/** Queries a listMetadata call takes. */
const LIST_QUERIES_PER_CALL = 3;
/**
 * A profile carries permissions only on the components retrieved with it (Salesforce's rule), so
 * profiles are retrieved with every listed component of these types, and only their files kept.
 */
const PROFILE_SCOPE_TYPES: ReadonlySet<string> = new Set(['CustomObject', 'CustomField', 'RecordType', 'Layout', 'ApexClass', 'ApexPage', 'CustomApplication', 'CustomTab', 'CustomPermission', 'ExternalDataSource']);
const PROFILE_TYPES: ReadonlySet<string> = new Set(['Profile']);

export interface MetadataCaptureOutcome {
  /** Components the org listed in the types captured. */
  components: number;
  /** Versions stored: changed, added and deleted components. */
  changed: number;
  deleted: number;
  /** Components retrieved (their listing said they may have changed). */
  retrieved: number;
  /** Retrieved components whose content was what the vault held: nothing stored. */
  unchanged: number;
  /** Contents stored for the first time. */
  newContents: number;
  types: number;
  /** Types that could not be listed (their components are neither captured nor marked deleted). */
  failedTypes: { type: string; message: string }[];
  /** Types left out by the settings. */
  skippedTypes: string[];
  apiCalls: number;
}

interface Listing {
  /** Every component listed in the types that listed, by `Type:FullName`. */
  listed: Map<string, MetadataFileProperties>;
  /** Types that listed. */
  types: Set<string>;
  failedTypes: { type: string; message: string }[];
  skippedTypes: string[];
  described: Map<string, MetadataTypeDescription>;
}

/**
 * The types a capture lists: described (top level, and an object's children that are components
 * of their own), or the configured ones. In-folder types (reports, dashboards, documents, email
 * templates) are listed folder by folder: `folderedTypes`. A folder type named in the settings
 * stands for its content type; excluding a content type excludes its folders too (folders only
 * hold it), while excluding only a folder type captures what is in the folders without the
 * folders themselves.
 */
function typesToList(described: readonly MetadataTypeDescription[], settings: MetadataSettings): { types: string[]; folderedTypes: string[]; skipped: string[]; unknown: string[] } {
  const available = new Map<string, boolean>();
  for (const t of described) {
    available.set(t.xmlName, t.inFolder);
    for (const child of t.childXmlNames) if (OBJECT_CHILD_TYPES.has(child)) available.set(child, false);
  }
  const contentOf = (type: string): string => (available.get(FOLDER_CONTENT_TYPES[type] ?? '') ? FOLDER_CONTENT_TYPES[type]! : type);
  const wanted = [...new Set((settings.types.length > 0 ? settings.types : [...available.keys()]).map(contentOf))];
  const types: string[] = [];
  const folderedTypes: string[] = [];
  const skipped = settings.excludedTypes.filter((t) => available.has(t) || (t in FOLDER_CONTENT_TYPES && available.get(FOLDER_CONTENT_TYPES[t]!)));
  const unknown: string[] = [];
  for (const type of wanted) {
    if (settings.excludedTypes.includes(type)) continue;
    const inFolder = available.get(type);
    if (inFolder === undefined) unknown.push(type);
    else if (inFolder) folderedTypes.push(type);
    else types.push(type);
  }
  return { types, folderedTypes, skipped, unknown };
}

/** Queries a capture sends, three a call; a refused call is split to find the query at fault. */
async function listInCalls(
  client: OrgClient,
  queries: readonly { type: string; folder?: string }[],
  each: (props: readonly MetadataFileProperties[], query: { type: string; folder?: string }) => void,
  failed: (query: { type: string; folder?: string }, error: unknown) => void,
): Promise<void> {
  const answered = (props: readonly MetadataFileProperties[], chunk: readonly { type: string; folder?: string }[]): void => {
    for (const query of chunk) {
      const prefix = query.folder === undefined ? undefined : `${query.folder.toLowerCase()}/`;
      each(
        props.filter((p) => p.type === query.type && (prefix === undefined || p.fullName.toLowerCase().startsWith(prefix))),
        query,
      );
    }
  };
  for (let at = 0; at < queries.length; at += LIST_QUERIES_PER_CALL) {
    const chunk = queries.slice(at, at + LIST_QUERIES_PER_CALL);
    try {
      answered(await client.listMetadata(chunk), chunk);
    } catch {
      // One query the org refuses fails the whole call: send the three one by one to find it.
      for (const query of chunk) {
        try {
          answered(await client.listMetadata([query]), [query]);
        } catch (error) {
          failed(query, error);
        }
      }
    }
  }
}

/** Folders no folder listing returns whose contents can be listed: Unfiled Public Reports and Classic Email Templates. */
const UNFILED_FOLDERS: Readonly<Record<string, readonly string[]>> = { Report: ['unfiled$public'], EmailTemplate: ['unfiled$public'] };

async function listComponents(client: OrgClient, settings: MetadataSettings): Promise<Listing> {
  const described = await client.describeMetadata();
  const { types, folderedTypes, skipped, unknown } = typesToList(described, settings);
  const listing: Listing = {
    listed: new Map(),
    types: new Set(),
    failedTypes: unknown.map((type) => ({ type, message: 'The org does not describe this metadata type.' })),
    skippedTypes: skipped,
    described: new Map(described.map((t) => [t.xmlName, t])),
  };
  let firstError: unknown;
  const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
  const add = (props: readonly MetadataFileProperties[]): void => {
    for (const p of props) listing.listed.set(componentKey(p), p);
  };
  await listInCalls(
    client,
    types.map((type) => ({ type })),
    (props, { type }) => {
      listing.types.add(type);
      add(props);
    },
    ({ type }, error) => {
      firstError ??= error;
      listing.failedTypes.push({ type, message: message(error) });
    },
  );

  // In-folder types: their folders first (every folder type of each), then each folder's contents.
  const failedContent = new Set<string>();
  const folders = new Map<string, string[]>(folderedTypes.map((t) => [t, [...(UNFILED_FOLDERS[t] ?? [])]]));
  const folderQueries = folderedTypes.flatMap((t) => folderTypesOf(t).map((type) => ({ type })));
  await listInCalls(
    client,
    folderQueries,
    (props, { type }) => {
      const content = FOLDER_CONTENT_TYPES[type]!;
      folders.get(content)!.push(...props.map((p) => p.fullName));
      if (settings.excludedTypes.includes(type)) return;
      listing.types.add(type);
      add(props);
    },
    ({ type }, error) => {
      const content = FOLDER_CONTENT_TYPES[type]!;
      // Only the first folder type is in every org (EmailTemplateFolder is recent): an org that
      // does not know a later one has no such folders.
      if (folderTypesOf(content)[0] !== type) return;
      firstError ??= error;
      failedContent.add(content);
      listing.failedTypes.push({ type: content, message: `its folders could not be listed (${message(error)})` });
    },
  );
  const contentQueries = folderedTypes.filter((t) => !failedContent.has(t)).flatMap((type) => [...new Set(folders.get(type))].map((folder) => ({ type, folder })));
  await listInCalls(
    client,
    contentQueries,
    (props) => add(props),
    ({ type, folder }, error) => {
      firstError ??= error;
      if (!failedContent.has(type)) listing.failedTypes.push({ type, message: `the folder ${folder ?? ''} could not be listed (${message(error)})` });
      failedContent.add(type);
    },
  );
  // A type some folder of which could not be listed is neither captured in full nor marked deleted.
  for (const type of folderedTypes) if (!failedContent.has(type)) listing.types.add(type);
  if (listing.types.size === 0 && firstError !== undefined) throw firstError;
  return listing;
}

const dateOf = (iso: string): number | null => {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
};

/** A listed component needs retrieving when the vault does not hold it live, or its date or ID moved. */
function mayHaveChanged(p: MetadataFileProperties, head: MetadataComponentVersion | undefined, capturedAt: number): boolean {
  if (!head || head.deleted) return true;
  const date = dateOf(p.lastModifiedDate);
  if (date !== head.lastModifiedDate) return true;
  if ((p.id || null) !== head.salesforceId) return true;
  // Standard components carry the epoch as their date whatever happens to them.
  if (!date) return capturedAt - head.capturedAt >= UNDATED_REFRESH_MS;
  return false;
}

/** A component's files in a retrieve, as the manifest estimates them: the limit is on files. */
function estimatedFiles(type: string, described: ReadonlyMap<string, MetadataTypeDescription>): number {
  return described.get(type)?.metaFile ? 2 : 1;
}

/** Components to retrieve, in manifests of at most RETRIEVE_MAX_FILES files. */
function retrieveBatches(components: readonly MetadataFileProperties[], described: ReadonlyMap<string, MetadataTypeDescription>): MetadataFileProperties[][] {
  const batches: MetadataFileProperties[][] = [];
  let batch: MetadataFileProperties[] = [];
  let files = 0;
  for (const p of components) {
    const n = estimatedFiles(p.type, described);
    if (files + n > RETRIEVE_MAX_FILES && batch.length > 0) {
      batches.push(batch);
      batch = [];
      files = 0;
    }
    batch.push(p);
    files += n;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** A retrieve's package.xml: folders are members of the type they hold (`Report: Sales`). */
function manifest(batch: readonly MetadataFileProperties[]): { name: string; members: string[] }[] {
  const byType = new Map<string, string[]>();
  for (const p of batch) {
    const name = FOLDER_CONTENT_TYPES[p.type] ?? p.type;
    byType.set(name, [...(byType.get(name) ?? []), p.fullName]);
  }
  return [...byType].map(([name, members]) => ({ name, members }));
}

/** Retrieves `components` batch by batch, handing each batch's files per component to `each`. */
async function retrieveComponents(
  client: OrgClient,
  components: readonly MetadataFileProperties[],
  listing: Listing,
  each: (files: Map<string, MetadataFiles>, batch: readonly MetadataFileProperties[]) => Promise<void>,
): Promise<void> {
  const listed = new Set(listing.listed.keys());
  const profiles = components.filter((p) => PROFILE_TYPES.has(p.type));
  for (const batch of retrieveBatches(components.filter((p) => !PROFILE_TYPES.has(p.type)), listing.described)) {
    const result = await client.retrieveMetadata(manifest(batch));
    const wanted = new Map<string, MetadataComponentRef>(batch.map((p) => [componentKey(p), { type: p.type, fullName: p.fullName }]));
    await each(componentsFromRetrieve(result.files, result.fileProperties, wanted, listed), batch);
  }
  if (profiles.length === 0) return;
  const scope = [...listing.listed.values()].filter((p) => PROFILE_SCOPE_TYPES.has(p.type));
  // Types captured or not, a profile is read with everything it grants access to, so that its
  // content does not depend on the settings: list what the capture did not.
  const unlisted = [...PROFILE_SCOPE_TYPES].filter((t) => listing.described.has(t) || t === 'CustomField' || t === 'RecordType');
  for (const type of unlisted.filter((t) => !listing.types.has(t))) {
    scope.push(...(await client.listMetadata([{ type }]).catch(() => [])));
  }
  const scopeFiles = scope.reduce((n, p) => n + estimatedFiles(p.type, listing.described), 0);
  // The scope goes with every batch of profiles; profiles fill what the limit leaves.
  const perBatch = Math.max(1, RETRIEVE_MAX_FILES - scopeFiles);
  for (let at = 0; at < profiles.length; at += perBatch) {
    const batch = profiles.slice(at, at + perBatch);
    const result = await client.retrieveMetadata(manifest([...scope, ...batch]));
    const wanted = new Map<string, MetadataComponentRef>(batch.map((p) => [componentKey(p), { type: p.type, fullName: p.fullName }]));
    await each(componentsFromRetrieve(result.files, result.fileProperties, wanted, listed), batch);
  }
}

/**
 * What to retrieve: what may have changed and, when any component a profile grants access to
 * was added, changed or removed, every profile again (its permissions on it are in the profile).
 */
function componentsToRetrieve(listing: Listing, heads: ReadonlyMap<string, MetadataComponentVersion>, capturedAt: number, full: boolean): MetadataFileProperties[] {
  const listed = [...listing.listed.values()];
  const changed = listed.filter((p) => full || mayHaveChanged(p, heads.get(componentKey(p)), capturedAt));
  const removed = [...heads.values()].some((h) => !h.deleted && PROFILE_SCOPE_TYPES.has(h.type) && listing.types.has(h.type) && !listing.listed.has(componentKey(h)));
  if (!removed && !changed.some((p) => PROFILE_SCOPE_TYPES.has(p.type))) return changed;
  return [...changed.filter((p) => !PROFILE_TYPES.has(p.type)), ...listed.filter((p) => PROFILE_TYPES.has(p.type))];
}

/**
 * Captures the org's metadata into the vault under `runId`: what changed since the heads is
 * retrieved and stored, what is no longer listed is marked deleted, and the capture is recorded
 * as complete. Throws when nothing can be listed or a retrieve fails; versions stored before
 * that stay (they are true captures) and the next capture completes the rest.
 */
export async function captureMetadata(
  deps: { store: MetadataStore; client: OrgClient },
  target: { orgId: string; runId: string; capturedAt: number },
  settings: MetadataSettings,
  options: { full?: boolean } = {},
): Promise<MetadataCaptureOutcome> {
  const client = deps.client.scoped();
  const { orgId, runId, capturedAt } = target;
  const listing = await listComponents(client, settings);
  const heads = new Map((await deps.store.metadataHeads(orgId, { includeDeleted: true })).map((h) => [componentKey(h), h]));
  const toRetrieve = componentsToRetrieve(listing, heads, capturedAt, options.full === true);
  const outcome: MetadataCaptureOutcome = {
    components: listing.listed.size,
    changed: 0,
    deleted: 0,
    retrieved: 0,
    unchanged: 0,
    newContents: 0,
    types: listing.types.size,
    failedTypes: listing.failedTypes,
    skippedTypes: listing.skippedTypes,
    apiCalls: 0,
  };
  const write = async (versions: MetadataVersionInput[]): Promise<void> => {
    if (versions.length === 0) return;
    const written = await deps.store.writeMetadataVersions(orgId, runId, capturedAt, versions);
    outcome.changed += written.written;
    outcome.unchanged += written.unchanged;
    outcome.newContents += written.newContents;
  };
  await retrieveComponents(client, toRetrieve, listing, async (files, batch) => {
    const versions: MetadataVersionInput[] = [];
    for (const p of batch) {
      const content = files.get(componentKey(p));
      // Deleted between the listing and the retrieve: the next capture marks it.
      if (!content) continue;
      versions.push({ type: p.type, fullName: p.fullName, files: content, deleted: false, lastModifiedDate: dateOf(p.lastModifiedDate), salesforceId: p.id || null });
    }
    outcome.retrieved += versions.length;
    await write(versions);
  });

  const gone: MetadataVersionInput[] = [];
  for (const [key, head] of heads) {
    if (head.deleted || !listing.types.has(head.type) || listing.listed.has(key)) continue;
    gone.push({ type: head.type, fullName: head.fullName, deleted: true, lastModifiedDate: null, salesforceId: head.salesforceId });
  }
  const changedBefore = outcome.changed;
  await write(gone);
  outcome.deleted = outcome.changed - changedBefore;
  outcome.apiCalls = client.usage().calls;
  await deps.store.completeMetadataRun({ orgId, runId, capturedAt, components: outcome.components, changed: outcome.changed, deleted: outcome.deleted });
  return outcome;
}

/**
 * The org's live metadata, read the way a capture reads it but stored nowhere: every component
 * of the types `settings` selects, with its files. For comparing a backup with the live org.
 */
export async function readLiveMetadata(client: OrgClient, settings: MetadataSettings): Promise<Map<string, { ref: MetadataComponentRef; files: MetadataFiles; lastModifiedDate: number | null }>> {
  const listing = await listComponents(client, settings);
  const out = new Map<string, { ref: MetadataComponentRef; files: MetadataFiles; lastModifiedDate: number | null }>();
  await retrieveComponents(client, [...listing.listed.values()], listing, async (files, batch) => {
    for (const p of batch) {
      const content = files.get(componentKey(p));
      if (content) out.set(componentKey(p), { ref: { type: p.type, fullName: p.fullName }, files: content, lastModifiedDate: dateOf(p.lastModifiedDate) });
    }
  });
  return out;
}

/** The run counters a capture adds to its run, in the job log's vocabulary. */
export function metadataCounters(outcome: MetadataCaptureOutcome): Record<string, number> {
  return {
    metadataComponents: outcome.components,
    metadataChanged: outcome.changed,
    metadataDeleted: outcome.deleted,
    metadataRetrieved: outcome.retrieved,
    metadataTypes: outcome.types,
    metadataApiCalls: outcome.apiCalls,
    ...(outcome.failedTypes.length > 0 ? { metadataFailedTypes: outcome.failedTypes.length } : {}),
  };
}

function failedTypesMessage(outcome: MetadataCaptureOutcome): string | null {
  if (outcome.failedTypes.length === 0) return null;
  const named = outcome.failedTypes.slice(0, 5).map((f) => `${f.type} (${f.message})`).join('; ');
  const more = outcome.failedTypes.length > 5 ? ` and ${outcome.failedTypes.length - 5} more` : '';
  return `METADATA_TYPES_FAILED: ${outcome.failedTypes.length} metadata type(s) could not be listed and were not backed up: ${named}${more}.`;
}

interface StepResult {
  status: RunStatus;
  apiCalls: number;
  message: string | null;
  counters: Record<string, number>;
}

const worse = (status: RunStatus): RunStatus => (status === 'Succeeded' ? 'CompletedWithErrors' : status);
const join = (a: string | null, b: string): string => (a ? `${a} ${b}` : b);

/**
 * The metadata step of a backup job, after its objects are stored: never throws. A failure makes
 * the run CompletedWithErrors with the reason and loses none of the data already stored.
 */
export async function metadataBackupStep<R extends StepResult>(
  deps: { store: MetadataStore; client: OrgClient; now: () => number; mayStart?: () => boolean },
  org: OrgRegistration,
  runId: string,
  result: R,
  notice: (message: string) => void = () => undefined,
): Promise<R> {
  const settings = metadataSettings(org);
  if (!settings.enabled) return result;
  try {
    const capturedAt = deps.now();
    const [last] = await deps.store.metadataRuns(org.orgId, { limit: 1 });
    if (last && capturedAt - last.capturedAt < settings.minIntervalMinutes * 60_000) return result;
    if (deps.mayStart && !deps.mayStart()) {
      notice('Metadata: not backed up this run, because the API budget is spent; the next backup captures it.');
      return { ...result, counters: { ...result.counters, metadataDeferred: 1 } };
    }
    const outcome = await captureMetadata(deps, { orgId: org.orgId, runId, capturedAt }, settings);
    notice(`Metadata: ${outcome.components} component(s) in ${outcome.types} type(s), ${outcome.changed} new version(s).`);
    const problem = failedTypesMessage(outcome);
    // Salesforce charges the Metadata API's calls like any other: they are the run's too.
    const apiCalls = (result.counters.apiCalls ?? 0) + outcome.apiCalls;
    const counters = { ...result.counters, ...metadataCounters(outcome), apiCalls };
    const withCalls = { ...result, apiCalls: result.apiCalls + outcome.apiCalls };
    return problem ? { ...withCalls, status: worse(result.status), message: join(result.message, problem), counters } : { ...withCalls, counters };
  } catch (error) {
    const code = error instanceof SalesforceApiError ? `${error.statusCode}: ` : '';
    const message = `METADATA_FAILED: the data backup is stored, but the org's metadata could not be backed up (${code}${error instanceof Error ? error.message : String(error)}); the next backup captures it.`;
    notice(message);
    return { ...result, status: worse(result.status), message: join(result.message, message), counters: { ...result.counters, metadataErrors: 1 } };
  }
}

export type MetadataBackupStore = MetadataStore & RunLog & LockManager;

export interface MetadataBackupResult {
  runId: string;
  status: RunStatus;
  message: string | null;
  counters: Record<string, number>;
  outcome: MetadataCaptureOutcome | null;
}

/**
 * A metadata backup on its own (`orgvault metadata backup`): a run of kind `metadata` under the
 * org's writer lock (Skipped when another job holds it). Throws only when the run cannot be
 * recorded; a capture that fails is a Failed run with Salesforce's reason.
 */
export async function runMetadataBackup(
  deps: { store: MetadataBackupStore; client: OrgClient; now?: () => number },
  request: { org: OrgRegistration; startedBy?: string; full?: boolean },
): Promise<MetadataBackupResult> {
  const now = deps.now ?? Date.now;
  const { org } = request;
  const runId = randomUUID();
  const settings = metadataSettings(org);
  const run: Run = {
    runId,
    orgId: org.orgId,
    kind: 'metadata',
    status: 'Running',
    startedAt: now(),
    endedAt: null,
    counters: {},
    message: null,
    parameters: { org: org.name, startedBy: request.startedBy ?? null, full: request.full === true, types: settings.types, excludedTypes: settings.excludedTypes },
  };
  let lock;
  try {
    lock = await deps.store.acquireOrgLock(org.orgId, `metadata ${runId} (pid ${process.pid} on ${hostname()})`, { staleAfterMs: 60_000 });
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    const message = `Skipped: another job of ${org.name} is running (${error.holder}, since ${new Date(error.since).toISOString()}).`;
    await deps.store.createRun({ ...run, status: 'Skipped', endedAt: now(), message });
    return { runId, status: 'Skipped', message, counters: {}, outcome: null };
  }
  try {
    // Holding the lock, a metadata run still marked Running died with its process.
    for (const stale of await deps.store.listRuns({ orgId: org.orgId, kind: 'metadata', limit: 20 })) {
      if (stale.status === 'Running') await deps.store.updateRun(stale.runId, { status: 'Failed', endedAt: now(), message: 'Interrupted: the process stopped before the metadata backup finished; what it stored is kept.' });
    }
    await deps.store.createRun(run);
    try {
      const outcome = await captureMetadata(deps, { orgId: org.orgId, runId, capturedAt: run.startedAt }, settings, { full: request.full });
      const message = failedTypesMessage(outcome);
      const status: RunStatus = message ? 'CompletedWithErrors' : 'Succeeded';
      const counters = { ...metadataCounters(outcome), apiCalls: outcome.apiCalls };
      await deps.store.updateRun(runId, { status, endedAt: now(), counters, message });
      return { runId, status, message, counters, outcome };
    } catch (error) {
      const code = error instanceof SalesforceApiError ? `${error.statusCode}: ` : '';
      const message = `METADATA_FAILED: ${code}${error instanceof Error ? error.message : String(error)}`;
      const counters = { metadataErrors: 1 };
      await deps.store.updateRun(runId, { status: 'Failed', endedAt: now(), counters, message });
      return { runId, status: 'Failed', message, counters, outcome: null };
    }
  } finally {
    await lock.release();
  }
}
