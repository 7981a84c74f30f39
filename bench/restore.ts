/**
 * Restoring deleted records with their children, after the Recycle Bin was emptied, so that every
 * record must be created again: records per second, and API calls against the floor of one call
 * per 200 records (what sObject Collections would take to write the records alone). Three runs on
 * disjoint sets of accounts deleted together: about scale ÷ 100 records with the default bulk
 * threshold (Bulk API 2.0 ingest for objects with that many records), as many again with sObject
 * Collections only, and one account (the fixed cost of a restore). Each run is checked, and the
 * bench fails unless every deleted record of the set is created once, nothing else is, and no
 * reference points at a wrong record; references that came back empty are counted in the figures.
 *
 * With BENCH_CPU_PROFILE=DIR, each restore is CPU-profiled (V8 inspector) into DIR/restore-LABEL.cpuprofile.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveSettings, runBackup } from '../src/backup/index.ts';
import type { OrgAuth, OrgClient, SObjectRecord } from '../src/core/org-client.ts';
import type { OrgRegistration } from '../src/core/vault.ts';
import { generateKeyFileContent } from '../src/crypto/keys.ts';
import { runRestore } from '../src/restore/index.ts';
import type { RestoreEvent, RestoreReport, RestoreRequest } from '../src/restore/index.ts';
import { connectOrg } from '../src/salesforce/index.ts';
import { initVault, openVault } from '../src/store/vault.ts';
import type { Vault } from '../src/store/vault.ts';
import type { BenchFigure, BenchSection, EmulatorChild } from './harness.ts';
import { login, rate, seconds, startEmulatorChild } from './harness.ts';
import type { BenchOptions } from './run.ts';

const API_VERSION = '62.0';
/** Records per sObject Collections call: the floor is one call per this many records. */
const PER_CALL = 200;
/** The CLI's default `--bulk-threshold`. */
const DEFAULT_BULK_THRESHOLD = 2000;
/** Levels of children restored with each account: contacts, opportunities, cases, invoices, activities; then their line items, contact roles, comments, invoice lines. */
const CHILD_LEVELS = 2;
/** Fields that point at users or metadata: never restored records, so not followed. */
const NOT_FOLLOWED = new Set(['OwnerId', 'CreatedById', 'LastModifiedById', 'RecordTypeId']);

interface Snapshot {
  /** Every record of the populated objects: its object and reference values. */
  records: Map<string, { objectName: string; refs: Record<string, string | null> }>;
  /** Reference fields read per object (createable ones are checked after the restore). */
  refFields: Map<string, { name: string; createable: boolean; updateable: boolean }[]>;
}

interface RestoreSet {
  accounts: string[];
  /** Every record within CHILD_LEVELS of the accounts (the accounts included). */
  tree: Set<string>;
}

interface RunFigures {
  label: string;
  report: RestoreReport;
  wallSeconds: number;
  planSeconds: number;
  /** Time waiting on the org before the plan was made (reading describes and live records). */
  planApiSeconds: number;
  clientCalls: number;
  emulatorCalls: number;
  byEndpoint: Record<string, number>;
  /** Time spent waiting on the org, by OrgClient method. */
  apiTime: Map<string, { calls: number; ms: number }>;
  /** Wall time per object of the execution, from the progress events. */
  objectSeconds: Map<string, number>;
  created: Map<string, number>;
  floor: number;
  bulkObjects: string[];
}

export async function restoreBench(options: BenchOptions): Promise<BenchSection> {
  // At the default scale (1,000,000) each run restores about 10,000 records, from an org of 50,000.
  const target = Math.max(500, Math.round(options.scale / 100));
  const orgScale = Math.max(20_000, target * 5);
  const setupStarted = performance.now();
  const emulator = await startEmulatorChild(['--profile', 'bench', '--scale', String(orgScale), '--port', '0'], ['--max-old-space-size=4096']);
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-bench-restore-'));
  let vault: Vault | undefined;
  try {
    const { info } = emulator;
    const auth: OrgAuth = { kind: 'password', loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret, username: info.username, password: info.password };
    const keyFile = Buffer.from(generateKeyFileContent());
    await initVault(join(dir, 'vault'), { keyFile });
    vault = await openVault(join(dir, 'vault'), { keyFile });
    const org: OrgRegistration = { name: 'bench', orgId: info.orgId, instanceUrl: info.instanceUrl, loginUrl: info.loginUrl, sealedAuth: new Uint8Array(1), createdAt: 0, settings: {} };
    const setup = await connectOrg(auth);
    const token = await login(info);
    const backup = async (): Promise<number> => {
      const result = await runBackup({ store: vault!.store, blobs: vault!.blobs, client: await connectOrg(auth) }, { org, settings: resolveSettings() });
      if (result.status !== 'Succeeded') throw new Error(`restore bench: the backup ended ${result.status}: ${JSON.stringify(result.objects.filter((o) => o.status === 'Error').slice(0, 3))}`);
      return result.counters.records ?? 0;
    };

    const backedUp = await backup();
    const before = await snapshot(setup);
    const [bulkSet, collectionsSet, loneSet] = chooseSets(before, target);
    const accounts = [...bulkSet.accounts, ...collectionsSet.accounts, ...loneSet.accounts];
    await deleteRecords(info.instanceUrl, token, accounts);
    const live = await liveIds(setup, [...before.refFields.keys()]);
    const deleted = new Set([...before.records.keys()].filter((id) => !live.has(id)));
    await backup();
    await admin(emulator, 'POST', 'recycle-bin/empty');
    const left = await setup.queryBatch([{ soql: `SELECT Id FROM Account WHERE Id IN (${accounts.slice(0, 200).map((id) => `'${id}'`).join(',')})`, includeDeleted: true }]);
    if (!left[0]?.ok || left[0].records.length) throw new Error('restore bench: the deleted accounts are still in the org after the Recycle Bin was emptied');
    const setupSeconds = (performance.now() - setupStarted) / 1000;

    const userId = (await setup.identity()).userId;
    const load = [loadavg()[0]!];
    const runs: (RunFigures & { checked: Checked })[] = [];
    const mapped = new Map<string, string>();
    for (const [label, set, threshold] of [
      ['default bulk threshold', bulkSet, DEFAULT_BULK_THRESHOLD],
      ['sObject Collections only', collectionsSet, Number.MAX_SAFE_INTEGER],
      ['one account', loneSet, DEFAULT_BULK_THRESHOLD],
    ] as const) {
      const run = await timedRestore(emulator, auth, vault, org, set, threshold, userId, label);
      runs.push({ ...run, checked: await verify(setup, before, deleted, set, run, mapped) });
    }
    load.push(loadavg()[0]!);

    const figures: BenchFigure[] = [];
    for (const run of runs) {
      const c = run.report.counts;
      const written = c.Created + c.Updated + c.Undeleted;
      const lone = run.label === 'one account';
      const name = lone ? `one account with its children (${written} records)` : run.label;
      const emptied = empty(run.checked);
      figures.push(
        ...(lone
          ? []
          : [
              {
                name: `${name}: records restored`,
                value: `${written.toLocaleString('en-US')} (${c.Created.toLocaleString('en-US')} created, ${c.Updated} updated, ${c.Undeleted} undeleted); ${c.Skipped} skipped, ${c.Failed} failed`,
              },
            ]),
        { name: `${name}: restore time`, value: lone ? seconds(run.wallSeconds) : `${seconds(run.wallSeconds)}: ${rate(written, run.wallSeconds)}` },
        { name: `${name}: API calls (client / emulator)`, value: `${run.clientCalls} / ${run.emulatorCalls}` },
        { name: `${name}: API calls / floor (one call per ${PER_CALL} records)`, value: `${run.clientCalls} / ${run.floor} = ${(run.clientCalls / run.floor).toFixed(2)}×` },
        {
          name: `${name}: references left empty`,
          value: `${emptied.toLocaleString('en-US')} of ${run.checked.references.toLocaleString('en-US')}${emptied ? ` (${describeCounts(run.checked.leftEmpty)})` : ''}`,
          aim: '0',
          met: emptied === 0,
        },
      );
    }
    const objects = (run: RunFigures): string =>
      [...run.created]
        .sort((a, b) => b[1] - a[1])
        .map(([o, n]) => `${n.toLocaleString('en-US')} ${o}`)
        .join(', ');
    return {
      title: 'Restore: deleted records with their children',
      description:
        'What restoring deleted records costs once the Recycle Bin was emptied, so that every record must be created again. ' +
        `The org: the \`bench\` profile at scale ${orgScale.toLocaleString('en-US')} (--scale ÷ 20) in an emulator of its own process, backed up into a new SQLite vault (${backedUp.toLocaleString('en-US')} records). ` +
        `Two disjoint sets of accounts (whole hierarchies, in a fixed random order) of about ${target.toLocaleString('en-US')} records each (--scale ÷ 100) with their children ${CHILD_LEVELS} levels down, and one more account, are deleted (the org cascades to contacts, opportunities, cases, invoices, activities and theirs), backed up again, and the Recycle Bin emptied. ` +
        `Each set is restored by \`runRestore\` (the set's account IDs, \`children: ${CHILD_LEVELS}\`, inactive owners mapped to the API user) with a client connected as \`orgvault restore\` connects (Bulk jobs first polled after 0.5 s): ` +
        `the first with the default bulk threshold (objects with ${DEFAULT_BULK_THRESHOLD.toLocaleString('en-US')} records or more go through Bulk API 2.0 ingest), the second with sObject Collections only, the lone account with the default. Time runs from the call to the report. ` +
        "API calls are the client's `usage().calls`, cross-checked with the growth of the emulator's `/__emulator/statistics` total. " +
        `The floor is one call per ${PER_CALL} records written (created, updated or undeleted): sObject Collections writing them in full calls, with no reads at all; Bulk API ingest can go below it. ` +
        'The bench fails if a record failed, was not created, or was created twice or without having been deleted, or if a reference (of the created records, and of records of the set that stayed in the org) points anywhere but where it pointed before the deletion, translated to the new IDs; references that came back empty are counted in the table.',
      figures,
      notes: [
        ...runs.map((run) => `${run.label}: created ${objects(run)}; ${run.bulkObjects.length ? `Bulk API ingest for ${run.bulkObjects.join(', ')}` : 'no Bulk API ingest'}; not created: ${notCreated(run.report)}.`),
        ...runs.map((run) => `${run.label}: calls by endpoint: ${Object.entries(run.byEndpoint).sort((a, b) => b[1] - a[1]).map(([e, n]) => `${e} ${n}`).join(', ')}.`),
        ...runs.map((run) => {
          const api = [...run.apiTime].sort((a, b) => b[1].ms - a[1].ms);
          const waiting = api.reduce((sum, [, m]) => sum + m.ms, 0) / 1000;
          return (
            `${run.label}: selection, related records, reading the org and planning ${seconds(run.planSeconds)} (of which waiting on the org ${seconds(run.planApiSeconds)}); ` +
            `writing ${seconds(run.wallSeconds - run.planSeconds)} (of which waiting on the org ${seconds(waiting - run.planApiSeconds)}); ` +
            `calls by client method: ${api.map(([m, t]) => `${m} ${t.calls}× ${seconds(t.ms / 1000)}`).join(', ')}; ` +
            `writing by object: ${[...run.objectSeconds].map(([o, t]) => `${o} ${seconds(t)}`).join(', ')}.`
          );
        }),
        ...(runs.some((run) => empty(run.checked) > 0)
          ? [
              'References left empty: the org clears lookups to each record as its cascade deletes it, so records deleted later in the same cascade are backed up with those lookups empty; the restore writes the deleted version as it is, while the version before the deletion held the link.',
            ]
          : []),
        `Setup (seeding, two backups, deleting ${accounts.length.toLocaleString('en-US')} accounts, emptying the Recycle Bin): ${seconds(setupSeconds)}. ` +
          `Load average (1 min) before and after the restores: ${load.map((l) => l.toFixed(1)).join(' and ')} on ${cpus().length} cores; other work on the machine slows every figure.`,
      ],
    };
  } finally {
    await vault?.close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function timedRestore(emulator: EmulatorChild, auth: OrgAuth, vault: Vault, org: OrgRegistration, set: RestoreSet, threshold: number, userId: string, label: string): Promise<RunFigures> {
  const apiTime = new Map<string, { calls: number; ms: number }>();
  const client = instrument(await connectOrg(auth), apiTime);
  const request: RestoreRequest = {
    org,
    selection: { objectName: 'Account', recordIds: set.accounts },
    parents: 0,
    children: CHILD_LEVELS,
    dryRun: false,
    plan: { overwriteNewer: false, writeNulls: false, overrides: [], inactiveOwner: { kind: 'map', userId }, missingRecordType: { kind: 'fail' }, masks: [] },
    allowDuplicates: false,
    bulkThreshold: threshold,
    matchOn: {},
    maskKey: null,
  };
  const statsBefore = await statistics(emulator);
  const objectSeconds = new Map<string, number>();
  let planned = 0;
  let planApiMs = 0;
  let last = 0;
  const profiler = await startProfiler();
  const started = performance.now();
  const onEvent = (event: RestoreEvent): void => {
    const now = performance.now();
    if (event.type === 'planned') {
      planned = now;
      planApiMs = [...apiTime.values()].reduce((sum, m) => sum + m.ms, 0);
    } else objectSeconds.set(event.objectName, (objectSeconds.get(event.objectName) ?? 0) + (now - (last || planned)) / 1000);
    last = now;
  };
  const report = await runRestore({ store: vault.store, blobs: vault.blobs, client, onEvent }, request);
  const wallSeconds = (performance.now() - started) / 1000;
  await profiler?.stop(`restore-${label.replace(/\W+/g, '-')}.cpuprofile`);
  const statsAfter = await statistics(emulator);
  const byEndpoint: Record<string, number> = {};
  for (const [endpoint, n] of Object.entries(statsAfter.byEndpoint)) {
    const grown = n - (statsBefore.byEndpoint[endpoint] ?? 0);
    if (grown > 0) byEndpoint[endpoint] = grown;
  }
  const created = new Map<string, number>();
  for (const row of report.results) if (row.outcome === 'Created') created.set(row.object, (created.get(row.object) ?? 0) + 1);
  const written = new Map<string, number>();
  for (const row of report.results) if (row.outcome !== 'Skipped' && row.outcome !== 'Failed') written.set(row.object, (written.get(row.object) ?? 0) + 1);
  return {
    label,
    report,
    wallSeconds,
    planSeconds: (planned - started) / 1000,
    planApiSeconds: planApiMs / 1000,
    clientCalls: client.usage().calls,
    emulatorCalls: statsAfter.total - statsBefore.total,
    byEndpoint,
    apiTime,
    objectSeconds,
    created,
    floor: Math.ceil((report.counts.Created + report.counts.Updated + report.counts.Undeleted) / PER_CALL),
    bulkObjects: [...written].filter(([, n]) => n >= threshold).map(([o]) => o),
  };
}

interface Checked {
  records: number;
  references: number;
  /** References to records restored with them that came back empty, by Object.Field. */
  leftEmpty: Map<string, number>;
}

/**
 * Fails loudly unless the run created exactly the deleted records of its set, each once, with
 * every reference pointing where it pointed before the deletion: at the new ID of a restored
 * record, or at the same record when that one stayed in the org. A reference that came back
 * empty is counted apart (and reported as not met): the restore took the value the deleted
 * version held, which the org's cascade may have cleared.
 */
async function verify(client: OrgClient, before: Snapshot, deleted: ReadonlySet<string>, set: RestoreSet, run: RunFigures, mapped: Map<string, string>): Promise<Checked> {
  const problems: string[] = [];
  const failed = run.report.results.filter((r) => r.outcome === 'Failed');
  for (const r of failed.slice(0, 5)) problems.push(`${r.object} ${r.originalId} failed: ${r.statusCode} ${r.message}`);
  if (failed.length > 5) problems.push(`… ${failed.length} failed records in all`);
  const expected = new Set([...set.tree].filter((id) => deleted.has(id)));
  const newIds = new Map<string, string>();
  for (const row of run.report.results) {
    if (row.outcome !== 'Created') continue;
    if (!expected.has(row.originalId)) problems.push(`${row.object} ${row.originalId} was created, but it was not deleted with the set`);
    if (newIds.has(row.originalId)) problems.push(`${row.originalId} was created twice`);
    if (row.newId) newIds.set(row.originalId, row.newId);
  }
  const missing = [...expected].filter((id) => !newIds.has(id));
  if (missing.length) problems.push(`${missing.length} deleted records of the set were not created, e.g. ${missing.slice(0, 5).map((id) => `${before.records.get(id)?.objectName} ${id}`).join(', ')}`);

  // Every created record, and every record of the set that stayed in the org (its lookups to the
  // deleted records were cleared), read back: its references point at the new IDs.
  for (const [k, v] of newIds) mapped.set(k, v);
  const kept = [...set.tree].filter((id) => !deleted.has(id));
  const byObject = new Map<string, string[]>();
  for (const [originalId, id] of [...newIds, ...kept.map((k) => [k, k] as const)]) {
    const objectName = before.records.get(originalId)!.objectName;
    byObject.set(objectName, [...(byObject.get(objectName) ?? []), id]);
  }
  let references = 0;
  let wrong = 0;
  const leftEmpty = new Map<string, number>();
  const reverse = new Map([...newIds].map(([o, n]) => [n, o]));
  for (const id of kept) reverse.set(id, id);
  for (const [objectName, ids] of byObject) {
    const fields = (before.refFields.get(objectName) ?? []).filter((f) => (f.createable || f.updateable) && !NOT_FOLLOWED.has(f.name));
    const found = new Map<string, SObjectRecord>();
    for (let i = 0; i < ids.length; i += 200) {
      const soql = `SELECT Id${fields.map((f) => `, ${f.name}`).join('')} FROM ${objectName} WHERE Id IN (${ids.slice(i, i + 200).map((id) => `'${id}'`).join(',')})`;
      for await (const page of client.query(soql)) for (const record of page) found.set(String(record.Id), record);
    }
    for (const id of ids) {
      const record = found.get(id);
      const original = before.records.get(reverse.get(id)!)!;
      if (!record) {
        problems.push(`${objectName} ${id} (was ${reverse.get(id)}) is not in the org after the restore`);
        continue;
      }
      const stayed = reverse.get(id) === id;
      for (const field of fields) {
        if (stayed ? !field.updateable : !field.createable) continue;
        const was = original.refs[field.name];
        if (!was) continue;
        const want = mapped.get(was) ?? (deleted.has(was) ? null : was);
        const got = record[field.name] ?? null;
        references++;
        if (got === want) continue;
        if (got === null) {
          const key = `${objectName}.${field.name}${stayed ? ' (of records kept in the org)' : ''}`;
          leftEmpty.set(key, (leftEmpty.get(key) ?? 0) + 1);
          continue;
        }
        if (++wrong <= 5) problems.push(`${objectName} ${id} (was ${reverse.get(id)}): ${field.name} is ${String(got)}, expected ${String(want)} (was ${was})`);
      }
    }
  }
  if (wrong > 5) problems.push(`… ${wrong} wrong references in all`);
  if (references === 0) problems.push('no reference was checked');
  if (problems.length) throw new Error(`restore bench (${run.label}): the restore is wrong:\n  ${problems.join('\n  ')}`);
  const empty = [...leftEmpty.values()].reduce((a, b) => a + b, 0);
  console.error(`  ${run.label}: checked ${newIds.size.toLocaleString('en-US')} created records and ${references.toLocaleString('en-US')} references${empty ? `; WARNING: ${empty} references came back empty (${describeCounts(leftEmpty)})` : ''}`);
  return { records: newIds.size, references, leftEmpty };
}

/** The records a run did not create, by object, outcome and status code. */
function notCreated(report: RestoreReport): string {
  const counts = new Map<string, number>();
  for (const row of report.results) {
    if (row.outcome === 'Created') continue;
    const key = `${row.object} ${row.outcome}${row.statusCode ? ` (${row.statusCode})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts.size ? [...counts].map(([k, n]) => `${n.toLocaleString('en-US')} ${k}`).join(', ') : 'none';
}

const empty = (checked: Checked): number => [...checked.leftEmpty.values()].reduce((a, b) => a + b, 0);

const describeCounts = (counts: ReadonlyMap<string, number>): string =>
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
    .join(', ');

/** Every record of the populated objects with its reference fields, read before the deletion. */
/** Every record of the populated objects with its reference fields, read before the deletion. */
async function snapshot(client: OrgClient): Promise<Snapshot> {
  const objects = (await client.describeGlobal()).filter((o) => o.queryable).map((o) => o.name);
  const counts = await client.recordCounts(objects);
  const records: Snapshot['records'] = new Map();
  const refFields: Snapshot['refFields'] = new Map();
  for (const [objectName, count] of counts) {
    if (count === 0 || ['User', 'Group', 'Profile', 'RecordType', 'Organization'].includes(objectName)) continue;
    const describe = await client.describeObject(objectName);
    if (!describe.fields.some((f) => f.name === 'IsDeleted')) continue;
    const fields = describe.fields.filter((f) => f.type === 'reference' && f.name !== 'Id').map((f) => ({ name: f.name, createable: f.createable, updateable: f.updateable }));
    refFields.set(objectName, fields);
    for await (const page of client.query(`SELECT Id${fields.map((f) => `, ${f.name}`).join('')} FROM ${objectName}`)) {
      for (const record of page) {
        const refs: Record<string, string | null> = {};
        for (const f of fields) refs[f.name] = typeof record[f.name] === 'string' ? (record[f.name] as string) : null;
        records.set(String(record.Id), { objectName, refs });
      }
    }
  }
  return { records, refFields };
}

/**
 * Three disjoint sets of accounts, whole hierarchies (Account.ParentId) at a time in a fixed
 * random order: two that grow until each tree (the accounts and their children down to
 * CHILD_LEVELS) reaches `target`, and one lone account with a few children.
 */
function chooseSets(snap: Snapshot, target: number): [RestoreSet, RestoreSet, RestoreSet] {
  const children = new Map<string, string[]>();
  for (const [id, { refs }] of snap.records) {
    for (const [field, value] of Object.entries(refs)) {
      if (!value || NOT_FOLLOWED.has(field) || !snap.records.has(value) || value === id) continue;
      const list = children.get(value) ?? [];
      list.push(id);
      children.set(value, list);
    }
  }
  // Account hierarchies: a child account comes back with its parent, so both go in one set.
  const accounts = [...snap.records].filter(([, r]) => r.objectName === 'Account').map(([id]) => id).sort();
  const root = new Map<string, string>();
  const find = (id: string): string => {
    let r = id;
    while (root.has(r) && root.get(r) !== r) r = root.get(r)!;
    return r;
  };
  for (const id of accounts) {
    const parent = snap.records.get(id)!.refs.ParentId;
    if (parent && snap.records.has(parent)) root.set(find(id), find(parent));
  }
  const groups = new Map<string, string[]>();
  for (const id of accounts) groups.set(find(id), [...(groups.get(find(id)) ?? []), id]);
  // In a fixed random order: the oldest accounts hold far more children than the average.
  const random = mulberry32(20261122);
  const order = [...groups.values()].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }

  const treeOf = (group: readonly string[]): Set<string> => {
    const tree = new Set(group);
    let frontier = [...group];
    for (let level = 0; level < CHILD_LEVELS; level++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const child of children.get(id) ?? []) {
          if (tree.has(child)) continue;
          tree.add(child);
          next.push(child);
        }
      }
      frontier = next;
    }
    return tree;
  };
  const sets: [RestoreSet, RestoreSet, RestoreSet] = [
    { accounts: [], tree: new Set() },
    { accounts: [], tree: new Set() },
    { accounts: [], tree: new Set() },
  ];
  const taken = new Set<string>();
  for (const group of order) {
    const set = sets[0].tree.size >= target && sets[1].tree.size >= target ? sets[2] : sets[0].tree.size <= sets[1].tree.size ? sets[0] : sets[1];
    if (set === sets[2] && (set.accounts.length || group.length > 1)) continue;
    const tree = treeOf(group);
    // Sets stay apart: a group reaching records of another set is left out.
    if ([...tree].some((id) => taken.has(id)) || (set === sets[2] && tree.size < 10)) continue;
    for (const id of tree) {
      taken.add(id);
      set.tree.add(id);
    }
    set.accounts.push(...group);
  }
  if (sets[1].tree.size < target * 0.9 || !sets[2].accounts.length) {
    throw new Error(`restore bench: the org has too few accounts for two sets of ${target} records and one more account (${sets[0].tree.size}, ${sets[1].tree.size}, ${sets[2].tree.size})`);
  }
  return sets;
}

/** A small seeded generator, so that every run chooses the same accounts. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The IDs of the records in the org (not deleted) of these objects. */
async function liveIds(client: OrgClient, objects: readonly string[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const objectName of objects) for await (const page of client.query(`SELECT Id FROM ${objectName}`)) for (const record of page) ids.add(String(record.Id));
  return ids;
}

/** Deletes through sObject Collections, 200 records a call; every delete must succeed. */
async function deleteRecords(instanceUrl: string, token: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const response = await fetch(`${instanceUrl}/services/data/v${API_VERSION}/composite/sobjects?allOrNone=false&ids=${chunk.join(',')}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`restore bench: deleting accounts failed: ${response.status} ${await response.text()}`);
    const results = (await response.json()) as { id: string; success: boolean; errors: unknown[] }[];
    const refused = results.filter((r) => !r.success);
    if (refused.length) throw new Error(`restore bench: ${refused.length} accounts were not deleted: ${JSON.stringify(refused.slice(0, 3))}`);
  }
}

async function admin(emulator: EmulatorChild, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const response = await fetch(`${emulator.info.loginUrl}/__emulator/${path}`, {
    method,
    headers: { Authorization: `Bearer ${emulator.info.adminToken}`, 'Content-Type': 'application/json' },
    body: method === 'POST' ? '{}' : undefined,
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

const statistics = (emulator: EmulatorChild): Promise<{ total: number; byEndpoint: Record<string, number> }> => admin(emulator, 'GET', 'statistics') as Promise<{ total: number; byEndpoint: Record<string, number> }>;

/** A CPU profile of what follows, when BENCH_CPU_PROFILE names a directory to write it to. */
async function startProfiler(): Promise<{ stop(name: string): Promise<void> } | undefined> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(name) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(join(dir, name), JSON.stringify(profile));
      session.disconnect();
      console.error(`  CPU profile: ${join(dir, name)}`);
    },
  };
}

/** The client, timing every call it makes (an async iterable's time is that of its pages). */
function instrument(client: OrgClient, meter: Map<string, { calls: number; ms: number }>): OrgClient {
  const add = (name: string, ms: number, calls: number): void => {
    const m = meter.get(name) ?? { calls: 0, ms: 0 };
    m.calls += calls;
    m.ms += ms;
    meter.set(name, m);
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'usage') return value;
      const name = property;
      return (...args: unknown[]): unknown => {
        const started = performance.now();
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (out instanceof Promise) return out.finally(() => add(name, performance.now() - started, 1));
        if (out && typeof out === 'object' && Symbol.asyncIterator in out) return timed(out as AsyncIterable<unknown>, name, add);
        add(name, performance.now() - started, 1);
        return out;
      };
    },
  });
}

async function* timed<T>(source: AsyncIterable<T>, name: string, add: (name: string, ms: number, calls: number) => void): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let first = true;
  for (;;) {
    const started = performance.now();
    const next = await iterator.next();
    add(name, performance.now() - started, first ? 1 : 0);
    first = false;
    if (next.done) return;
    yield next.value;
  }
}
