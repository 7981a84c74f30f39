/**
 * Record versions on PostgreSQL: the write path (one transaction per batch) and every read, with
 * the semantics of ../sqlite/versions.ts and the same packs (../packs.ts: same codec, same sealing
 * and associated data), so that rows and packs copy between engines unchanged.
 *
 * Ordering rules of a batch (all in one transaction, so a crash or an error leaves all of it or
 * none): versions already stored (same record, SystemModstamp and payload hash) are skipped; a
 * payload equal to the record's head is not stored again; version rows, heads, packs, counts and
 * the watermark commit together, and the watermark never moves past the batch's own data.
 *
 * Concurrency (many workers on many machines write one database): every transaction that changes
 * an object's versions, heads, counts or watermark first locks the object's `objects` row
 * (SELECT … FOR UPDATE) and holds it to commit. Writers of one object (rare: a backup spreads
 * objects over workers) therefore run one after another and see each other's heads, chains,
 * counts and watermark as SQLite's single writer does; writers of different objects never wait for
 * each other. Keys come from the tables' identity sequences, taken under that lock, so one
 * object's seqs grow in commit order (seq orders a record's same-millisecond versions). A batch's
 * seqs are ascending but may interleave with a concurrent batch of another object: every reader of
 * a batch's range (first_seq, last_seq) also filters on object_key or batch_key.
 *
 * Reads: a point-in-time read is one descent of `record_versions_record` (object_key, record_id,
 * SystemModstamp DESC, seq DESC), whatever the record's history; see docs/ARCHITECTURE.md
 * ("PostgreSQL catalog") for the plans. Each read is one statement (one snapshot); its packs are
 * fetched after it, and a pack a prune rewrote in between (its rows re-pointed, the pack deleted)
 * makes the read run again.
 */
import { randomBytes } from 'node:crypto';
import type { PoolClient } from 'pg';
import { OrgvaultError } from '../../core/errors.ts';
import type { RecordVersion, VersionInput, Watermark } from '../../core/vault.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { OpenedPack } from '../packs.ts';
import { PackBuilder, PackCache, openPack, packHeader, sealPackBody } from '../packs.ts';
import type { PayloadPipeline, PreparedPayloads } from '../payload-worker.ts';
import { PackGoneError } from '../port.ts';
import type { ChangeCaptureStore, PackReader, RecordHead, VersionBatch, VersionQuery, VersionStore, WriteOutcome } from '../port.ts';
import { CHANGE_CODES, HASH_BYTES, byBytes, changeCodes, checkSlice, compareWatermark, inSlice, reach, toRecordVersion, validateBatch, verifyPack } from '../rows/versions.ts';
import type { HeadState, VersionRow, WriteHooks } from '../rows/versions.ts';
import type { PgConnections } from './connection.ts';

export type { WriteHooks, WriteStep } from '../rows/versions.ts';

/** Rows per page of a streamed read; each page fetches the packs it needs once. */
const PAGE = 2000;
/** Records per page of latestVersions and stateAsOf (as SQLite: a page opens about min(records, packs) packs). */
const HEAD_PAGE = 10_000;
/*
 * Lists of IDs are joined as unnest($n::text[]), never `= ANY($n)`: the planner estimates an ANY
 * list element by element (measured: ~20 ms to plan a lookup of 2,000 IDs that runs in 0.2 ms).
 * Each ID is then looked up in a LATERAL subquery with LIMIT, which the planner cannot flatten:
 * an index probe per ID whatever the statistics say. An object growing fast has stale ones, and
 * a hash join over all its heads was measured at 250 ms where the probes take a few.
 */
/** Times a read runs again when a pack it needs was rewritten by a prune in between. */
const READ_RETRIES = 3;

/**
 * A version in a record's chain during a write. Pending rows and packs have negative keys until
 * the batch's keys are taken; `prev` is undefined for a stored head whose predecessor was not
 * loaded (the write never needs it: see loadChains).
 */
interface ChainNode {
  seq: number;
  modstamp: number;
  prev: number | null | undefined;
  packKey: number;
  slot: number;
  hash?: Buffer;
}

interface PendingRow extends ChainNode {
  prev: number | null;
  recordId: string;
  changeType: number;
  isDeleted: number;
  lastModifiedById: string | null;
}

interface PendingPack {
  packKey: number;
  packId: string;
  /** Entries refer to the batch's payloads by index. */
  builder: PackBuilder<number>;
  hashes: Buffer[];
}

const VERSION_COLUMNS =
  'v.seq, v.object_key, v.record_id, v.system_modstamp, v.prev_seq, v.change_type, v.is_deleted, v.last_modified_by_id, v.pack_key, v.slot, b.captured_at, b.run_id, b.schema_id';
const VERSION_FROM = 'record_versions v JOIN batches b ON b.batch_key = v.batch_key';
/** The object key of ($1, $2) as a one-time subplan: the planner then treats it as a constant and descends the indexes on it. */
const OBJECT_KEY = '(SELECT object_key FROM objects WHERE org_id = $1 AND name = $2)';

const NOT_CACHED = new Error('not cached');

/** A pack a read's rows named was deleted before it was fetched (a prune re-pointed them): read again. */
class PackMoved extends Error {
  constructor(readonly packKey: number) {
    super(`pack #${packKey} is gone`);
  }
}

type VersionPorts = VersionStore & PackReader & Pick<ChangeCaptureStore, 'storedVersionKeys'>;

export class PgVersions implements VersionPorts {
  private readonly cache = new PackCache<number>();
  private readonly objectKeys = new Map<string, number>();
  private readonly objectNames = new Map<number, string>();
  private sequences: Promise<{ v: string; p: string; b: string }> | undefined;

  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
    private readonly payloads: PayloadPipeline,
    private readonly hooks: WriteHooks = {},
  ) {}

  // ---- writing ------------------------------------------------------------------------------

  async writeVersions(batch: VersionBatch): Promise<WriteOutcome> {
    validateBatch(batch);
    if (batch.versions.length === 0 && !batch.watermark) return { written: 0, duplicates: 0, deduplicated: 0, newRecords: 0 };
    if (this.conns.readonly) throw new OrgvaultError('READ_ONLY', 'The vault catalog was opened read-only; this command cannot write to it.');
    const covered = reach(batch.versions);
    // Canonical JSON and keyed hashes need no database: done before the transaction starts.
    const payloads = await this.payloads.prepare(batch.versions.map((v) => v.fields));
    try {
      this.hooks.onWriteStep?.('before-transaction');
      const outcome = await this.conns.withClient(async (client) => {
        await client.query('BEGIN');
        try {
          const result = await this.writeInTransaction(client, batch, covered, payloads);
          this.hooks.onWriteStep?.('before-commit');
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
      this.hooks.onWriteStep?.('after-commit');
      return outcome;
    } finally {
      payloads.release();
    }
  }

  /** Locks the object's row (creating it if new) and returns its key and watermark. */
  private async lockObject(client: PoolClient, orgId: string, objectName: string): Promise<{ objectKey: number; stored: Watermark | undefined }> {
    const select = 'SELECT object_key, watermark_modstamp, watermark_record_id FROM objects WHERE org_id = $1 AND name = $2 FOR UPDATE';
    type Row = { object_key: number; watermark_modstamp: number | null; watermark_record_id: string | null };
    let row = (await client.query<Row>(select, [orgId, objectName])).rows[0];
    if (!row) {
      // Two writers creating the object at once: the second waits on the unique index, then finds the row.
      await client.query('INSERT INTO objects (org_id, name) VALUES ($1, $2) ON CONFLICT (org_id, name) DO NOTHING', [orgId, objectName]);
      row = (await client.query<Row>(select, [orgId, objectName])).rows[0];
      if (!row) throw new OrgvaultError('STORE_CONFLICT', `The object ${objectName} could not be registered in the catalog.`);
    }
    const stored = row.watermark_modstamp === null ? undefined : { systemModstamp: row.watermark_modstamp, recordId: row.watermark_record_id ?? '' };
    return { objectKey: row.object_key, stored };
  }

  private async writeInTransaction(client: PoolClient, batch: VersionBatch, covered: Watermark | undefined, payloads: PreparedPayloads): Promise<WriteOutcome> {
    const { objectKey, stored } = await this.lockObject(client, batch.orgId, batch.objectName);
    let watermark = stored;
    if (batch.watermark) {
      const aheadOfData = !covered || compareWatermark(batch.watermark, covered) > 0;
      const aheadOfStored = !stored || compareWatermark(batch.watermark, stored) > 0;
      if (aheadOfData && aheadOfStored) {
        throw new OrgvaultError(
          'WATERMARK_AHEAD',
          `The watermark of ${batch.objectName} (${new Date(batch.watermark.systemModstamp).toISOString()}, ${batch.watermark.recordId}) is past the data of its batch; it may only cover versions written with it.`,
        );
      }
      // A look-back re-read carries an older watermark: the stored one never moves back.
      if (aheadOfStored) watermark = batch.watermark;
    }

    const heads = await this.loadHeads(client, objectKey, batch.versions);
    const chain = await this.loadChains(client, objectKey, batch.versions, heads);

    // The batch is planned with provisional negative keys; real ones are taken once the counts are known.
    let nextSeq = -1;
    let nextPack = -1;
    const pendingRows = new Map<number, PendingRow>();
    const pendingPacks = new Map<number, PendingPack>();
    /** Stored rows whose prev_seq moves to a late version spliced in under them. */
    const relinks = new Map<number, number>();
    let current: PendingPack | undefined;
    const outcome: WriteOutcome = { written: 0, duplicates: 0, deduplicated: 0, newRecords: 0 };

    const node = (s: number): ChainNode | undefined => {
      const n = pendingRows.get(s) ?? chain.get(s);
      if (!n) throw new OrgvaultError('STORE_INTERNAL', `Version ${s} of the chain was not loaded for the write.`);
      return n;
    };
    const prevOf = (n: ChainNode): ChainNode | undefined => {
      if (n.prev === undefined) throw new OrgvaultError('STORE_INTERNAL', `The version before ${n.seq} was not loaded for the write.`);
      return n.prev === null ? undefined : node(n.prev);
    };
    const hashOf = (n: ChainNode): Buffer | undefined => n.hash ?? pendingPacks.get(n.packKey)?.hashes[n.slot];
    const store = (recordId: string, i: number, hash: Buffer): { packKey: number; slot: number } => {
      const length = payloads.length(i);
      if (!current || !current.builder.fits(length)) {
        current = { packKey: nextPack--, packId: randomBytes(8).toString('hex'), builder: new PackBuilder<number>(), hashes: [] };
        pendingPacks.set(current.packKey, current);
      }
      current.hashes.push(hash);
      return { packKey: current.packKey, slot: current.builder.add(recordId, length, i) };
    };

    for (let i = 0; i < batch.versions.length; i++) {
      const v = batch.versions[i]!;
      const hash = payloads.hash(i);
      const head = heads.get(v.recordId);
      let prev: number | null = null;
      let successor: ChainNode | undefined;
      if (head && v.systemModstamp <= head.modstamp) {
        // Not newer than the head: a re-read (skip it) or a late version (splice it in).
        let n = node(head.seq);
        while (n && n.modstamp > v.systemModstamp) {
          successor = n;
          n = prevOf(n);
        }
        prev = n?.seq ?? null;
        let duplicate = false;
        for (let m = n; m && m.modstamp === v.systemModstamp; m = prevOf(m)) {
          if (hashOf(m)?.equals(hash)) {
            duplicate = true;
            break;
          }
        }
        if (duplicate) {
          outcome.duplicates++;
          continue;
        }
      } else if (head) {
        prev = head.seq;
      }
      let location: { packKey: number; slot: number };
      if (head && head.hash.equals(hash)) {
        location = { packKey: head.packKey, slot: head.slot };
        outcome.deduplicated++;
      } else {
        location = store(v.recordId, i, hash);
      }
      const row: PendingRow = {
        seq: nextSeq--,
        modstamp: v.systemModstamp,
        prev,
        packKey: location.packKey,
        slot: location.slot,
        hash,
        recordId: v.recordId,
        changeType: CHANGE_CODES[v.changeType],
        isDeleted: v.isDeleted ? 1 : 0,
        lastModifiedById: v.lastModifiedById ?? null,
      };
      pendingRows.set(row.seq, row);
      outcome.written++;
      if (successor) {
        // A late version goes under the newer ones; the head stays.
        const pending = pendingRows.get(successor.seq);
        if (pending) pending.prev = row.seq;
        else {
          successor.prev = row.seq;
          relinks.set(successor.seq, row.seq);
        }
        continue;
      }
      if (!head) outcome.newRecords++;
      heads.set(v.recordId, { seq: row.seq, modstamp: row.modstamp, isDeleted: v.isDeleted, packKey: row.packKey, slot: row.slot, hash, dirty: true });
    }

    const packs = [...pendingPacks.values()];
    const keys = await this.takeKeys(client, outcome.written, packs.length);
    const seqOf = (s: number): number => (s < 0 ? keys.seqs[-s - 1]! : s);
    const packOf = (k: number): number => (k < 0 ? keys.packs[-k - 1]! : k);

    // Packs compress (off this thread for large batches) while the rows go in.
    const bodies = payloads.compress(packs.map((p) => ({ header: packHeader(p.builder.entries), payloads: p.builder.entries.map((e) => e.ref) })));
    try {
      await this.writeRowsAndHeads(client, objectKey, keys.batch, [...pendingRows.values()], heads, relinks, seqOf, packOf);
      // Rows and heads are in, packs and counts not yet: a failure here must leave nothing.
      this.hooks.onWriteStep?.('mid-inserts');
    } finally {
      // Never leave the compression unobserved, even when an insert failed.
      await bodies.catch(() => undefined);
    }
    const compressed = await bodies;
    const now = Date.now();
    const params: unknown[] = [objectKey, outcome.newRecords, outcome.written, watermark?.systemModstamp ?? null, watermark?.recordId ?? null];
    const ctes: string[] = [];
    if (outcome.written > 0) {
      params.push(keys.batch, batch.runId, batch.capturedAt, batch.schemaId, keys.seqs[0], keys.seqs[keys.seqs.length - 1]);
      ctes.push(`b AS (INSERT INTO batches (batch_key, object_key, run_id, captured_at, schema_id, first_seq, last_seq) VALUES ($6, $1, $7, $8, $9, $10, $11))`);
    }
    if (packs.length > 0) {
      // One parameter per sealed pack: pg sends Buffers as binary, where arrays would go as hex text.
      const values = packs.map((pack, k) => {
        const sealed = sealPackBody(this.keyring.sealing, pack.packId, compressed[k]!);
        const at = params.length;
        params.push(packOf(pack.packKey), pack.packId, pack.hashes.length, Buffer.concat(pack.hashes), sealed, now);
        return `($${at + 1}::bigint, $${at + 2}::text, $${at + 3}::bigint, $${at + 4}::bytea, $${at + 5}::bytea, $${at + 6}::bigint)`;
      });
      ctes.push(`p AS (INSERT INTO packs (pack_key, pack_id, payloads, payload_hashes, sealed, created_at) VALUES ${values.join(', ')})`);
    }
    await client.query(
      `${ctes.length ? `WITH ${ctes.join(', ')} ` : ''}UPDATE objects SET record_count = record_count + $2, version_count = version_count + $3, watermark_modstamp = $4, watermark_record_id = $5 WHERE object_key = $1`,
      params,
    );
    return outcome;
  }

  /**
   * The heads of every record in the batch, in one statement. A backfill in ID order meets only
   * records never seen: the object's largest ID, compared in the same statement, proves it
   * without looking each record up.
   */
  private async loadHeads(client: PoolClient, objectKey: number, versions: readonly VersionInput[]): Promise<Map<string, HeadState>> {
    const ids = [...new Set(versions.map((v) => v.recordId))].sort(byBytes);
    const heads = new Map<string, HeadState>();
    if (ids.length === 0) return heads;
    const rows = await client.query<{ record_id: string; seq: number; system_modstamp: number; is_deleted: number; pack_key: number; slot: number; payload_hash: Buffer }>(
      `SELECT h.record_id, h.seq, h.system_modstamp, h.is_deleted, h.pack_key, h.slot, h.payload_hash
         FROM unnest($2::text[]) AS q (record_id)
         CROSS JOIN LATERAL (SELECT * FROM record_heads h WHERE h.object_key = $1 AND h.record_id = q.record_id LIMIT 1) h
        WHERE (SELECT record_id FROM record_heads WHERE object_key = $1 ORDER BY record_id DESC LIMIT 1) >= $3`,
      [objectKey, ids, ids[0]],
    );
    for (const r of rows.rows) {
      heads.set(r.record_id, { seq: r.seq, modstamp: r.system_modstamp, isDeleted: r.is_deleted === 1, packKey: r.pack_key, slot: r.slot, hash: r.payload_hash, dirty: false });
    }
    return heads;
  }

  /**
   * The stored chain nodes the batch may walk, in one statement. A version v of record r is walked
   * from r's head only when it is not newer than it; the walk passes stored versions at or after
   * v's SystemModstamp and stops at the first one before it. So for each record with a version
   * not newer than its stored head, its stored versions from the earliest such stamp, plus the
   * one just before, are loaded with their payload hashes; any other stored head is a node the
   * walk may stop at but never passes.
   */
  private async loadChains(client: PoolClient, objectKey: number, versions: readonly VersionInput[], heads: Map<string, HeadState>): Promise<Map<number, ChainNode>> {
    const nodes = new Map<number, ChainNode>();
    for (const h of heads.values()) nodes.set(h.seq, { seq: h.seq, modstamp: h.modstamp, prev: undefined, packKey: h.packKey, slot: h.slot, hash: h.hash });
    const since = new Map<string, number>();
    for (const v of versions) {
      const head = heads.get(v.recordId);
      if (!head || v.systemModstamp > head.modstamp) continue;
      const known = since.get(v.recordId);
      if (known === undefined || v.systemModstamp < known) since.set(v.recordId, v.systemModstamp);
    }
    if (since.size === 0) return nodes;
    const rows = await client.query<{ seq: number; system_modstamp: number; prev_seq: number | null; pack_key: number; slot: number; hash: Buffer | null }>(
      `SELECT v.seq, v.system_modstamp, v.prev_seq, v.pack_key, v.slot, substring(p.payload_hashes FROM v.slot * ${HASH_BYTES} + 1 FOR ${HASH_BYTES}) AS hash
         FROM unnest($2::text[], $3::bigint[]) AS q (record_id, since)
         CROSS JOIN LATERAL (
           (SELECT * FROM record_versions r WHERE r.object_key = $1 AND r.record_id = q.record_id AND r.system_modstamp >= q.since)
           UNION ALL
           (SELECT * FROM record_versions r WHERE r.object_key = $1 AND r.record_id = q.record_id AND r.system_modstamp < q.since
             ORDER BY r.system_modstamp DESC, r.seq DESC LIMIT 1)
         ) v
         LEFT JOIN packs p ON p.pack_key = v.pack_key`,
      [objectKey, [...since.keys()], [...since.values()]],
    );
    for (const r of rows.rows) {
      nodes.set(r.seq, { seq: r.seq, modstamp: r.system_modstamp, prev: r.prev_seq, packKey: r.pack_key, slot: r.slot, hash: r.hash ?? undefined });
    }
    return nodes;
  }

  /** The batch's keys from the tables' sequences: `versions` seqs (ascending), `packs` pack keys and a batch key. */
  private async takeKeys(client: PoolClient, versions: number, packs: number): Promise<{ seqs: number[]; packs: number[]; batch: number }> {
    if (versions === 0 && packs === 0) return { seqs: [], packs: [], batch: 0 };
    // The sequences' names are looked up once: pg_get_serial_sequence is volatile, so per row it costs ~5× the nextval.
    this.sequences ??= client
      .query<{ v: string; p: string; b: string }>(
        "SELECT pg_get_serial_sequence('record_versions', 'seq') AS v, pg_get_serial_sequence('packs', 'pack_key') AS p, pg_get_serial_sequence('batches', 'batch_key') AS b",
      )
      .then((r) => r.rows[0]!);
    const names = await this.sequences.catch((error: unknown) => {
      this.sequences = undefined;
      throw error;
    });
    const rows = await client.query<{ t: string; k: number }>(
      `SELECT 'v' AS t, nextval($3::regclass) AS k FROM generate_series(1, $1::int)
       UNION ALL SELECT 'p', nextval($4::regclass) FROM generate_series(1, $2::int)
       UNION ALL SELECT 'b', nextval($5::regclass) WHERE $1::int > 0`,
      [versions, packs, names.v, names.p, names.b],
    );
    const seqs: number[] = [];
    const packKeys: number[] = [];
    let batchKey = 0;
    for (const r of rows.rows) {
      if (r.t === 'v') seqs.push(r.k);
      else if (r.t === 'p') packKeys.push(r.k);
      else batchKey = r.k;
    }
    seqs.sort((a, b) => a - b);
    packKeys.sort((a, b) => a - b);
    return { seqs, packs: packKeys, batch: batchKey };
  }

  /**
   * One statement: the batch's version rows, the stored rows a late version was spliced under
   * (their prev_seq), and the new heads, upserted in record ID order. Hashes travel as one binary
   * parameter (pg sends a Buffer as bytes, an array of them as hex text).
   */
  private async writeRowsAndHeads(
    client: PoolClient,
    objectKey: number,
    batchKey: number,
    rows: readonly PendingRow[],
    heads: Map<string, HeadState>,
    relinks: Map<number, number>,
    seqOf: (s: number) => number,
    packOf: (k: number) => number,
  ): Promise<void> {
    const changed = [...heads].filter(([, h]) => h.dirty).sort(([a], [b]) => byBytes(a, b));
    if (rows.length === 0 && changed.length === 0 && relinks.size === 0) return;
    await client.query(
      `WITH v AS (
         INSERT INTO record_versions (seq, object_key, record_id, system_modstamp, prev_seq, batch_key, change_type, is_deleted, last_modified_by_id, pack_key, slot)
         SELECT s, $1, r, m, p, $2, c, d, u, k, l
           FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::smallint[], $8::smallint[], $9::text[], $10::bigint[], $11::int[]) AS t (s, r, m, p, c, d, u, k, l)
       ), relinked AS (
         UPDATE record_versions x SET prev_seq = t.p FROM unnest($12::bigint[], $13::bigint[]) AS t (s, p) WHERE x.seq = t.s
       )
       INSERT INTO record_heads (object_key, record_id, seq, system_modstamp, is_deleted, pack_key, slot, payload_hash)
       SELECT $1, r, s, m, d, k, l, substring($20::bytea FROM (o - 1)::int * ${HASH_BYTES} + 1 FOR ${HASH_BYTES})
         FROM unnest($14::text[], $15::bigint[], $16::bigint[], $17::smallint[], $18::bigint[], $19::int[]) WITH ORDINALITY AS t (r, s, m, d, k, l, o)
       ON CONFLICT (object_key, record_id) DO UPDATE SET seq = excluded.seq, system_modstamp = excluded.system_modstamp, is_deleted = excluded.is_deleted,
         pack_key = excluded.pack_key, slot = excluded.slot, payload_hash = excluded.payload_hash`,
      [
        objectKey,
        batchKey,
        rows.map((r) => seqOf(r.seq)),
        rows.map((r) => r.recordId),
        rows.map((r) => r.modstamp),
        rows.map((r) => (r.prev === null ? null : seqOf(r.prev))),
        rows.map((r) => r.changeType),
        rows.map((r) => r.isDeleted),
        rows.map((r) => r.lastModifiedById),
        rows.map((r) => packOf(r.packKey)),
        rows.map((r) => r.slot),
        [...relinks.keys()],
        [...relinks.values()].map(seqOf),
        changed.map(([id]) => id),
        changed.map(([, h]) => seqOf(h.seq)),
        changed.map(([, h]) => h.modstamp),
        changed.map(([, h]) => (h.isDeleted ? 1 : 0)),
        changed.map(([, h]) => packOf(h.packKey)),
        changed.map(([, h]) => h.slot),
        Buffer.concat(changed.map(([, h]) => h.hash)),
      ],
    );
  }

  // ---- reading ------------------------------------------------------------------------------

  private async objectKey(orgId: string, objectName: string): Promise<number | undefined> {
    const key = `${orgId}\u0000${objectName}`;
    const cached = this.objectKeys.get(key);
    if (cached !== undefined) return cached;
    const [row] = await this.conns.query<{ object_key: number }>('SELECT object_key FROM objects WHERE org_id = $1 AND name = $2', [orgId, objectName]);
    // Object rows are never deleted, so a key once found stays right.
    if (row) this.objectKeys.set(key, row.object_key);
    return row?.object_key;
  }

  private async objectNamesOf(keys: Iterable<number>): Promise<void> {
    const missing = [...new Set(keys)].filter((k) => !this.objectNames.has(k));
    if (missing.length === 0) return;
    const rows = await this.conns.query<{ object_key: number; name: string }>('SELECT object_key, name FROM objects WHERE object_key = ANY($1::bigint[])', [missing]);
    for (const r of rows) this.objectNames.set(r.object_key, r.name);
  }

  /** Opens the packs `rows` need (cached ones from the cache), fetching the missing ones in one statement. */
  private async packsFor(rows: readonly VersionRow[]): Promise<Map<number, OpenedPack>> {
    const out = new Map<number, OpenedPack>();
    const fetch: number[] = [];
    for (const key of new Set(rows.map((r) => r.pack_key))) {
      try {
        // A loader that refuses: a hit comes back (and is marked recently used), a miss is fetched below.
        out.set(key, this.cache.get(key, () => { throw NOT_CACHED; }));
      } catch (error) {
        if (error !== NOT_CACHED) throw error;
        fetch.push(key);
      }
    }
    if (fetch.length > 0) {
      const found = await this.conns.query<{ pack_key: number; pack_id: string; sealed: Buffer }>('SELECT pack_key, pack_id, sealed FROM packs WHERE pack_key = ANY($1::bigint[])', [fetch]);
      const byKey = new Map(found.map((p) => [p.pack_key, p]));
      for (const key of fetch) {
        const row = byKey.get(key);
        if (!row) throw new PackMoved(key);
        out.set(key, this.cache.get(key, () => openPack(this.keyring.sealing, row.pack_id, row.sealed)));
      }
    }
    return out;
  }

  /** Reads rows back as versions, opening each pack once for all the rows that need it. */
  private async materialize(rows: readonly VersionRow[]): Promise<RecordVersion[]> {
    if (rows.length === 0) return [];
    const packs = await this.packsFor(rows);
    await this.objectNamesOf(rows.map((r) => r.object_key));
    return rows.map((row) => {
      const pack = packs.get(row.pack_key)!;
      const objectName = this.objectNames.get(row.object_key);
      if (objectName === undefined) throw new IntegrityError(`Version rows refer to object key ${row.object_key}, which the catalog does not have.`);
      return toRecordVersion(row, pack, objectName);
    });
  }

  /**
   * Runs a read (one statement, one snapshot) and materializes its rows. A pack gone between the
   * two was rewritten by a prune, which re-pointed the rows in the same transaction: read again.
   */
  private async readVersions<R extends VersionRow>(read: () => Promise<R[]>): Promise<{ rows: R[]; versions: RecordVersion[] }> {
    for (let attempt = 0; ; attempt++) {
      const rows = await read();
      try {
        return { rows, versions: await this.materialize(rows) };
      } catch (error) {
        if (!(error instanceof PackMoved)) throw error;
        if (attempt >= READ_RETRIES) throw new IntegrityError(`A record version refers to pack #${error.packKey}, which is missing from the catalog.`);
      }
    }
  }

  async versionAsOf(orgId: string, objectName: string, recordId: string, at: number): Promise<RecordVersion | undefined> {
    const { versions } = await this.readVersions(() =>
      this.conns.query<VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM}
          WHERE v.object_key = ${OBJECT_KEY} AND v.record_id = $3 AND v.system_modstamp <= $4
          ORDER BY v.system_modstamp DESC, v.seq DESC LIMIT 1`,
        [orgId, objectName, recordId, at],
      ),
    );
    return versions[0];
  }

  async versionsOf(orgId: string, recordId: string): Promise<RecordVersion[]> {
    // The record's heads say which objects hold it (an ID is unique within an org, but the vault does not rely on it).
    const { versions } = await this.readVersions(() =>
      this.conns.query<VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM record_heads h
           JOIN objects o ON o.object_key = h.object_key AND o.org_id = $1
           CROSS JOIN LATERAL (SELECT * FROM record_versions r WHERE r.object_key = h.object_key AND r.record_id = h.record_id) v
           JOIN batches b ON b.batch_key = v.batch_key
          WHERE h.record_id = $2
          ORDER BY v.system_modstamp DESC, v.seq DESC`,
        [orgId, recordId],
      ),
    );
    return versions;
  }

  async *latestVersions(orgId: string, objectName: string, options: { includeDeleted?: boolean } = {}): AsyncIterable<RecordVersion> {
    const objectKey = await this.objectKey(orgId, objectName);
    if (objectKey === undefined) return;
    const sql = `SELECT ${VERSION_COLUMNS} FROM (SELECT seq FROM record_heads WHERE object_key = $1 AND record_id > $2${options.includeDeleted ? '' : ' AND is_deleted = 0'} ORDER BY record_id LIMIT $3) h
       JOIN record_versions v ON v.seq = h.seq JOIN batches b ON b.batch_key = v.batch_key ORDER BY v.record_id`;
    let after = '';
    for (;;) {
      const { rows, versions } = await this.readVersions(() => this.conns.query<VersionRow>(sql, [objectKey, after, HEAD_PAGE]));
      yield* versions;
      if (rows.length < HEAD_PAGE) return;
      after = rows[rows.length - 1]!.record_id;
    }
  }

  async *stateAsOf(orgId: string, objectName: string, at: number, options: { includeDeleted?: boolean } = {}): AsyncIterable<RecordVersion> {
    const objectKey = await this.objectKey(orgId, objectName);
    if (objectKey === undefined) return;
    // A page of records by their heads; each one's version as of `at` is one descent of the per-record index.
    const sql = `SELECT h.record_id AS head_id, ${VERSION_COLUMNS}
       FROM (SELECT record_id FROM record_heads WHERE object_key = $1 AND record_id > $2 ORDER BY record_id LIMIT $3) h
       LEFT JOIN LATERAL (SELECT * FROM record_versions r WHERE r.object_key = $1 AND r.record_id = h.record_id AND r.system_modstamp <= $4
                           ORDER BY r.system_modstamp DESC, r.seq DESC LIMIT 1) v ON true
       LEFT JOIN batches b ON b.batch_key = v.batch_key
       ORDER BY h.record_id`;
    let after = '';
    for (;;) {
      let count = 0;
      const { versions } = await this.readVersions(async () => {
        const page = await this.conns.query<VersionRow & { head_id: string }>(sql, [objectKey, after, HEAD_PAGE, at]);
        count = page.length;
        if (page.length) after = page[page.length - 1]!.head_id;
        return page.filter((r) => r.seq !== null && (options.includeDeleted || r.is_deleted === 0));
      });
      yield* versions;
      if (count < HEAD_PAGE) return;
    }
  }

  async *findVersions(query: VersionQuery): AsyncIterable<RecordVersion> {
    const objectKey = await this.objectKey(query.orgId, query.objectName);
    if (objectKey === undefined) return;
    const from = query.from ?? Number.MIN_SAFE_INTEGER;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    const codes = changeCodes(query.changeTypes);
    // Both queries below take five fixed parameters; the filters' follow.
    const filters: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${5 + params.length}`;
    };
    if (codes) filters.push(`v.change_type = ANY(${param(codes)}::smallint[])`);
    if (query.lastModifiedById !== undefined) filters.push(`v.last_modified_by_id = ${param(query.lastModifiedById)}`);
    if (query.recordIds) filters.push(`v.record_id IN (SELECT unnest(${param([...new Set(query.recordIds)])}::text[]))`);
    const where = filters.map((f) => ` AND ${f}`).join('');
    if (query.by !== 'capturedAt') {
      const sql = `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM}
        WHERE v.object_key = $1 AND v.system_modstamp <= $2 AND (v.system_modstamp, v.seq) > ($3, $4)${where}
        ORDER BY v.system_modstamp, v.seq LIMIT $5`;
      let cursor: [number, number] = [from, -1];
      for (;;) {
        const { rows, versions } = await this.readVersions(() => this.conns.query<VersionRow>(sql, [objectKey, to, cursor[0], cursor[1], PAGE, ...params]));
        yield* versions;
        if (rows.length < PAGE) return;
        const last = rows[rows.length - 1]!;
        cursor = [last.system_modstamp, last.seq];
      }
    }
    // By capture time: the batches captured in range, then each batch's rows in its seq range.
    const batchSql =
      'SELECT batch_key, captured_at, first_seq, last_seq FROM batches WHERE object_key = $1 AND captured_at <= $2 AND (captured_at, batch_key) > ($3, $4) ORDER BY captured_at, batch_key LIMIT 100';
    const rowSql = `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM}
      WHERE v.seq > $1 AND v.seq <= $2 AND v.batch_key = $3 AND v.object_key = $4${where} ORDER BY v.seq LIMIT $5`;
    let batchCursor: [number, number] = [from, -1];
    for (;;) {
      const batches = await this.conns.query<{ batch_key: number; captured_at: number; first_seq: number; last_seq: number }>(batchSql, [objectKey, to, batchCursor[0], batchCursor[1]]);
      if (batches.length === 0) return;
      for (const b of batches) {
        let after = b.first_seq - 1;
        for (;;) {
          const { rows, versions } = await this.readVersions(() => this.conns.query<VersionRow>(rowSql, [after, b.last_seq, b.batch_key, objectKey, PAGE, ...params]));
          yield* versions;
          if (rows.length < PAGE) break;
          after = rows[rows.length - 1]!.seq;
        }
      }
      const last = batches[batches.length - 1]!;
      batchCursor = [last.captured_at, last.batch_key];
    }
  }

  async headsOf(orgId: string, objectName: string, recordIds: readonly string[]): Promise<Map<string, RecordHead>> {
    const heads = new Map<string, RecordHead>();
    if (recordIds.length === 0) return heads;
    const rows = await this.conns.query<{ record_id: string; system_modstamp: number; is_deleted: number }>(
      `SELECT h.record_id, h.system_modstamp, h.is_deleted FROM unnest($3::text[]) AS q (record_id)
         CROSS JOIN LATERAL (SELECT * FROM record_heads h WHERE h.object_key = ${OBJECT_KEY} AND h.record_id = q.record_id LIMIT 1) h`,
      [orgId, objectName, [...new Set(recordIds)]],
    );
    for (const row of rows) heads.set(row.record_id, { systemModstamp: row.system_modstamp, isDeleted: row.is_deleted === 1 });
    return heads;
  }

  async countVersions(orgId: string, objectName?: string): Promise<{ records: number; versions: number }> {
    const sql = `SELECT coalesce(sum(record_count), 0)::bigint AS records, coalesce(sum(version_count), 0)::bigint AS versions FROM objects WHERE org_id = $1${objectName === undefined ? '' : ' AND name = $2'}`;
    const [row] = await this.conns.query<{ records: number; versions: number }>(sql, objectName === undefined ? [orgId] : [orgId, objectName]);
    return { records: row?.records ?? 0, versions: row?.versions ?? 0 };
  }

  /** Of the given (record, SystemModstamp) pairs, those some stored version has: one descent of the per-record index each. */
  async storedVersionKeys(orgId: string, objectName: string, keys: readonly { recordId: string; systemModstamp: number }[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (keys.length === 0) return found;
    const rows = await this.conns.query<{ record_id: string; system_modstamp: number }>(
      `SELECT k.record_id, k.system_modstamp FROM unnest($3::text[], $4::bigint[]) AS k (record_id, system_modstamp)
        WHERE EXISTS (SELECT 1 FROM record_versions v WHERE v.object_key = ${OBJECT_KEY} AND v.record_id = k.record_id AND v.system_modstamp = k.system_modstamp LIMIT 1)`,
      [orgId, objectName, keys.map((k) => k.recordId), keys.map((k) => k.systemModstamp)],
    );
    for (const row of rows) found.add(`${row.record_id}@${row.system_modstamp}`);
    return found;
  }

  // ---- packs --------------------------------------------------------------------------------

  async *listPacks(slice?: { n: number; m: number }): AsyncIterable<string> {
    checkSlice(slice);
    let after = 0;
    for (;;) {
      const rows = await this.conns.query<{ pack_key: number; pack_id: string }>('SELECT pack_key, pack_id FROM packs WHERE pack_key > $1 ORDER BY pack_key LIMIT $2', [after, PAGE]);
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.pack_key;
      for (const row of rows) if (inSlice(row.pack_id, slice)) yield row.pack_id;
    }
  }

  async checkPack(packId: string): Promise<{ payloads: number }> {
    const [row] = await this.conns.query<{ payloads: number; payload_hashes: Buffer; sealed: Buffer }>('SELECT payloads, payload_hashes, sealed FROM packs WHERE pack_id = $1', [packId]);
    if (!row) throw new PackGoneError(packId);
    return verifyPack(this.keyring, packId, row);
  }

  async danglingVersions(): Promise<number> {
    const [row] = await this.conns.query<{ n: number }>('SELECT count(*) AS n FROM record_versions v WHERE NOT EXISTS (SELECT 1 FROM packs p WHERE p.pack_key = v.pack_key)');
    return row?.n ?? 0;
  }

  /** Forgets opened packs (retention calls it after rewriting packs). */
  clearCache(): void {
    this.cache.clear();
  }
}
