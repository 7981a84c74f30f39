/**
 * The ordinary parts of the catalog: orgs, schemas, files, runs, object state, ID mappings and
 * the audit log. Queries are built with Kysely (so that a PostgreSQL adapter can reuse their
 * shapes) and run synchronously on better-sqlite3, inside the store's own transactions.
 *
 * What is sealed: org secrets arrive sealed; describes, file names and content types, and run
 * parameters (restore filters quote field values) are sealed here, each bound to its row by
 * associated data. IDs, object names, statuses and times stay in clear for indexing and listing.
 */
import { OrgvaultError } from '../../core/errors.ts';
import type { AuditEntry, FileRef, IdMapping, ObjectRun, ObjectState, OrgRegistration, Run, SchemaVersion } from '../../core/vault.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { AuditLog, FileCatalog, IdMappingStore, ObjectStateStore, OrgCatalog, RunLog, SchemaStore } from '../port.ts';
import { OBJECT_STATE_COLUMNS, PAGE, auditRow, fileRow, objectRunRow, objectStateRow, openSchema, orgRow, runChanges, runRow, sealSchema, toAuditEntry, toFile, toObjectRun, toObjectState, toOrg, toRun } from '../rows/catalog.ts';
import type { Connections, Db } from './connection.ts';
import { all, builder, first, run } from './connection.ts';
import { ensureObject } from './versions.ts';

type CatalogPorts = OrgCatalog & SchemaStore & FileCatalog & RunLog & ObjectStateStore & IdMappingStore & AuditLog;

/** IDs per lookup in resolveIds: well under SQLite's parameter limit. */
const RESOLVE_CHUNK = 512;

/**
 * A chunk of IDs padded (with its last ID) to a power of two, so that lookups of any size share a
 * handful of prepared statements instead of caching one per length.
 */
function padChunk(ids: readonly string[]): string[] {
  let size = 1;
  while (size < ids.length) size *= 2;
  const padded = [...ids];
  while (padded.length < size) padded.push(ids[ids.length - 1]!);
  return padded;
}

/** Inserts or replaces ID mappings in the caller's write transaction (putIdMappings, and a restore step's completion). */
export function upsertIdMappings(db: Db, orgId: string, mappings: readonly IdMapping[]): void {
  for (const m of mappings) {
    const values = { org_id: orgId, old_id: m.oldId, new_id: m.newId, object_name: m.objectName, run_id: m.runId, created_at: m.createdAt };
    run(
      db,
      builder
        .insertInto('id_mappings')
        .values(values)
        .onConflict((oc) => oc.columns(['org_id', 'old_id']).doUpdateSet({ new_id: m.newId, object_name: m.objectName, run_id: m.runId, created_at: m.createdAt })),
    );
  }
}

export class SqliteCatalog implements CatalogPorts {
  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
  ) {}

  // ---- orgs -----------------------------------------------------------------------------------

  async putOrg(org: OrgRegistration): Promise<void> {
    const values = orgRow(org);
    await this.conns.transaction((db) => {
      const { name: _name, ...changes } = values;
      run(db, builder.insertInto('orgs').values(values).onConflict((oc) => oc.column('name').doUpdateSet(changes)));
    });
  }

  async getOrg(name: string): Promise<OrgRegistration | undefined> {
    const row = first(this.conns.read, builder.selectFrom('orgs').selectAll().where('name', '=', name));
    return row && toOrg(row);
  }

  async listOrgs(): Promise<OrgRegistration[]> {
    return all(this.conns.read, builder.selectFrom('orgs').selectAll().orderBy('name')).map(toOrg);
  }

  async removeOrg(name: string): Promise<boolean> {
    return this.conns.transaction((db) => run(db, builder.deleteFrom('orgs').where('name', '=', name)) > 0);
  }

  // ---- schemas --------------------------------------------------------------------------------

  async putSchema(orgId: string, objectName: string, describe: unknown, at: number): Promise<{ schemaId: string; changed: boolean }> {
    // Sealing a large describe is slow enough to keep out of the write lock.
    const { schemaId, sealed } = sealSchema(this.keyring, orgId, describe);
    return this.conns.transaction((db) => {
      const current = first(
        db,
        builder
          .selectFrom('schema_intervals')
          .select(['interval_key', 'schema_id', 'valid_from'])
          .where('org_id', '=', orgId)
          .where('object_name', '=', objectName)
          .where('valid_to', 'is', null),
      );
      if (current?.schema_id === schemaId) return { schemaId, changed: false };
      run(db, builder.insertInto('schemas').values({ org_id: orgId, schema_id: schemaId, sealed }).onConflict((oc) => oc.columns(['org_id', 'schema_id']).doNothing()));
      // An interval never ends before it starts, even if clocks disagree.
      const from = current ? Math.max(at, current.valid_from) : at;
      if (current) run(db, builder.updateTable('schema_intervals').set({ valid_to: from }).where('interval_key', '=', current.interval_key));
      run(db, builder.insertInto('schema_intervals').values({ org_id: orgId, object_name: objectName, schema_id: schemaId, valid_from: from, valid_to: null }));
      return { schemaId, changed: true };
    });
  }

  async getSchema(orgId: string, schemaId: string): Promise<unknown> {
    const row = first(this.conns.read, builder.selectFrom('schemas').select('sealed').where('org_id', '=', orgId).where('schema_id', '=', schemaId));
    return row && openSchema(this.keyring, orgId, schemaId, row.sealed);
  }

  async schemaHistory(orgId: string, objectName: string): Promise<SchemaVersion[]> {
    const rows = all(
      this.conns.read,
      builder
        .selectFrom('schema_intervals')
        .select(['schema_id', 'object_name', 'valid_from', 'valid_to'])
        .where('org_id', '=', orgId)
        .where('object_name', '=', objectName)
        .orderBy('valid_from')
        .orderBy('interval_key'),
    );
    return rows.map((r) => ({ schemaId: r.schema_id, objectName: r.object_name, validFrom: r.valid_from, validTo: r.valid_to }));
  }

  // ---- files ----------------------------------------------------------------------------------

  async putFile(orgId: string, file: FileRef): Promise<void> {
    const values = fileRow(this.keyring, orgId, file);
    await this.conns.transaction((db) => {
      run(
        db,
        builder
          .insertInto('files')
          .values(values)
          .onConflict((oc) => oc.columns(['org_id', 'record_id', 'field', 'system_modstamp']).doUpdateSet({ object_name: file.objectName, address: file.address, size: file.size, sealed_meta: values.sealed_meta })),
      );
    });
  }

  async filesOf(orgId: string, recordId: string): Promise<FileRef[]> {
    const rows = all(
      this.conns.read,
      builder.selectFrom('files').selectAll().where('org_id', '=', orgId).where('record_id', '=', recordId).orderBy('field').orderBy('system_modstamp', 'desc'),
    );
    return rows.map((r) => toFile(this.keyring, r));
  }

  async countFiles(orgId: string): Promise<{ files: number; bytes: number }> {
    const row = all(this.conns.read, builder.selectFrom('files').select((eb) => [eb.fn.countAll<number>().as('files'), eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes')]).where('org_id', '=', orgId))[0];
    return { files: Number(row?.files ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  async *referencedAddresses(): AsyncIterable<string> {
    let after = '';
    for (;;) {
      const rows = all(this.conns.read, builder.selectFrom('files').select('address').distinct().where('address', '>', after).orderBy('address').limit(PAGE));
      if (rows.length === 0) return;
      for (const row of rows) yield row.address;
      after = rows[rows.length - 1]!.address;
    }
  }

  /** The files that refer to a blob, so that verify can name the records a missing blob belongs to. */
  async *filesReferencing(address: string): AsyncIterable<{ orgId: string; file: FileRef }> {
    const rows = all(this.conns.read, builder.selectFrom('files').selectAll().where('address', '=', address).orderBy('org_id').orderBy('record_id'));
    for (const row of rows) yield { orgId: row.org_id, file: toFile(this.keyring, row) };
  }

  // ---- runs -----------------------------------------------------------------------------------

  async createRun(r: Run): Promise<void> {
    const values = runRow(this.keyring, r);
    await this.conns.transaction((db) => {
      if (first(db, builder.selectFrom('runs').select('run_id').where('run_id', '=', r.runId))) {
        throw new OrgvaultError('RUN_EXISTS', `Run ${r.runId} is already in the vault.`);
      }
      run(db, builder.insertInto('runs').values(values));
    });
  }

  async updateRun(runId: string, patch: Partial<Omit<Run, 'runId'>>): Promise<void> {
    const changes = runChanges(this.keyring, runId, patch);
    await this.conns.transaction((db) => {
      const exists = first(db, builder.selectFrom('runs').select('run_id').where('run_id', '=', runId));
      if (!exists) throw new OrgvaultError('RUN_NOT_FOUND', `Run ${runId} is not in the vault.`);
      if (Object.keys(changes).length > 0) run(db, builder.updateTable('runs').set(changes).where('run_id', '=', runId));
    });
  }

  async getRun(runId: string): Promise<Run | undefined> {
    const row = first(this.conns.read, builder.selectFrom('runs').selectAll().where('run_id', '=', runId));
    return row && toRun(this.keyring, row);
  }

  async listRuns(options: { orgId?: string; kind?: Run['kind']; limit?: number } = {}): Promise<Run[]> {
    let query = builder.selectFrom('runs').selectAll();
    if (options.orgId !== undefined) query = query.where('org_id', '=', options.orgId);
    if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
    query = query.orderBy('started_at', 'desc').orderBy('run_id', 'desc');
    if (options.limit !== undefined) query = query.limit(options.limit);
    return all(this.conns.read, query).map((r) => toRun(this.keyring, r));
  }

  async putObjectRun(objectRun: ObjectRun): Promise<void> {
    const values = objectRunRow(objectRun);
    await this.conns.transaction((db) => {
      const { run_id: _r, object_name: _o, ...changes } = values;
      run(db, builder.insertInto('object_runs').values(values).onConflict((oc) => oc.columns(['run_id', 'object_name']).doUpdateSet(changes)));
    });
  }

  async listObjectRuns(runId: string): Promise<ObjectRun[]> {
    return all(this.conns.read, builder.selectFrom('object_runs').selectAll().where('run_id', '=', runId).orderBy('object_name')).map(toObjectRun);
  }

  // ---- object state ---------------------------------------------------------------------------

  private objectStates(orgId: string, objectName?: string): ObjectState[] {
    let query = builder
      .selectFrom('objects as o')
      .leftJoin('object_state as s', 's.object_key', 'o.object_key')
      .select(OBJECT_STATE_COLUMNS)
      .where('o.org_id', '=', orgId);
    if (objectName !== undefined) query = query.where('o.name', '=', objectName);
    return all(this.conns.read, query.orderBy('o.name')).map(toObjectState);
  }

  async getObjectStates(orgId: string): Promise<ObjectState[]> {
    return this.objectStates(orgId);
  }

  async getObjectState(orgId: string, objectName: string): Promise<ObjectState | undefined> {
    return this.objectStates(orgId, objectName)[0];
  }

  /**
   * Stores an object's status, reasons and times. Its watermark and counts are not taken from
   * `state`: they belong to the data and move only with writeVersions, in the same transaction.
   */
  async putObjectState(orgId: string, state: ObjectState): Promise<void> {
    await this.conns.transaction((db) => {
      const objectKey = ensureObject(db, orgId, state.objectName);
      const values = objectStateRow(objectKey, state);
      const { object_key: _k, ...changes } = values;
      run(db, builder.insertInto('object_state').values(values).onConflict((oc) => oc.column('object_key').doUpdateSet(changes)));
    });
  }

  // ---- ID mappings ----------------------------------------------------------------------------

  /** Durable: a restore creates records in Salesforce next, and must not create them twice after a power cut. */
  async putIdMappings(orgId: string, mappings: IdMapping[]): Promise<void> {
    if (mappings.length === 0) return;
    await this.conns.transaction((db) => upsertIdMappings(db, orgId, mappings), { durable: true });
  }

  async resolveId(orgId: string, oldId: string): Promise<string | undefined> {
    return (await this.resolveIds(orgId, [oldId])).get(oldId);
  }

  /**
   * Follows every chain a round at a time: each round looks up, in chunks, the IDs no earlier
   * round saw, so a chain of n restores costs n rounds however many IDs are asked for. All rounds
   * read one snapshot, so a restore committing meanwhile cannot show half a chain.
   */
  async resolveIds(orgId: string, oldIds: readonly string[]): Promise<Map<string, string>> {
    if (oldIds.length === 0) return new Map();
    const read = this.conns.read;
    return read.transaction(() => {
      // Each ID looked up so far: its new ID, or null when it has no mapping.
      const next = new Map<string, string | null>();
      const lookUp = (ids: readonly string[]): void => {
        for (let i = 0; i < ids.length; i += RESOLVE_CHUNK) {
          const query = builder.selectFrom('id_mappings').select(['old_id', 'new_id']).where('org_id', '=', orgId).where('old_id', 'in', padChunk(ids.slice(i, i + RESOLVE_CHUNK)));
          for (const row of all(read, query)) next.set(row.old_id, row.new_id);
        }
        for (const id of ids) if (!next.has(id)) next.set(id, null);
      };
      interface Chain {
        at: string;
        resolved: string | undefined;
        seen: Set<string>;
      }
      const chains = new Map<string, Chain>();
      for (const id of oldIds) if (!chains.has(id)) chains.set(id, { at: id, resolved: undefined, seen: new Set([id]) });
      let pending = [...chains.values()];
      while (pending.length > 0) {
        lookUp([...new Set(pending.map((c) => c.at).filter((id) => !next.has(id)))]);
        const unfinished: Chain[] = [];
        for (const chain of pending) {
          for (;;) {
            const to = next.get(chain.at);
            if (to === undefined) {
              unfinished.push(chain);
              break;
            }
            // A cycle (A→B, B→A) can only come from hand edits; stop at the last new ID seen.
            if (to === null || chain.seen.has(to)) {
              chain.resolved ??= to ?? undefined;
              break;
            }
            chain.resolved = chain.at = to;
            chain.seen.add(to);
          }
        }
        pending = unfinished;
      }
      const resolved = new Map<string, string>();
      for (const [id, chain] of chains) if (chain.resolved !== undefined) resolved.set(id, chain.resolved);
      return resolved;
    })();
  }

  // ---- audit ----------------------------------------------------------------------------------

  /** Durable: an audit entry must not vanish in a power cut after the action it records. */
  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.conns.transaction(
      (db) => {
        run(db, builder.insertInto('audit_log').values(auditRow(entry)));
      },
      { durable: true },
    );
  }

  async listAudit(options: { limit?: number } = {}): Promise<AuditEntry[]> {
    let query = builder.selectFrom('audit_log').selectAll().orderBy('at', 'desc').orderBy('audit_key', 'desc');
    if (options.limit !== undefined) query = query.limit(options.limit);
    return all(this.conns.read, query).map(toAuditEntry);
  }
}
