/**
 * The ordinary parts of the catalog: orgs, schemas, files, runs, object state, ID mappings and
 * the audit log. Queries are built with Kysely (so that a PostgreSQL adapter can reuse their
 * shapes) and run synchronously on better-sqlite3, inside the store's own transactions.
 *
 * What is sealed: org secrets arrive sealed; describes, file names and content types, and run
 * parameters (restore filters quote field values) are sealed here, each bound to its row by
 * associated data. IDs, object names, statuses and times stay in clear for indexing and listing.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { OrgvaultError } from '../../core/errors.ts';
import type { AuditEntry, FileRef, IdMapping, ObjectRun, ObjectState, ObjectStatus, OrgRegistration, Run, RunKind, RunStatus, SchemaVersion } from '../../core/vault.ts';
import { contentAddress } from '../../crypto/address.ts';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import { open, seal } from '../../crypto/seal.ts';
import { canonicalJson } from '../packs.ts';
import type { AuditLog, FileCatalog, IdMappingStore, ObjectStateStore, OrgCatalog, RunLog, SchemaStore } from '../port.ts';
import type { Connections, Db } from './connection.ts';
import { all, builder, first, run } from './connection.ts';
import type { ObjectRunsTable, OrgsTable, RunsTable } from '../schema/tables.ts';
import { ensureObject } from './versions.ts';

type CatalogPorts = OrgCatalog & SchemaStore & FileCatalog & RunLog & ObjectStateStore & IdMappingStore & AuditLog;

const PAGE = 1000;

/** IDs per lookup in resolveIds: well under SQLite's parameter limit. */
const RESOLVE_CHUNK = 512;

const parseJson = <T>(text: string): T => JSON.parse(text) as T;

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

const schemaAad = (orgId: string, schemaId: string): string => `orgvault:schema:${orgId}:${schemaId}`;
const fileAad = (orgId: string, f: Pick<FileRef, 'recordId' | 'field' | 'systemModstamp'>): string => `orgvault:file:${orgId}:${f.recordId}:${f.field}:${f.systemModstamp}`;
const runAad = (runId: string): string => `orgvault:run:${runId}:parameters`;

function toOrg(row: OrgsTable): OrgRegistration {
  return {
    name: row.name,
    orgId: row.org_id,
    instanceUrl: row.instance_url,
    loginUrl: row.login_url,
    sealedAuth: new Uint8Array(row.sealed_auth),
    createdAt: row.created_at,
    settings: parseJson<Record<string, unknown>>(row.settings),
  };
}

function toObjectRun(row: ObjectRunsTable): ObjectRun {
  return {
    runId: row.run_id,
    objectName: row.object_name,
    status: row.status as RunStatus,
    statusCode: row.status_code,
    message: row.message,
    counters: parseJson<Record<string, number>>(row.counters),
  };
}

export class SqliteCatalog implements CatalogPorts {
  constructor(
    private readonly conns: Connections,
    private readonly keyring: Keyring,
  ) {}

  private toRun(row: RunsTable): Run {
    return {
      runId: row.run_id,
      orgId: row.org_id,
      kind: row.kind as RunKind,
      status: row.status as RunStatus,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      counters: parseJson<Record<string, number>>(row.counters),
      message: row.message,
      parameters: parseJson<Record<string, unknown>>(open(this.keyring.sealing, row.sealed_parameters, runAad(row.run_id), `the parameters of run ${row.run_id}`).toString('utf8')),
    };
  }

  // ---- orgs -----------------------------------------------------------------------------------

  async putOrg(org: OrgRegistration): Promise<void> {
    const values = {
      name: org.name,
      org_id: org.orgId,
      instance_url: org.instanceUrl,
      login_url: org.loginUrl,
      sealed_auth: Buffer.from(org.sealedAuth),
      created_at: org.createdAt,
      settings: JSON.stringify(org.settings ?? {}),
    };
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
    const json = canonicalJson(describe);
    const schemaId = contentAddress(this.keyring.addressing, json);
    // Sealing a large describe is slow enough to keep out of the write lock.
    const sealed = seal(this.keyring.sealing, deflateRawSync(json), schemaAad(orgId, schemaId));
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
    if (!row) return undefined;
    const what = `describe ${schemaId.slice(0, 16)}…`;
    const json = inflateRawSync(open(this.keyring.sealing, row.sealed, schemaAad(orgId, schemaId), what)).toString('utf8');
    if (contentAddress(this.keyring.addressing, json) !== schemaId) throw new IntegrityError(`${what} does not hash to its address.`);
    return JSON.parse(json) as unknown;
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
    const sealedMeta = seal(this.keyring.sealing, Buffer.from(JSON.stringify({ fileName: file.fileName, contentType: file.contentType })), fileAad(orgId, file));
    const values = {
      org_id: orgId,
      record_id: file.recordId,
      field: file.field,
      system_modstamp: file.systemModstamp,
      object_name: file.objectName,
      address: file.address,
      size: file.size,
      sealed_meta: sealedMeta,
    };
    await this.conns.transaction((db) => {
      run(
        db,
        builder
          .insertInto('files')
          .values(values)
          .onConflict((oc) => oc.columns(['org_id', 'record_id', 'field', 'system_modstamp']).doUpdateSet({ object_name: file.objectName, address: file.address, size: file.size, sealed_meta: sealedMeta })),
      );
    });
  }

  private toFile(row: { org_id: string; record_id: string; field: string; system_modstamp: number; object_name: string; address: string; size: number; sealed_meta: Uint8Array }): FileRef {
    const meta = parseJson<{ fileName: string | null; contentType: string | null }>(
      open(this.keyring.sealing, row.sealed_meta, fileAad(row.org_id, { recordId: row.record_id, field: row.field, systemModstamp: row.system_modstamp }), `the file entry of ${row.record_id}.${row.field}`).toString('utf8'),
    );
    return {
      objectName: row.object_name,
      recordId: row.record_id,
      field: row.field,
      systemModstamp: row.system_modstamp,
      address: row.address,
      size: row.size,
      fileName: meta.fileName,
      contentType: meta.contentType,
    };
  }

  async filesOf(orgId: string, recordId: string): Promise<FileRef[]> {
    const rows = all(
      this.conns.read,
      builder.selectFrom('files').selectAll().where('org_id', '=', orgId).where('record_id', '=', recordId).orderBy('field').orderBy('system_modstamp', 'desc'),
    );
    return rows.map((r) => this.toFile(r));
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
    for (const row of rows) yield { orgId: row.org_id, file: this.toFile(row) };
  }

  // ---- runs -----------------------------------------------------------------------------------

  async createRun(r: Run): Promise<void> {
    const values = {
      run_id: r.runId,
      org_id: r.orgId,
      kind: r.kind,
      status: r.status,
      started_at: r.startedAt,
      ended_at: r.endedAt,
      counters: JSON.stringify(r.counters ?? {}),
      message: r.message,
      sealed_parameters: seal(this.keyring.sealing, Buffer.from(JSON.stringify(r.parameters ?? {})), runAad(r.runId)),
    };
    await this.conns.transaction((db) => {
      if (first(db, builder.selectFrom('runs').select('run_id').where('run_id', '=', r.runId))) {
        throw new OrgvaultError('RUN_EXISTS', `Run ${r.runId} is already in the vault.`);
      }
      run(db, builder.insertInto('runs').values(values));
    });
  }

  async updateRun(runId: string, patch: Partial<Omit<Run, 'runId'>>): Promise<void> {
    const parameters = patch.parameters === undefined ? undefined : seal(this.keyring.sealing, Buffer.from(JSON.stringify(patch.parameters)), runAad(runId));
    await this.conns.transaction((db) => {
      const changes = {
        ...(patch.orgId !== undefined ? { org_id: patch.orgId } : {}),
        ...(patch.kind !== undefined ? { kind: patch.kind } : {}),
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.startedAt !== undefined ? { started_at: patch.startedAt } : {}),
        ...(patch.endedAt !== undefined ? { ended_at: patch.endedAt } : {}),
        ...(patch.counters !== undefined ? { counters: JSON.stringify(patch.counters) } : {}),
        ...(patch.message !== undefined ? { message: patch.message } : {}),
        ...(parameters !== undefined ? { sealed_parameters: parameters } : {}),
      };
      const exists = first(db, builder.selectFrom('runs').select('run_id').where('run_id', '=', runId));
      if (!exists) throw new OrgvaultError('RUN_NOT_FOUND', `Run ${runId} is not in the vault.`);
      if (Object.keys(changes).length > 0) run(db, builder.updateTable('runs').set(changes).where('run_id', '=', runId));
    });
  }

  async getRun(runId: string): Promise<Run | undefined> {
    const row = first(this.conns.read, builder.selectFrom('runs').selectAll().where('run_id', '=', runId));
    return row && this.toRun(row);
  }

  async listRuns(options: { orgId?: string; kind?: Run['kind']; limit?: number } = {}): Promise<Run[]> {
    let query = builder.selectFrom('runs').selectAll();
    if (options.orgId !== undefined) query = query.where('org_id', '=', options.orgId);
    if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
    query = query.orderBy('started_at', 'desc').orderBy('run_id', 'desc');
    if (options.limit !== undefined) query = query.limit(options.limit);
    return all(this.conns.read, query).map((r) => this.toRun(r));
  }

  async putObjectRun(objectRun: ObjectRun): Promise<void> {
    const values = {
      run_id: objectRun.runId,
      object_name: objectRun.objectName,
      status: objectRun.status,
      status_code: objectRun.statusCode,
      message: objectRun.message,
      counters: JSON.stringify(objectRun.counters ?? {}),
    };
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
      .select([
        'o.name',
        'o.record_count',
        'o.version_count',
        'o.watermark_modstamp',
        'o.watermark_record_id',
        's.status',
        's.backfilled_at',
        's.last_run_id',
        's.last_backup_at',
        's.reason',
        's.status_code',
        's.details',
      ])
      .where('o.org_id', '=', orgId);
    if (objectName !== undefined) query = query.where('o.name', '=', objectName);
    return all(this.conns.read, query.orderBy('o.name')).map((row) => ({
      objectName: row.name,
      // Data without a status was written but never reported on: its backfill is not known complete.
      status: (row.status ?? 'Backfilling') as ObjectStatus,
      watermark: row.watermark_modstamp === null ? null : { systemModstamp: row.watermark_modstamp, recordId: row.watermark_record_id ?? '' },
      backfilledAt: row.backfilled_at,
      recordCount: row.record_count,
      versionCount: row.version_count,
      lastRunId: row.last_run_id,
      lastBackupAt: row.last_backup_at,
      reason: row.reason,
      statusCode: row.status_code,
      details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : {},
    }));
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
      const values = {
        object_key: objectKey,
        status: state.status,
        backfilled_at: state.backfilledAt,
        last_run_id: state.lastRunId,
        last_backup_at: state.lastBackupAt,
        reason: state.reason,
        status_code: state.statusCode,
        details: JSON.stringify(state.details ?? {}),
      };
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
        run(
          db,
          builder.insertInto('audit_log').values({ at: entry.at, actor: entry.actor, action: entry.action, target: entry.target, details: JSON.stringify(entry.details ?? {}) }),
        );
      },
      { durable: true },
    );
  }

  async listAudit(options: { limit?: number } = {}): Promise<AuditEntry[]> {
    let query = builder.selectFrom('audit_log').selectAll().orderBy('at', 'desc').orderBy('audit_key', 'desc');
    if (options.limit !== undefined) query = query.limit(options.limit);
    return all(this.conns.read, query).map((r) => ({ at: r.at, actor: r.actor, action: r.action, target: r.target, details: parseJson<Record<string, unknown>>(r.details) }));
  }
}
