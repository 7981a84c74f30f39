/**
 * The vault benchmark: record versions written to and read from a real SQLite catalog. The
 * records are deterministic Salesforce-like Accounts: ~45 fields and ~1.4 KB of JSON each, as a
 * REST query page returns them; later versions change one to three business fields (plus the
 * audit fields every update touches).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../emulator/seed/random.ts';
import { CITIES, COMPANY_FIRST, COMPANY_SECOND, COMPANY_SUFFIX, FIRST_NAMES, LAST_NAMES, STREET_EXTRA, STREET_NAMES } from '../emulator/seed/vocabulary.ts';
import type { VersionInput } from '../src/core/vault.ts';
import { deriveKeyring } from '../src/crypto/keys.ts';
import { openSqliteVaultStore } from '../src/store/sqlite/index.ts';
import type { BenchSection } from './harness.ts';
import { mib, rate } from './harness.ts';

const INDUSTRIES = ['Manufacturing', 'Energy', 'Utilities', 'Transportation', 'Chemicals', 'Construction', 'Food & Beverage', 'Healthcare', 'Retail', 'Technology'];
const TYPES = ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Channel Partner / Reseller', 'Installation Partner', 'Other'];
const RATINGS = ['Hot', 'Warm', 'Cold'];
const SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Trade Show', 'Other'];
const OWNERSHIP = ['Public', 'Private', 'Subsidiary', 'Other'];
const WORDS = (
  'plant line sensor vibration uptime contract renewal pilot rollout maintenance reliability ' +
  'procurement budget quarter expansion site audit compliance integration dashboard alerting ' +
  'gateway firmware subscription onboarding training escalation outage warehouse conveyor pump ' +
  'compressor turbine boiler chiller retrofit upgrade evaluation shortlist pricing discount ' +
  'champion sponsor decision timeline legal security review signed expected follow-up meeting'
).split(' ');

const CHARS62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** A real 18-character ID: 15 characters and the case-checksum suffix. */
export function salesforceId(prefix: string, n: number): string {
  let tail = '';
  for (let i = 0, x = n; i < 9; i++, x = Math.floor(x / 62)) tail = CHARS62[x % 62]! + tail;
  const id15 = `${prefix}Dn${tail}`.slice(0, 15).padEnd(15, '0');
  let suffix = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) if (/[A-Z]/.test(id15[block * 5 + i]!)) bits |= 1 << i;
    suffix += SUFFIX[bits];
  }
  return id15 + suffix;
}

/** Salesforce's canonical datetime form. */
export function sfDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

function sentence(random: Random, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(random.pick(WORDS));
  const text = out.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

const USERS = Array.from({ length: 40 }, (_, i) => salesforceId('005', 1000 + i));

/** The first version of Account number `n`, created at `at`. */
export function newAccount(random: Random, n: number, at: number): Record<string, unknown> {
  const id = salesforceId('001', n);
  const city = random.pick(CITIES);
  const street = `${random.range(1, 9999)} ${random.pick(STREET_NAMES)}${random.chance(0.3) ? ` ${random.pick(STREET_EXTRA)}` : ''}`.trim();
  const name = `${random.pick(COMPANY_FIRST)} ${random.pick(COMPANY_SECOND)} ${random.pick(COMPANY_SUFFIX)}`;
  const owner = random.pick(USERS);
  const creator = random.pick(USERS);
  const shipSame = random.chance(0.6);
  const shipCity = shipSame ? city : random.pick(CITIES);
  return {
    attributes: { type: 'Account', url: `/services/data/v62.0/sobjects/Account/${id}` },
    Id: id,
    IsDeleted: false,
    MasterRecordId: null,
    Name: name,
    Type: random.pick(TYPES),
    ParentId: random.chance(0.2) ? salesforceId('001', random.int(Math.max(1, n))) : null,
    BillingStreet: street,
    BillingCity: city.city,
    BillingState: city.state,
    BillingPostalCode: city.postalCode,
    BillingCountry: city.country,
    BillingLatitude: random.chance(0.5) ? city.latitude : null,
    BillingLongitude: random.chance(0.5) ? city.longitude : null,
    ShippingStreet: shipSame ? street : `${random.range(1, 9999)} ${random.pick(STREET_NAMES)}`,
    ShippingCity: shipCity.city,
    ShippingState: shipCity.state,
    ShippingPostalCode: shipCity.postalCode,
    ShippingCountry: shipCity.country,
    Phone: `${city.phonePrefix} 555-${String(random.range(0, 9999)).padStart(4, '0')}`,
    Fax: random.chance(0.3) ? `${city.phonePrefix} 555-${String(random.range(0, 9999)).padStart(4, '0')}` : null,
    AccountNumber: `CD${random.range(100000, 999999)}`,
    Website: `www.${name.split(' ')[0]!.toLowerCase()}${random.range(1, 999)}.com`,
    Sic: String(random.range(1000, 9999)),
    Industry: random.pick(INDUSTRIES),
    AnnualRevenue: random.range(1, 5000) * 100000,
    NumberOfEmployees: random.range(5, 200000),
    Ownership: random.pick(OWNERSHIP),
    TickerSymbol: random.chance(0.2) ? name.slice(0, 3).toUpperCase() : null,
    Description: random.chance(0.6) ? `${sentence(random, random.range(6, 14))} ${sentence(random, random.range(4, 12))}` : null,
    Rating: random.pick(RATINGS),
    Site: null,
    OwnerId: owner,
    CreatedDate: sfDate(at),
    CreatedById: creator,
    LastModifiedDate: sfDate(at),
    LastModifiedById: creator,
    SystemModstamp: sfDate(at),
    LastActivityDate: random.chance(0.5) ? sfDate(at).slice(0, 10) : null,
    AccountSource: random.pick(SOURCES),
    CustomerPriority__c: random.pick(['High', 'Medium', 'Low']),
    SLA__c: random.pick(['Gold', 'Silver', 'Bronze', 'Platinum']),
    Active__c: random.pick(['Yes', 'No']),
    NumberofLocations__c: random.range(1, 120),
    SLAExpirationDate__c: sfDate(at + random.range(30, 900) * 86_400_000).slice(0, 10),
    Contact_Name__c: `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`,
  };
}

const MUTATIONS: ((random: Random, r: Record<string, unknown>, at: number) => void)[] = [
  (random, r) => (r.Rating = random.pick(RATINGS)),
  (random, r) => (r.AnnualRevenue = random.range(1, 5000) * 100000),
  (random, r) => (r.NumberOfEmployees = random.range(5, 200000)),
  (random, r) => (r.Phone = `${String(r.Phone).slice(0, 5)} 555-${String(random.range(0, 9999)).padStart(4, '0')}`),
  (random, r) => (r.Description = `${sentence(random, random.range(6, 14))} ${sentence(random, random.range(4, 12))}`),
  (random, r) => (r.OwnerId = random.pick(USERS)),
  (random, r) => (r.Type = random.pick(TYPES)),
  (random, r) => (r.CustomerPriority__c = random.pick(['High', 'Medium', 'Low'])),
  (random, r, at) => (r.LastActivityDate = sfDate(at).slice(0, 10)),
  (random, r) => (r.NumberofLocations__c = random.range(1, 120)),
];

/** The next version of a record: one to three business fields changed, modified at `at`. */
export function updateAccount(random: Random, previous: Record<string, unknown>, at: number): Record<string, unknown> {
  const next = { ...previous };
  const changes = random.range(1, 3);
  for (let i = 0; i < changes; i++) random.pick(MUTATIONS)(random, next, at);
  const user = random.pick(USERS);
  next.LastModifiedDate = sfDate(at);
  next.LastModifiedById = user;
  next.SystemModstamp = sfDate(at);
  return next;
}

/** A version input as a backup would write it. */
export function asVersion(fields: Record<string, unknown>, at: number, changeType: VersionInput['changeType']): VersionInput {
  return {
    recordId: fields.Id as string,
    systemModstamp: at,
    changeType,
    isDeleted: false,
    lastModifiedById: fields.LastModifiedById as string,
    fields,
  };
}

// ---- the benchmark ------------------------------------------------------------------------------

/** Versions per writeVersions call: a backup writes a few query pages of 2,000 at a time. */
const BATCH = 5000;
const ROUNDS = 10;
const MAX_VERSIONS = 2_000_000;
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

function shuffled(random: Random, n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** CPU seconds of this process's threads (Linux: /proc), the main thread apart; undefined elsewhere. */
function threadCpu(): { main: number; others: number } | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      if (Number(tid) === process.pid) main += seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Writes a history of ten versions per record into a fresh SQLite vault, then reads it back.
 * Round 1 creates the records in ID order (a backfill); rounds 2–10 update every record once, in
 * a random order, one to three fields each (incremental runs). Only writeVersions is timed, not
 * the generation of the records.
 */
export async function vaultBench(options: { scale: number }): Promise<BenchSection> {
  const versionsTotal = Math.min(options.scale, MAX_VERSIONS);
  const records = Math.max(1, Math.floor(versionsTotal / ROUNDS));
  const dir = join(fileURLToPath(new URL('../.bench-tmp/', import.meta.url)), `vault-${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'catalog.db');
  const keyring = deriveKeyring(randomBytes(32), 'bench-vault');
  const random = new Random('vault-bench');
  const loadStart = loadavg()[0]!;
  try {
    let store = await openSqliteVaultStore({ path, keyring });
    const current: Record<string, unknown>[] = new Array<Record<string, unknown>>(records);
    let rawBytes = 0;
    const roundSeconds: number[] = [];
    let written = 0;
    let mainCpu = 0;
    const othersBefore = threadCpu()?.others ?? 0;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round === 0 ? Array.from({ length: records }, (_, i) => i) : shuffled(random, records);
      const base = START + round * 30 * DAY;
      let seconds = 0;
      for (let start = 0; start < records; start += BATCH) {
        const versions: VersionInput[] = [];
        for (let k = start; k < Math.min(records, start + BATCH); k++) {
          const i = order[k]!;
          const at = base + k * 10;
          current[i] = round === 0 ? newAccount(random, i, at) : updateAccount(random, current[i]!, at);
          // As a backup has them: parsed from the JSON of a query page.
          const json = JSON.stringify(current[i]);
          rawBytes += Buffer.byteLength(json);
          versions.push(asVersion(JSON.parse(json) as Record<string, unknown>, at, round === 0 ? 'created' : 'updated'));
        }
        const last = versions[versions.length - 1]!;
        const t = process.hrtime.bigint();
        const cpuBefore = threadCpu()?.main ?? 0;
        const outcome = await store.writeVersions({
          orgId: '00DBENCH000000001',
          objectName: 'Account',
          runId: `run-${round}`,
          capturedAt: base + records * 10,
          schemaId: null,
          versions,
          watermark: { systemModstamp: last.systemModstamp, recordId: last.recordId },
        });
        seconds += Number(process.hrtime.bigint() - t) / 1e9;
        mainCpu += (threadCpu()?.main ?? 0) - cpuBefore;
        written += outcome.written;
      }
      roundSeconds.push(seconds);
    }
    // Other threads: the payload worker (hashing, compression) and V8's GC helpers.
    const othersCpu = (threadCpu()?.others ?? 0) - othersBefore;

    // The search index, caught up afterwards as a backup does at its end.
    const pendingIndex = (await store.searchIndexStats()).pendingVersions;
    const indexCpuBefore = threadCpu();
    const indexStarted = process.hrtime.bigint();
    const { versions: indexed } = await store.catchUpSearchIndex();
    const indexSeconds = Number(process.hrtime.bigint() - indexStarted) / 1e9;
    const indexCpuAfter = threadCpu();
    const indexCpu = (part: 'main' | 'others'): string =>
      indexCpuBefore && indexCpuAfter ? `${(((indexCpuAfter[part] - indexCpuBefore[part]) * 1e6) / Math.max(1, indexed)).toFixed(1)} µs` : 'n/a';
    await store.close();
    const dbBytes = (await stat(path)).size;

    // Point reads on a reopened store: a random record as of a random instant of its history.
    store = await openSqliteVaultStore({ path, keyring, readonly: true });
    const reads = Math.min(5000, records);
    const latencies: number[] = [];
    const readStarted = process.hrtime.bigint();
    for (let r = 0; r < reads; r++) {
      const id = salesforceId('001', random.int(records));
      const at = START + random.int(ROUNDS * 30) * DAY;
      const t = process.hrtime.bigint();
      await store.versionAsOf('00DBENCH000000001', 'Account', id, at);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const readSeconds = Number(process.hrtime.bigint() - readStarted) / 1e9;
    latencies.sort((a, b) => a - b);

    const streamStarted = process.hrtime.bigint();
    let streamed = 0;
    for await (const _ of store.latestVersions('00DBENCH000000001', 'Account')) streamed++;
    const streamSeconds = Number(process.hrtime.bigint() - streamStarted) / 1e9;
    await store.close();

    const backfill = records / roundSeconds[0]!;
    const updates = (records * (ROUNDS - 1)) / roundSeconds.slice(1).reduce((a, b) => a + b, 0);
    const overall = written / roundSeconds.reduce((a, b) => a + b, 0);
    const ratio = dbBytes / rawBytes;
    return {
      title: 'Vault: writing and reading record versions (SQLite)',
      description:
        `${records.toLocaleString('en-US')} Salesforce-like Account records (~45 fields, ~${Math.round(rawBytes / written)} bytes of JSON each), ten versions each: ` +
        `one backfill round in ID order, then nine rounds that update every record once in a random order, one to three fields at a time. ` +
        `Batches of ${BATCH.toLocaleString('en-US')} versions through \`writeVersions\` on a real SQLite file (WAL); only the writes are timed. ` +
        `Point reads are \`versionAsOf\` of a random record at a random instant, on the reopened vault.`,
      figures: [
        { name: 'versions written', value: written.toLocaleString('en-US') },
        { name: 'write rate, overall', value: rate(written, written / overall), aim: '> 50,000 /s', met: overall > 50_000 },
        { name: 'write rate, backfill round (ID order)', value: rate(records, records / backfill) },
        { name: 'write rate, update rounds (random order)', value: rate(records * (ROUNDS - 1), (records * (ROUNDS - 1)) / updates) },
        { name: 'CPU per version written: main thread / other threads', value: `${((mainCpu * 1e6) / written).toFixed(1)} µs / ${((othersCpu * 1e6) / written).toFixed(1)} µs` },
        { name: 'search index catch-up', value: `${indexed.toLocaleString('en-US')} of ${pendingIndex.toLocaleString('en-US')} versions: ${rate(indexed, indexSeconds)}` },
        { name: 'CPU per version indexed: main thread / other threads', value: `${indexCpu('main')} / ${indexCpu('others')}` },
        { name: 'write and index together', value: rate(written, written / overall + indexSeconds) },
        { name: 'catalog size / raw JSON (with the search index)', value: ratio.toFixed(3), aim: '≤ 0.35', met: ratio <= 0.35 },
        { name: 'catalog size', value: mib(dbBytes) },
        { name: 'point reads (versionAsOf)', value: rate(reads, readSeconds) },
        { name: 'point read latency p50 / p99', value: `${percentile(latencies, 50).toFixed(2)} ms / ${percentile(latencies, 99).toFixed(2)} ms` },
        { name: 'latestVersions stream', value: rate(streamed, streamSeconds) },
      ],
      notes: [
        `Raw JSON: ${mib(rawBytes)} over ${written.toLocaleString('en-US')} versions; the catalog holds packs, version rows, heads and indexes.`,
        'Writes are not indexed as they happen: the search index catches up afterwards, as a backup does once its objects are stored (`catchUpSearchIndex`), and the write rate does not include it. While writing, the payload worker thread hashes the payloads and compresses the packs, and the main thread makes canonical JSON and runs the versions\' SQL; while indexing, the main thread opens the packs and runs the index\'s SQL, and the worker cuts and hashes the tokens. Other threads include the catalog\'s checkpoint thread (once the WAL passes 16 MiB) and the V8 garbage-collection helpers.',
        `Load average (1 min) at the start and the end of the run: ${loadStart.toFixed(1)} and ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores; other work on the machine slows every figure.`,
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
