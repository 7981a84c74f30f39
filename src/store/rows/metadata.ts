/**
 * Metadata rows to domain values and back, shared by both engines. A component's files are sealed
 * with the same associated data on SQLite and PostgreSQL (`orgvault:metadata:ORG:ADDRESS`), so a
 * content copied from one engine to the other opens on both: one builder keeps the two from drifting.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { MetadataComponentVersion, MetadataFiles, MetadataRunSummary, MetadataVersionInput } from '../../core/metadata.ts';
import { OrgvaultError } from '../../core/errors.ts';
import { contentAddress } from '../../crypto/address.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { open, seal } from '../../crypto/seal.ts';
import { canonicalJson } from '../packs.ts';
import type { MetadataChain, MetadataForget } from '../port.ts';
import type { MetadataRunsTable, MetadataVersionsTable } from '../schema/tables.ts';

/** A metadata version row as reads select it (without the org, which the query names). */
export type MetadataVersionRow = Omit<MetadataVersionsTable, 'seq' | 'org_id'> & { seq: number };

/** A metadata run row as reads select it. */
export type MetadataRunRow = Omit<MetadataRunsTable, 'last_seq'>;

/** A version to write: its content address and sealed files, or nulls for a deletion. */
export interface SealedMetadataVersion {
  input: MetadataVersionInput;
  contentId: string | null;
  sealed: Buffer | null;
}

// Binds a content to its org and address: a sealed content moved to another org or address fails to open.
const contentAad = (orgId: string, contentId: string): string => `orgvault:metadata:${orgId}:${contentId}`;

/** Hashes and seals a version's files (no database: done before a write lock or transaction). */
export function sealMetadataVersion(keyring: Keyring, orgId: string, v: MetadataVersionInput): SealedMetadataVersion {
  if (v.deleted) return { input: v, contentId: null, sealed: null };
  if (!v.files) throw new OrgvaultError('METADATA_NO_FILES', `Metadata component ${v.type}:${v.fullName} has no files and is not a deletion.`);
  const json = canonicalJson(v.files);
  const contentId = contentAddress(keyring.addressing, json);
  return { input: v, contentId, sealed: seal(keyring.sealing, deflateRawSync(json), contentAad(orgId, contentId)) };
}

/** Opens a sealed content and checks that it hashes to its address. */
export function openMetadataContent(keyring: Keyring, orgId: string, contentId: string, sealed: Uint8Array): MetadataFiles {
  const what = `metadata content ${contentId.slice(0, 16)}…`;
  const json = inflateRawSync(open(keyring.sealing, sealed, contentAad(orgId, contentId), what)).toString('utf8');
  if (contentAddress(keyring.addressing, json) !== contentId) throw new IntegrityError(`${what} does not hash to its address.`);
  return JSON.parse(json) as MetadataFiles;
}

/** A `metadata_versions` row as a component version. */
export const toMetadataVersion = (r: MetadataVersionRow): MetadataComponentVersion => ({
  type: r.type,
  fullName: r.full_name,
  contentId: r.content_id,
  lastModifiedDate: r.last_modified,
  salesforceId: r.salesforce_id,
  capturedAt: r.captured_at,
  runId: r.run_id,
  deleted: r.deleted !== 0,
});

/** A `metadata_runs` row as a run summary. */
export const toMetadataRun = (r: MetadataRunRow): MetadataRunSummary => ({
  orgId: r.org_id,
  runId: r.run_id,
  capturedAt: r.captured_at,
  components: r.components,
  changed: r.changed,
  deleted: r.deleted,
});

/** A version row as retention reads it. */
export type MetadataChainRow = Pick<MetadataVersionRow, 'seq' | 'type' | 'full_name' | 'captured_at' | 'deleted'>;

/** Rows ordered by type, fullName and seq descending, as chains. */
export function metadataChainsOf(rows: readonly MetadataChainRow[]): MetadataChain[] {
  const chains: MetadataChain[] = [];
  let current: MetadataChain | undefined;
  for (const r of rows) {
    if (!current || current.type !== r.type || current.fullName !== r.full_name) chains.push((current = { type: r.type, fullName: r.full_name, versions: [] }));
    current.versions.push({ seq: Number(r.seq), capturedAt: Number(r.captured_at), deleted: Number(r.deleted) !== 0 });
  }
  return chains;
}

/**
 * Whether a removal still applies to a component whose versions are now `seqs` (newest first):
 * false when its head moved since the decision. A removal of the head that leaves other versions
 * is refused outright: the head is the component's state, and only a whole component goes.
 */
export function checkMetadataForget(removal: MetadataForget, seqs: readonly number[]): boolean {
  if (seqs[0] !== removal.headSeq) return false;
  if (removal.seqs.includes(removal.headSeq) && !seqs.every((seq) => removal.seqs.includes(seq))) {
    throw new OrgvaultError('INVALID_FORGET', `Forgetting the latest version of ${removal.type} ${removal.fullName} would leave older ones as its state; only the whole component may go.`);
  }
  return true;
}
