/**
 * The keyed blind index of global search on PostgreSQL (tables: migration 5's PostgreSQL text),
 * with the SQLite index's behaviour (../sqlite/search-index.ts). Per record, the index holds the
 * keyed hash of every token any of its versions held: 48 bits of the keyed PRF of
 * ../search-hashing.ts, under the same key (the vault's index key and the org ID), so the same
 * record gets the same hashes on both engines. No token is ever written.
 *
 * Layout: `search_postings` is SQLite's row per record (a doc number, the latest version's time
 * and deletion), its hashes a BIGINT[] under a GIN index. GIN is the inverted lists: PostgreSQL
 * keeps them compressed, appends through its pending list, drops a deleted row's entries by
 * itself (purge deletes the row, in its transaction), and lets the planner read a rare word's
 * rows through the lists and a common word's latest first by the head index, per search.
 *
 * Writing: a trigger queues each batch in `search_pending` in the batch's own transaction; writes
 * are not indexed as they happen (as on SQLite). catchUpSearchIndex, which a backup runs once its
 * objects are stored and every search runs first (openSearchCandidates does), indexes queued
 * batches in transactions of their own that also delete their queue rows, so the index never
 * claims a batch it does not hold, and whatever a crash left queued is indexed by the next one.
 * Batches another indexer holds at that moment are skipped, not waited for: they are in the index
 * once it commits.
 *
 * Concurrency (many processes on many machines): an indexing transaction takes its queue rows with
 * FOR UPDATE SKIP LOCKED, so two indexers never take the same batch; a record's row is upserted
 * (INSERT … ON CONFLICT DO UPDATE, in record order) adding only the hashes it lacks and keeping
 * the newest head, so indexers of one record in any order end with the union. Before reading an
 * object's versions an indexer takes a transaction-scoped advisory lock on the object (in key
 * order), which purge also takes: an indexer that read a purged record's versions just before the
 * purge cannot post them back after it.
 */
import type { PoolClient } from 'pg';
import { OrgvaultError } from '../../core/errors.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { OpenedPack } from '../packs.ts';
import { openPack } from '../packs.ts';
import type { SearchCandidate, SearchCandidateQuery, SearchCandidates, SearchIndex, SearchIndexStats } from '../port.ts';
import { CHUNK_VERSIONS, SCAN_PAGE, noCandidates } from '../rows/search-index.ts';
import type { IndexStep } from '../rows/search-index.ts';
import { HASH_BYTES, OrgTokenHashers } from '../search-hashing.ts';
import type { ValueHashes } from '../search-hashing.ts';
import type { PgConnections } from './connection.ts';

/** The class of the advisory locks an indexer takes per object (any fixed value: "srch"). */
export const SEARCH_OBJECT_LOCK = 1936879208;
/** Queue rows taken per transaction. */
const CHUNK_BATCHES = 500;
/** PostgreSQL's error for a write in a read-only transaction. */
const READ_ONLY_SQL_TRANSACTION = '25006';

export type { IndexStep } from '../rows/search-index.ts';

/** Test-only hooks; production code passes none. */
export interface SearchIndexHooks {
  onIndexStep?(step: IndexStep): void;
}

interface PendingBatch {
  batch_key: number;
  object_key: number | null;
  first_seq: number | null;
  last_seq: number | null;
}

/** What a chunk saw of a record: its tokens (then their hashes), and its newest version. */
interface Seen {
  /** Per searchable value of each version, its token hashes (arrays shared between equal values: see ValueHashes). */
  values: (readonly string[])[];
  head: number;
  deleted: number;
}

/** A hash (latin1 string of HASH_BYTES bytes) as the index stores it: a big-endian BIGINT below 2^48. */
export function hashNumber(hash: string): number {
  return Buffer.from(hash, 'latin1').readUIntBE(0, HASH_BYTES);
}

function isReadOnly(error: unknown): boolean {
  return (error as { code?: string }).code === READ_ONLY_SQL_TRANSACTION || (error instanceof OrgvaultError && error.code === 'READ_ONLY');
}


/** Runs `fn` in a transaction on one client of the pool. */
export async function inTransaction<T>(conns: PgConnections, fn: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  return conns.withClient(async (client) => {
    await client.query(begin);
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

export class PgSearchIndex implements SearchIndex {
  /** Per org: its index key and token hashes in this process. */
  private readonly hashers: OrgTokenHashers;

  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
    private readonly hooks: SearchIndexHooks = {},
  ) {
    this.hashers = new OrgTokenHashers(keyring.indexing);
  }

  // ---- writing ------------------------------------------------------------------------------

  catchUpSearchIndex(options: { onProgress?: (done: number, total: number) => void } = {}): Promise<{ versions: number }> {
    return this.catchUp(options.onProgress);
  }

  private async catchUp(onProgress?: (done: number, total: number) => void): Promise<{ versions: number }> {
    const total = onProgress ? await this.pendingVersions() : 0;
    let done = 0;
    for (;;) {
      // Up to date (a search, nearly always): a read, no lock taken.
      const [queued] = await this.conns.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT 1 FROM search_pending LIMIT 1) q');
      if (!queued?.n) return { versions: done };
      let indexed: number | undefined;
      try {
        indexed = await inTransaction(this.conns, (client) => this.indexChunk(client));
      } catch (error) {
        if (isReadOnly(error)) {
          const pending = await this.pendingVersions();
          throw new OrgvaultError('SEARCH_INDEX_BEHIND', `${pending.toLocaleString('en-US')} backed-up version(s) are not in the search index yet, and the vault is open read-only: open it for writing once to index them.`, { cause: error });
        }
        throw error;
      }
      if (indexed === undefined) return { versions: done };
      this.hooks.onIndexStep?.('after-commit');
      done += indexed;
      onProgress?.(Math.min(done, total), Math.max(done, total));
    }
  }

  private async pendingVersions(): Promise<number> {
    const [row] = await this.conns.query<{ n: number }>(
      'SELECT coalesce(sum(b.last_seq - b.first_seq + 1), 0)::bigint AS n FROM search_pending p JOIN batches b ON b.batch_key = p.batch_key',
    );
    return row?.n ?? 0;
  }

  /** Indexes the next queued batches in the caller's transaction; undefined when there was none to take. */
  private async indexChunk(client: PoolClient): Promise<number | undefined> {
    const taken = await client.query<PendingBatch>(
      `SELECT p.batch_key, b.object_key, b.first_seq, b.last_seq FROM search_pending p
         LEFT JOIN batches b ON b.batch_key = p.batch_key ORDER BY p.batch_key LIMIT $1 FOR UPDATE OF p SKIP LOCKED`,
      [CHUNK_BATCHES],
    );
    if (taken.rows.length === 0) return undefined;
    const batches: PendingBatch[] = [];
    let size = 0;
    for (const b of taken.rows) {
      const n = b.first_seq === null || b.last_seq === null ? 0 : b.last_seq - b.first_seq + 1;
      if (batches.length > 0 && size + n > CHUNK_VERSIONS) break;
      batches.push(b);
      size += n;
    }
    // Forgotten or purged whole since it was queued: nothing to read, only the queue row to drop.
    const live = batches.filter((b) => b.object_key !== null);
    const objectKeys = [...new Set(live.map((b) => b.object_key!))].sort((a, b) => a - b);
    await client.query('SELECT pg_advisory_xact_lock($1::int, k::int) FROM unnest($2::bigint[]) AS k', [SEARCH_OBJECT_LOCK, objectKeys]);

    const objects = new Map<number, { orgId: string; name: string }>();
    if (objectKeys.length > 0) {
      for (const o of (await client.query<{ object_key: number; org_id: string; name: string }>('SELECT object_key, org_id, name FROM objects WHERE object_key = ANY($1::bigint[])', [objectKeys])).rows) {
        objects.set(o.object_key, { orgId: o.org_id, name: o.name });
      }
    }
    const rows = live.length
      ? (
          await client.query<{ object_key: number; record_id: string; system_modstamp: number; is_deleted: number; pack_key: number; slot: number }>(
            `SELECT v.object_key, v.record_id, v.system_modstamp, v.is_deleted, v.pack_key, v.slot
               FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS c(batch_key, object_key, first_seq, last_seq)
               JOIN record_versions v ON v.object_key = c.object_key AND v.seq BETWEEN c.first_seq AND c.last_seq AND v.batch_key = c.batch_key
              ORDER BY v.seq`,
            [live.map((b) => b.batch_key), live.map((b) => b.object_key), live.map((b) => b.first_seq), live.map((b) => b.last_seq)],
          )
        ).rows
      : [];
    // The packs of the chunk's versions, each opened once.
    const needed = new Set(rows.map((r) => r.pack_key));
    const packs = new Map<number, OpenedPack>();
    if (needed.size > 0) {
      const found = await client.query<{ pack_key: number; pack_id: string; sealed: Buffer }>('SELECT pack_key, pack_id, sealed FROM packs WHERE pack_key = ANY($1::bigint[])', [[...needed]]);
      for (const p of found.rows) packs.set(p.pack_key, openPack(this.keyring.sealing, p.pack_id, p.sealed));
    }

    // The token hashes of every version in the chunk, and the newest version, per object and record.
    const tokens = new Map<number, Map<string, Seen>>();
    const gatherings = new Map<string, ValueHashes>();
    for (const r of rows) {
      let records = tokens.get(r.object_key);
      if (!records) tokens.set(r.object_key, (records = new Map()));
      const object = objects.get(r.object_key);
      if (!object) throw new IntegrityError(`A batch refers to object key ${r.object_key}, which the catalog does not have.`);
      let gathering = gatherings.get(object.orgId);
      if (!gathering) gatherings.set(object.orgId, (gathering = this.hashers.of(object.orgId).gather()));
      let seen = records.get(r.record_id);
      if (!seen) records.set(r.record_id, (seen = { values: [], head: r.system_modstamp, deleted: r.is_deleted }));
      // As the store keeps heads: a version is the head when it is newer than the one before.
      else if (r.system_modstamp > seen.head) Object.assign(seen, { head: r.system_modstamp, deleted: r.is_deleted });
      const pack = packs.get(r.pack_key);
      if (!pack) throw new IntegrityError(`A record version refers to pack #${r.pack_key}, which is missing from the catalog.`);
      if (pack.recordId(r.slot) !== r.record_id) throw new IntegrityError(`pack ${pack.packId} slot ${r.slot} holds ${pack.recordId(r.slot)}, not ${r.record_id}: the catalog row was altered.`);
      gathering.add(JSON.parse(pack.payload(r.slot).toString('utf8')) as Record<string, unknown>, seen.values);
    }
    // Every token first met in the chunk hashed at once (see search-hashing.ts).
    for (const gathering of gatherings.values()) gathering.finish();
    for (const [objectKey, records] of tokens) await this.postRecords(client, objectKey, records);
    await client.query('DELETE FROM search_pending WHERE batch_key = ANY($1::bigint[])', [batches.map((b) => b.batch_key)]);
    this.hooks.onIndexStep?.('before-commit');
    return rows.length;
  }

  /**
   * Posts each record's hashes (of one object) in one upsert: a new record gets a row and the next
   * doc number; a known one gets the hashes it lacks appended and its head moved when this chunk
   * saw a newer version. A row that would not change is not written.
   */
  private async postRecords(client: PoolClient, objectKey: number, records: Map<string, Seen>): Promise<void> {
    const ids = [...records.keys()].sort();
    const heads: number[] = [];
    const deleted: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    const flat: number[] = [];
    const met = new Set<string>();
    for (const id of ids) {
      const seen = records.get(id)!;
      heads.push(seen.head);
      deleted.push(seen.deleted);
      starts.push(flat.length + 1);
      met.clear();
      for (const hashes of seen.values) {
        for (const hash of hashes) {
          if (met.has(hash)) continue;
          met.add(hash);
          flat.push(hashNumber(hash));
        }
      }
      ends.push(flat.length);
    }
    await client.query(
      `INSERT INTO search_postings AS p (object_key, record_id, head_modstamp, head_deleted, tokens)
       SELECT $1, u.r, u.h, u.d, coalesce(($5::bigint[])[u.s:u.e], '{}') FROM unnest($2::text[], $3::bigint[], $4::smallint[], $6::int[], $7::int[]) AS u(r, h, d, s, e) ORDER BY u.r
       ON CONFLICT (object_key, record_id) DO UPDATE SET
         head_modstamp = greatest(p.head_modstamp, excluded.head_modstamp),
         head_deleted = CASE WHEN excluded.head_modstamp > p.head_modstamp THEN excluded.head_deleted ELSE p.head_deleted END,
         tokens = p.tokens || ARRAY(SELECT t FROM unnest(excluded.tokens) AS t WHERE t <> ALL (p.tokens))
       WHERE excluded.head_modstamp > p.head_modstamp OR NOT p.tokens @> excluded.tokens`,
      [objectKey, ids, heads, deleted, flat, starts, ends],
    );
  }

  // ---- reading ------------------------------------------------------------------------------

  async searchCandidates(query: SearchCandidateQuery): Promise<SearchCandidate[]> {
    const out: SearchCandidate[] = [];
    for await (const candidate of (await this.openSearchCandidates(query)).candidates) out.push(candidate);
    return out;
  }

  async openSearchCandidates(query: SearchCandidateQuery): Promise<SearchCandidates> {
    // Writes are not indexed as they happen: whatever is not yet indexed is, first.
    await this.catchUp();
    const objectRows = await this.conns.query<{ object_key: number; name: string }>('SELECT object_key, name FROM objects WHERE org_id = $1', [query.orgId]);
    if (objectRows.length === 0 || query.terms.length === 0) return { count: 0, candidates: noCandidates() };
    const hasher = this.hashers.of(query.orgId);
    // A term is satisfied by any of its tokens: an overlap (&&) with its hashes; every term must be.
    const terms = query.terms.map((alternatives) => [...new Set(Array.from(alternatives, (token) => hashNumber(hasher.token(token))))]);
    const params: unknown[] = [objectRows.map((o) => o.object_key)];
    const match = terms.map((hashes) => {
      params.push(hashes);
      return `tokens && $${params.length}::bigint[]`;
    });
    const where = `object_key = ANY($1::bigint[]) AND ${match.join(' AND ')}`;
    const [counted] = await this.conns.query<{ n: number }>(`SELECT count(*)::int AS n FROM search_postings WHERE ${where}`, params);
    const count = counted?.n ?? 0;
    if (count === 0) return { count, candidates: noCandidates() };

    const wanted = query.objectNames ? new Set(query.objectNames) : undefined;
    const names = new Map(objectRows.filter((o) => !wanted || wanted.has(o.name)).map((o) => [o.object_key, o.name]));
    const filtered = [...params];
    filtered[0] = [...names.keys()];
    let filters = where;
    if (query.deletedOnly) filters += ' AND head_deleted = 1';
    if (query.modifiedFrom !== undefined) {
      filtered.push(query.modifiedFrom);
      filters += ` AND head_modstamp >= $${filtered.length}`;
    }
    return { count, candidates: names.size === 0 ? noCandidates() : this.latestFirst(filters, filtered, names) };
  }

  /**
   * The candidates latest first, a page at a time (keyset on the head index), so that a search
   * which stops after its results reads no further. Each page is one statement: the planner reads
   * a rare word's few rows through the GIN lists and sorts them, and a common word's by the head
   * index, checking each row, stopping at the page's end.
   */
  private async *latestFirst(filters: string, params: readonly unknown[], names: Map<number, string>): AsyncIterable<SearchCandidate> {
    const at = params.length + 1;
    const sql = `SELECT doc, object_key, record_id, head_modstamp, head_deleted FROM search_postings
                  WHERE ${filters} AND (head_modstamp, doc) < ($${at}, $${at + 1})
                  ORDER BY head_modstamp DESC, doc DESC LIMIT ${SCAN_PAGE}`;
    // A record whose head moved while the search reads may come again: once is enough.
    const seen = new Set<number>();
    let cursor: [number, number] = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    for (;;) {
      const rows = await this.conns.query<{ doc: number; object_key: number; record_id: string; head_modstamp: number; head_deleted: number }>(sql, [...params, cursor[0], cursor[1]]);
      for (const r of rows) {
        if (seen.has(r.doc)) continue;
        seen.add(r.doc);
        yield { objectName: names.get(r.object_key)!, recordId: r.record_id, headModstamp: r.head_modstamp, isDeleted: r.head_deleted === 1 };
      }
      if (rows.length < SCAN_PAGE) return;
      const last = rows[rows.length - 1]!;
      cursor = [last.head_modstamp, last.doc];
    }
  }

  async searchIndexStats(): Promise<SearchIndexStats> {
    const [row] = await this.conns.query<{ n: number }>('SELECT count(*)::int AS n FROM search_postings');
    return { records: row?.n ?? 0, pendingVersions: await this.pendingVersions() };
  }
}
