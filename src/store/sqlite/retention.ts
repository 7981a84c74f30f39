/**
 * Removing data from the catalog: `forget` (versions a retention policy does not keep), the pack
 * rewrite of `prune` and `purge`, and giving pages back to the filesystem.
 *
 * Ordering rules (each a transaction, so a crash leaves all of it or none):
 * - A forget re-links each chain around the versions it removes, so a chain never points at a
 *   missing row; the head is never removed unless the whole record is, with its head row; the
 *   object's counts move in the same transaction.
 * - A pack rewrite writes the new packs, re-points the versions and heads, and deletes the old
 *   packs in one transaction: a reader sees either the old pack or the new one, never neither.
 *   Pack keys are never reused (AUTOINCREMENT), so a reader's cache of an old pack stays right.
 * - A purge deletes the records' rows and rewrites the packs that held them in one durable
 *   transaction with secure_delete on, and reports the blob addresses nothing refers to any more;
 *   the caller deletes those blobs only after that commit.
 */
import type { Keyring } from '../../crypto/keys.ts';
import { PackBuilder } from '../packs.ts';
import type { CatalogSize, ChainFile, ForgetOutcome, ForgetRecord, PackUsage, PurgeOutcome, RecordChain, RepackOutcome, RetentionStore } from '../port.ts';
import type { Connections, Db } from './connection.ts';
import { statement } from './connection.ts';
import { CHAIN_PAGE, REPACK_GROUP, emptyRepack, repackEntries, sealRepack } from '../rows/retention.ts';
import type { RepackEntry } from '../rows/retention.ts';
import { byBytes } from '../rows/versions.ts';


interface ChainRow {
  seq: number;
  system_modstamp: number;
  prev_seq: number | null;
  is_deleted: number;
}

function tableHas(db: Db, table: string, columns: readonly string[]): boolean {
  const present = new Set((statement(db, 'SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((c) => c.name));
  return present.size > 0 && columns.every((c) => present.has(c));
}

function packTotals(db: Db): { packs: number; bytes: number } {
  const row = statement(db, 'SELECT count(*) AS packs, coalesce(sum(length(sealed)), 0) AS bytes FROM packs').get() as { packs: number; bytes: number };
  return { packs: row.packs, bytes: row.bytes };
}

function sizeOf(db: Db): CatalogSize {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return { bytes: pages * pageSize, freeBytes: free * pageSize };
}

export class SqliteRetention implements RetentionStore {
  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
    /** Called after packs were rewritten, so that no decompressed copy of a dropped payload lingers. */
    private readonly onPacksRewritten: () => void = () => undefined,
  ) {}

  // ---- reading chains -------------------------------------------------------------------------

  async *recordChains(orgId: string, objectName: string, options: { recordIds?: readonly string[] } = {}): AsyncIterable<RecordChain[]> {
    const read = this.conns.read;
    const object = statement(read, 'SELECT object_key FROM objects WHERE org_id = ? AND name = ?').get(orgId, objectName) as { object_key: number } | undefined;
    if (!object) return;
    const key = object.object_key;
    if (options.recordIds) {
      const ids = [...new Set(options.recordIds)].sort(byBytes);
      const sql = 'SELECT h.record_id, h.seq FROM json_each(?) AS j CROSS JOIN record_heads h ON h.object_key = ? AND h.record_id = j.value ORDER BY h.record_id';
      for (let i = 0; i < ids.length; i += CHAIN_PAGE) {
        const chunk = JSON.stringify(ids.slice(i, i + CHAIN_PAGE));
        const page = read.transaction(() => this.chains(read, orgId, statement(read, sql).all(chunk, key) as { record_id: string; seq: number }[]))();
        if (page.length) yield page;
      }
      return;
    }
    const sql = 'SELECT record_id, seq FROM record_heads WHERE object_key = ? AND record_id > ? ORDER BY record_id LIMIT ?';
    let after = '';
    for (;;) {
      // One snapshot per page: the heads, their chains and their files agree.
      const page = read.transaction(() => this.chains(read, orgId, statement(read, sql).all(key, after, CHAIN_PAGE) as { record_id: string; seq: number }[]))();
      if (page.length === 0) return;
      after = page[page.length - 1]!.recordId;
      yield page;
      if (page.length < CHAIN_PAGE) return;
    }
  }

  /** The chains of `heads`, walked a link at a time for all of them together. */
  private chains(db: Db, orgId: string, heads: readonly { record_id: string; seq: number }[]): RecordChain[] {
    if (heads.length === 0) return [];
    const nodes = new Map<number, ChainRow>();
    let frontier = heads.map((h) => h.seq);
    const sql = 'SELECT seq, system_modstamp, prev_seq, is_deleted FROM record_versions WHERE seq IN (SELECT value FROM json_each(?))';
    while (frontier.length) {
      const rows = statement(db, sql).all(JSON.stringify(frontier)) as ChainRow[];
      frontier = [];
      for (const row of rows) {
        nodes.set(row.seq, row);
        if (row.prev_seq !== null && !nodes.has(row.prev_seq)) frontier.push(row.prev_seq);
      }
    }
    const files = new Map<string, ChainFile[]>();
    const fileRows = statement(db, 'SELECT record_id, field, system_modstamp, address, size FROM files WHERE org_id = ? AND record_id IN (SELECT value FROM json_each(?))').all(
      orgId,
      JSON.stringify(heads.map((h) => h.record_id)),
    ) as { record_id: string; field: string; system_modstamp: number; address: string; size: number }[];
    for (const f of fileRows) {
      const list = files.get(f.record_id) ?? [];
      list.push({ field: f.field, systemModstamp: f.system_modstamp, address: f.address, size: f.size });
      files.set(f.record_id, list);
    }
    return heads.map((head) => {
      const versions: RecordChain['versions'] = [];
      const seen = new Set<number>();
      for (let n = nodes.get(head.seq); n && !seen.has(n.seq); n = n.prev_seq === null ? undefined : nodes.get(n.prev_seq)) {
        seen.add(n.seq);
        versions.push({ seq: n.seq, systemModstamp: n.system_modstamp, isDeleted: n.is_deleted === 1 });
      }
      return { recordId: head.record_id, versions, files: files.get(head.record_id) ?? [] };
    });
  }

  // ---- forget ---------------------------------------------------------------------------------

  async forgetVersions(orgId: string, objectName: string, records: readonly ForgetRecord[]): Promise<ForgetOutcome> {
    const outcome: ForgetOutcome = { versions: 0, records: 0, files: 0, skipped: 0 };
    if (records.length === 0) return outcome;
    await this.conns.transaction((db) => {
      const object = statement(db, 'SELECT object_key FROM objects WHERE org_id = ? AND name = ?').get(orgId, objectName) as { object_key: number } | undefined;
      if (!object) {
        outcome.skipped = records.length;
        return;
      }
      const key = object.object_key;
      const headOf = statement(db, 'SELECT seq FROM record_heads WHERE object_key = ? AND record_id = ?');
      const deleteVersion = statement(db, 'DELETE FROM record_versions WHERE seq = ?');
      const relink = statement(db, 'UPDATE record_versions SET prev_seq = ? WHERE seq = ?');
      const deleteFile = statement(db, 'DELETE FROM files WHERE org_id = ? AND record_id = ? AND field = ? AND system_modstamp = ?');
      const batches = new Set<number>();
      for (const r of records) {
        const head = headOf.get(key, r.recordId) as { seq: number } | undefined;
        // Changed since it was evaluated (nothing should change under the org's lock, but never act on a stale decision).
        if (!head || head.seq !== r.headSeq) {
          outcome.skipped++;
          continue;
        }
        const chain = walk(db, head.seq);
        if (r.wholeRecord) {
          for (const n of chain) {
            deleteVersion.run(n.seq);
            batches.add(n.batch);
          }
          statement(db, 'DELETE FROM record_heads WHERE object_key = ? AND record_id = ?').run(key, r.recordId);
          outcome.versions += chain.length;
          outcome.records++;
          outcome.files += statement(db, 'DELETE FROM files WHERE org_id = ? AND record_id = ?').run(orgId, r.recordId).changes;
          continue;
        }
        const remove = new Set(r.seqs);
        remove.delete(head.seq);
        const kept = chain.filter((n) => !remove.has(n.seq));
        kept.forEach((n, i) => {
          const prev = kept[i + 1]?.seq ?? null;
          if (n.prev !== prev) relink.run(prev, n.seq);
        });
        for (const n of chain) {
          if (!remove.has(n.seq)) continue;
          deleteVersion.run(n.seq);
          batches.add(n.batch);
          outcome.versions++;
        }
        for (const f of r.files) outcome.files += deleteFile.run(orgId, r.recordId, f.field, f.systemModstamp).changes;
      }
      dropEmptyBatches(db, batches);
      statement(db, 'UPDATE objects SET record_count = max(0, record_count - ?), version_count = max(0, version_count - ?) WHERE object_key = ?').run(outcome.records, outcome.versions, key);
    });
    return outcome;
  }

  // ---- packs ----------------------------------------------------------------------------------

  async packUsage(): Promise<PackUsage> {
    const read = this.conns.read;
    const usage: PackUsage = { packs: 0, emptyPacks: 0, partialPacks: 0, payloads: 0, unusedPayloads: 0, reclaimableBytes: 0 };
    const used = statement(read, 'SELECT count(DISTINCT slot) AS n FROM record_versions WHERE pack_key = ?');
    let after = 0;
    for (;;) {
      const rows = statement(read, 'SELECT pack_key, payloads, length(sealed) AS bytes FROM packs WHERE pack_key > ? ORDER BY pack_key LIMIT 1000').all(after) as { pack_key: number; payloads: number; bytes: number }[];
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.pack_key;
      for (const row of rows) {
        const n = (used.get(row.pack_key) as { n: number }).n;
        usage.packs++;
        usage.payloads += row.payloads;
        if (n >= row.payloads) continue;
        usage.unusedPayloads += row.payloads - n;
        if (n === 0) usage.emptyPacks++;
        else usage.partialPacks++;
        usage.reclaimableBytes += Math.round((row.bytes * (row.payloads - n)) / row.payloads);
      }
    }
    return usage;
  }

  async repackPacks(options: { secureDelete?: boolean; onProgress?: (packsDone: number) => void } = {}): Promise<RepackOutcome> {
    const read = this.conns.read;
    const outcome = emptyRepack();
    const start = packTotals(read);
    outcome.packsBefore = start.packs;
    outcome.sealedBytesBefore = start.bytes;
    // Only packs that existed when the rewrite began: the ones it writes are full.
    const last = (statement(read, 'SELECT coalesce(max(pack_key), 0) AS k FROM packs').get() as { k: number }).k;
    const used = statement(read, 'SELECT count(DISTINCT slot) AS n FROM record_versions WHERE pack_key = ?');
    let group: number[] = [];
    let done = 0;
    const flush = async (): Promise<void> => {
      if (group.length === 0) return;
      const keys = group;
      group = [];
      await this.write(options.secureDelete ?? false, false, (db) => rewritePacks(db, this.keyring, keys, outcome));
      done += keys.length;
      options.onProgress?.(done);
    };
    let after = 0;
    while (after < last) {
      const rows = statement(read, 'SELECT pack_key, payloads FROM packs WHERE pack_key > ? AND pack_key <= ? ORDER BY pack_key LIMIT 1000').all(after, last) as { pack_key: number; payloads: number }[];
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.pack_key;
      for (const row of rows) {
        if ((used.get(row.pack_key) as { n: number }).n < row.payloads) group.push(row.pack_key);
        if (group.length >= REPACK_GROUP) await flush();
      }
    }
    await flush();
    const end = packTotals(read);
    outcome.packsAfter = end.packs;
    outcome.sealedBytesAfter = end.bytes;
    if (outcome.packsRewritten || outcome.packsDeleted) this.onPacksRewritten();
    return outcome;
  }

  /** A write transaction, optionally with secure_delete on and a synchronous commit. */
  private write<T>(secureDelete: boolean, durable: boolean, fn: (db: Db) => T): Promise<T> {
    return this.conns.exclusive((db) => {
      const secure = db.pragma('secure_delete', { simple: true }) as number;
      if (secureDelete) db.pragma('secure_delete = ON');
      if (durable) db.pragma('synchronous = FULL');
      try {
        return db.transaction(() => fn(db)).immediate();
      } finally {
        if (durable) db.pragma('synchronous = NORMAL');
        if (secureDelete) db.pragma(`secure_delete = ${secure}`);
      }
    });
  }

  // ---- purge ----------------------------------------------------------------------------------

  async purgeRecords(orgId: string, objectName: string, recordIds: readonly string[]): Promise<PurgeOutcome> {
    const ids = JSON.stringify([...new Set(recordIds)]);
    const outcome = await this.write(true, true, (db): PurgeOutcome => {
      const out: PurgeOutcome = { records: 0, versions: 0, files: 0, orphanedAddresses: [], idMappings: 0, messagesErased: 0, searchEntries: 0, archiveMarks: 0, repack: emptyRepack() };
      const object = statement(db, 'SELECT object_key FROM objects WHERE org_id = ? AND name = ?').get(orgId, objectName) as { object_key: number } | undefined;
      const key = object?.object_key;
      if (key !== undefined) {
        // Every row of the records, chained or not: the object's rows are scanned once by its index.
        const rows = statement(db, 'SELECT seq, batch_key, pack_key FROM record_versions WHERE object_key = ? AND record_id IN (SELECT value FROM json_each(?))').all(key, ids) as {
          seq: number;
          batch_key: number;
          pack_key: number;
        }[];
        const deleteVersion = statement(db, 'DELETE FROM record_versions WHERE seq = ?');
        for (const row of rows) deleteVersion.run(row.seq);
        out.versions = rows.length;
        out.records = statement(db, 'DELETE FROM record_heads WHERE object_key = ? AND record_id IN (SELECT value FROM json_each(?))').run(key, ids).changes;
        dropEmptyBatches(db, new Set(rows.map((r) => r.batch_key)));
        statement(db, 'UPDATE objects SET record_count = max(0, record_count - ?), version_count = max(0, version_count - ?) WHERE object_key = ?').run(out.records, out.versions, key);
        if (tableHas(db, 'search_postings', ['object_key', 'record_id'])) {
          out.searchEntries = statement(db, 'DELETE FROM search_postings WHERE object_key = ? AND record_id IN (SELECT value FROM json_each(?))').run(key, ids).changes;
        }
        rewritePacks(db, this.keyring, [...new Set(rows.map((r) => r.pack_key))].sort((a, b) => a - b), out.repack);
      }
      const addresses = (statement(db, 'SELECT DISTINCT address FROM files WHERE org_id = ? AND record_id IN (SELECT value FROM json_each(?))').all(orgId, ids) as { address: string }[]).map((r) => r.address);
      out.files = statement(db, 'DELETE FROM files WHERE org_id = ? AND record_id IN (SELECT value FROM json_each(?))').run(orgId, ids).changes;
      const stillUsed = statement(db, 'SELECT 1 FROM files WHERE address = ? LIMIT 1');
      out.orphanedAddresses = addresses.filter((a) => stillUsed.get(a) === undefined);
      // Mappings are kept per org, and per source>target for restores into another org.
      out.idMappings = statement(
        db,
        "DELETE FROM id_mappings WHERE (org_id = @org OR substr(org_id, 1, length(@org) + 1) = @org || '>' OR substr(org_id, -length(@org) - 1) = '>' || @org) " +
          'AND (old_id IN (SELECT value FROM json_each(@ids)) OR new_id IN (SELECT value FROM json_each(@ids)))',
      ).run({ org: orgId, ids }).changes;
      out.messagesErased = statement(
        db,
        'UPDATE restore_results SET sealed_message = NULL WHERE sealed_message IS NOT NULL AND (original_id IN (SELECT value FROM json_each(?)) OR new_id IN (SELECT value FROM json_each(?)))',
      ).run(ids, ids).changes;
      if (tableHas(db, 'archived_records', ['org_id', 'record_id'])) {
        out.archiveMarks = statement(db, 'DELETE FROM archived_records WHERE org_id = ? AND record_id IN (SELECT value FROM json_each(?))').run(orgId, ids).changes;
      }
      if (tableHas(db, 'archive_results', ['record_id', 'sealed_message'])) {
        out.messagesErased += statement(db, 'UPDATE archive_results SET sealed_message = NULL WHERE sealed_message IS NOT NULL AND record_id IN (SELECT value FROM json_each(?))').run(ids).changes;
      }
      return out;
    });
    this.onPacksRewritten();
    return outcome;
  }

  // ---- the catalog file -----------------------------------------------------------------------

  async syncCatalog(): Promise<void> {
    // With synchronous=NORMAL, SQLite syncs the WAL before every checkpoint: every commit so far is then durable.
    await this.conns.checkpoint((db) => db.pragma('wal_checkpoint(PASSIVE)'));
  }

  async catalogSize(): Promise<CatalogSize> {
    return this.conns.exclusive((db) => sizeOf(db));
  }

  async compactCatalog(options: { full?: boolean } = {}): Promise<{ before: CatalogSize; after: CatalogSize; vacuumed: boolean; walPending: boolean }> {
    return this.conns.checkpoint((db) => {
      const before = sizeOf(db);
      const mode = db.pragma('auto_vacuum', { simple: true }) as number;
      let vacuumed = false;
      if (options.full || mode === 0) {
        // Without auto-vacuum, freed pages are never given back: one VACUUM switches to the
        // incremental mode, after which each prune gives them back cheaply.
        if (mode === 0) db.pragma('auto_vacuum = INCREMENTAL');
        // VACUUM builds the new catalog in a temporary database: on disk, not in memory, whatever its size.
        const temp = db.pragma('temp_store', { simple: true }) as number;
        db.pragma('temp_store = FILE');
        try {
          db.exec('VACUUM');
        } finally {
          db.pragma(`temp_store = ${temp}`);
        }
        vacuumed = true;
      } else if (mode === 2) {
        db.pragma('incremental_vacuum');
      }
      // Copies the WAL into the catalog and empties it; a reader still on an old snapshot keeps it from finishing.
      const [checkpoint] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
      const walPending = !checkpoint || checkpoint.busy !== 0 || checkpoint.log !== checkpoint.checkpointed;
      return { before, after: sizeOf(db), vacuumed, walPending };
    });
  }
}

/** A chain from its head, newest first, with each row's batch. */
function walk(db: Db, headSeq: number): { seq: number; prev: number | null; batch: number }[] {
  const link = statement(db, 'SELECT seq, prev_seq, batch_key FROM record_versions WHERE seq = ?');
  const chain: { seq: number; prev: number | null; batch: number }[] = [];
  const seen = new Set<number>();
  for (let seq: number | null = headSeq; seq !== null && !seen.has(seq); ) {
    const row = link.get(seq) as { seq: number; prev_seq: number | null; batch_key: number } | undefined;
    if (!row) break;
    seen.add(row.seq);
    chain.push({ seq: row.seq, prev: row.prev_seq, batch: row.batch_key });
    seq = row.prev_seq;
  }
  return chain;
}

/** Deletes the batches none of whose versions remain (a batch's versions are its seq range). */
function dropEmptyBatches(db: Db, batches: ReadonlySet<number>): void {
  const range = statement(db, 'SELECT first_seq, last_seq FROM batches WHERE batch_key = ?');
  const any = statement(db, 'SELECT 1 FROM record_versions WHERE seq BETWEEN ? AND ? AND batch_key = ? LIMIT 1');
  const drop = statement(db, 'DELETE FROM batches WHERE batch_key = ?');
  for (const batch of batches) {
    const r = range.get(batch) as { first_seq: number; last_seq: number } | undefined;
    if (r && any.get(r.first_seq, r.last_seq, batch) === undefined) drop.run(batch);
  }
}

/**
 * Rewrites packs in the caller's transaction: a pack no version refers to is deleted; one partly
 * referred to has its referred payloads copied into new packs (one builder per object, so an
 * object's payloads stay together), its versions and heads re-pointed, and is deleted. A pack
 * that does not open or whose payloads do not match their recorded hashes is left as it is and
 * named: re-sealing it would hide the damage from verify.
 */
function rewritePacks(db: Db, keyring: Keyring, packKeys: readonly number[], out: RepackOutcome): void {
  const getPack = statement(db, 'SELECT pack_id, payloads, payload_hashes, sealed FROM packs WHERE pack_key = ?');
  const usedSlots = statement(db, 'SELECT slot, min(object_key) AS object_key FROM record_versions WHERE pack_key = ? GROUP BY slot ORDER BY slot');
  const deletePack = statement(db, 'DELETE FROM packs WHERE pack_key = ?');
  const insertPack = statement(db, 'INSERT INTO packs (pack_id, payloads, payload_hashes, sealed, created_at) VALUES (?, ?, ?, ?, ?)');
  const moveVersions = statement(db, 'UPDATE record_versions SET pack_key = ?, slot = ? WHERE pack_key = ? AND slot = ?');
  const moveHead = statement(db, 'UPDATE record_heads SET pack_key = ?, slot = ? WHERE object_key = ? AND record_id = ? AND pack_key = ? AND slot = ?');
  const builders = new Map<number, PackBuilder<RepackEntry>>();
  const now = Date.now();

  const seal = (objectKey: number): void => {
    const builder = builders.get(objectKey);
    builders.delete(objectKey);
    if (!builder || builder.entries.length === 0) return;
    const { packId, payloads, payloadHashes, sealed } = sealRepack(keyring, builder);
    const packKey = Number(insertPack.run(packId, payloads, payloadHashes, sealed, now).lastInsertRowid);
    builder.entries.forEach((e, slot) => {
      moveVersions.run(packKey, slot, e.ref.oldPack, e.ref.oldSlot);
      moveHead.run(packKey, slot, e.ref.objectKey, e.ref.recordId, e.ref.oldPack, e.ref.oldSlot);
    });
    out.packsWritten++;
  };

  const rewritten: number[] = [];
  for (const packKey of packKeys) {
    const row = getPack.get(packKey) as { pack_id: string; payloads: number; payload_hashes: Buffer; sealed: Buffer } | undefined;
    if (!row) continue;
    const used = usedSlots.all(packKey) as { slot: number; object_key: number }[];
    if (used.length === 0) {
      deletePack.run(packKey);
      out.packsDeleted++;
      out.payloadsDropped += row.payloads;
      continue;
    }
    if (used.length >= row.payloads) continue;
    const entries = repackEntries(keyring, packKey, row, used);
    if (!entries) {
      out.damagedPacks.push(row.pack_id);
      continue;
    }
    for (const e of entries) {
      let builder = builders.get(e.objectKey);
      if (builder && !builder.fits(e.payload.length)) {
        seal(e.objectKey);
        builder = undefined;
      }
      if (!builder) builders.set(e.objectKey, (builder = new PackBuilder<RepackEntry>()));
      builder.add(e.recordId, e.payload.length, e);
    }
    rewritten.push(packKey);
    out.packsRewritten++;
    out.payloadsMoved += entries.length;
    out.payloadsDropped += row.payloads - entries.length;
  }
  for (const objectKey of [...builders.keys()]) seal(objectKey);
  // Every version and head now points into the new packs: the old ones can go.
  for (const packKey of rewritten) deletePack.run(packKey);
}
