/**
 * Metadata components' versions on PostgreSQL (migration 11), as the SQLite adapter stores them:
 * a component's files once per content address (the vault's keyed hash of their canonical JSON),
 * deflated and sealed with the same associated data (`orgvault:metadata:ORG:ADDRESS`), so a
 * content copied from one engine to the other opens on both; type, fullName, IDs and times stay in
 * clear for listing.
 *
 * Concurrency: a metadata capture holds the org's writer lock, but the store does not rely on it.
 * writeMetadataVersions and completeMetadataRun take a transaction-scoped advisory lock per
 * (schema, org), so that comparing a component with its head and appending the next version is
 * one step for the org, and a run completed records as its last row every version committed
 * before it: `seq` comes from a sequence, and without the lock a version numbered before the run's
 * last_seq could commit after it and appear "as of" a run that never saw it. Contents are
 * inserted ON CONFLICT DO NOTHING: equal contents are equal bytes' worth of files.
 */
import { sql } from 'kysely';
import type { MetadataComponentVersion, MetadataFiles, MetadataRunSummary, MetadataVersionInput } from '../../core/metadata.ts';
import { OrgvaultError } from '../../core/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { MetadataChain, MetadataForget, MetadataForgetOutcome, MetadataStore, MetadataWriteOutcome } from '../port.ts';
import { checkMetadataForget, metadataChainsOf, openMetadataContent, sealMetadataVersion, toMetadataRun, toMetadataVersion } from '../rows/metadata.ts';
import type { MetadataChainRow, MetadataRunRow, MetadataVersionRow } from '../rows/metadata.ts';
import type { PgConnections, PgTx } from './connection.ts';

/** Sealed bytes per contents insert: big enough for few round trips, small enough for one message. */
const CONTENT_BYTES_PER_INSERT = 8 * 1024 * 1024;
/** Version rows per insert. */
const VERSIONS_PER_INSERT = 5000;

const HEAD_COLUMNS = 'v.seq, v.type, v.full_name, v.content_id, v.deleted, v.last_modified, v.salesforce_id, v.captured_at, v.run_id';

/** The org's metadata writers, one at a time across every process (see the module comment). */
async function lockOrg(trx: PgTx, orgId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtextextended('orgvault:metadata:' || current_schema() || ':' || ${orgId}, 0))`.execute(trx);
}

const componentKey = (type: string, fullName: string): string => `${type}\u0000${fullName}`;

export class PgMetadata implements MetadataStore {
  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
  ) {}

  async writeMetadataVersions(orgId: string, runId: string, capturedAt: number, versions: readonly MetadataVersionInput[]): Promise<MetadataWriteOutcome> {
    // Hashing and sealing happen before the transaction begins.
    const prepared = versions.map((v) => sealMetadataVersion(this.keyring, orgId, v));
    if (prepared.length === 0) return { written: 0, unchanged: 0, newContents: 0 };

    return this.conns.transaction(async (trx) => {
      await lockOrg(trx, orgId);
      // Every component's head in one query (the component index, read backwards, once each).
      const keys = new Map<string, { type: string; fullName: string }>();
      for (const { input } of prepared) keys.set(componentKey(input.type, input.fullName), { type: input.type, fullName: input.fullName });
      const types = [...keys.values()].map((k) => k.type);
      const names = [...keys.values()].map((k) => k.fullName);
      const heads = new Map<string, { contentId: string | null; deleted: boolean }>();
      const headRows = await sql<{ type: string; full_name: string; content_id: string | null; deleted: number }>`
        SELECT k.type, k.full_name, h.content_id, h.deleted
        FROM unnest(${types}::text[], ${names}::text[]) AS k(type, full_name)
        CROSS JOIN LATERAL (
          SELECT content_id, deleted FROM metadata_versions v
          WHERE v.org_id = ${orgId} AND v.type = k.type AND v.full_name = k.full_name ORDER BY v.seq DESC LIMIT 1
        ) h`.execute(trx);
      for (const r of headRows.rows) heads.set(componentKey(r.type, r.full_name), { contentId: r.content_id, deleted: r.deleted !== 0 });

      // Decided in input order, each against the head the ones before it left, as SQLite does.
      const outcome: MetadataWriteOutcome = { written: 0, unchanged: 0, newContents: 0 };
      const rows: { input: MetadataVersionInput; contentId: string | null }[] = [];
      const contents = new Map<string, Buffer>();
      for (const { input, contentId, sealed } of prepared) {
        const key = componentKey(input.type, input.fullName);
        const head = heads.get(key);
        // A deletion of a component never stored, or already deleted, is nothing new.
        if (input.deleted ? !head || head.deleted : head !== undefined && !head.deleted && head.contentId === contentId) {
          outcome.unchanged++;
          continue;
        }
        if (contentId !== null && sealed) contents.set(contentId, sealed);
        rows.push({ input, contentId });
        heads.set(key, { contentId, deleted: input.deleted });
      }

      outcome.newContents = await insertContents(trx, orgId, contents);
      for (let i = 0; i < rows.length; i += VERSIONS_PER_INSERT) {
        const chunk = rows.slice(i, i + VERSIONS_PER_INSERT);
        // WITH ORDINALITY … ORDER BY: seq follows the input order, as SQLite's rowids do.
        await sql`
          INSERT INTO metadata_versions (org_id, type, full_name, content_id, deleted, last_modified, salesforce_id, captured_at, run_id)
          SELECT ${orgId}, t.type, t.full_name, t.content_id, t.deleted, t.last_modified, t.salesforce_id, ${capturedAt}::bigint, ${runId}
          FROM unnest(
            ${chunk.map((r) => r.input.type)}::text[],
            ${chunk.map((r) => r.input.fullName)}::text[],
            ${chunk.map((r) => r.contentId)}::text[],
            ${chunk.map((r) => (r.input.deleted ? 1 : 0))}::smallint[],
            ${chunk.map((r) => r.input.lastModifiedDate)}::bigint[],
            ${chunk.map((r) => r.input.salesforceId)}::text[]
          ) WITH ORDINALITY AS t(type, full_name, content_id, deleted, last_modified, salesforce_id, ord)
          ORDER BY t.ord`.execute(trx);
      }
      outcome.written = rows.length;
      return outcome;
    });
  }

  async completeMetadataRun(s: MetadataRunSummary): Promise<void> {
    await this.conns.transaction(async (trx) => {
      await lockOrg(trx, s.orgId);
      await sql`
        INSERT INTO metadata_runs (org_id, run_id, captured_at, last_seq, components, changed, deleted)
        SELECT ${s.orgId}, ${s.runId}, ${s.capturedAt}::bigint, coalesce(max(seq), 0), ${s.components}::bigint, ${s.changed}::bigint, ${s.deleted}::bigint
        FROM metadata_versions WHERE org_id = ${s.orgId}
        ON CONFLICT (org_id, run_id) DO UPDATE SET captured_at = excluded.captured_at, last_seq = excluded.last_seq, components = excluded.components,
          changed = excluded.changed, deleted = excluded.deleted`.execute(trx);
    });
  }

  async metadataHeads(orgId: string, options: { at?: number; runId?: string; type?: string; includeDeleted?: boolean } = {}): Promise<MetadataComponentVersion[]> {
    let lastSeq = Number.MAX_SAFE_INTEGER;
    if (options.runId !== undefined) {
      const [run] = await this.conns.query<{ last_seq: number }>('SELECT last_seq FROM metadata_runs WHERE org_id = $1 AND run_id = $2', [orgId, options.runId]);
      if (!run) throw new OrgvaultError('METADATA_RUN_NOT_FOUND', `No completed metadata backup ${options.runId} for this org; list them with \`orgvault metadata list\`.`);
      lastSeq = run.last_seq;
    }
    const at = options.at ?? Number.MAX_SAFE_INTEGER;
    // Byte order of type and fullName, as SQLite sorts, whatever the database's collation.
    const rows = await this.conns.query<MetadataVersionRow>(
      `SELECT ${HEAD_COLUMNS} FROM metadata_versions v
       JOIN (SELECT max(seq) AS seq FROM metadata_versions
             WHERE org_id = $1 AND seq <= $2 AND captured_at <= $3 AND ($4::text IS NULL OR type = $4::text) GROUP BY type, full_name) h ON h.seq = v.seq
       WHERE $5::boolean OR v.deleted = 0
       ORDER BY v.type COLLATE "C", v.full_name COLLATE "C"`,
      [orgId, lastSeq, at, options.type ?? null, options.includeDeleted === true],
    );
    return rows.map(toMetadataVersion);
  }

  async metadataHistory(orgId: string, type: string, fullName: string): Promise<MetadataComponentVersion[]> {
    const rows = await this.conns.query<MetadataVersionRow>(`SELECT ${HEAD_COLUMNS} FROM metadata_versions v WHERE v.org_id = $1 AND v.type = $2 AND v.full_name = $3 ORDER BY v.seq DESC`, [
      orgId,
      type,
      fullName,
    ]);
    return rows.map(toMetadataVersion);
  }

  async readMetadataFiles(orgId: string, contentId: string): Promise<MetadataFiles | undefined> {
    const [row] = await this.conns.query<{ sealed: Buffer }>('SELECT sealed FROM metadata_contents WHERE org_id = $1 AND content_id = $2', [orgId, contentId]);
    if (!row) return undefined;
    return openMetadataContent(this.keyring, orgId, contentId, row.sealed);
  }

  async metadataRuns(orgId: string, options: { limit?: number } = {}): Promise<MetadataRunSummary[]> {
    const rows = await this.conns.query<MetadataRunRow>('SELECT * FROM metadata_runs WHERE org_id = $1 ORDER BY captured_at DESC, last_seq DESC LIMIT $2', [orgId, options.limit ?? null]);
    return rows.map(toMetadataRun);
  }

  async metadataChains(orgId: string): Promise<MetadataChain[]> {
    const rows = await this.conns.query<MetadataChainRow>(
      'SELECT seq, type, full_name, captured_at, deleted FROM metadata_versions WHERE org_id = $1 ORDER BY type COLLATE "C", full_name COLLATE "C", seq DESC',
      [orgId],
    );
    return metadataChainsOf(rows);
  }

  async forgetMetadataVersions(orgId: string, removals: readonly MetadataForget[]): Promise<MetadataForgetOutcome> {
    return this.conns.transaction(async (trx) => {
      // The capture's lock: no version of the org is appended while heads are compared.
      await lockOrg(trx, orgId);
      const outcome: MetadataForgetOutcome = { versions: 0, contents: 0, skipped: 0 };
      for (const removal of removals) {
        const { rows } = await sql<{ seq: string | number }>`
          SELECT seq FROM metadata_versions WHERE org_id = ${orgId} AND type = ${removal.type} AND full_name = ${removal.fullName} ORDER BY seq DESC`.execute(trx);
        if (!checkMetadataForget(removal, rows.map((r) => Number(r.seq)))) {
          outcome.skipped++;
          continue;
        }
        const deleted = await sql`
          DELETE FROM metadata_versions WHERE org_id = ${orgId} AND type = ${removal.type} AND full_name = ${removal.fullName} AND seq = ANY(${[...removal.seqs]}::bigint[])`.execute(trx);
        outcome.versions += Number(deleted.numAffectedRows ?? 0);
      }
      if (outcome.versions > 0) {
        const gone = await sql`
          DELETE FROM metadata_contents c WHERE c.org_id = ${orgId}
            AND NOT EXISTS (SELECT 1 FROM metadata_versions v WHERE v.org_id = c.org_id AND v.content_id = c.content_id)`.execute(trx);
        outcome.contents = Number(gone.numAffectedRows ?? 0);
      }
      return outcome;
    });
  }
}

/** Inserts the contents not stored yet, in groups of a bounded size; returns how many were new. */
async function insertContents(trx: PgTx, orgId: string, contents: ReadonlyMap<string, Buffer>): Promise<number> {
  let inserted = 0;
  let ids: string[] = [];
  let blobs: Buffer[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (ids.length === 0) return;
    const result = await sql<{ content_id: string }>`
      INSERT INTO metadata_contents (org_id, content_id, sealed)
      SELECT ${orgId}, c.content_id, c.sealed FROM unnest(${ids}::text[], ${blobs}::bytea[]) AS c(content_id, sealed)
      ON CONFLICT (org_id, content_id) DO NOTHING
      RETURNING content_id`.execute(trx);
    inserted += result.rows.length;
    ids = [];
    blobs = [];
    bytes = 0;
  };
  for (const [id, sealed] of contents) {
    if (bytes > 0 && bytes + sealed.length > CONTENT_BYTES_PER_INSERT) await flush();
    ids.push(id);
    blobs.push(sealed);
    bytes += sealed.length;
  }
  await flush();
  return inserted;
}
