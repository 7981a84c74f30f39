/**
 * The keyed blind index of global search on SQLite (tables: migration 5). Per record, the index
 * holds the keyed hash of every token any of its versions held (src/core/search-text.ts cuts the
 * tokens): 48 bits of a keyed PRF (../search-hashing.ts) under a key derived from the vault's index key and the org ID.
 * No token is ever written; equal tokens of one org hash alike, which is what the index reveals
 * (docs/ARCHITECTURE.md, "src/search/").
 *
 * Writing: a batch is not indexed as it is written, so that indexing never slows a backup's
 * writes (it costs three times the write itself). catchUpSearchIndex, which a backup runs once its
 * objects are stored and which every search runs first (openSearchCandidates does), indexes the
 * batches after `search_state.indexed_batch`, in chunks: the payload worker cuts and hashes the
 * tokens of a chunk's payloads (../payload-worker.ts) while this thread posts the chunk before
 * it, and each chunk's tokens a record did not have yet are posted in one transaction that also
 * moves `indexed_batch` past the chunk. A crash before that commit leaves the index claiming
 * nothing it does not hold, and the next catch-up does the chunk again. A vault from before the
 * index is caught up the same way, from batch 0.
 *
 * Layout: a row per record (`search_postings`: its doc number, its latest version's time and
 * deletion, and its token hashes, which tell an update which tokens are new, and which purge
 * deletes) and inverted lists per block of doc numbers (`search_terms`). A posting costs 2 bytes
 * in a list rather than a row of its own: rows are what SQLite charges for (several µs each
 * here), and a record has tens of tokens.
 *
 * Reading: a term's lists mark its docs in a byte array; the terms' arrays are intersected. Few
 * candidates are looked up by doc; many (a common word) are found by reading the records latest
 * first through the head index, so that a search stops reading once it has its results.
 */
import { OrgvaultError } from '../../core/errors.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { OpenedPack } from '../packs.ts';
import { openPack } from '../packs.ts';
import type { SearchCandidate, SearchCandidateQuery, SearchCandidates, SearchIndex, SearchIndexStats } from '../port.ts';
import type { PayloadPipeline } from '../payload-worker.ts';
import type { Connections, Db } from './connection.ts';
import { statement } from './connection.ts';
import { HASH_BYTES, OrgTokenHashers } from '../search-hashing.ts';
import type { ValueHashes } from '../search-hashing.ts';
import { CHUNK_VERSIONS, SCAN_PAGE, noCandidates } from '../rows/search-index.ts';
import type { IndexStep } from '../rows/search-index.ts';

/** Doc numbers per block of the inverted lists (an entry holds an offset of 14 bits). */
const BLOCK_BITS = 14;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;
/** Record IDs or docs per lookup. */
const LOOKUP_CHUNK = 2000;
/** Up to this many candidates are looked up one by one; more are found by reading records latest first. */
const LOOKUP_LIMIT = 20_000;

export type { IndexStep } from '../rows/search-index.ts';

/** Test-only hooks; production code passes none. */
export interface SearchIndexHooks {
  onIndexStep?(step: IndexStep): void;
  /** Candidates looked up one by one up to this many (default LOOKUP_LIMIT): 0 takes the latest-first read always. */
  searchLookupLimit?: number;
}

interface PendingBatch {
  batch_key: number;
  object_key: number;
  first_seq: number;
  last_seq: number;
}

/** A list entry: the doc's offset in its block, 7 bits a byte, the first byte marked by its high bit. */
function entry(doc: number, out: number[]): void {
  const offset = doc & BLOCK_MASK;
  out.push(0x80 | (offset >> 7), offset & 0x7f);
}

/** Sets the byte of every doc in a block's list. */
function markList(block: number, docs: Buffer, out: Uint8Array): void {
  const base = block << BLOCK_BITS;
  for (let i = 0; i + 1 < docs.length; i += 2) {
    const doc = base | ((docs[i]! & 0x7f) << 7) | docs[i + 1]!;
    if (doc < out.length) out[doc] = 1;
  }
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Below this many versions a chunk's tokens are cut on this thread: a worker round trip costs more. */
const WORKER_MIN_VERSIONS = 512;

/** Payloads per token job of the worker. */
const TOKEN_JOB = 1024;

/** The token hashes the payload worker cut for a chunk: per version (by seq), its distinct hashes back to back. */
type CutTokens = Map<number, string>;

/** The object name of a candidate that passes the filters, else undefined. */
type CandidateFilter = (objectKey: number, head: number, deleted: number) => string | undefined;


/** What a chunk saw of a record: the token hashes of its versions' values, and its newest version. */
interface Seen {
  /** Per searchable value of each version, its token hashes (arrays shared between equal values: see ValueHashes). */
  values: (readonly string[])[];
  /** Versions whose token hashes the payload worker made: each its hashes back to back. */
  packed: string[] | undefined;
  head: number;
  deleted: number;
}

/** A record's row in the index. */
interface IndexedRecord {
  doc: number;
  head: number;
  deleted: number;
  tokens: Buffer;
}

/** List entries to append, per block and token hash. */
type Lists = Map<number, Map<string, number[]>>;

/**
 * Whether the hash at `at` in `hashes` (HASH_BYTES long) is one of the hashes in `posted` (at an
 * aligned offset), without cutting it out of `hashes`.
 */
function isPosted(posted: string, hashes: string, at = 0): boolean {
  const first = hashes[at]!;
  for (let p = posted.indexOf(first); p >= 0; p = posted.indexOf(first, p + 1)) {
    if (p % HASH_BYTES !== 0) continue;
    let k = 1;
    while (k < HASH_BYTES && posted.charCodeAt(p + k) === hashes.charCodeAt(at + k)) k++;
    if (k === HASH_BYTES) return true;
  }
  return false;
}

export class SqliteSearchIndex implements SearchIndex {
  /** Per org: its index key and token hashes on this thread. */
  private readonly hashers: OrgTokenHashers;
  private readonly objects = new Map<number, { orgId: string; name: string }>();
  /** The catch-up under way in this process, which another caller joins rather than repeats. */
  private running: Promise<{ versions: number }> | undefined;

  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
    private readonly payloads: PayloadPipeline,
    private readonly hooks: SearchIndexHooks = {},
  ) {
    this.hashers = new OrgTokenHashers(keyring.indexing);
  }

  private object(db: Db, objectKey: number): { orgId: string; name: string } {
    let object = this.objects.get(objectKey);
    if (object === undefined) {
      const row = statement(db, 'SELECT org_id, name FROM objects WHERE object_key = ?').get(objectKey) as { org_id: string; name: string } | undefined;
      if (!row) throw new IntegrityError(`A batch refers to object key ${objectKey}, which the catalog does not have.`);
      this.objects.set(objectKey, (object = { orgId: row.org_id, name: row.name }));
    }
    return object;
  }

  // ---- writing ------------------------------------------------------------------------------

  catchUpSearchIndex(options: { onProgress?: (done: number, total: number) => void } = {}): Promise<{ versions: number }> {
    // Up to date (a search, nearly always): no write transaction, so no wait for a writer.
    if (!this.behind()) return Promise.resolve({ versions: 0 });
    // A second caller in this process (a search during a backup's catch-up) waits for the first
    // and then catches up what was written since, rather than indexing the same chunks beside it.
    const previous = this.running ?? Promise.resolve({ versions: 0 });
    const run = previous
      .catch(() => undefined)
      .then(() => this.catchUp(options.onProgress))
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
    return run;
  }

  private behind(): boolean {
    return statement(this.conns.read, 'SELECT 1 FROM batches WHERE batch_key > (SELECT indexed_batch FROM search_state WHERE id = 1) LIMIT 1').get() !== undefined;
  }

  /**
   * Indexes chunk after chunk, each in a transaction of its own: the worker cuts the tokens of the
   * next chunk while this thread posts the current one.
   */
  private async catchUp(onProgress?: (done: number, total: number) => void): Promise<{ versions: number }> {
    if (!this.conns.writable) {
      const pending = this.pendingVersions(this.conns.read);
      throw new OrgvaultError('SEARCH_INDEX_BEHIND', `${pending.toLocaleString('en-US')} backed-up version(s) are not in the search index yet, and the vault is open read-only: open it for writing once to index them.`);
    }
    const total = onProgress ? this.pendingVersions(this.conns.read) : 0;
    let done = 0;
    let plan = this.planChunk(this.conns.read, this.indexedBatch(this.conns.read));
    let cut = this.cutTokens(plan);
    try {
      while (plan.length > 0) {
        const next = this.planChunk(this.conns.read, plan[plan.length - 1]!.batch_key);
        const nextCut = this.cutTokens(next);
        const tokens = await cut;
        cut = nextCut;
        const indexed = await this.conns.transaction((db) => this.indexChunk(db, tokens));
        if (indexed === undefined) break;
        this.hooks.onIndexStep?.('after-commit');
        done += indexed;
        onProgress?.(Math.min(done, total), Math.max(done, total));
        // Normally the next chunk as planned; after another process indexed ahead, from where the index is.
        const indexedBatch = this.indexedBatch(this.conns.read);
        if (next.length > 0 && next[0]!.batch_key > indexedBatch) plan = next;
        else {
          void cut.catch(() => undefined);
          plan = this.planChunk(this.conns.read, indexedBatch);
          cut = this.cutTokens(plan);
        }
      }
    } finally {
      // Never leave a prefetch unobserved, when a chunk failed.
      void cut.catch(() => undefined);
    }
    return { versions: done };
  }

  private indexedBatch(db: Db): number {
    return (statement(db, 'SELECT indexed_batch FROM search_state WHERE id = 1').get() as { indexed_batch: number }).indexed_batch;
  }

  /** The batches of the next chunk after batch `after`: up to CHUNK_VERSIONS versions, at least one batch. */
  private planChunk(db: Db, after: number): PendingBatch[] {
    const waiting = statement(db, 'SELECT batch_key, object_key, first_seq, last_seq FROM batches WHERE batch_key > ? ORDER BY batch_key LIMIT 1000').all(after) as PendingBatch[];
    const batches: PendingBatch[] = [];
    let size = 0;
    for (const b of waiting) {
      if (batches.length > 0 && size + (b.last_seq - b.first_seq + 1) > CHUNK_VERSIONS) break;
      batches.push(b);
      size += b.last_seq - b.first_seq + 1;
    }
    return batches;
  }

  /**
   * The token hashes of a chunk's versions, cut by the payload worker from their packs (opened
   * here, where the sealing key is). Empty for a small chunk, or when the worker cannot cut them:
   * the chunk's transaction then cuts them on this thread. The rows are read again in that
   * transaction, which takes from here only the versions still there.
   */
  private async cutTokens(batches: readonly PendingBatch[]): Promise<CutTokens> {
    const cut: CutTokens = new Map();
    const size = batches.reduce((n, b) => n + b.last_seq - b.first_seq + 1, 0);
    if (size < WORKER_MIN_VERSIONS) return cut;
    // Per org (each has its own key): the versions' seqs and payloads, back to back.
    const byOrg = new Map<string, { seqs: number[]; payloads: Buffer[] }>();
    const db = this.conns.read;
    db.transaction(() => {
      const rowsOf = statement(db, 'SELECT seq, record_id, pack_key, slot FROM record_versions WHERE seq BETWEEN ? AND ? AND +object_key = ?').raw(true);
      const packs = new Map<number, OpenedPack>();
      for (const batch of batches) {
        const { orgId } = this.object(db, batch.object_key);
        let org = byOrg.get(orgId);
        if (!org) byOrg.set(orgId, (org = { seqs: [], payloads: [] }));
        for (const [seq, recordId, packKey, slot] of rowsOf.all(batch.first_seq, batch.last_seq, batch.object_key) as [number, string, number, number][]) {
          org.seqs.push(seq);
          org.payloads.push(this.payload(db, packs, packKey, slot, recordId));
        }
      }
    })();
    const jobs: Promise<void>[] = [];
    for (const [orgId, { seqs, payloads }] of byOrg) {
      for (let start = 0; start < payloads.length; start += TOKEN_JOB) {
        const part = payloads.slice(start, start + TOKEN_JOB);
        const offsets = new Uint32Array(part.length + 1);
        for (let i = 0; i < part.length; i++) offsets[i + 1] = offsets[i]! + part[i]!.length;
        jobs.push(
          this.payloads.tokenHashes(orgId, Buffer.concat(part, offsets[part.length]), offsets).then(
            (hashes) => hashes?.forEach((h, i) => cut.set(seqs[start + i]!, h)),
            // A failed job only means cutting these tokens in the transaction.
            () => undefined,
          ),
        );
      }
    }
    await Promise.all(jobs);
    return cut;
  }

  private pendingVersions(db: Db): number {
    const row = statement(db, 'SELECT coalesce(sum(last_seq - first_seq + 1), 0) AS n FROM batches WHERE batch_key > (SELECT indexed_batch FROM search_state WHERE id = 1)').get() as {
      n: number;
    };
    return row.n;
  }

  /** Indexes the next chunk of batches in the caller's transaction; undefined when there was none. */
  private indexChunk(db: Db, cut: CutTokens): number | undefined {
    const batches = this.planChunk(db, this.indexedBatch(db));
    if (batches.length === 0) return undefined;

    // The token hashes of every version in the chunk, and the newest version, per object and record.
    const tokens = new Map<number, Map<string, Seen>>();
    const gatherings = new Map<string, ValueHashes>();
    const packs = new Map<number, OpenedPack>();
    // `+object_key`: a batch's rows by their seq range (the primary key). Without the `+`, SQLite
    // chose the object's modstamp index and read every version of the object for each batch.
    const rowsOf = statement(db, 'SELECT seq, record_id, system_modstamp, is_deleted, pack_key, slot FROM record_versions WHERE seq BETWEEN ? AND ? AND +object_key = ?').raw(true);
    let read = 0;
    for (const batch of batches) {
      let records = tokens.get(batch.object_key);
      if (!records) tokens.set(batch.object_key, (records = new Map()));
      const object = this.object(db, batch.object_key);
      let gathering = gatherings.get(object.orgId);
      if (!gathering) gatherings.set(object.orgId, (gathering = this.hashers.of(object.orgId).gather()));
      // Rows forgotten or purged since the batch was written (or since its tokens were cut) are simply absent.
      for (const [seq, recordId, modstamp, deleted, packKey, slot] of rowsOf.all(batch.first_seq, batch.last_seq, batch.object_key) as [number, string, number, number, number, number][]) {
        let seen = records.get(recordId);
        if (!seen) records.set(recordId, (seen = { values: [], packed: undefined, head: modstamp, deleted }));
        // As the store keeps heads: a version is the head when it is newer than the one before.
        else if (modstamp > seen.head) {
          seen.head = modstamp;
          seen.deleted = deleted;
        }
        read++;
        const hashes = cut.get(seq);
        if (hashes !== undefined) {
          (seen.packed ??= []).push(hashes);
          continue;
        }
        gathering.add(JSON.parse(this.payload(db, packs, packKey, slot, recordId).toString('utf8')) as Record<string, unknown>, seen.values);
      }
    }

    // Every token first met in the chunk hashed at once (see search-hashing.ts).
    for (const gathering of gatherings.values()) gathering.finish();
    const lists: Lists = new Map();
    for (const [objectKey, records] of tokens) this.postRecords(db, objectKey, records, lists);
    this.writeLists(db, lists);
    statement(db, 'UPDATE search_state SET indexed_batch = ? WHERE id = 1').run(batches[batches.length - 1]!.batch_key);
    this.hooks.onIndexStep?.('before-commit');
    return read;
  }

  /**
   * A version's payload from its pack, each pack opened once per `packs`; the record ID sealed in
   * the pack must be the row's.
   */
  private payload(db: Db, packs: Map<number, OpenedPack>, packKey: number, slot: number, recordId: string): Buffer {
    let pack = packs.get(packKey);
    if (!pack) packs.set(packKey, (pack = this.openPack(db, packKey)));
    if (pack.recordId(slot) !== recordId) throw new IntegrityError(`pack ${pack.packId} slot ${slot} holds ${pack.recordId(slot)}, not ${recordId}: the catalog row was altered.`);
    return pack.payload(slot);
  }

  private openPack(db: Db, packKey: number): OpenedPack {
    const row = statement(db, 'SELECT pack_id, sealed FROM packs WHERE pack_key = ?').get(packKey) as { pack_id: string; sealed: Buffer } | undefined;
    if (!row) throw new IntegrityError(`A record version refers to pack #${packKey}, which is missing from the catalog.`);
    return openPack(this.keyring.sealing, row.pack_id, row.sealed);
  }

  /**
   * Posts the token hashes each record (of one object) does not have yet: its row gets them (a
   * new record gets a row and the next doc number), and each goes into `lists` under its block
   * and hash, as list entries to append.
   */
  private postRecords(db: Db, objectKey: number, records: Map<string, Seen>, lists: Lists): void {
    const ids = [...records.keys()].sort(compareStrings);
    const indexed = this.indexedRecords(db, objectKey, ids);
    const insert = statement(db, 'INSERT INTO search_postings (object_key, record_id, head_modstamp, head_deleted, tokens) VALUES (?, ?, ?, ?, ?)');
    const update = statement(db, 'UPDATE search_postings SET head_modstamp = ?, head_deleted = ?, tokens = ? WHERE doc = ?');
    const moveHead = statement(db, 'UPDATE search_postings SET head_modstamp = ?, head_deleted = ? WHERE doc = ?');
    const met = new Set<string>();
    for (const id of ids) {
      const row = indexed.get(id);
      const seen = records.get(id)!;
      const posted = row ? row.tokens.toString('latin1') : '';
      const added: string[] = [];
      met.clear();
      for (const hashes of seen.values) {
        for (let i = 0; i < hashes.length; i++) {
          const hash = hashes[i]!;
          if (met.has(hash)) continue;
          met.add(hash);
          if (posted.length > 0 && isPosted(posted, hash)) continue;
          added.push(hash);
        }
      }
      if (seen.packed) {
        for (const hashes of seen.packed) {
          for (let at = 0; at < hashes.length; at += HASH_BYTES) {
            // Not yet a string of its own: one is made only for a hash the record did not have.
            if (posted.length > 0 && isPosted(posted, hashes, at)) continue;
            const hash = hashes.slice(at, at + HASH_BYTES);
            if (met.has(hash)) continue;
            met.add(hash);
            added.push(hash);
          }
        }
      }
      const headMoved = row !== undefined && seen.head > row.head;
      const head = headMoved || !row ? { modstamp: seen.head, deleted: seen.deleted } : { modstamp: row.head, deleted: row.deleted };
      if (added.length === 0) {
        if (headMoved) moveHead.run(head.modstamp, head.deleted, row.doc);
        continue;
      }
      let doc: number;
      if (row) {
        doc = row.doc;
        update.run(head.modstamp, head.deleted, Buffer.from(posted + added.join(''), 'latin1'), doc);
      } else {
        doc = Number(insert.run(objectKey, id, head.modstamp, head.deleted, Buffer.from(added.join(''), 'latin1')).lastInsertRowid);
      }
      const block = doc >> BLOCK_BITS;
      let inBlock = lists.get(block);
      if (!inBlock) lists.set(block, (inBlock = new Map()));
      for (const hash of added) {
        let list = inBlock.get(hash);
        if (!list) inBlock.set(hash, (list = []));
        entry(doc, list);
      }
    }
  }

  /** The index rows of `ids` (sorted) of an object that has any. */
  private indexedRecords(db: Db, objectKey: number, ids: readonly string[]): Map<string, IndexedRecord> {
    const rows = new Map<string, IndexedRecord>();
    if (ids.length === 0) return rows;
    // A backfill in ID order meets only records never indexed: one probe proves it.
    const largest = statement(db, 'SELECT max(record_id) AS id FROM search_postings WHERE object_key = ?').get(objectKey) as { id: string | null };
    if (largest.id === null || compareStrings(largest.id, ids[0]!) < 0) return rows;
    const lookup = statement(
      db,
      'SELECT p.record_id, p.doc, p.head_modstamp, p.head_deleted, p.tokens FROM json_each(?) AS j CROSS JOIN search_postings p ON p.object_key = ? AND p.record_id = j.value',
    ).raw(true);
    for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
      for (const [id, doc, head, deleted, tokens] of lookup.all(JSON.stringify(ids.slice(i, i + LOOKUP_CHUNK)), objectKey) as [string, number, number, number, Buffer][]) {
        rows.set(id, { doc, head, deleted, tokens });
      }
    }
    return rows;
  }

  /** Appends list entries, in (block, hash) order so that consecutive writes share pages. */
  private writeLists(db: Db, lists: Lists): void {
    // `||` reads blobs as text without translating a byte (the catalog is UTF-8), and the cast
    // gives the bytes back: measured at 17 µs for an append to a 32 KiB list, where going
    // through hex() and unhex() cost 600 µs, and a common token's list in a full block is 32 KiB.
    const append = statement(
      db,
      'INSERT INTO search_terms (block, token, docs) VALUES (?, ?, ?) ON CONFLICT (block, token) DO UPDATE SET docs = CAST(search_terms.docs || excluded.docs AS BLOB)',
    );
    for (const block of [...lists.keys()].sort((a, b) => a - b)) {
      const inBlock = lists.get(block)!;
      // Latin1 strings order as their bytes, which is how SQLite orders the BLOB keys.
      for (const hash of [...inBlock.keys()].sort()) append.run(block, Buffer.from(hash, 'latin1'), Buffer.from(inBlock.get(hash)!));
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  async searchCandidates(query: SearchCandidateQuery): Promise<SearchCandidate[]> {
    const out: SearchCandidate[] = [];
    for await (const candidate of (await this.openSearchCandidates(query)).candidates) out.push(candidate);
    return out;
  }

  async openSearchCandidates(query: SearchCandidateQuery): Promise<SearchCandidates> {
    // Writes are not indexed as they happen: whatever is not yet indexed is, first.
    await this.catchUpSearchIndex();
    const db = this.conns.read;
    const objectRows = statement(db, 'SELECT object_key, name FROM objects WHERE org_id = ?').all(query.orgId) as { object_key: number; name: string }[];
    const wanted = query.objectNames ? new Set(query.objectNames) : undefined;
    const names = new Map(objectRows.filter((o) => !wanted || wanted.has(o.name)).map((o) => [o.object_key, o.name]));
    const last = statement(db, 'SELECT max(doc) AS doc FROM search_postings').get() as { doc: number | null };
    if (names.size === 0 || query.terms.length === 0 || last.doc === null) return { count: 0, candidates: noCandidates() };
    const blocks = JSON.stringify(Array.from({ length: (last.doc >> BLOCK_BITS) + 1 }, (_, i) => i));

    // A byte per doc: set while every term so far has it (a term: any of its tokens).
    const hasher = this.hashers.of(query.orgId);
    const lists = statement(db, 'SELECT block, docs FROM search_terms WHERE token = ? AND block IN (SELECT value FROM json_each(?))').raw(true);
    let docs: Uint8Array | undefined;
    for (const alternatives of query.terms) {
      const term = new Uint8Array(last.doc + 1);
      for (const token of new Set(alternatives)) {
        for (const [block, list] of lists.all(Buffer.from(hasher.token(token), 'latin1'), blocks) as [number, Buffer][]) markList(block, list, term);
      }
      if (docs) for (let d = 0; d < docs.length; d++) docs[d]! &= term[d]!;
      else docs = term;
    }
    let count = 0;
    for (let d = 0; d < docs!.length; d++) count += docs![d]!;
    const pass = (objectKey: number, head: number, deleted: number): string | undefined => {
      if (query.deletedOnly && deleted !== 1) return undefined;
      if (query.modifiedFrom !== undefined && head < query.modifiedFrom) return undefined;
      return names.get(objectKey);
    };
    return { count, candidates: count <= (this.hooks.searchLookupLimit ?? LOOKUP_LIMIT) ? this.lookUp(docs!, count, pass) : this.scanLatestFirst(docs!, query.modifiedFrom, pass) };
  }

  /** Few candidates: each looked up by its doc number, then ordered latest first. */
  private async *lookUp(docs: Uint8Array, count: number, pass: CandidateFilter): AsyncIterable<SearchCandidate> {
    const list: number[] = [];
    for (let d = 0; d < docs.length && list.length < count; d++) if (docs[d]) list.push(d);
    const rows = statement(this.conns.read, 'SELECT p.object_key, p.record_id, p.head_modstamp, p.head_deleted FROM json_each(?) AS j CROSS JOIN search_postings p ON p.doc = j.value').raw(true);
    const out: SearchCandidate[] = [];
    for (let i = 0; i < list.length; i += LOOKUP_CHUNK) {
      for (const [objectKey, recordId, head, deleted] of rows.all(JSON.stringify(list.slice(i, i + LOOKUP_CHUNK))) as [number, string, number, number][]) {
        const objectName = pass(objectKey, head, deleted);
        if (objectName !== undefined) out.push({ objectName, recordId, headModstamp: head, isDeleted: deleted === 1 });
      }
    }
    out.sort((a, b) => b.headModstamp - a.headModstamp || compareStrings(a.objectName, b.objectName) || compareStrings(a.recordId, b.recordId));
    yield* out;
  }

  /**
   * Many candidates (a common word): every indexed record, latest first by the head index, kept
   * when its doc is a candidate. A search reads only until it has its results, so a word on a
   * quarter of the records costs about four rows a result instead of a lookup of every record.
   */
  private async *scanLatestFirst(docs: Uint8Array, from: number | undefined, pass: CandidateFilter): AsyncIterable<SearchCandidate> {
    const page = statement(
      this.conns.read,
      'SELECT doc, object_key, record_id, head_modstamp, head_deleted FROM search_postings INDEXED BY search_postings_head WHERE head_modstamp >= ? AND (head_modstamp, doc) < (?, ?) ORDER BY head_modstamp DESC, doc DESC LIMIT ?',
    ).raw(true);
    // A record whose head moved while the search reads may come again: once is enough.
    const seen = new Set<number>();
    let cursor: [number, number] = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    for (;;) {
      const rows = page.all(from ?? Number.MIN_SAFE_INTEGER, cursor[0], cursor[1], SCAN_PAGE) as [number, number, string, number, number][];
      for (const [doc, objectKey, recordId, head, deleted] of rows) {
        if (doc >= docs.length || !docs[doc] || seen.has(doc)) continue;
        seen.add(doc);
        const objectName = pass(objectKey, head, deleted);
        if (objectName !== undefined) yield { objectName, recordId, headModstamp: head, isDeleted: deleted === 1 };
      }
      if (rows.length < SCAN_PAGE) return;
      const lastRow = rows[rows.length - 1]!;
      cursor = [lastRow[3], lastRow[0]];
    }
  }

  async searchIndexStats(): Promise<SearchIndexStats> {
    const db = this.conns.read;
    const row = statement(db, 'SELECT count(*) AS n FROM search_postings').get() as { n: number };
    return { records: row.n, pendingVersions: this.pendingVersions(db) };
  }
}
