/**
 * Metadata components' versions on SQLite (migration 11). A component's files are stored once per
 * content address (the vault's keyed hash of their canonical JSON), deflated and sealed with the
 * org and address as associated data, like describes; type, fullName, IDs and times stay in clear
 * for listing. Plain prepared SQL: the queries are few and the tables small.
 */
import type { MetadataComponentVersion, MetadataFiles, MetadataRunSummary, MetadataVersionInput } from '../../core/metadata.ts';
import { OrgvaultError } from '../../core/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { MetadataChain, MetadataForget, MetadataForgetOutcome, MetadataStore, MetadataWriteOutcome } from '../port.ts';
import { checkMetadataForget, metadataChainsOf, openMetadataContent, sealMetadataVersion, toMetadataRun, toMetadataVersion } from '../rows/metadata.ts';
import type { MetadataChainRow, MetadataRunRow, MetadataVersionRow } from '../rows/metadata.ts';
import type { Connections, Db } from './connection.ts';
import { statement } from './connection.ts';

const HEAD_COLUMNS = 'v.seq, v.type, v.full_name, v.content_id, v.deleted, v.last_modified, v.salesforce_id, v.captured_at, v.run_id';

export class SqliteMetadata implements MetadataStore {
  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
  ) {}

  async writeMetadataVersions(orgId: string, runId: string, capturedAt: number, versions: readonly MetadataVersionInput[]): Promise<MetadataWriteOutcome> {
    // Hashing and sealing happen before the write lock is taken.
    const prepared = versions.map((v) => sealMetadataVersion(this.keyring, orgId, v));
    return this.conns.transaction((db) => {
      const outcome: MetadataWriteOutcome = { written: 0, unchanged: 0, newContents: 0 };
      for (const { input, contentId, sealed } of prepared) {
        const head = statement(db, 'SELECT content_id, deleted FROM metadata_versions WHERE org_id = ? AND type = ? AND full_name = ? ORDER BY seq DESC LIMIT 1').get(orgId, input.type, input.fullName) as
          | { content_id: string | null; deleted: number }
          | undefined;
        // A deletion of a component never stored, or already deleted, is nothing new.
        if (input.deleted ? !head || head.deleted !== 0 : head !== undefined && head.deleted === 0 && head.content_id === contentId) {
          outcome.unchanged++;
          continue;
        }
        if (contentId !== null && sealed) {
          const have = statement(db, 'SELECT 1 FROM metadata_contents WHERE org_id = ? AND content_id = ?').get(orgId, contentId);
          if (!have) {
            statement(db, 'INSERT INTO metadata_contents (org_id, content_id, sealed) VALUES (?, ?, ?)').run(orgId, contentId, sealed);
            outcome.newContents++;
          }
        }
        statement(
          db,
          'INSERT INTO metadata_versions (org_id, type, full_name, content_id, deleted, last_modified, salesforce_id, captured_at, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(orgId, input.type, input.fullName, contentId, input.deleted ? 1 : 0, input.lastModifiedDate, input.salesforceId, capturedAt, runId);
        outcome.written++;
      }
      return outcome;
    });
  }

  async completeMetadataRun(s: MetadataRunSummary): Promise<void> {
    await this.conns.transaction(
      (db) => {
        const last = (statement(db, 'SELECT max(seq) AS seq FROM metadata_versions WHERE org_id = ?').get(s.orgId) as { seq: number | null }).seq ?? 0;
        statement(
          db,
          `INSERT INTO metadata_runs (org_id, run_id, captured_at, last_seq, components, changed, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (org_id, run_id) DO UPDATE SET captured_at = excluded.captured_at, last_seq = excluded.last_seq, components = excluded.components, changed = excluded.changed, deleted = excluded.deleted`,
        ).run(s.orgId, s.runId, s.capturedAt, last, s.components, s.changed, s.deleted);
      },
      { durable: true },
    );
  }

  async metadataHeads(orgId: string, options: { at?: number; runId?: string; type?: string; includeDeleted?: boolean } = {}): Promise<MetadataComponentVersion[]> {
    const db = this.conns.read;
    let lastSeq = Number.MAX_SAFE_INTEGER;
    if (options.runId !== undefined) {
      const run = statement(db, 'SELECT last_seq FROM metadata_runs WHERE org_id = ? AND run_id = ?').get(orgId, options.runId) as { last_seq: number } | undefined;
      if (!run) throw new OrgvaultError('METADATA_RUN_NOT_FOUND', `No completed metadata backup ${options.runId} for this org; list them with \`orgvault metadata list\`.`);
      lastSeq = run.last_seq;
    }
    const at = options.at ?? Number.MAX_SAFE_INTEGER;
    const rows = statement(
      db,
      `SELECT ${HEAD_COLUMNS} FROM metadata_versions v
       JOIN (SELECT max(seq) AS seq FROM metadata_versions WHERE org_id = ? AND seq <= ? AND captured_at <= ? AND (? IS NULL OR type = ?) GROUP BY type, full_name) h ON h.seq = v.seq
       ORDER BY v.type, v.full_name`,
    ).all(orgId, lastSeq, at, options.type ?? null, options.type ?? null) as MetadataVersionRow[];
    return rows.filter((r) => options.includeDeleted === true || r.deleted === 0).map(toMetadataVersion);
  }

  async metadataHistory(orgId: string, type: string, fullName: string): Promise<MetadataComponentVersion[]> {
    const rows = statement(
      this.conns.read,
      `SELECT ${HEAD_COLUMNS} FROM metadata_versions v WHERE v.org_id = ? AND v.type = ? AND v.full_name = ? ORDER BY v.seq DESC`,
    ).all(orgId, type, fullName) as MetadataVersionRow[];
    return rows.map(toMetadataVersion);
  }

  async readMetadataFiles(orgId: string, contentId: string): Promise<MetadataFiles | undefined> {
    return readContent(this.conns.read, this.keyring, orgId, contentId);
  }

  async metadataRuns(orgId: string, options: { limit?: number } = {}): Promise<MetadataRunSummary[]> {
    const rows = statement(this.conns.read, 'SELECT * FROM metadata_runs WHERE org_id = ? ORDER BY captured_at DESC, last_seq DESC LIMIT ?').all(orgId, options.limit ?? -1) as MetadataRunRow[];
    return rows.map(toMetadataRun);
  }

  async metadataChains(orgId: string): Promise<MetadataChain[]> {
    const rows = statement(this.conns.read, 'SELECT seq, type, full_name, captured_at, deleted FROM metadata_versions WHERE org_id = ? ORDER BY type, full_name, seq DESC').all(orgId) as MetadataChainRow[];
    return metadataChainsOf(rows);
  }

  async forgetMetadataVersions(orgId: string, removals: readonly MetadataForget[]): Promise<MetadataForgetOutcome> {
    return this.conns.transaction(
      (db) => {
        const outcome: MetadataForgetOutcome = { versions: 0, contents: 0, skipped: 0 };
        const versionsOf = statement(db, 'SELECT seq FROM metadata_versions WHERE org_id = ? AND type = ? AND full_name = ? ORDER BY seq DESC');
        const remove = statement(db, 'DELETE FROM metadata_versions WHERE org_id = ? AND type = ? AND full_name = ? AND seq IN (SELECT value FROM json_each(?))');
        for (const removal of removals) {
          const seqs = (versionsOf.all(orgId, removal.type, removal.fullName) as { seq: number }[]).map((r) => r.seq);
          if (!checkMetadataForget(removal, seqs)) {
            outcome.skipped++;
            continue;
          }
          outcome.versions += remove.run(orgId, removal.type, removal.fullName, JSON.stringify(removal.seqs)).changes;
        }
        if (outcome.versions > 0) {
          outcome.contents = statement(
            db,
            'DELETE FROM metadata_contents WHERE org_id = ? AND NOT EXISTS (SELECT 1 FROM metadata_versions v WHERE v.org_id = metadata_contents.org_id AND v.content_id = metadata_contents.content_id)',
          ).run(orgId).changes;
        }
        return outcome;
      },
      { durable: true },
    );
  }
}

function readContent(db: Db, keyring: Keyring, orgId: string, contentId: string): MetadataFiles | undefined {
  const row = statement(db, 'SELECT sealed FROM metadata_contents WHERE org_id = ? AND content_id = ?').get(orgId, contentId) as { sealed: Buffer } | undefined;
  if (!row) return undefined;
  return openMetadataContent(keyring, orgId, contentId, row.sealed);
}
