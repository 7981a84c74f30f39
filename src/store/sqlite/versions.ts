/**
 * Record versions on SQLite: the write path (one transaction per batch) and every read, on
 * prepared statements. Payloads live in sealed packs (../packs.ts); a version row says which pack
 * and slot hold its fields, and points at the previous version of its record (`prev_seq`), so a
 * record's history is a chain walked from its head in `record_heads`.
 *
 * Ordering rules of a batch (all in one transaction, so a crash leaves all of it or none):
 * versions already stored (same record, SystemModstamp and payload hash) are skipped; a payload
 * equal to the record's head is not stored again; version rows, heads, packs, counts and the
 * watermark commit together, and the watermark is never moved past the batch's own data.
 */
import { randomBytes } from 'node:crypto';
import { OrgvaultError } from '../../core/errors.ts';
import type { RecordVersion, VersionInput, Watermark } from '../../core/vault.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { OpenedPack } from '../packs.ts';
import { PackBuilder, PackCache, openPack, packHeader, sealPackBody } from '../packs.ts';
import { PackGoneError } from '../port.ts';
import type { PackReader, RecordHead, VersionBatch, VersionQuery, VersionStore, WriteOutcome } from '../port.ts';
import type { Connections, Db } from './connection.ts';
import { statement } from './connection.ts';
import type { PayloadPipeline, PreparedPayloads } from '../payload-worker.ts';
import { CHANGE_CODES, HASH_BYTES, byBytes, changeCodes, checkSlice, compareWatermark, inSlice, invalid, reach, toRecordVersion, validateBatch, verifyPack } from '../rows/versions.ts';
import type { HeadState, VersionRow, WriteHooks } from '../rows/versions.ts';

export type { WriteHooks, WriteStep } from '../rows/versions.ts';

/** IDs per lookup in headsOf: well under SQLite's parameter limit. */
const ROWS_PER_INSERT = 50;
/**
 * Version rows per multi-row INSERT (11 parameters a row, well under SQLite's limit of 32,766): a
 * statement prepared once per size, so a batch costs a handful of calls into SQLite.
 */
const ROWS_PER_WRITE = 500;
/** Rows per page of a streamed read; each page opens each pack it needs once. */
const PAGE = 2000;
/**
 * Records per page of latestVersions and stateAsOf. A record's latest version can sit in any
 * pack, so a page opens about min(records, packs) packs whatever its size: large pages open
 * each pack fewer times over the whole object.
 */
const HEAD_PAGE = 10_000;
/** Above this many IDs, findVersions scans the object's range instead of walking each record. */
const WALK_RECORD_LIMIT = 2000;

interface ChainNode {
  seq: number;
  modstamp: number;
  prev: number | null;
  packKey: number;
  slot: number;
}

interface PendingRow extends ChainNode {
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

const placeholderCache = new Map<string, string>();
/** `(?, ?, …), (?, ?, …)…`: n rows of `width` parameters, built once per shape. */
const placeholders = (n: number, width: number): string => {
  const key = `${n}x${width}`;
  let text = placeholderCache.get(key);
  if (text === undefined) {
    const row = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    placeholderCache.set(key, (text = Array.from({ length: n }, () => row).join(', ')));
  }
  return text;
};

type VersionPorts = VersionStore & PackReader;

export class SqliteVersions implements VersionPorts {
  private readonly cache = new PackCache<number>();
  private readonly objectKeys = new Map<string, number>();
  private readonly objectNames = new Map<number, string>();

  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
    private readonly payloads: PayloadPipeline,
    private readonly hooks: WriteHooks = {},
  ) {}

  // ---- writing ------------------------------------------------------------------------------

  async writeVersions(batch: VersionBatch): Promise<WriteOutcome> {
    validateBatch(batch);
    if (batch.versions.length === 0 && !batch.watermark) return { written: 0, duplicates: 0, deduplicated: 0, newRecords: 0 };
    const covered = reach(batch.versions);
    // Canonical JSON and keyed hashes need no database: done before the write lock is taken.
    const payloads = await this.payloads.prepare(batch.versions.map((v) => v.fields));
    try {
      this.hooks.onWriteStep?.('before-transaction');
      const outcome = await this.conns.exclusive(async (db) => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await this.writeInTransaction(db, batch, covered, payloads);
          this.hooks.onWriteStep?.('before-commit');
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        }
      });
      this.hooks.onWriteStep?.('after-commit');
      return outcome;
    } finally {
      payloads.release();
    }
  }

  private async writeInTransaction(db: Db, batch: VersionBatch, covered: Watermark | undefined, payloads: PreparedPayloads): Promise<WriteOutcome> {
    const objectKey = ensureObject(db, batch.orgId, batch.objectName);
    const object = statement(db, 'SELECT watermark_modstamp, watermark_record_id FROM objects WHERE object_key = ?').get(objectKey) as {
      watermark_modstamp: number | null;
      watermark_record_id: string | null;
    };
    const stored: Watermark | undefined =
      object.watermark_modstamp === null ? undefined : { systemModstamp: object.watermark_modstamp, recordId: object.watermark_record_id ?? '' };
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

    const heads = this.loadHeads(db, objectKey, batch.versions);
    const existing = new Set(heads.keys());
    let seq = lastKey(db, 'record_versions', 'seq') + 1;
    const firstSeq = seq;
    let packKey = lastKey(db, 'packs', 'pack_key');
    const batchKey = lastKey(db, 'batches', 'batch_key') + 1;

    const pendingRows = new Map<number, PendingRow>();
    const pendingPacks = new Map<number, PendingPack>();
    let current: PendingPack | undefined;
    const outcome: WriteOutcome = { written: 0, duplicates: 0, deduplicated: 0, newRecords: 0 };

    const node = (s: number): ChainNode | undefined => {
      const pending = pendingRows.get(s);
      if (pending) return pending;
      const row = statement(db, 'SELECT seq, system_modstamp, prev_seq, pack_key, slot FROM record_versions WHERE seq = ?').get(s) as
        | { seq: number; system_modstamp: number; prev_seq: number | null; pack_key: number; slot: number }
        | undefined;
      return row && { seq: row.seq, modstamp: row.system_modstamp, prev: row.prev_seq, packKey: row.pack_key, slot: row.slot };
    };
    const hashOf = (n: ChainNode): Buffer | undefined => {
      const pending = pendingPacks.get(n.packKey);
      if (pending) return pending.hashes[n.slot];
      const row = statement(db, 'SELECT substr(payload_hashes, ?, ?) AS h FROM packs WHERE pack_key = ?').get(n.slot * HASH_BYTES + 1, HASH_BYTES, n.packKey) as
        | { h: Buffer }
        | undefined;
      return row?.h;
    };
    const store = (recordId: string, i: number, hash: Buffer): { packKey: number; slot: number } => {
      const length = payloads.length(i);
      if (!current || !current.builder.fits(length)) {
        current = { packKey: ++packKey, packId: randomBytes(8).toString('hex'), builder: new PackBuilder<number>(), hashes: [] };
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
          n = n.prev === null ? undefined : node(n.prev);
        }
        prev = n?.seq ?? null;
        let duplicate = false;
        for (let m = n; m && m.modstamp === v.systemModstamp; m = m.prev === null ? undefined : node(m.prev)) {
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
        seq: seq++,
        modstamp: v.systemModstamp,
        prev,
        packKey: location.packKey,
        slot: location.slot,
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
        else statement(db, 'UPDATE record_versions SET prev_seq = ? WHERE seq = ?').run(row.seq, successor.seq);
        continue;
      }
      if (!head) outcome.newRecords++;
      heads.set(v.recordId, {
        seq: row.seq,
        modstamp: row.modstamp,
        isDeleted: v.isDeleted,
        packKey: row.packKey,
        slot: row.slot,
        hash,
        dirty: true,
      });
    }

    // Packs compress (off this thread for large batches) while the rows go in.
    const packs = [...pendingPacks.values()];
    const bodies = payloads.compress(packs.map((p) => ({ header: packHeader(p.builder.entries), payloads: p.builder.entries.map((e) => e.ref) })));
    try {
      this.insertRows(db, objectKey, batchKey, [...pendingRows.values()]);
      this.writeHeads(db, objectKey, heads, existing);
    } finally {
      // Never leave the compression unobserved, even when an insert failed.
      await bodies.catch(() => undefined);
    }
    if (outcome.written > 0) {
      statement(db, 'INSERT INTO batches (batch_key, object_key, run_id, captured_at, schema_id, first_seq, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        batchKey,
        objectKey,
        batch.runId,
        batch.capturedAt,
        batch.schemaId,
        firstSeq,
        seq - 1,
      );
    }
    const now = Date.now();
    const insertPack = statement(db, 'INSERT INTO packs (pack_key, pack_id, payloads, payload_hashes, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    const compressed = await bodies;
    packs.forEach((pack, k) => {
      const sealed = sealPackBody(this.keyring.sealing, pack.packId, compressed[k]!);
      insertPack.run(pack.packKey, pack.packId, pack.hashes.length, Buffer.concat(pack.hashes), sealed, now);
    });
    statement(
      db,
      'UPDATE objects SET record_count = record_count + ?, version_count = version_count + ?, watermark_modstamp = ?, watermark_record_id = ? WHERE object_key = ?',
    ).run(outcome.newRecords, outcome.written, watermark?.systemModstamp ?? null, watermark?.recordId ?? null, objectKey);
    return outcome;
  }

  /**
   * The heads of every record in the batch, looked up in chunks. In key order: consecutive
   * lookups then walk the same B-tree pages, measured at half the CPU of the batch's own order.
   */
  private loadHeads(db: Db, objectKey: number, versions: readonly VersionInput[]): Map<string, HeadState> {
    const ids = [...new Set(versions.map((v) => v.recordId))].sort(byBytes);
    const heads = new Map<string, HeadState>();
    if (ids.length === 0) return heads;
    // A backfill in ID order meets only records never seen: one probe of the object's largest ID
    // proves it without looking each record up.
    const largest = statement(db, 'SELECT max(record_id) AS id FROM record_heads WHERE object_key = ?').get(objectKey) as { id: string | null };
    if (largest.id === null || byBytes(largest.id, ids[0]!) < 0) return heads;
    // The hash comes back as hex: a string costs a fraction of a Buffer per row out of SQLite.
    const lookup = statement(db, 'SELECT h.record_id, h.seq, h.system_modstamp, h.is_deleted, h.pack_key, h.slot, hex(h.payload_hash) FROM json_each(?) AS j CROSS JOIN record_heads h ON h.object_key = ? AND h.record_id = j.value');
    const rows = lookup.raw(true).all(JSON.stringify(ids), objectKey) as [string, number, number, number, number, number, string][];
    for (const row of rows) {
      heads.set(row[0], { seq: row[1], modstamp: row[2], isDeleted: row[3] === 1, packKey: row[4], slot: row[5], hash: Buffer.from(row[6], 'hex'), dirty: false });
    }
    return heads;
  }

  private insertRows(db: Db, objectKey: number, batchKey: number, rows: PendingRow[]): void {
    const columns = 'seq, object_key, record_id, system_modstamp, prev_seq, batch_key, change_type, is_deleted, last_modified_by_id, pack_key, slot';
    const insert = (from: number, to: number): void => {
      for (let i = from; i < to; i += ROWS_PER_WRITE) {
        const n = Math.min(ROWS_PER_WRITE, to - i);
        const params = new Array<unknown>(n * 11);
        for (let k = 0, p = 0; k < n; k++) {
          const r = rows[i + k]!;
          params[p++] = r.seq;
          params[p++] = objectKey;
          params[p++] = r.recordId;
          params[p++] = r.modstamp;
          params[p++] = r.prev;
          params[p++] = batchKey;
          params[p++] = r.changeType;
          params[p++] = r.isDeleted;
          params[p++] = r.lastModifiedById;
          params[p++] = r.packKey;
          params[p++] = r.slot;
        }
        statement(db, `INSERT INTO record_versions (${columns}) VALUES ${placeholders(n, 11)}`).run(params);
      }
    };
    // Half the rows, then the test hook (a crash there leaves a half-written batch uncommitted), then the rest.
    const half = Math.ceil(rows.length / 2);
    insert(0, half);
    this.hooks.onWriteStep?.('mid-inserts');
    insert(half, rows.length);
  }

  private writeHeads(db: Db, objectKey: number, heads: Map<string, HeadState>, existing: ReadonlySet<string>): void {
    // One prepared statement run per row: measured cheaper than multi-row upserts, whose
    // parameter arrays and wider statements cost more than the calls they save. A head loaded
    // by loadHeads is updated in place; an upsert would first try (and fail) an insert.
    const insert = statement(db, 'INSERT INTO record_heads (object_key, record_id, seq, system_modstamp, is_deleted, pack_key, slot, payload_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const update = statement(db, 'UPDATE record_heads SET seq = ?, system_modstamp = ?, is_deleted = ?, pack_key = ?, slot = ?, payload_hash = ? WHERE object_key = ? AND record_id = ?');
    const changed = [...heads].filter(([, h]) => h.dirty).sort(([a], [b]) => byBytes(a, b));
    for (const [id, h] of changed) {
      if (existing.has(id)) update.run(h.seq, h.modstamp, h.isDeleted ? 1 : 0, h.packKey, h.slot, h.hash, objectKey, id);
      else insert.run(objectKey, id, h.seq, h.modstamp, h.isDeleted ? 1 : 0, h.packKey, h.slot, h.hash);
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  private objectKey(orgId: string, objectName: string): number | undefined {
    const key = `${orgId}\u0000${objectName}`;
    const cached = this.objectKeys.get(key);
    if (cached !== undefined) return cached;
    const row = statement(this.conns.read, 'SELECT object_key FROM objects WHERE org_id = ? AND name = ?').get(orgId, objectName) as { object_key: number } | undefined;
    if (row) this.objectKeys.set(key, row.object_key);
    return row?.object_key;
  }

  private objectName(objectKey: number): string {
    let name = this.objectNames.get(objectKey);
    if (name === undefined) {
      const row = statement(this.conns.read, 'SELECT name FROM objects WHERE object_key = ?').get(objectKey) as { name: string } | undefined;
      if (!row) throw new IntegrityError(`Version rows refer to object key ${objectKey}, which the catalog does not have.`);
      this.objectNames.set(objectKey, (name = row.name));
    }
    return name;
  }

  private pack(packKey: number): OpenedPack {
    return this.cache.get(packKey, () => {
      const row = statement(this.conns.read, 'SELECT pack_id, sealed FROM packs WHERE pack_key = ?').get(packKey) as { pack_id: string; sealed: Buffer } | undefined;
      if (!row) throw new IntegrityError(`A record version refers to pack #${packKey}, which is missing from the catalog.`);
      return openPack(this.keyring.sealing, row.pack_id, row.sealed);
    });
  }

  /** Reads rows back as versions, opening each pack once for all the rows that need it. */
  private materialize(rows: readonly VersionRow[]): RecordVersion[] {
    const byPack = new Map<number, number[]>();
    rows.forEach((row, i) => {
      const list = byPack.get(row.pack_key);
      if (list) list.push(i);
      else byPack.set(row.pack_key, [i]);
    });
    const out = new Array<RecordVersion>(rows.length);
    for (const [packKey, indexes] of byPack) {
      const pack = this.pack(packKey);
      for (const i of indexes) {
        const row = rows[i]!;
        out[i] = toRecordVersion(row, pack, this.objectName(row.object_key));
      }
    }
    return out;
  }

  /**
   * Runs `read` in one read transaction, so that every statement in it sees one snapshot: a page
   * read beside a prune (versions re-pointed to new packs, old packs deleted) or a forget (versions
   * removed, chains re-linked) sees the catalog wholly before or wholly after each commit.
   */
  private snapshot<T>(read: () => T): T {
    const db = this.conns.read;
    return db.inTransaction ? read() : db.transaction(read)();
  }

  private row(seq: number): VersionRow | undefined {
    return statement(this.conns.read, `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.seq = ?`).get(seq) as VersionRow | undefined;
  }

  private rows(seqs: readonly number[]): VersionRow[] {
    if (seqs.length === 0) return [];
    const found = statement(this.conns.read, `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.seq IN (SELECT value FROM json_each(?))`).all(JSON.stringify(seqs)) as VersionRow[];
    const bySeq = new Map(found.map((r) => [r.seq, r]));
    return seqs.map((s) => bySeq.get(s) ?? invalid(`Version ${s} disappeared while it was being read.`));
  }

  /** The chain node of `seq` in the read connection. */
  private link(seq: number): { seq: number; modstamp: number; prev: number | null } | undefined {
    const row = statement(this.conns.read, 'SELECT seq, system_modstamp, prev_seq FROM record_versions WHERE seq = ?').get(seq) as
      | { seq: number; system_modstamp: number; prev_seq: number | null }
      | undefined;
    return row && { seq: row.seq, modstamp: row.system_modstamp, prev: row.prev_seq };
  }

  /** The seq of the version current at `at`, walking back from the head. */
  private seqAsOf(headSeq: number, headModstamp: number, at: number): number | undefined {
    if (headModstamp <= at) return headSeq;
    let n = this.link(headSeq);
    while (n && n.modstamp > at) n = n.prev === null ? undefined : this.link(n.prev);
    return n?.seq;
  }

  async versionAsOf(orgId: string, objectName: string, recordId: string, at: number): Promise<RecordVersion | undefined> {
    const objectKey = this.objectKey(orgId, objectName);
    if (objectKey === undefined) return undefined;
    return this.snapshot(() => {
      const head = statement(this.conns.read, 'SELECT seq, system_modstamp FROM record_heads WHERE object_key = ? AND record_id = ?').get(objectKey, recordId) as
        | { seq: number; system_modstamp: number }
        | undefined;
      if (!head) return undefined;
      const seq = this.seqAsOf(head.seq, head.system_modstamp, at);
      if (seq === undefined) return undefined;
      const row = this.row(seq);
      return row && this.materialize([row])[0];
    });
  }

  async versionsOf(orgId: string, recordId: string): Promise<RecordVersion[]> {
    return this.snapshot(() => this.versionsOfNow(orgId, recordId));
  }

  private versionsOfNow(orgId: string, recordId: string): RecordVersion[] {
    const heads = statement(
      this.conns.read,
      'SELECT h.seq FROM record_heads h JOIN objects o ON o.object_key = h.object_key WHERE h.record_id = ? AND o.org_id = ?',
    ).all(recordId, orgId) as { seq: number }[];
    const seqs: number[] = [];
    for (const head of heads) {
      for (let n = this.link(head.seq); n; n = n.prev === null ? undefined : this.link(n.prev)) seqs.push(n.seq);
    }
    const rows = this.rows(seqs).sort((a, b) => b.system_modstamp - a.system_modstamp || b.seq - a.seq);
    return this.materialize(rows);
  }

  async *latestVersions(orgId: string, objectName: string, options: { includeDeleted?: boolean } = {}): AsyncIterable<RecordVersion> {
    const objectKey = this.objectKey(orgId, objectName);
    if (objectKey === undefined) return;
    const sql = `SELECT record_id, seq FROM record_heads WHERE object_key = ? AND record_id > ?${options.includeDeleted ? '' : ' AND is_deleted = 0'} ORDER BY record_id LIMIT ?`;
    let after = '';
    for (;;) {
      const [count, page] = this.snapshot(() => {
        const heads = statement(this.conns.read, sql).all(objectKey, after, HEAD_PAGE) as { record_id: string; seq: number }[];
        if (heads.length) after = heads[heads.length - 1]!.record_id;
        return [heads.length, this.materialize(this.rows(heads.map((h) => h.seq)))] as const;
      });
      yield* page;
      if (count < HEAD_PAGE) return;
    }
  }

  async *stateAsOf(orgId: string, objectName: string, at: number, options: { includeDeleted?: boolean } = {}): AsyncIterable<RecordVersion> {
    const objectKey = this.objectKey(orgId, objectName);
    if (objectKey === undefined) return;
    const sql = 'SELECT record_id, seq, system_modstamp FROM record_heads WHERE object_key = ? AND record_id > ? ORDER BY record_id LIMIT ?';
    let after = '';
    for (;;) {
      const [count, page] = this.snapshot(() => {
        const heads = statement(this.conns.read, sql).all(objectKey, after, HEAD_PAGE) as { record_id: string; seq: number; system_modstamp: number }[];
        if (heads.length) after = heads[heads.length - 1]!.record_id;
        const seqs: number[] = [];
        for (const head of heads) {
          const seq = this.seqAsOf(head.seq, head.system_modstamp, at);
          if (seq !== undefined) seqs.push(seq);
        }
        const rows = this.rows(seqs).filter((r) => options.includeDeleted || r.is_deleted === 0);
        return [heads.length, this.materialize(rows)] as const;
      });
      yield* page;
      if (count < HEAD_PAGE) return;
    }
  }

  async *findVersions(query: VersionQuery): AsyncIterable<RecordVersion> {
    const objectKey = this.objectKey(query.orgId, query.objectName);
    if (objectKey === undefined) return;
    const from = query.from ?? Number.MIN_SAFE_INTEGER;
    const to = query.to ?? Number.MAX_SAFE_INTEGER;
    const byCapture = query.by === 'capturedAt';
    const codes = changeCodes(query.changeTypes);
    const filters: string[] = [];
    const params: unknown[] = [];
    if (codes) {
      filters.push(`v.change_type IN (${codes.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...codes);
    }
    if (query.lastModifiedById !== undefined) {
      filters.push('v.last_modified_by_id = ?');
      params.push(query.lastModifiedById);
    }
    if (query.recordIds && query.recordIds.length <= WALK_RECORD_LIMIT) {
      yield* this.findByWalking(objectKey, query.recordIds, from, to, byCapture, filters, params);
      return;
    }
    if (query.recordIds) {
      filters.push('v.record_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(query.recordIds));
    }
    const where = filters.map((f) => ` AND ${f}`).join('');
    if (!byCapture) {
      const sql = `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.object_key = ? AND v.system_modstamp <= ? AND (v.system_modstamp, v.seq) > (?, ?)${where} ORDER BY v.system_modstamp, v.seq LIMIT ?`;
      let cursor: [number, number] = [from, -1];
      for (;;) {
        const [count, page] = this.snapshot(() => {
          const rows = statement(this.conns.read, sql).all(objectKey, to, cursor[0], cursor[1], ...params, PAGE) as VersionRow[];
          const last = rows[rows.length - 1];
          if (last) cursor = [last.system_modstamp, last.seq];
          return [rows.length, this.materialize(rows)] as const;
        });
        yield* page;
        if (count < PAGE) return;
      }
    }
    // By capture time: the batches captured in range, then each batch's contiguous seq range.
    const batchSql = 'SELECT batch_key, captured_at, first_seq, last_seq FROM batches WHERE object_key = ? AND captured_at <= ? AND (captured_at, batch_key) > (?, ?) ORDER BY captured_at, batch_key LIMIT 100';
    // `+v.object_key`: by the seq range (the primary key), not by the object's modstamp index,
    // which read every version of the object and sorted them for each page.
    const rowSql = `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.seq > ? AND v.seq <= ? AND +v.object_key = ?${where} ORDER BY v.seq LIMIT ?`;
    let batchCursor: [number, number] = [from, -1];
    for (;;) {
      const batches = statement(this.conns.read, batchSql).all(objectKey, to, batchCursor[0], batchCursor[1]) as { batch_key: number; captured_at: number; first_seq: number; last_seq: number }[];
      if (batches.length === 0) return;
      for (const b of batches) {
        let after = b.first_seq - 1;
        for (;;) {
          const [count, page] = this.snapshot(() => {
            const rows = statement(this.conns.read, rowSql).all(after, b.last_seq, objectKey, ...params, PAGE) as VersionRow[];
            if (rows.length) after = rows[rows.length - 1]!.seq;
            return [rows.length, this.materialize(rows)] as const;
          });
          yield* page;
          if (count < PAGE) break;
        }
      }
      const last = batches[batches.length - 1]!;
      batchCursor = [last.captured_at, last.batch_key];
    }
  }

  /** findVersions for a few records: walk their chains, then order what matched. */
  private async *findByWalking(objectKey: number, recordIds: readonly string[], from: number, to: number, byCapture: boolean, filters: string[], params: unknown[]): AsyncIterable<RecordVersion> {
    const seqs: number[] = [];
    const headSql = 'SELECT seq FROM record_heads WHERE object_key = ? AND record_id = ?';
    for (const id of new Set(recordIds)) {
      const head = statement(this.conns.read, headSql).get(objectKey, id) as { seq: number } | undefined;
      for (let n = head && this.link(head.seq); n; n = n.prev === null ? undefined : this.link(n.prev)) {
        if (byCapture || (n.modstamp >= from && n.modstamp <= to)) seqs.push(n.seq);
      }
    }
    const where = filters.map((f) => ` AND ${f}`).join('');
    const sql = `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.seq IN (SELECT value FROM json_each(?))${where}`;
    const matched: VersionRow[] = [];
    for (let i = 0; i < seqs.length; i += PAGE) {
      for (const row of statement(this.conns.read, sql).all(JSON.stringify(seqs.slice(i, i + PAGE)), ...params) as VersionRow[]) {
        if (!byCapture || (row.captured_at >= from && row.captured_at <= to)) matched.push(row);
      }
    }
    matched.sort(byCapture ? (a, b) => a.captured_at - b.captured_at || a.seq - b.seq : (a, b) => a.system_modstamp - b.system_modstamp || a.seq - b.seq);
    for (let i = 0; i < matched.length; i += PAGE) {
      // Read again with their packs in one snapshot: a prune may have re-pointed them since the walk, a forget removed some.
      yield* this.snapshot(() => {
        const page = matched.slice(i, i + PAGE);
        const now = new Map((statement(this.conns.read, `SELECT ${VERSION_COLUMNS} FROM ${VERSION_FROM} WHERE v.seq IN (SELECT value FROM json_each(?))`).all(JSON.stringify(page.map((r) => r.seq))) as VersionRow[]).map((r) => [r.seq, r]));
        return this.materialize(page.flatMap((r) => now.get(r.seq) ?? []));
      });
    }
  }

  async headsOf(orgId: string, objectName: string, recordIds: readonly string[]): Promise<Map<string, RecordHead>> {
    const heads = new Map<string, RecordHead>();
    const object = statement(this.conns.read, 'SELECT object_key FROM objects WHERE org_id = ? AND name = ?').get(orgId, objectName) as { object_key: number } | undefined;
    if (!object || recordIds.length === 0) return heads;
    const ids = [...new Set(recordIds)];
    for (let i = 0; i < ids.length; i += ROWS_PER_INSERT) {
      const chunk = ids.slice(i, i + ROWS_PER_INSERT);
      const rows = statement(this.conns.read, `SELECT record_id, system_modstamp, is_deleted FROM record_heads WHERE object_key = ? AND record_id IN (${chunk.map(() => '?').join(', ')})`).all(
        object.object_key,
        ...chunk,
      ) as { record_id: string; system_modstamp: number; is_deleted: number }[];
      for (const row of rows) heads.set(row.record_id, { systemModstamp: row.system_modstamp, isDeleted: row.is_deleted === 1 });
    }
    return heads;
  }

  async countVersions(orgId: string, objectName?: string): Promise<{ records: number; versions: number }> {
    const row = (
      objectName === undefined
        ? statement(this.conns.read, 'SELECT coalesce(sum(record_count), 0) AS records, coalesce(sum(version_count), 0) AS versions FROM objects WHERE org_id = ?').get(orgId)
        : statement(this.conns.read, 'SELECT coalesce(sum(record_count), 0) AS records, coalesce(sum(version_count), 0) AS versions FROM objects WHERE org_id = ? AND name = ?').get(orgId, objectName)
    ) as { records: number; versions: number };
    return { records: row.records, versions: row.versions };
  }

  // ---- packs --------------------------------------------------------------------------------

  async *listPacks(slice?: { n: number; m: number }): AsyncIterable<string> {
    checkSlice(slice);
    let after = 0;
    for (;;) {
      const rows = statement(this.conns.read, 'SELECT pack_key, pack_id FROM packs WHERE pack_key > ? ORDER BY pack_key LIMIT ?').all(after, PAGE) as { pack_key: number; pack_id: string }[];
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.pack_key;
      for (const row of rows) if (inSlice(row.pack_id, slice)) yield row.pack_id;
    }
  }

  async checkPack(packId: string): Promise<{ payloads: number }> {
    const row = statement(this.conns.read, 'SELECT payloads, payload_hashes, sealed FROM packs WHERE pack_id = ?').get(packId) as
      | { payloads: number; payload_hashes: Buffer; sealed: Buffer }
      | undefined;
    if (!row) throw new PackGoneError(packId);
    return verifyPack(this.keyring, packId, row);
  }

  async danglingVersions(): Promise<number> {
    const row = statement(this.conns.read, 'SELECT count(*) AS n FROM record_versions v WHERE NOT EXISTS (SELECT 1 FROM packs p WHERE p.pack_key = v.pack_key)').get() as { n: number };
    return row.n;
  }

  /** Forgets opened packs (after the database was changed behind the store's back). */
  clearCache(): void {
    this.cache.clear();
  }
}

/**
 * The highest key ever given out in an AUTOINCREMENT table. Keys are assigned here, inside the
 * write transaction, because version rows name their pack before the pack's row is written.
 */
function lastKey(db: Db, table: 'record_versions' | 'packs' | 'batches', column: string): number {
  const used = statement(db, 'SELECT seq FROM sqlite_sequence WHERE name = ?').get(table) as { seq: number } | undefined;
  const present = statement(db, `SELECT max(${column}) AS k FROM ${table}`).get() as { k: number | null };
  return Math.max(used?.seq ?? 0, present.k ?? 0);
}

/** The key of (org, object), created in the current write transaction if new. */
export function ensureObject(db: Db, orgId: string, objectName: string): number {
  statement(db, 'INSERT INTO objects (org_id, name) VALUES (?, ?) ON CONFLICT (org_id, name) DO NOTHING').run(orgId, objectName);
  return (statement(db, 'SELECT object_key FROM objects WHERE org_id = ? AND name = ?').get(orgId, objectName) as { object_key: number }).object_key;
}

