/**
 * Removing data from the catalog on PostgreSQL, as on SQLite (../sqlite/retention.ts): `forget`
 * (versions a retention policy does not keep), the pack rewrite of `prune` and `purge`, and giving
 * space back.
 *
 * Ordering rules (each a transaction, so a crash leaves all of it or none):
 * - A forget re-links each chain around the versions it removes, so a chain never points at a
 *   missing row; the head is never removed unless the whole record is, with its head row; the
 *   object's counts move in the same transaction. The heads it acts on are locked (FOR UPDATE)
 *   and checked against the decision, so a record that changed since is left alone.
 * - A pack rewrite writes the new packs, re-points the versions and heads, and deletes the old
 *   packs in one transaction: a reader sees either the old pack or the new one, never neither.
 *   Pack keys come from an identity and are never reused, so a reader's cache of an old pack stays
 *   right.
 * - A purge deletes the records' rows (search postings included: the GIN lists drop their
 *   entries with the row) and rewrites the packs that held them in one transaction, and reports
 *   the blob addresses nothing refers to any more; the caller deletes those blobs only after that
 *   commit. A commit is durable when it returns (synchronous_commit), so syncCatalog has nothing
 *   to do.
 *
 * Concurrency with a backup writing from another process: prune and purge run under the vault's
 * exclusive lock, which no org writer lock is granted beside, so no backup should be writing; the
 * rewrite does not rely on it. Every transaction that changes an object's versions or heads locks
 * the object's `objects` row first (FOR UPDATE, as writeVersions does), so forget and purge
 * exclude the object's writers. A pack rewrite locks its old packs' rows (FOR UPDATE: a second
 * prune waits), reads which objects' versions refer to them, locks those objects' rows in key
 * order, and only then reads the slots in use: no writer of those objects (the only ones that can
 * point a new version into the packs, by deduplicating onto a head there) runs until it commits,
 * and one that committed before is seen. An old pack is deleted only if no version refers to it
 * when the delete runs. Packs written after the rewrite began are full and not looked at.
 */
import type { PoolClient } from 'pg';
import type { Keyring } from '../../crypto/keys.ts';
import { PackBuilder } from '../packs.ts';
import type { CatalogSize, ChainFile, ForgetOutcome, ForgetRecord, PackUsage, PurgeOutcome, RecordChain, RepackOutcome, RetentionStore } from '../port.ts';
import { CHAIN_PAGE, REPACK_GROUP, emptyRepack, repackEntries, sealRepack } from '../rows/retention.ts';
import type { RepackEntry } from '../rows/retention.ts';
import type { PgConnections } from './connection.ts';
import { SEARCH_OBJECT_LOCK, inTransaction } from './search-index.ts';

/** A chain longer than this is a loop (a damaged catalog): the walk stops. */
const MAX_CHAIN = 1_000_000;

interface ChainRow {
  head: string;
  seq: number;
  system_modstamp: number;
  prev_seq: number | null;
  is_deleted: number;
  batch_key: number;
}

async function packTotals(conns: PgConnections): Promise<{ packs: number; bytes: number }> {
  const [row] = await conns.query<{ packs: number; bytes: number }>('SELECT count(*)::bigint AS packs, coalesce(sum(octet_length(sealed)), 0)::bigint AS bytes FROM packs');
  return { packs: row?.packs ?? 0, bytes: row?.bytes ?? 0 };
}

/**
 * The chains from the given heads (record ID and head seq), newest first, walked in one recursive
 * statement; each row names the head's record.
 */
async function walkChains(client: PoolClient, objectKey: number, heads: readonly { record_id: string; seq: number }[]): Promise<Map<string, ChainRow[]>> {
  const sql = `WITH RECURSIVE chain AS (
      SELECT h.record_id AS head, v.seq, v.system_modstamp, v.prev_seq, v.is_deleted, v.batch_key, 1 AS depth
        FROM unnest($2::text[], $3::bigint[]) AS h(record_id, seq) JOIN record_versions v ON v.object_key = $1 AND v.seq = h.seq
      UNION ALL
      SELECT c.head, v.seq, v.system_modstamp, v.prev_seq, v.is_deleted, v.batch_key, c.depth + 1
        FROM chain c JOIN record_versions v ON v.object_key = $1 AND v.seq = c.prev_seq
       WHERE c.depth < ${MAX_CHAIN}
    ) SELECT head, seq, system_modstamp, prev_seq, is_deleted, batch_key FROM chain ORDER BY head, depth`;
  const params = [objectKey, heads.map((h) => h.record_id), heads.map((h) => h.seq)];
  const { rows } = await client.query<ChainRow>(sql, params);
  const chains = new Map<string, ChainRow[]>();
  for (const row of rows) {
    const list = chains.get(row.head);
    if (!list) chains.set(row.head, [row]);
    // A loop (a damaged catalog) ends the chain where it comes back.
    else if (!list.some((n) => n.seq === row.seq)) list.push(row);
  }
  return chains;
}

/** Estimated free space: each table's share of dead rows, from the statistics PostgreSQL keeps (approximate, updated in the background). */
const SIZE_SQL = `
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes,
       coalesce(sum(CASE WHEN s.n_live_tup + s.n_dead_tup > 0 THEN pg_relation_size(c.oid) * s.n_dead_tup / (s.n_live_tup + s.n_dead_tup) ELSE 0 END), 0)::bigint AS free
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'm')`;

export class PgRetention implements RetentionStore {
  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
    /** Called after packs were rewritten, so that no decompressed copy of a dropped payload lingers. */
    private readonly onPacksRewritten: () => void = () => undefined,
  ) {}

  /** The object's key; in a transaction, its row locked (the object's writers wait). */
  private async objectKey(client: PoolClient | undefined, orgId: string, objectName: string): Promise<number | undefined> {
    const sql = `SELECT object_key FROM objects WHERE org_id = $1 AND name = $2${client ? ' FOR UPDATE' : ''}`;
    const rows = client ? (await client.query<{ object_key: number }>(sql, [orgId, objectName])).rows : await this.conns.query<{ object_key: number }>(sql, [orgId, objectName]);
    return rows[0]?.object_key;
  }

  // ---- reading chains -------------------------------------------------------------------------

  async *recordChains(orgId: string, objectName: string, options: { recordIds?: readonly string[] } = {}): AsyncIterable<RecordChain[]> {
    const key = await this.objectKey(undefined, orgId, objectName);
    if (key === undefined) return;
    // One snapshot per page (REPEATABLE READ): the heads, their chains and their files agree.
    const page = (heads: (client: PoolClient) => Promise<{ record_id: string; seq: number }[]>): Promise<RecordChain[]> =>
      inTransaction(this.conns, async (client) => this.chains(client, orgId, key, await heads(client)), 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (options.recordIds) {
      const ids = [...new Set(options.recordIds)].sort();
      for (let i = 0; i < ids.length; i += CHAIN_PAGE) {
        const chunk = ids.slice(i, i + CHAIN_PAGE);
        const chains = await page(
          async (client) =>
            (await client.query<{ record_id: string; seq: number }>('SELECT record_id, seq FROM record_heads WHERE object_key = $1 AND record_id = ANY($2::text[]) ORDER BY record_id COLLATE "C"', [key, chunk])).rows,
        );
        if (chains.length) yield chains;
      }
      return;
    }
    let after = '';
    for (;;) {
      const chains = await page(
        async (client) =>
          (
            await client.query<{ record_id: string; seq: number }>(
              'SELECT record_id, seq FROM record_heads WHERE object_key = $1 AND record_id COLLATE "C" > $2 ORDER BY record_id COLLATE "C" LIMIT $3',
              [key, after, CHAIN_PAGE],
            )
          ).rows,
      );
      if (chains.length === 0) return;
      after = chains[chains.length - 1]!.recordId;
      yield chains;
      if (chains.length < CHAIN_PAGE) return;
    }
  }

  private async chains(client: PoolClient, orgId: string, objectKey: number, heads: readonly { record_id: string; seq: number }[]): Promise<RecordChain[]> {
    if (heads.length === 0) return [];
    const walked = await walkChains(client, objectKey, heads);
    const files = new Map<string, ChainFile[]>();
    const fileRows = await client.query<{ record_id: string; field: string; system_modstamp: number; address: string; size: number }>(
      'SELECT record_id, field, system_modstamp, address, size FROM files WHERE org_id = $1 AND record_id = ANY($2::text[])',
      [orgId, heads.map((h) => h.record_id)],
    );
    for (const f of fileRows.rows) {
      const list = files.get(f.record_id) ?? [];
      list.push({ field: f.field, systemModstamp: f.system_modstamp, address: f.address, size: f.size });
      files.set(f.record_id, list);
    }
    return heads.map((head) => ({
      recordId: head.record_id,
      versions: (walked.get(head.record_id) ?? []).map((n) => ({ seq: n.seq, systemModstamp: n.system_modstamp, isDeleted: n.is_deleted === 1 })),
      files: files.get(head.record_id) ?? [],
    }));
  }

  // ---- forget ---------------------------------------------------------------------------------

  async forgetVersions(orgId: string, objectName: string, records: readonly ForgetRecord[]): Promise<ForgetOutcome> {
    const outcome: ForgetOutcome = { versions: 0, records: 0, files: 0, skipped: 0 };
    if (records.length === 0) return outcome;
    await inTransaction(this.conns, async (client) => {
      const key = await this.objectKey(client, orgId, objectName);
      if (key === undefined) {
        outcome.skipped = records.length;
        return;
      }
      // The heads acted on, locked in key order: a writer of these records waits, and one that wrote first is seen.
      const ids = [...new Set(records.map((r) => r.recordId))].sort();
      const heads = new Map(
        (
          await client.query<{ record_id: string; seq: number }>(
            'SELECT record_id, seq FROM record_heads WHERE object_key = $1 AND record_id = ANY($2::text[]) ORDER BY record_id COLLATE "C" FOR UPDATE',
            [key, ids],
          )
        ).rows.map((h) => [h.record_id, h.seq]),
      );
      const current = records.filter((r) => heads.get(r.recordId) === r.headSeq);
      // Changed since it was evaluated (nothing should change under the org's lock, but never act on a stale decision).
      outcome.skipped = records.length - current.length;
      const chains = await walkChains(client, key, current.map((r) => ({ record_id: r.recordId, seq: r.headSeq })));
      const removeSeqs: number[] = [];
      const relink = { seqs: [] as number[], prevs: [] as (number | null)[] };
      const wholeIds: string[] = [];
      const files = { ids: [] as string[], fields: [] as string[], stamps: [] as number[] };
      const batches = new Set<number>();
      for (const r of current) {
        const chain = chains.get(r.recordId) ?? [];
        if (r.wholeRecord) {
          for (const n of chain) {
            removeSeqs.push(n.seq);
            batches.add(n.batch_key);
          }
          wholeIds.push(r.recordId);
          outcome.versions += chain.length;
          outcome.records++;
          continue;
        }
        const remove = new Set(r.seqs);
        remove.delete(r.headSeq);
        const kept = chain.filter((n) => !remove.has(n.seq));
        kept.forEach((n, i) => {
          const prev = kept[i + 1]?.seq ?? null;
          if (n.prev_seq !== prev) {
            relink.seqs.push(n.seq);
            relink.prevs.push(prev);
          }
        });
        for (const n of chain) {
          if (!remove.has(n.seq)) continue;
          removeSeqs.push(n.seq);
          batches.add(n.batch_key);
          outcome.versions++;
        }
        for (const f of r.files) {
          files.ids.push(r.recordId);
          files.fields.push(f.field);
          files.stamps.push(f.systemModstamp);
        }
      }
      if (removeSeqs.length) await client.query('DELETE FROM record_versions WHERE object_key = $1 AND seq = ANY($2::bigint[])', [key, removeSeqs]);
      if (relink.seqs.length) {
        await client.query('UPDATE record_versions v SET prev_seq = u.prev FROM unnest($2::bigint[], $3::bigint[]) AS u(seq, prev) WHERE v.object_key = $1 AND v.seq = u.seq', [
          key,
          relink.seqs,
          relink.prevs,
        ]);
      }
      if (wholeIds.length) {
        await client.query('DELETE FROM record_heads WHERE object_key = $1 AND record_id = ANY($2::text[])', [key, wholeIds]);
        outcome.files += (await client.query('DELETE FROM files WHERE org_id = $1 AND record_id = ANY($2::text[])', [orgId, wholeIds])).rowCount ?? 0;
      }
      if (files.ids.length) {
        outcome.files +=
          (
            await client.query(
              'DELETE FROM files f USING unnest($2::text[], $3::text[], $4::bigint[]) AS u(record_id, field, at) WHERE f.org_id = $1 AND f.record_id = u.record_id AND f.field = u.field AND f.system_modstamp = u.at',
              [orgId, files.ids, files.fields, files.stamps],
            )
          ).rowCount ?? 0;
      }
      await dropEmptyBatches(client, batches);
      await client.query('UPDATE objects SET record_count = greatest(0, record_count - $1), version_count = greatest(0, version_count - $2) WHERE object_key = $3', [
        outcome.records,
        outcome.versions,
        key,
      ]);
    });
    return outcome;
  }

  // ---- packs ----------------------------------------------------------------------------------

  async packUsage(): Promise<PackUsage> {
    const [row] = await this.conns.query<{ packs: number; empty: number; partial: number; payloads: number; unused: number; reclaimable: number }>(`
      WITH u AS (
        SELECT p.payloads, octet_length(p.sealed) AS bytes, (SELECT count(DISTINCT v.slot) FROM record_versions v WHERE v.pack_key = p.pack_key) AS used FROM packs p
      )
      SELECT count(*)::bigint AS packs,
             count(*) FILTER (WHERE used = 0 AND payloads > 0)::bigint AS empty,
             count(*) FILTER (WHERE used > 0 AND used < payloads)::bigint AS partial,
             coalesce(sum(payloads), 0)::bigint AS payloads,
             coalesce(sum(greatest(payloads - used, 0)), 0)::bigint AS unused,
             coalesce(sum(CASE WHEN used < payloads THEN round(bytes::numeric * (payloads - used) / payloads) ELSE 0 END), 0)::bigint AS reclaimable
        FROM u`);
    return {
      packs: row?.packs ?? 0,
      emptyPacks: row?.empty ?? 0,
      partialPacks: row?.partial ?? 0,
      payloads: row?.payloads ?? 0,
      unusedPayloads: row?.unused ?? 0,
      reclaimableBytes: row?.reclaimable ?? 0,
    };
  }

  async repackPacks(options: { secureDelete?: boolean; onProgress?: (packsDone: number) => void } = {}): Promise<RepackOutcome> {
    // secureDelete: PostgreSQL never overwrites a deleted row in place; purge's VACUUM FULL (compactCatalog) rewrites the tables instead.
    const outcome = emptyRepack();
    const start = await packTotals(this.conns);
    outcome.packsBefore = start.packs;
    outcome.sealedBytesBefore = start.bytes;
    // Only packs that existed when the rewrite began: the ones it writes, and a backup's, are full.
    const [last] = await this.conns.query<{ k: number }>('SELECT coalesce(max(pack_key), 0)::bigint AS k FROM packs');
    let done = 0;
    let after = 0;
    for (;;) {
      const rows = await this.conns.query<{ pack_key: number }>(
        `SELECT p.pack_key FROM packs p
          WHERE p.pack_key > $1 AND p.pack_key <= $2
            AND (SELECT count(DISTINCT v.slot) FROM record_versions v WHERE v.pack_key = p.pack_key) < p.payloads
          ORDER BY p.pack_key LIMIT ${REPACK_GROUP}`,
        [after, last?.k ?? 0],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.pack_key;
      const keys = rows.map((r) => r.pack_key);
      await inTransaction(this.conns, (client) => rewritePacks(client, this.keyring, keys, outcome));
      done += keys.length;
      options.onProgress?.(done);
    }
    const end = await packTotals(this.conns);
    outcome.packsAfter = end.packs;
    outcome.sealedBytesAfter = end.bytes;
    if (outcome.packsRewritten || outcome.packsDeleted) this.onPacksRewritten();
    return outcome;
  }

  // ---- purge ----------------------------------------------------------------------------------

  async purgeRecords(orgId: string, objectName: string, recordIds: readonly string[]): Promise<PurgeOutcome> {
    const ids = [...new Set(recordIds)];
    const outcome = await inTransaction(this.conns, async (client): Promise<PurgeOutcome> => {
      const out: PurgeOutcome = { records: 0, versions: 0, files: 0, orphanedAddresses: [], idMappings: 0, messagesErased: 0, searchEntries: 0, archiveMarks: 0, repack: emptyRepack() };
      const key = await this.objectKey(client, orgId, objectName);
      if (key !== undefined) {
        // An indexer of this object waits, then finds the versions gone: no posting comes back.
        await client.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [SEARCH_OBJECT_LOCK, key]);
        await client.query('SELECT 1 FROM record_heads WHERE object_key = $1 AND record_id = ANY($2::text[]) ORDER BY record_id COLLATE "C" FOR UPDATE', [key, ids]);
        // Every row of the records, chained or not.
        const rows = (
          await client.query<{ batch_key: number; pack_key: number }>('DELETE FROM record_versions WHERE object_key = $1 AND record_id = ANY($2::text[]) RETURNING batch_key, pack_key', [key, ids])
        ).rows;
        out.versions = rows.length;
        out.records = (await client.query('DELETE FROM record_heads WHERE object_key = $1 AND record_id = ANY($2::text[])', [key, ids])).rowCount ?? 0;
        await dropEmptyBatches(client, new Set(rows.map((r) => r.batch_key)));
        await client.query('UPDATE objects SET record_count = greatest(0, record_count - $1), version_count = greatest(0, version_count - $2) WHERE object_key = $3', [out.records, out.versions, key]);
        // The GIN lists drop the rows' entries with them, in this transaction.
        out.searchEntries = (await client.query('DELETE FROM search_postings WHERE object_key = $1 AND record_id = ANY($2::text[])', [key, ids])).rowCount ?? 0;
        await rewritePacks(client, this.keyring, [...new Set(rows.map((r) => r.pack_key))].sort((a, b) => a - b), out.repack);
      }
      const addresses = (await client.query<{ address: string }>('SELECT DISTINCT address FROM files WHERE org_id = $1 AND record_id = ANY($2::text[])', [orgId, ids])).rows.map((r) => r.address);
      out.files = (await client.query('DELETE FROM files WHERE org_id = $1 AND record_id = ANY($2::text[])', [orgId, ids])).rowCount ?? 0;
      if (addresses.length) {
        const used = new Set((await client.query<{ address: string }>('SELECT DISTINCT address FROM files WHERE address = ANY($1::text[])', [addresses])).rows.map((r) => r.address));
        out.orphanedAddresses = addresses.filter((a) => !used.has(a));
      }
      // Mappings are kept per org, and per source>target for restores into another org.
      out.idMappings =
        (
          await client.query(
            `DELETE FROM id_mappings WHERE (org_id = $1 OR left(org_id, length($1) + 1) = $1 || '>' OR right(org_id, length($1) + 1) = '>' || $1)
               AND (old_id = ANY($2::text[]) OR new_id = ANY($2::text[]))`,
            [orgId, ids],
          )
        ).rowCount ?? 0;
      out.messagesErased =
        (await client.query('UPDATE restore_results SET sealed_message = NULL WHERE sealed_message IS NOT NULL AND (original_id = ANY($1::text[]) OR new_id = ANY($1::text[]))', [ids])).rowCount ?? 0;
      out.archiveMarks = (await client.query('DELETE FROM archived_records WHERE org_id = $1 AND record_id = ANY($2::text[])', [orgId, ids])).rowCount ?? 0;
      out.messagesErased += (await client.query('UPDATE archive_results SET sealed_message = NULL WHERE sealed_message IS NOT NULL AND record_id = ANY($1::text[])', [ids])).rowCount ?? 0;
      return out;
    });
    this.onPacksRewritten();
    return outcome;
  }

  // ---- the catalog ----------------------------------------------------------------------------

  /** Nothing to do: a PostgreSQL commit is durable when it returns (synchronous_commit, the default), so every commit so far already is. */
  async syncCatalog(): Promise<void> {}

  /** The schema's tables with their indexes and TOAST (pg_total_relation_size), and an estimate of the dead rows' share. */
  async catalogSize(): Promise<CatalogSize> {
    const [row] = await this.conns.query<{ bytes: number; free: number }>(SIZE_SQL);
    return { bytes: row?.bytes ?? 0, freeBytes: row?.free ?? 0 };
  }

  /**
   * VACUUM (ANALYZE) of every table of the schema: dead rows' space is made reusable and the
   * planner's statistics refreshed, beside readers and writers. With `full`, VACUUM FULL rewrites
   * each table and its indexes into new files and drops the old ones (what purge wants: no free
   * space in the database keeps a deleted row), taking each table's exclusive lock while it runs.
   * `vacuumed` says whether the tables were rewritten. The write-ahead log is the server's: its
   * segments are recycled by PostgreSQL's checkpoints, so `walPending` is false.
   */
  async compactCatalog(options: { full?: boolean } = {}): Promise<{ before: CatalogSize; after: CatalogSize; vacuumed: boolean; walPending: boolean }> {
    const before = await this.catalogSize();
    const tables = await this.conns.query<{ name: string }>("SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 1");
    if (tables.length > 0) {
      // VACUUM runs outside a transaction, one statement for all the tables.
      const list = tables.map((t) => `"${t.name.replace(/"/g, '""')}"`).join(', ');
      await this.conns.query(options.full ? `VACUUM (FULL, ANALYZE) ${list}` : `VACUUM (ANALYZE) ${list}`);
    }
    return { before, after: await this.catalogSize(), vacuumed: options.full ?? false, walPending: false };
  }
}

/** Deletes the batches none of whose versions remain (a batch's versions are its seq range with its key). */
async function dropEmptyBatches(client: PoolClient, batches: ReadonlySet<number>): Promise<void> {
  if (batches.size === 0) return;
  await client.query(
    `DELETE FROM batches b WHERE b.batch_key = ANY($1::bigint[])
       AND NOT EXISTS (SELECT 1 FROM record_versions v WHERE v.object_key = b.object_key AND v.seq BETWEEN b.first_seq AND b.last_seq AND v.batch_key = b.batch_key)`,
    [[...batches]],
  );
}

/**
 * Rewrites packs in the caller's transaction: a pack no version refers to is deleted; one partly
 * referred to has its referred payloads copied into new packs (one builder per object, so an
 * object's payloads stay together), its versions and heads re-pointed, and is deleted. A pack
 * that does not open or whose payloads do not match their recorded hashes is left as it is and
 * named: re-sealing it would hide the damage from verify. See the module comment for what locks.
 */
async function rewritePacks(client: PoolClient, keyring: Keyring, packKeys: readonly number[], out: RepackOutcome): Promise<void> {
  if (packKeys.length === 0) return;
  const packs = await client.query<{ pack_key: number; pack_id: string; payloads: number; payload_hashes: Buffer; sealed: Buffer }>(
    'SELECT pack_key, pack_id, payloads, payload_hashes, sealed FROM packs WHERE pack_key = ANY($1::bigint[]) ORDER BY pack_key FOR UPDATE',
    [packKeys],
  );
  const usedSql = 'SELECT pack_key, slot, min(object_key) AS object_key FROM record_versions WHERE pack_key = ANY($1::bigint[]) GROUP BY pack_key, slot ORDER BY pack_key, slot';
  const writers = [...new Set((await client.query<{ object_key: number }>(usedSql, [packKeys])).rows.map((r) => r.object_key))].sort((a, b) => a - b);
  // The writers of those objects wait from here to commit; what they committed before is read below.
  if (writers.length) await client.query('SELECT 1 FROM objects WHERE object_key = ANY($1::bigint[]) ORDER BY object_key FOR UPDATE', [writers]);
  const usedRows = await client.query<{ pack_key: number; slot: number; object_key: number }>(usedSql, [packKeys]);
  const usedOf = new Map<number, { slot: number; object_key: number }[]>();
  for (const u of usedRows.rows) {
    const list = usedOf.get(u.pack_key);
    if (list) list.push(u);
    else usedOf.set(u.pack_key, [u]);
  }
  const builders = new Map<number, PackBuilder<RepackEntry>>();
  const now = Date.now();
  const moves = { oldPacks: [] as number[], oldSlots: [] as number[], newPacks: [] as number[], newSlots: [] as number[], objects: [] as number[], records: [] as string[] };

  const seal = async (objectKey: number): Promise<void> => {
    const builder = builders.get(objectKey);
    builders.delete(objectKey);
    if (!builder || builder.entries.length === 0) return;
    const { packId, payloads, payloadHashes, sealed } = sealRepack(keyring, builder);
    const inserted = await client.query<{ pack_key: number }>('INSERT INTO packs (pack_id, payloads, payload_hashes, sealed, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING pack_key', [
      packId,
      payloads,
      payloadHashes,
      sealed,
      now,
    ]);
    const packKey = inserted.rows[0]!.pack_key;
    builder.entries.forEach((e, slot) => {
      moves.oldPacks.push(e.ref.oldPack);
      moves.oldSlots.push(e.ref.oldSlot);
      moves.newPacks.push(packKey);
      moves.newSlots.push(slot);
      moves.objects.push(e.ref.objectKey);
      moves.records.push(e.ref.recordId);
    });
    out.packsWritten++;
  };

  const gone: number[] = [];
  for (const row of packs.rows) {
    const used = usedOf.get(row.pack_key) ?? [];
    if (used.length === 0) {
      gone.push(row.pack_key);
      out.packsDeleted++;
      out.payloadsDropped += row.payloads;
      continue;
    }
    if (used.length >= row.payloads) continue;
    const entries = repackEntries(keyring, row.pack_key, row, used);
    if (!entries) {
      out.damagedPacks.push(row.pack_id);
      continue;
    }
    for (const e of entries) {
      let builder = builders.get(e.objectKey);
      if (builder && !builder.fits(e.payload.length)) {
        await seal(e.objectKey);
        builder = undefined;
      }
      if (!builder) builders.set(e.objectKey, (builder = new PackBuilder<RepackEntry>()));
      builder.add(e.recordId, e.payload.length, e);
    }
    gone.push(row.pack_key);
    out.packsRewritten++;
    out.payloadsMoved += entries.length;
    out.payloadsDropped += row.payloads - entries.length;
  }
  for (const objectKey of [...builders.keys()]) await seal(objectKey);
  if (moves.oldPacks.length) {
    await client.query(
      `UPDATE record_versions v SET pack_key = u.new_pack, slot = u.new_slot
         FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::int[]) AS u(old_pack, old_slot, new_pack, new_slot)
        WHERE v.pack_key = u.old_pack AND v.slot = u.old_slot`,
      [moves.oldPacks, moves.oldSlots, moves.newPacks, moves.newSlots],
    );
    await client.query(
      `UPDATE record_heads h SET pack_key = u.new_pack, slot = u.new_slot
         FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::int[], $5::bigint[], $6::text[]) AS u(old_pack, old_slot, new_pack, new_slot, object_key, record_id)
        WHERE h.object_key = u.object_key AND h.record_id = u.record_id AND h.pack_key = u.old_pack AND h.slot = u.old_slot`,
      [moves.oldPacks, moves.oldSlots, moves.newPacks, moves.newSlots, moves.objects, moves.records],
    );
  }
  // Every version and head now points into the new packs: the old ones can go, unless a version committed meanwhile refers to one.
  if (gone.length) {
    await client.query('DELETE FROM packs p WHERE p.pack_key = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM record_versions v WHERE v.pack_key = p.pack_key)', [gone]);
  }
}
