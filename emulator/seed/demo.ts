/**
 * The demo profile: about ten thousand records of a believable company, with the history a backup
 * product has to cope with: edits long after creation, bulk updates sharing one SystemModstamp,
 * records owned by people who left, files, an encrypted field, a project hierarchy with a cycle,
 * a big object, objects without SystemModstamp, and a Recycle Bin filled by real cascading deletes.
 */
import { createCipheriv, createHash } from 'node:crypto';
import type { Org } from '../org/org.ts';
import { parseDatetime } from '../org/values.ts';
import { BusinessSeeder } from './business.ts';
import { DAY_MS } from './context.ts';
import type { SeedContext } from './context.ts';
import type { Random } from './random.ts';
import { NOTE_BODIES, NOTE_TITLES, PROJECT_NAMES } from './vocabulary.ts';

const HOUR_MS = 3_600_000;

/** Record counts of the demo; the nested ones (line items, comments) are averages per parent. */
const DEMO = {
  accounts: 600,
  contacts: 2350,
  opportunities: 700,
  linesPerOpportunity: 1.5,
  leads: 650,
  campaigns: 20,
  membersPerCampaign: 25,
  cases: 500,
  commentsPerCase: 1,
  tasks: 1000,
  events: 300,
  invoices: 380,
  linesPerInvoice: 2.5,
  projects: 60,
  notes: 120,
  interactions: 200,
  logins: 150,
} as const;

export function seedDemo(ctx: SeedContext): void {
  const b = new BusinessSeeder(ctx);
  b.products();
  b.accounts(DEMO.accounts);
  b.contacts(DEMO.contacts);
  b.opportunities(DEMO.opportunities, DEMO.linesPerOpportunity);
  b.leads(DEMO.leads);
  b.campaigns(DEMO.campaigns, DEMO.membersPerCampaign);
  b.cases(DEMO.cases, DEMO.commentsPerCase);
  b.activities(DEMO.tasks, DEMO.events);
  b.invoices(DEMO.invoices, DEMO.linesPerInvoice);
  projects(ctx, b);
  notes(ctx, b);
  files(ctx, b);
  interactions(ctx, b);
  logs(ctx);
  ctx.org.recomputeAllRollups();
  recycle(ctx, b);
}

/** Projects under accounts, in hierarchies, with one cycle (A's parent is B, B's parent is A). */
function projects(ctx: SeedContext, b: BusinessSeeder): void {
  const shape = ctx.shape('Project__c');
  if (!shape || !b.accountIds.length) return;
  const r = ctx.rng;
  const statuses = shape.values('Status__c');
  const technologies = shape.values('Technologies__c');
  const prefix = shape.object.def.keyPrefix;
  const ids = Array.from({ length: DEMO.projects }, () => ctx.org.ids.next(prefix));
  const cycle = [DEMO.projects - 2, DEMO.projects - 1];
  for (let i = 0; i < DEMO.projects; i++) {
    const a = r.int(b.accountIds.length);
    const createdMs = Math.max(b.accountCreated[a]! + DAY_MS, ctx.timeAt((i + r.next()) / DEMO.projects));
    const top = i < 15 || r.chance(0.2);
    let parent: string | null = top ? null : ids[r.int(i)]!;
    if (i === cycle[0]) parent = ids[cycle[1]!]!;
    if (i === cycle[1]) parent = ids[cycle[0]!]!;
    const startMs = createdMs + r.int(20) * DAY_MS;
    const status = startMs > ctx.nowMs ? 'Planned' : r.pick(statuses.length ? statuses : ['Active']);
    const picked = technologies.filter(() => r.chance(0.35));
    const secret = Array.from({ length: 10 }, () => 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[r.int(32)]).join('');
    const base = `${b.accountName[a]!.split(' ').slice(0, 2).join(' ')} ${PROJECT_NAMES[i % PROJECT_NAMES.length]}`;
    const name = i === cycle[0] ? `${base} (phase 1)` : i === cycle[1] ? `${base} (phase 2)` : base;
    ctx.modified(createdMs, 0.8);
    const owner = r.pick([...ctx.users.salesIds, ...ctx.users.adminIds]);
    const modMs = i === cycle[1] ? Math.max(ctx.modMs, ctx.endMs - 3 * DAY_MS) : ctx.modMs;
    ctx.load(shape, {
      Id: ids[i],
      Name: name,
      Account__c: b.accountIds[a],
      Parent_Project__c: parent,
      Status__c: shape.valueOr('Status__c', status),
      Start_Date__c: ctx.date(startMs),
      End_Date__c: ctx.date(startMs + (30 + r.int(300)) * DAY_MS),
      Budget__c: Math.round(5000 + r.int(250) * 1000),
      Progress__c: status === 'Completed' ? 100 : r.int(95),
      Is_Billable__c: r.chance(0.8),
      Technologies__c: picked.length ? picked.join(';') : null,
      Secret_Code__c: `PRJ-${secret}`,
      Contact_Email__c: `pm${i}@${b.accountDomain[a]}`,
      Website__c: r.chance(0.3) ? `https://projects.${b.accountDomain[a]}/p/${1000 + i}` : null,
      Description__c: r.chance(0.5) ? `Roll-out for ${1 + r.int(8)} sites. Risks: network coverage, change management.` : null,
      Status_Report__c: status === 'Active' ? `<p><b>On track.</b> ${1 + r.int(40)} sensors live; next milestone <i>${ctx.date(startMs + 45 * DAY_MS)}</i>.</p>` : null,
    }, owner, owner, createdMs, owner, modMs, modMs);
  }
}

function notes(ctx: SeedContext, b: BusinessSeeder): void {
  const shape = ctx.shape('Note');
  if (!shape) return;
  const r = ctx.rng;
  const targets = shape.object.field('ParentId')?.referenceTo ?? [];
  const pools: string[][] = [];
  if (targets.includes('Account')) pools.push(b.accountIds);
  if (targets.includes('Opportunity')) pools.push(b.opportunityIds);
  if (targets.includes('Contact')) pools.push(b.contactIds);
  if (targets.includes('Lead')) pools.push(b.leadIds);
  const live = pools.filter((p) => p.length);
  if (!live.length) return;
  for (let i = 0; i < DEMO.notes; i++) {
    const pool = r.pick(live);
    const parent = pool[r.int(pool.length)]!;
    const createdMs = Math.min(parseDatetime(String(ctx.org.get(parent)!.CreatedDate)) + r.int(60) * DAY_MS, ctx.endMs);
    const owner = r.pick(ctx.users.salesIds);
    ctx.modified(createdMs, 0.3);
    ctx.load(shape, {
      ParentId: parent,
      Title: r.pick(NOTE_TITLES),
      Body: r.pick(NOTE_BODIES),
      IsPrivate: r.chance(0.1),
    }, owner, owner, createdMs, owner, ctx.modMs, ctx.modMs);
  }
}

const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const KIB = 1024;
const MIB = 1024 * KIB;

/** A file of the demo: its name, MIME type and bytes. */
interface FileSeed {
  name: string;
  contentType: string;
  bytes: Buffer;
}

function textFile(name: string, text: string): FileSeed {
  return { name, contentType: name.endsWith('.csv') ? 'text/csv' : 'text/plain', bytes: Buffer.from(text, 'utf8') };
}

const SMALL_FILES: readonly FileSeed[] = [
  textFile('site-survey.txt', 'Site survey\nCompressor room: 4 units, no Wi-Fi.\nBoiler house: gateway on north wall.\n'),
  textFile('sensor-readings.csv', 'timestamp,sensor,value\n2025-01-01T00:00:00Z,VS-3-17,0.42\n2025-01-01T00:05:00Z,VS-3-17,0.44\n'),
  { name: 'logo.png', contentType: 'image/png', bytes: Buffer.from(PNG_1X1, 'base64') },
  textFile('purchase-order.txt', 'PO 4500123987\nQty 24 Vibration Sensor VS-3\nNet 30\n'),
  { name: 'firmware-notes.bin', contentType: 'application/octet-stream', bytes: Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255, 10, 13]) },
  textFile('meeting-minutes.txt', 'Attendees: plant manager, reliability lead.\nNext: pilot on line 3.\n'),
  textFile('quote-Q-1042.txt', 'Quote Q-1042\nInsight Cloud Enterprise, 3 years\nValid 30 days\n'),
];

/** The first bytes of each binary format, so that file type sniffers recognise the demo's files. */
const MAGIC = {
  pdf: Buffer.from('%PDF-1.7\n'),
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  jpg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  zip: Buffer.from([0x50, 0x4b, 0x03, 0x04]),
  mp4: Buffer.from([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]),
} as const;

/**
 * A binary file of `size` bytes: its format's magic number, then an AES-CTR keystream keyed by the
 * seed's key and the file's name. Megabytes of it cost milliseconds, and the same seed gives the
 * same bytes.
 */
function binaryFile(key: string, name: string, contentType: string, size: number, magic: Buffer): FileSeed {
  const digest = createHash('sha256').update(`${key}:${name}`).digest();
  const cipher = createCipheriv('aes-128-ctr', digest.subarray(0, 16), digest.subarray(16, 32));
  const head = magic.subarray(0, size);
  return { name, contentType, bytes: Buffer.concat([head, cipher.update(Buffer.alloc(size - head.length))]) };
}

/** A few thousand sensor readings: a text file of a few hundred kilobytes. */
function sensorExport(r: Random, name: string, rows: number): FileSeed {
  const lines = ['timestamp,sensor,rms_mm_s,temperature_c'];
  let at = Date.UTC(2025, 0, 1);
  for (let i = 0; i < rows; i++) {
    at += 300_000;
    lines.push(`${new Date(at).toISOString()},VS-3-${10 + r.int(40)},${(r.next() * 4).toFixed(3)},${(20 + r.next() * 45).toFixed(1)}`);
  }
  return textFile(name, `${lines.join('\n')}\n`);
}

/** Version `n` of a file: text gains a revision note; binary content changes and grows a little. */
function revision(key: string, file: FileSeed, n: number): FileSeed {
  if (n === 1) return file;
  if (file.contentType.startsWith('text/')) {
    return { ...file, bytes: Buffer.concat([file.bytes, Buffer.from(`\nRevision ${n}: updated after customer feedback.\n`)]) };
  }
  const size = Math.round(file.bytes.length * (1 + 0.04 * (n - 1)));
  return binaryFile(key, `${file.name}#${n}`, file.contentType, size, file.bytes.subarray(0, 16));
}

/** Files with a version history: how many versions each has (one for the rest). */
const VERSION_CHAINS: Readonly<Record<string, number>> = {
  'site-survey.txt': 3,
  'master-services-agreement.docx': 3,
  'purchase-order.txt': 2,
  'quote-Q-1042.txt': 2,
  'pricing-2025.xlsx': 2,
  'installation-guide.pdf': 2,
};

/**
 * Attachments, Documents (in folders) and Files, from a few bytes to several megabytes. Files
 * have up to three versions and are linked to their owner and to the account, opportunity or case
 * they were published to; some are shared with a second account.
 */
function files(ctx: SeedContext, b: BusinessSeeder): void {
  const r = ctx.rng.fork('files');
  const key = String(r.int(2 ** 32));
  const owners = ctx.users.salesIds;
  const attachment = ctx.shape('Attachment');
  if (attachment && b.accountIds.length) {
    const extra = [
      binaryFile(key, 'site-photo.jpg', 'image/jpeg', Math.round(2.2 * MIB), MAGIC.jpg),
      binaryFile(key, 'signed-contract.pdf', 'application/pdf', 800 * KIB, MAGIC.pdf),
      sensorExport(r, 'calibration-log.csv', 900),
    ];
    for (let i = 0; i < 12 + extra.length; i++) {
      const file = i < 12 ? SMALL_FILES[i % SMALL_FILES.length]! : extra[i - 12]!;
      const parent = i % 3 === 0 && b.opportunityIds.length ? b.opportunityIds[r.int(b.opportunityIds.length)]! : i % 3 === 1 && b.caseIds.length ? b.caseIds[r.int(b.caseIds.length)]! : b.accountIds[r.int(b.accountIds.length)]!;
      const createdMs = Math.min(parseDatetime(String(ctx.org.get(parent)!.CreatedDate)) + r.int(30) * DAY_MS, ctx.endMs);
      const owner = r.pick(owners);
      ctx.load(attachment, {
        ParentId: parent,
        Name: file.name,
        IsPrivate: false,
        ContentType: file.contentType,
        Body: file.bytes.toString('base64'),
        Description: i % 4 === 0 ? 'Uploaded from e-mail' : null,
      }, owner, owner, createdMs, owner, createdMs, createdMs);
    }
  }

  const folder = ctx.shape('Folder');
  const documentShape = ctx.shape('Document');
  if (documentShape) {
    const admin = ctx.users.adminIds[0] ?? ctx.users.apiUserId;
    const folderIds: string[] = [];
    for (const [i, name] of ['Marketing Collateral', 'Logos'].entries()) {
      if (!folder) break;
      const at = ctx.startMs + (10 + i) * DAY_MS;
      folderIds.push(ctx.load(folder, { Name: name, DeveloperName: name.replace(/\s+/g, '_'), AccessType: 'Public', Type: 'Document', IsReadonly: false }, admin, admin, at, admin, at, at));
    }
    const documents = [
      ...Array.from({ length: 6 }, (_, i) => SMALL_FILES[(i + 2) % SMALL_FILES.length]!),
      binaryFile(key, 'brochure-2025.pdf', 'application/pdf', Math.round(1.2 * MIB), MAGIC.pdf),
      binaryFile(key, 'product-sheet.png', 'image/png', 250 * KIB, MAGIC.png),
    ];
    documents.forEach((file, i) => {
      const at = ctx.timeAt((i + 0.5) / documents.length);
      const author = i === 5 ? ctx.users.apiUserId : admin;
      ctx.load(documentShape, {
        // One document lives in its author's personal folder, whose ID is the user's.
        FolderId: folderIds.length && i !== 5 ? folderIds[i % folderIds.length] : author,
        Name: file.name.replace(/\.[a-z0-9]+$/, ''),
        DeveloperName: `${file.name.replace(/[^A-Za-z0-9]+/g, '_')}_${i}`,
        ContentType: file.contentType,
        Type: file.name.split('.').pop(),
        IsPublic: i % 2 === 0,
        Body: file.bytes.toString('base64'),
        Description: 'Shared sales material',
        Keywords: 'sensors, monitoring',
        IsInternalUseOnly: i % 3 === 0,
        AuthorId: author,
      }, null, author, at, author, at, at);
    });
  }

  const version = ctx.shape('ContentVersion');
  const documentFile = ctx.shape('ContentDocument');
  const link = ctx.shape('ContentDocumentLink');
  const pools = [b.accountIds, b.opportunityIds, b.caseIds].filter((p) => p.length);
  if (version && documentFile && pools.length) {
    const contentFiles = [
      ...SMALL_FILES,
      sensorExport(r, 'sensor-export-2025.csv', 7000),
      binaryFile(key, 'pricing-2025.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 85 * KIB, MAGIC.zip),
      binaryFile(key, 'master-services-agreement.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 48 * KIB, MAGIC.zip),
      binaryFile(key, 'network-diagram.png', 'image/png', 420 * KIB, MAGIC.png),
      binaryFile(key, 'installation-guide.pdf', 'application/pdf', Math.round(1.5 * MIB), MAGIC.pdf),
      binaryFile(key, 'vibration-dataset.zip', 'application/zip', 3 * MIB, MAGIC.zip),
      binaryFile(key, 'plant-walkthrough.mp4', 'video/mp4', 6 * MIB, MAGIC.mp4),
    ];
    contentFiles.forEach((file, i) => {
      const pool = pools[i % pools.length]!;
      const target = pool[r.int(pool.length)]!;
      const versions = VERSION_CHAINS[file.name] ?? 1;
      const createdMs = Math.min(parseDatetime(String(ctx.org.get(target)!.CreatedDate)) + r.int(40) * DAY_MS, ctx.endMs - 2 * DAY_MS);
      const owner = r.pick(owners);
      const documentId = ctx.org.ids.next(documentFile.object.def.keyPrefix);
      const title = file.name.replace(/\.[a-z0-9]+$/, '');
      let latestId = '';
      let latestMs = createdMs;
      for (let v = 1; v <= versions; v++) {
        const at = v === 1 ? createdMs : Math.max(latestMs + 60_000, Math.min(latestMs + (1 + r.int(20)) * DAY_MS, ctx.endMs - (versions - v + 1) * HOUR_MS));
        const bytes = revision(key, file, v).bytes;
        latestId = ctx.load(version, {
          ContentDocumentId: documentId,
          IsLatest: v === versions,
          VersionNumber: String(v),
          Title: title,
          Description: v > 1 ? 'Updated after customer feedback' : null,
          ReasonForChange: v > 1 ? `Revision ${v}` : null,
          SharingOption: 'A',
          SharingPrivacy: 'N',
          PathOnClient: file.name,
          ContentModifiedDate: ctx.formatMs(at),
          ContentModifiedById: owner,
          PublishStatus: 'P',
          VersionData: bytes.toString('base64'),
          FirstPublishLocationId: target,
          Origin: 'C',
          ContentLocation: 'S',
          Checksum: createHash('md5').update(bytes).digest('hex'),
          IsMajorVersion: true,
        }, owner, owner, at, owner, at, at);
        latestMs = at;
      }
      ctx.load(documentFile, {
        Id: documentId,
        Title: title,
        PublishStatus: 'P',
        LatestPublishedVersionId: latestId,
        SharingOption: 'A',
        SharingPrivacy: 'N',
        ContentModifiedDate: ctx.formatMs(latestMs),
        IsArchived: false,
      }, owner, owner, createdMs, owner, latestMs, latestMs);
      if (!link) return;
      const linked: [string, 'I' | 'V'][] = [[owner, 'I'], [target, 'V']];
      // Every fourth file is also shared with a second account.
      const second = b.accountIds[r.int(b.accountIds.length)];
      if (i % 4 === 3 && second && second !== target) linked.push([second, 'V']);
      for (const [entity, shareType] of linked) {
        ctx.load(link, { LinkedEntityId: entity, ContentDocumentId: documentId, ShareType: shareType, Visibility: 'AllUsers' }, null, owner, createdMs, owner, createdMs, createdMs);
      }
    });
  }
}

/** The big object: interactions written once, never updated. */
function interactions(ctx: SeedContext, b: BusinessSeeder): void {
  const shape = ctx.shape('Customer_Interaction__b');
  if (!shape || !b.accountIds.length) return;
  const r = ctx.rng;
  const channels = ['Phone', 'Email', 'Chat', 'On-site', 'Webinar'];
  const agents = [...ctx.users.supportIds, ...ctx.users.salesIds];
  for (let i = 0; i < DEMO.interactions; i++) {
    const a = r.int(b.accountIds.length);
    const at = Math.max(b.accountCreated[a]! + HOUR_MS, ctx.timeAt((i + r.next()) / DEMO.interactions));
    const agent = r.pick(agents);
    ctx.load(shape, {
      Account__c: b.accountIds[a],
      Interaction_Date__c: ctx.formatMs(at),
      Channel__c: r.pick(channels),
      Agent__c: agent,
      // `|| 0`: a score rounded from just below zero would be -0, which no org stores.
      Sentiment_Score__c: Math.round((r.next() * 2 - 1) * 100) / 100 || 0,
      Summary__c: r.pick(['Asked about renewal pricing.', 'Reported a gateway outage.', 'Requested training for new staff.', 'Positive feedback on dashboards.', 'Escalated billing question.']),
    }, null, ctx.users.apiUserId, at, ctx.users.apiUserId, at, at);
  }
}

/** LoginHistory and SetupAuditTrail: objects without SystemModstamp. */
function logs(ctx: SeedContext): void {
  const r = ctx.rng;
  const logins = ctx.shape('LoginHistory');
  const active = ctx.users.allIds.filter((id) => !ctx.users.inactive.some((u) => u.id === id));
  if (logins) {
    for (let i = 0; i < DEMO.logins; i++) {
      const at = ctx.nowMs - (DEMO.logins - i) * 4 * HOUR_MS - r.int(HOUR_MS);
      const api = i % 3 === 0;
      const user = api ? ctx.users.apiUserId : r.pick(active);
      ctx.load(logins, {
        UserId: user,
        LoginTime: ctx.formatMs(at),
        LoginType: api ? 'Remote Access 2.0' : 'Application',
        SourceIp: `203.0.113.${1 + r.int(254)}`,
        LoginUrl: 'login.salesforce.com',
        Browser: api ? 'Unknown' : r.pick(['Chrome 131', 'Firefox 133', 'Safari 18']),
        Platform: api ? 'Unknown' : r.pick(['Mac OSX', 'Windows 10', 'Linux']),
        Status: r.chance(0.05) ? 'Invalid Password' : 'Success',
        Application: api ? 'orgvault' : 'Browser',
        ApiType: api ? 'REST API' : null,
        ApiVersion: api ? '66.0' : null,
        CountryIso: 'US',
        TlsProtocol: 'TLS 1.3',
      }, null, user, at, user, at, at);
    }
  }
  const audit = ctx.shape('SetupAuditTrail');
  if (audit) {
    const admin = ctx.users.adminIds[0] ?? ctx.users.apiUserId;
    const actions: [string, string, string][] = [
      ['createdcf', 'Customize Opportunities', 'Created custom field Main Competitor(s) (Text)'],
      ['changedpicklist', 'Customize Cases', 'Changed picklist values for Case Status'],
      ['deactivateduser', 'Manage Users', 'Deactivated user Greg Holloway'],
      ['createdcustent', 'Custom Objects', 'Created custom object: Invoice'],
      ['changedEncryptedFieldMask', 'Custom Objects', 'Changed mask type of Secret Code'],
      ['PermSetAssign', 'Manage Users', 'Permission set Integration assigned to user Integration API'],
    ];
    for (let i = 0; i < 40; i++) {
      const [action, section, display] = actions[i % actions.length]!;
      const at = ctx.timeAt((i + r.next()) / 40);
      ctx.load(audit, { Action: action, Section: section, Display: display, CreatedByContext: null }, null, admin, at, admin, at, at);
    }
  }
}

/**
 * Deletes through the real pipeline, so cascades, cleared lookups and roll-ups are what Salesforce
 * would leave: a few records more than 15 days ago (purged from the Recycle Bin, still reported by
 * getDeleted), the rest within the last two weeks, including an account with all its children.
 * Deletes run in time order, each after the last edit of every record it touches.
 */
function recycle(ctx: SeedContext, b: BusinessSeeder): void {
  const org = ctx.org;
  const r = ctx.rng;
  const graph = referenceGraph(org);
  const pick = (ids: string[]): string | undefined => (ids.length ? ids[r.int(ids.length)] : undefined);
  const tasks = [...org.records('Task')].map((t) => t.Id);
  const events = [...org.records('Event')].map((t) => t.Id);
  const lines = [...org.records('Invoice_Line__c')].map((t) => t.Id);
  const notesIds = [...org.records('Note')].map((t) => t.Id);
  const projectIds = [...org.records('Project__c')].map((t) => t.Id);
  // The account with the most children makes the biggest cascade.
  let bigAccount: string | undefined;
  let most = -1;
  for (const id of b.accountIds.slice(0, Math.floor(b.accountIds.length / 2))) {
    const n = graph.children.get(id)?.length ?? 0;
    if (n > most) [bigAccount, most] = [id, n];
  }

  const old = [pick(b.leadIds), pick(b.leadIds), pick(tasks)];
  const recent: (string | undefined)[] = [bigAccount];
  const add = (ids: string[], n: number): void => {
    for (let i = 0; i < n; i++) recent.push(pick(ids));
  };
  add(b.contactIds, 12);
  add(b.leadIds, 8);
  add(b.opportunityIds, 6);
  add(tasks, 15);
  add(events, 4);
  add(b.caseIds, 3);
  add(b.invoiceIds, 2);
  add(lines, 4);
  add(notesIds, 2);
  add(projectIds.slice(0, -2), 1);
  add(b.accountIds, 1);
  // Shuffle the recent deletes so that the account is not always first.
  for (let i = recent.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [recent[i], recent[j]] = [recent[j], recent[i]];
  }

  let last = 0;
  const run = (ids: (string | undefined)[], fromMs: number, toMs: number): void => {
    const step = (toMs - fromMs) / Math.max(1, ids.length);
    ids.forEach((id, i) => {
      const record = id ? org.get(id) : undefined;
      if (!id || !record || record.IsDeleted) return;
      const target = fromMs + Math.floor((i + r.next()) * step);
      const at = Math.max(target, graph.latestTouch(id) + 60_000 + r.int(HOUR_MS), last + 1000);
      if (at > ctx.nowMs - 60_000) return;
      const owner = typeof record.OwnerId === 'string' && record.OwnerId.startsWith('005') ? record.OwnerId : undefined;
      const user = owner && ctx.activeAt(owner, ctx.nowMs) ? owner : r.pick(ctx.users.salesIds);
      try {
        org.delete(id, { userId: user, system: true, stampMs: at });
        last = at;
      } catch {
        // A delete the org refuses (restricted lookups) is skipped, as a user would give up.
      }
    });
  };
  run(old, ctx.nowMs - 25 * DAY_MS, ctx.nowMs - 18 * DAY_MS);
  run(recent, ctx.nowMs - 14 * DAY_MS, ctx.nowMs - 2 * HOUR_MS);
}

/**
 * Who refers to whom, read from the loaded records, to find the latest SystemModstamp a delete
 * would touch: the record, its cascade (recursively), the records whose lookups to it are cleared,
 * and the masters whose roll-ups it feeds.
 */
function referenceGraph(org: Org): { children: Map<string, string[]>; latestTouch(id: string): number } {
  const children = new Map<string, string[]>();
  const cascades = new Map<string, string[]>();
  const masters = new Map<string, string[]>();
  const push = (map: Map<string, string[]>, key: string, value: string): void => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  for (const object of org.schema.objects()) {
    const refs = object.def.fields.filter((f) => f.type === 'reference' && f.name !== 'Id' && !(f.referenceTo?.length === 1 && f.referenceTo[0] === 'User'));
    if (!refs.length) continue;
    for (const record of org.records(object.name)) {
      for (const f of refs) {
        const value = record[f.name];
        if (typeof value !== 'string') continue;
        push(children, value, record.Id);
        if (f.cascadeDelete) {
          push(cascades, value, record.Id);
          push(masters, record.Id, value);
        }
      }
    }
  }
  const stamp = (id: string): number => {
    const record = org.get(id);
    const text = record?.SystemModstamp ?? record?.LastModifiedDate ?? record?.CreatedDate;
    return typeof text === 'string' ? parseDatetime(text) : 0;
  };
  return {
    children,
    latestTouch(id: string): number {
      let max = 0;
      const seen = new Set<string>();
      const stack = [id];
      while (stack.length) {
        const current = stack.pop()!;
        if (seen.has(current)) continue;
        seen.add(current);
        max = Math.max(max, stamp(current));
        for (const child of children.get(current) ?? []) max = Math.max(max, stamp(child));
        for (const child of cascades.get(current) ?? []) stack.push(child);
        for (const master of masters.get(current) ?? []) max = Math.max(max, stamp(master));
      }
      return max;
    },
  };
}
