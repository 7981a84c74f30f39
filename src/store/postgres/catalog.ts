/**
 * The ordinary parts of the catalog on PostgreSQL: orgs, schemas, files, runs, object state, ID
 * mappings and the audit log. The same tables, rows and sealing as the SQLite catalog
 * (../sqlite/catalog.ts), so a vault's rows copy between the engines unchanged.
 *
 * What is sealed: org secrets arrive sealed; describes, file names and content types, and run
 * parameters (restore filters quote field values) are sealed here, each bound to its row by the
 * same associated data as in SQLite (both use ../rows/catalog.ts). IDs, object names, statuses and times stay in clear.
 *
 * Concurrency: many processes on many machines share these tables. Every write is one statement
 * made safe by a key (`INSERT … ON CONFLICT`, `UPDATE … RETURNING`), except a describe's new
 * interval, which reads the current one and is serialised per (org, object) by a
 * transaction-scoped advisory lock. ID mappings are upserted in one statement, sorted by old ID
 * so that two restores writing overlapping mappings lock their rows in the same order.
 */
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { OrgvaultError } from '../../core/errors.ts';
import type { AuditEntry, FileRef, IdMapping, ObjectRun, ObjectState, OrgRegistration, Run, SchemaVersion } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { AuditLog, FileCatalog, IdMappingStore, ObjectStateStore, OrgCatalog, RunLog, SchemaStore } from '../port.ts';
import { OBJECT_STATE_COLUMNS, PAGE, auditRow, fileRow, objectRunRow, objectStateRow, openSchema, orgRow, runChanges, runRow, sealSchema, toAuditEntry, toFile, toObjectRun, toObjectState, toOrg, toRun } from '../rows/catalog.ts';
import type { PgConnections, PgDb, PgTx } from './connection.ts';

type CatalogPorts = OrgCatalog & SchemaStore & FileCatalog & RunLog & ObjectStateStore & IdMappingStore & AuditLog;

/** ID mappings per statement (arrays, so no bound-parameter limit): keeps one statement's memory small. */
const MAPPINGS_PER_INSERT = 10_000;

/** A text column in byte order, as SQLite sorts, whatever the database's collation. */
const binary = (column: string): RawBuilder<string> => sql<string>`${sql.ref(column)} COLLATE "C"`;

/**
 * The `objects` key of (org, object), creating the row if needed. Insert-then-select in two
 * statements: a row another transaction commits meanwhile is seen by the second statement's
 * snapshot, where one statement (a CTE) could miss it. versions.ts creates rows the same way.
 */
export async function ensureObjectKey(db: PgDb | PgTx, orgId: string, objectName: string): Promise<number> {
  await db
    .insertInto('objects')
    .values({ org_id: orgId, name: objectName })
    .onConflict((oc) => oc.columns(['org_id', 'name']).doNothing())
    .execute();
  const row = await db.selectFrom('objects').select('object_key').where('org_id', '=', orgId).where('name', '=', objectName).executeTakeFirstOrThrow();
  return row.object_key;
}

/**
 * Inserts or replaces ID mappings in the caller's transaction (putIdMappings, and a restore step's
 * completion): one statement per 10,000 mappings, their columns passed as arrays. Of two mappings
 * of one old ID the last wins, as in SQLite (one statement may not update a row twice); rows go
 * in old-ID order so that concurrent writers lock them in the same order and never deadlock.
 */
export async function upsertIdMappings(trx: PgTx, orgId: string, mappings: readonly IdMapping[]): Promise<void> {
  const byOldId = new Map<string, IdMapping>();
  for (const m of mappings) byOldId.set(m.oldId, m);
  const rows = [...byOldId.values()].sort((a, b) => (a.oldId < b.oldId ? -1 : a.oldId > b.oldId ? 1 : 0));
  for (let at = 0; at < rows.length; at += MAPPINGS_PER_INSERT) {
    const chunk = rows.slice(at, at + MAPPINGS_PER_INSERT);
    await sql`
      INSERT INTO id_mappings (org_id, old_id, new_id, object_name, run_id, created_at)
      SELECT ${orgId}, m.* FROM unnest(${chunk.map((m) => m.oldId)}::text[], ${chunk.map((m) => m.newId)}::text[], ${chunk.map((m) => m.objectName)}::text[],
                                       ${chunk.map((m) => m.runId)}::text[], ${chunk.map((m) => m.createdAt)}::bigint[]) AS m
      ON CONFLICT (org_id, old_id) DO UPDATE
        SET new_id = excluded.new_id, object_name = excluded.object_name, run_id = excluded.run_id, created_at = excluded.created_at`.execute(trx);
  }
}

export class PgCatalog implements CatalogPorts {
  constructor(
    private readonly conns: PgConnections,
    private readonly keyring: Keyring,
  ) {}

  private get db(): PgDb {
    return this.conns.db;
  }

  // ---- orgs -----------------------------------------------------------------------------------

  async putOrg(org: OrgRegistration): Promise<void> {
    const values = orgRow(org);
    const { name: _name, ...changes } = values;
    await this.db
      .insertInto('orgs')
      .values(values)
      .onConflict((oc) => oc.column('name').doUpdateSet(changes))
      .execute();
  }

  async getOrg(name: string): Promise<OrgRegistration | undefined> {
    const row = await this.db.selectFrom('orgs').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toOrg(row);
  }

  async listOrgs(): Promise<OrgRegistration[]> {
    return (await this.db.selectFrom('orgs').selectAll().orderBy(binary('name')).execute()).map(toOrg);
  }

  async removeOrg(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('orgs').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- schemas --------------------------------------------------------------------------------

  /**
   * Concurrency: the current interval is read and replaced under an advisory lock of the (org,
   * object), so two processes storing describes of one object at once never both close it.
   */
  async putSchema(orgId: string, objectName: string, describe: unknown, at: number): Promise<{ schemaId: string; changed: boolean }> {
    // Sealing a large describe is slow enough to keep out of the transaction.
    const { schemaId, sealed } = sealSchema(this.keyring, orgId, describe);
    return this.conns.transaction(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${JSON.stringify(['orgvault:schema', orgId, objectName])}, 0))`.execute(trx);
      const current = await trx
        .selectFrom('schema_intervals')
        .select(['interval_key', 'schema_id', 'valid_from'])
        .where('org_id', '=', orgId)
        .where('object_name', '=', objectName)
        .where('valid_to', 'is', null)
        .executeTakeFirst();
      if (current?.schema_id === schemaId) return { schemaId, changed: false };
      await trx
        .insertInto('schemas')
        .values({ org_id: orgId, schema_id: schemaId, sealed })
        .onConflict((oc) => oc.columns(['org_id', 'schema_id']).doNothing())
        .execute();
      // An interval never ends before it starts, even if clocks disagree.
      const from = current ? Math.max(at, current.valid_from) : at;
      if (current) await trx.updateTable('schema_intervals').set({ valid_to: from }).where('interval_key', '=', current.interval_key).execute();
      await trx.insertInto('schema_intervals').values({ org_id: orgId, object_name: objectName, schema_id: schemaId, valid_from: from, valid_to: null }).execute();
      return { schemaId, changed: true };
    });
  }

  async getSchema(orgId: string, schemaId: string): Promise<unknown> {
    const row = await this.db.selectFrom('schemas').select('sealed').where('org_id', '=', orgId).where('schema_id', '=', schemaId).executeTakeFirst();
    return row && openSchema(this.keyring, orgId, schemaId, row.sealed);
  }

  async schemaHistory(orgId: string, objectName: string): Promise<SchemaVersion[]> {
    const rows = await this.db
      .selectFrom('schema_intervals')
      .select(['schema_id', 'object_name', 'valid_from', 'valid_to'])
      .where('org_id', '=', orgId)
      .where('object_name', '=', objectName)
      .orderBy('valid_from')
      .orderBy('interval_key')
      .execute();
    return rows.map((r) => ({ schemaId: r.schema_id, objectName: r.object_name, validFrom: r.valid_from, validTo: r.valid_to }));
  }

  // ---- files ----------------------------------------------------------------------------------

  async putFile(orgId: string, file: FileRef): Promise<void> {
    const values = fileRow(this.keyring, orgId, file);
    await this.db
      .insertInto('files')
      .values(values)
      .onConflict((oc) => oc.columns(['org_id', 'record_id', 'field', 'system_modstamp']).doUpdateSet({ object_name: file.objectName, address: file.address, size: file.size, sealed_meta: values.sealed_meta }))
      .execute();
  }

  async filesOf(orgId: string, recordId: string): Promise<FileRef[]> {
    const rows = await this.db.selectFrom('files').selectAll().where('org_id', '=', orgId).where('record_id', '=', recordId).orderBy(binary('field')).orderBy('system_modstamp', 'desc').execute();
    return rows.map((r) => toFile(this.keyring, r));
  }

  async countFiles(orgId: string): Promise<{ files: number; bytes: number }> {
    // sum(BIGINT) is NUMERIC, which pg returns as a string.
    const row = await this.db
      .selectFrom('files')
      .select((eb) => [eb.fn.countAll<number>().as('files'), eb.fn.coalesce(eb.fn.sum<string>('size'), sql<string>`0`).as('bytes')])
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return { files: Number(row?.files ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  async *referencedAddresses(): AsyncIterable<string> {
    // Addresses are lower-case hex of one length: every collation orders them as bytes, so the
    // files_address index serves both the comparison and the order.
    let after = '';
    for (;;) {
      const rows = await this.db.selectFrom('files').select('address').distinct().where('address', '>', after).orderBy('address').limit(PAGE).execute();
      if (rows.length === 0) return;
      for (const row of rows) yield row.address;
      after = rows[rows.length - 1]!.address;
    }
  }

  /** The files that refer to a blob, so that verify can name the records a missing blob belongs to. */
  async *filesReferencing(address: string): AsyncIterable<{ orgId: string; file: FileRef }> {
    const rows = await this.db.selectFrom('files').selectAll().where('address', '=', address).orderBy(binary('org_id')).orderBy(binary('record_id')).execute();
    for (const row of rows) yield { orgId: row.org_id, file: toFile(this.keyring, row) };
  }

  // ---- runs -----------------------------------------------------------------------------------

  /** Concurrency: one statement; of two processes creating one run ID, the second is refused. */
  async createRun(r: Run): Promise<void> {
    const values = runRow(this.keyring, r);
    const inserted = await this.db
      .insertInto('runs')
      .values(values)
      .onConflict((oc) => oc.column('run_id').doNothing())
      .returning('run_id')
      .executeTakeFirst();
    if (!inserted) throw new OrgvaultError('RUN_EXISTS', `Run ${r.runId} is already in the vault.`);
  }

  async updateRun(runId: string, patch: Partial<Omit<Run, 'runId'>>): Promise<void> {
    const changes = runChanges(this.keyring, runId, patch);
    const found =
      Object.keys(changes).length > 0
        ? await this.db.updateTable('runs').set(changes).where('run_id', '=', runId).returning('run_id').executeTakeFirst()
        : await this.db.selectFrom('runs').select('run_id').where('run_id', '=', runId).executeTakeFirst();
    if (!found) throw new OrgvaultError('RUN_NOT_FOUND', `Run ${runId} is not in the vault.`);
  }

  async getRun(runId: string): Promise<Run | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('run_id', '=', runId).executeTakeFirst();
    return row && toRun(this.keyring, row);
  }

  async listRuns(options: { orgId?: string; kind?: Run['kind']; limit?: number } = {}): Promise<Run[]> {
    let query = this.db.selectFrom('runs').selectAll();
    if (options.orgId !== undefined) query = query.where('org_id', '=', options.orgId);
    if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
    query = query.orderBy('started_at', 'desc').orderBy(sql`run_id COLLATE "C"`, 'desc');
    if (options.limit !== undefined) query = query.limit(options.limit);
    return (await query.execute()).map((r) => toRun(this.keyring, r));
  }

  async putObjectRun(objectRun: ObjectRun): Promise<void> {
    const values = objectRunRow(objectRun);
    const { run_id: _r, object_name: _o, ...changes } = values;
    await this.db
      .insertInto('object_runs')
      .values(values)
      .onConflict((oc) => oc.columns(['run_id', 'object_name']).doUpdateSet(changes))
      .execute();
  }

  async listObjectRuns(runId: string): Promise<ObjectRun[]> {
    return (await this.db.selectFrom('object_runs').selectAll().where('run_id', '=', runId).orderBy(binary('object_name')).execute()).map(toObjectRun);
  }

  // ---- object state ---------------------------------------------------------------------------

  private async objectStates(orgId: string, objectName?: string): Promise<ObjectState[]> {
    let query = this.db
      .selectFrom('objects as o')
      .leftJoin('object_state as s', 's.object_key', 'o.object_key')
      .select(OBJECT_STATE_COLUMNS)
      .where('o.org_id', '=', orgId);
    if (objectName !== undefined) query = query.where('o.name', '=', objectName);
    return (await query.orderBy(binary('o.name')).execute()).map(toObjectState);
  }

  async getObjectStates(orgId: string): Promise<ObjectState[]> {
    return this.objectStates(orgId);
  }

  async getObjectState(orgId: string, objectName: string): Promise<ObjectState | undefined> {
    return (await this.objectStates(orgId, objectName))[0];
  }

  /**
   * Stores an object's status, reasons and times. Its watermark and counts are not taken from
   * `state`: they belong to the data and move only with writeVersions, in the same transaction.
   * Concurrency: the `objects` row is created without a race (ensureObjectKey) and the state is
   * upserted in one statement: of two writers, the last to commit wins, as in SQLite.
   */
  async putObjectState(orgId: string, state: ObjectState): Promise<void> {
    await this.conns.transaction(async (trx) => {
      const objectKey = await ensureObjectKey(trx, orgId, state.objectName);
      const values = objectStateRow(objectKey, state);
      const { object_key: _k, ...changes } = values;
      await trx
        .insertInto('object_state')
        .values(values)
        .onConflict((oc) => oc.column('object_key').doUpdateSet(changes))
        .execute();
    });
  }

  // ---- ID mappings ----------------------------------------------------------------------------

  /** Durable when it returns (a commit): a restore creates records in Salesforce next, and must not create them twice. */
  async putIdMappings(orgId: string, mappings: IdMapping[]): Promise<void> {
    if (mappings.length === 0) return;
    await this.conns.transaction((trx) => upsertIdMappings(trx, orgId, mappings));
  }

  async resolveId(orgId: string, oldId: string): Promise<string | undefined> {
    return (await this.resolveIds(orgId, [oldId])).get(oldId);
  }

  /**
   * Follows every chain in one recursive statement, so all of it reads one snapshot: a restore
   * committing meanwhile cannot show half a chain. A chain stops before an ID it already passed
   * (a cycle, which only hand edits make), at the last new ID seen, as SQLite's rounds do.
   */
  async resolveIds(orgId: string, oldIds: readonly string[]): Promise<Map<string, string>> {
    if (oldIds.length === 0) return new Map();
    const unique = [...new Set(oldIds)];
    const { rows } = await sql<{ start: string; new_id: string }>`
      WITH RECURSIVE chain (start, new_id, depth, path) AS (
        SELECT m.old_id, m.new_id, 1, ARRAY[m.old_id, m.new_id]
          FROM id_mappings m
         WHERE m.org_id = ${orgId} AND m.old_id = ANY(${unique}::text[])
        UNION ALL
        SELECT c.start, m.new_id, c.depth + 1, c.path || m.new_id
          FROM chain c
          JOIN id_mappings m ON m.org_id = ${orgId} AND m.old_id = c.new_id
         WHERE NOT (m.new_id = ANY(c.path))
      )
      SELECT DISTINCT ON (start) start, new_id FROM chain ORDER BY start, depth DESC`.execute(this.db);
    const found = new Map(rows.map((r) => [r.start, r.new_id]));
    // In the order asked, as SQLite answers.
    const resolved = new Map<string, string>();
    for (const id of unique) {
      const to = found.get(id);
      if (to !== undefined) resolved.set(id, to);
    }
    return resolved;
  }

  // ---- audit ----------------------------------------------------------------------------------

  /** Durable when it returns: an audit entry must not vanish after the action it records. */
  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.db.insertInto('audit_log').values(auditRow(entry)).execute();
  }

  async listAudit(options: { limit?: number } = {}): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_log').selectAll().orderBy('at', 'desc').orderBy('audit_key', 'desc');
    if (options.limit !== undefined) query = query.limit(options.limit);
    return (await query.execute()).map(toAuditEntry);
  }
}
