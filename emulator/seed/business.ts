/**
 * The company's business data, shared by the demo and bench profiles: products and price books,
 * accounts, contacts, leads, campaigns, opportunities with line items and contact roles, cases
 * with comments, tasks, events, invoices with lines.
 *
 * Records of one object are made in creation order (so IDs ascend with CreatedDate, as in a real
 * org), and a child is only ever attached to a parent created before it. Parents are kept in
 * typed arrays, and every value comes from cheap arithmetic on the seeded generator, because the
 * bench profile makes a million records this way.
 */
import { DAY_MS } from './context.ts';
import type { SeedContext } from './context.ts';
import { QUEUES, queueIds } from './base.ts';
import { cumulative } from './random.ts';
import type { Shape } from './shape.ts';
import {
  CASE_COMMENTS,
  CASE_SUBJECTS,
  CAMPAIGN_NAMES,
  CITIES,
  COMPANY_FIRST,
  COMPANY_SECOND,
  COMPANY_SUFFIX,
  DEPARTMENTS,
  EMAIL_DOMAINS_TLD,
  EVENT_SUBJECTS,
  FIRST_NAMES,
  LAST_NAMES,
  LEAD_COMPANY_WORDS,
  OPPORTUNITY_TOPICS,
  PRODUCTS,
  STREET_EXTRA,
  STREET_NAMES,
  TASK_SUBJECTS,
  TITLES,
  slug,
} from './vocabulary.ts';

type Values = Record<string, unknown>;

const HOUR_MS = 3_600_000;
const COMPANY_COMBINATIONS = COMPANY_FIRST.length * COMPANY_SECOND.length * COMPANY_SUFFIX.length;
/** A stride coprime with the number of combinations walks all of them without repeating. */
const COMPANY_STRIDE = 7919;

const ACCOUNT_TYPES = ['Customer - Direct', 'Prospect', 'Customer - Channel', 'Channel Partner / Reseller', 'Installation Partner', 'Technology Partner', 'Other'];
const ACCOUNT_TYPE_WEIGHTS = cumulative([45, 28, 10, 6, 4, 3, 4]);
/** The emulated company sells mostly to manufacturing, energy, food and logistics. */
const FAVOURED_INDUSTRIES = ['Manufacturing', 'Energy', 'Utilities', 'Food & Beverage', 'Transportation', 'Chemicals', 'Machinery', 'Healthcare', 'Shipping', 'Biotechnology'];
const COMPETITORS = ['Wired legacy SCADA', 'SensorWorks', 'PlantPulse', 'In-house spreadsheets', 'Augury', 'None identified'];

/** Closed stages and the open ones in pipeline order, from the Stage picklist. */
interface Stages {
  open: string[];
  won: string;
  lost: string;
}

/** Children of each parent, as ranges into one array (built once the children are made). */
class ChildIndex {
  readonly start: Int32Array;
  readonly items: Int32Array;

  constructor(parentOf: Int32Array, count: number, parents: number) {
    this.start = new Int32Array(parents + 1);
    for (let i = 0; i < count; i++) if (parentOf[i]! >= 0) this.start[parentOf[i]! + 1]!++;
    for (let p = 0; p < parents; p++) this.start[p + 1]! += this.start[p]!;
    const fill = this.start.slice(0, parents);
    this.items = new Int32Array(this.start[parents]!);
    for (let i = 0; i < count; i++) if (parentOf[i]! >= 0) this.items[fill[parentOf[i]!]!++] = i;
  }

  count(parent: number): number {
    return this.start[parent + 1]! - this.start[parent]!;
  }

  /** A random child of `parent`, or -1. */
  pick(parent: number, next: number): number {
    const n = this.count(parent);
    return n ? this.items[this.start[parent]! + Math.floor(next * n)]! : -1;
  }
}

export class BusinessSeeder {
  private readonly ctx: SeedContext;
  private readonly queues: Map<string, string>;

  productIds: string[] = [];
  productPrices: number[] = [];
  standardEntryIds: string[] = [];
  standardPricebookId: string | null = null;

  accountIds: string[] = [];
  accountCreated = new Float64Array(0);
  accountOwner: string[] = [];
  accountName: string[] = [];
  accountDomain: string[] = [];
  accountCity = new Uint8Array(0);

  contactIds: string[] = [];
  contactCreated = new Float64Array(0);
  contactAccount = new Int32Array(0);
  private contactsByAccount: ChildIndex | undefined;

  leadIds: string[] = [];
  leadCreated = new Float64Array(0);

  campaignIds: string[] = [];
  campaignStart = new Float64Array(0);

  opportunityIds: string[] = [];
  opportunityCreated = new Float64Array(0);
  opportunityAccount = new Int32Array(0);
  private opportunitiesByAccount: ChildIndex | undefined;

  caseIds: string[] = [];
  caseCreated = new Float64Array(0);
  caseContact = new Int32Array(0);

  invoiceIds: string[] = [];

  constructor(ctx: SeedContext) {
    this.ctx = ctx;
    this.queues = queueIds(ctx.org);
  }

  // ------------------------------------------------------------ helpers

  /** Loads a record with a history: edited later (maybe in a bulk load), by whom it fits. */
  private put(shape: Shape, values: Values, owner: string | null, createdMs: number, editedShare = 0.6, minModMs = 0): string {
    const ctx = this.ctx;
    ctx.modified(createdMs, editedShare);
    let modMs = ctx.modMs;
    let bulk = ctx.modBulk;
    if (modMs < minModMs) {
      modMs = Math.min(minModMs, ctx.endMs);
      bulk = false;
    }
    const ownerIsUser = owner !== null && owner.startsWith('005');
    const creator = ctx.rng.next() < 0.12 ? ctx.users.apiUserId : ownerIsUser ? owner : this.salesAt(createdMs);
    const modifier = bulk ? ctx.users.apiUserId : ownerIsUser && ctx.activeAt(owner, modMs) ? owner : this.salesAt(modMs);
    return ctx.load(shape, values, owner, creator, createdMs, modifier, modMs, ctx.systemStamp(modMs));
  }

  /** An active sales rep (or, before they left, a former one) for a change at `ms`. */
  private salesAt(ms: number): string {
    const ctx = this.ctx;
    const id = ctx.owner(ctx.users.salesIds, ms, 'sales');
    return ctx.activeAt(id, ms) ? id : ctx.users.salesIds[0]!;
  }

  /** A time after `parentMs`: `ms` itself when it already is, else shortly after the parent. */
  private after(parentMs: number, ms: number, withinMs = 3 * DAY_MS): number {
    if (ms > parentMs) return ms;
    return Math.min(parentMs + 60_000 + this.ctx.rng.int(withinMs), this.ctx.endMs);
  }

  /** An index among the first `fraction` of `n` records: a parent that already existed. */
  private earlier(fraction: number, n: number): number {
    return Math.min(n - 1, Math.floor(this.ctx.rng.next() * Math.max(1, Math.ceil(fraction * n))));
  }

  private phone(prefix: string): string {
    const r = this.ctx.rng;
    return `${prefix} 555-${String(r.int(10000)).padStart(4, '0')}`;
  }

  private street(): string {
    const r = this.ctx.rng;
    const extra = r.pick(STREET_EXTRA);
    return `${10 + r.int(9990)} ${r.pick(STREET_NAMES)}${extra ? `\n${extra}` : ''}`;
  }

  private stages(shape: Shape): Stages {
    const all = shape.values('StageName', ['Prospecting', 'Qualification', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost']);
    const won = all.find((s) => /won/i.test(s)) ?? all[all.length - 1]!;
    const lost = all.find((s) => /lost/i.test(s)) ?? won;
    return { open: all.filter((s) => s !== won && s !== lost), won, lost };
  }

  private amountLike(min: number, max: number): number {
    // Log-uniform: many small deals, a few large ones; rounded as people round them.
    const v = Math.exp(Math.log(min) + this.ctx.rng.next() * (Math.log(max) - Math.log(min)));
    const step = v > 100_000 ? 5000 : v > 10_000 ? 500 : 50;
    return Math.round(v / step) * step;
  }

  // ------------------------------------------------------------ products and price books

  /** Products, the standard price entries, and a partner price book. */
  products(): void {
    const ctx = this.ctx;
    const product = ctx.shape('Product2');
    const pricebook = ctx.shape('Pricebook2');
    const entry = ctx.shape('PricebookEntry');
    if (!product) return;
    for (const pb of ctx.org.records('Pricebook2')) if (pb.IsStandard) this.standardPricebookId = pb.Id;
    const launch = ctx.startMs + 2 * DAY_MS;
    const admin = ctx.users.adminIds[0] ?? ctx.users.apiUserId;
    for (const [i, p] of PRODUCTS.entries()) {
      const createdMs = launch + i * 7 * HOUR_MS;
      const legacy = p.code === 'HW-GW-G1';
      this.productIds.push(ctx.load(product, {
        Name: p.name,
        ProductCode: p.code,
        Description: p.description,
        IsActive: !legacy,
        Family: product.valueOr('Family', p.family),
        QuantityUnitOfMeasure: product.valueOr('QuantityUnitOfMeasure', p.unit),
        StockKeepingUnit: p.code,
        ExternalId: `PRD-${1000 + i}`,
      }, null, admin, createdMs, admin, legacy ? ctx.startMs + 200 * DAY_MS : createdMs, legacy ? ctx.startMs + 200 * DAY_MS : createdMs));
      this.productPrices.push(p.price);
    }
    if (!entry || !this.standardPricebookId) return;
    let partnerId: string | undefined;
    if (pricebook) {
      partnerId = ctx.load(pricebook, { Name: 'Partner Price Book', IsActive: true, IsStandard: false, Description: 'Reseller prices: 15% off list' }, null, admin, launch + DAY_MS, admin, launch + DAY_MS, launch + DAY_MS);
    }
    for (const [i, id] of this.productIds.entries()) {
      const createdMs = launch + i * 7 * HOUR_MS + 60_000;
      this.standardEntryIds.push(ctx.load(entry, { Pricebook2Id: this.standardPricebookId, Product2Id: id, UnitPrice: this.productPrices[i], IsActive: true, UseStandardPrice: false }, null, admin, createdMs, admin, createdMs, createdMs));
      if (partnerId) {
        ctx.load(entry, { Pricebook2Id: partnerId, Product2Id: id, UnitPrice: Math.round(this.productPrices[i]! * 85) / 100, IsActive: true, UseStandardPrice: false }, null, admin, createdMs + DAY_MS, admin, createdMs + DAY_MS, createdMs + DAY_MS);
      }
    }
  }

  // ------------------------------------------------------------ accounts and contacts

  accounts(n: number): void {
    const ctx = this.ctx;
    const r = ctx.rng;
    const shape = ctx.shape('Account');
    if (!shape || n <= 0) return;
    const industries = shape.values('Industry', FAVOURED_INDUSTRIES);
    const favoured = FAVOURED_INDUSTRIES.filter((i) => industries.includes(i));
    const recordTypes = (shape.object.def.recordTypes ?? []).filter((t) => !t.master);
    const business = recordTypes.find((t) => t.active && t.defaultRecordTypeMapping) ?? recordTypes.find((t) => t.active);
    const partner = recordTypes.find((t) => t.active && /partner/i.test(t.developerName));
    const legacy = recordTypes.find((t) => !t.active);
    const ratings = shape.values('Rating');
    const sources = shape.values('AccountSource');
    const ownerships = shape.values('Ownership');
    const privateOwnerships = ownerships.filter((o) => o !== 'Public').length ? ownerships.filter((o) => o !== 'Public') : ownerships;
    const priorities = shape.values('CustomerPriority__c');
    const slas = shape.values('SLA__c');
    const offset = r.int(COMPANY_COMBINATIONS);

    this.accountIds = new Array<string>(n);
    this.accountCreated = new Float64Array(n);
    this.accountOwner = new Array<string>(n);
    this.accountName = new Array<string>(n);
    this.accountDomain = new Array<string>(n);
    this.accountCity = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const createdMs = ctx.timeAt((i + r.next()) / n);
      const k = (offset + i * COMPANY_STRIDE) % COMPANY_COMBINATIONS;
      const first = COMPANY_FIRST[k % COMPANY_FIRST.length]!;
      const second = COMPANY_SECOND[Math.floor(k / COMPANY_FIRST.length) % COMPANY_SECOND.length]!;
      const suffix = COMPANY_SUFFIX[Math.floor(k / (COMPANY_FIRST.length * COMPANY_SECOND.length))]!;
      const round = Math.floor(i / COMPANY_COMBINATIONS);
      const name = `${first} ${second}${round ? ` ${round + 1}` : ''} ${suffix}`;
      const domain = `${slug(first + second)}${round ? round + 1 : ''}.${EMAIL_DOMAINS_TLD[k % EMAIL_DOMAINS_TLD.length]}`;
      const cityIndex = r.int(CITIES.length);
      const city = CITIES[cityIndex]!;
      const typeIndex = r.weighted(ACCOUNT_TYPE_WEIGHTS);
      const type = ACCOUNT_TYPES[typeIndex]!;
      const isPartner = typeIndex >= 3 && typeIndex <= 5;
      const employees = Math.round(Math.exp(2.5 + r.next() * 8));
      const revenue = Math.round((employees * (60_000 + r.int(240_000))) / 100_000) * 100_000;
      const owner = ctx.owner(ctx.users.salesIds, createdMs);
      const street = this.street();
      const lat = city.latitude + (r.next() - 0.5) * 0.1;
      const lon = city.longitude + (r.next() - 0.5) * 0.1;
      const isPublic = employees > 5000 && r.chance(0.4);
      const recordType = isPartner && partner ? partner : legacy && createdMs < ctx.startMs + 60 * DAY_MS && r.chance(0.2) ? legacy : business;
      const values: Values = {
        Name: name,
        Type: shape.valueOr('Type', type),
        RecordTypeId: recordType?.id ?? null,
        ParentId: i > 20 && r.chance(0.06) ? this.accountIds[r.int(i)] : null,
        BillingStreet: street,
        BillingCity: city.city,
        BillingState: city.state,
        BillingPostalCode: city.postalCode,
        BillingCountry: city.country,
        BillingLatitude: Math.round(lat * 1e6) / 1e6,
        BillingLongitude: Math.round(lon * 1e6) / 1e6,
        BillingGeocodeAccuracy: shape.valueOr('BillingGeocodeAccuracy', 'Address'),
        ShippingStreet: r.chance(0.8) ? street : this.street(),
        ShippingCity: city.city,
        ShippingState: city.state,
        ShippingPostalCode: city.postalCode,
        ShippingCountry: city.country,
        Phone: this.phone(city.phonePrefix),
        Fax: r.chance(0.2) ? this.phone(city.phonePrefix) : null,
        AccountNumber: `CD${String(100000 + i).padStart(6, '0')}`,
        Website: `https://www.${domain}`,
        Sic: String(2000 + r.int(7000)),
        Industry: favoured.length && r.chance(0.7) ? r.pick(favoured) : r.pick(industries),
        AnnualRevenue: revenue,
        NumberOfEmployees: employees,
        Ownership: ownerships.length ? (isPublic ? shape.valueOr('Ownership', 'Public') : r.pick(privateOwnerships)) : null,
        TickerSymbol: isPublic ? (first.slice(0, 2) + second.slice(0, 2)).toUpperCase().replace(/[^A-Z]/g, 'X') : null,
        Description: r.chance(0.3) ? `${type} in ${city.city}; ${employees.toLocaleString('en-US')} employees.` : null,
        Rating: ratings.length && r.chance(0.7) ? r.pick(ratings) : null,
        Site: r.chance(0.3) ? 'Headquarters' : null,
        AccountSource: sources.length ? r.pick(sources) : null,
        DunsNumber: r.chance(0.4) ? String(100000000 + r.int(899999999)) : null,
        YearStarted: r.chance(0.5) ? String(1900 + r.int(122)) : null,
        CustomerPriority__c: priorities.length && typeIndex !== 1 ? r.pick(priorities) : null,
        SLA__c: slas.length && typeIndex === 0 ? r.pick(slas) : null,
        Active__c: shape.valueOr('Active__c', typeIndex === 1 ? 'No' : 'Yes'),
        NumberofLocations__c: 1 + r.int(40),
        SLASerialNumber__c: typeIndex === 0 ? `SLA${r.int(10_000_000)}` : null,
        SLAExpirationDate__c: typeIndex === 0 ? ctx.date(createdMs + (365 + r.int(730)) * DAY_MS) : null,
      };
      this.accountIds[i] = this.put(shape, values, owner, createdMs);
      this.accountCreated[i] = createdMs;
      this.accountOwner[i] = owner;
      this.accountName[i] = name;
      this.accountDomain[i] = domain;
      this.accountCity[i] = cityIndex;
    }
  }

  contacts(n: number): void {
    const ctx = this.ctx;
    const r = ctx.rng;
    const shape = ctx.shape('Contact');
    const accounts = this.accountIds.length;
    if (!shape || n <= 0 || !accounts) return;
    const salutations = shape.values('Salutation');
    const sources = shape.values('LeadSource');
    const levels = shape.values('Level__c');
    this.contactIds = new Array<string>(n);
    this.contactCreated = new Float64Array(n);
    this.contactAccount = new Int32Array(n);
    const lastOfAccount = new Int32Array(accounts).fill(-1);
    for (let i = 0; i < n; i++) {
      const fraction = (i + r.next()) / n;
      const a = this.earlier(fraction, accounts);
      const createdMs = this.after(this.accountCreated[a]!, ctx.timeAt(fraction));
      const first = r.pick(FIRST_NAMES);
      const last = r.pick(LAST_NAMES);
      const city = CITIES[this.accountCity[a]!]!;
      const boss = lastOfAccount[a]!;
      const owner = r.chance(0.8) ? this.accountOwner[a]! : ctx.owner(ctx.users.salesIds, createdMs);
      const values: Values = {
        AccountId: this.accountIds[a],
        FirstName: first,
        LastName: last,
        Salutation: salutations.length && r.chance(0.4) ? r.pick(salutations) : null,
        Title: r.pick(TITLES),
        Department: r.chance(0.7) ? r.pick(DEPARTMENTS) : null,
        Email: r.chance(0.93) ? `${slug(first)}.${slug(last)}${r.chance(0.1) ? r.int(100) : ''}@${this.accountDomain[a]}` : null,
        Phone: this.phone(city.phonePrefix),
        MobilePhone: r.chance(0.4) ? this.phone(city.phonePrefix) : null,
        MailingStreet: this.street(),
        MailingCity: city.city,
        MailingState: city.state,
        MailingPostalCode: city.postalCode,
        MailingCountry: city.country,
        ReportsToId: boss >= 0 && r.chance(0.3) ? this.contactIds[boss] : null,
        LeadSource: sources.length && r.chance(0.6) ? r.pick(sources) : null,
        Birthdate: r.chance(0.08) ? ctx.date(Date.UTC(1955 + r.int(45), r.int(12), 1 + r.int(28))) : null,
        Description: r.chance(0.05) ? 'Prefers e-mail; not available on Fridays.' : null,
        Level__c: levels.length && r.chance(0.5) ? r.pick(levels) : null,
        Languages__c: r.chance(0.1) ? r.pick(['English', 'English, Spanish', 'German, English', 'French', 'English, Mandarin']) : null,
        EmailBouncedReason: r.chance(0.01) ? '550 5.1.1 mailbox unavailable' : null,
      };
      this.contactIds[i] = this.put(shape, values, owner, createdMs);
      this.contactCreated[i] = createdMs;
      this.contactAccount[i] = a;
      lastOfAccount[a] = i;
    }
    this.contactsByAccount = new ChildIndex(this.contactAccount, n, accounts);
  }

  // ------------------------------------------------------------ campaigns

  /** Campaigns with their members (contacts and leads); call after contacts and leads. */
  campaigns(n: number, membersPerCampaign: number): void {
    const ctx = this.ctx;
    const r = ctx.rng;
    const shape = ctx.shape('Campaign');
    if (!shape || n <= 0) return;
    const members = ctx.shape('CampaignMember');
    const types = shape.values('Type');
    const marketing = ctx.users.marketingIds.length ? ctx.users.marketingIds : ctx.users.salesIds;
    const prefix = shape.object.def.keyPrefix;
    this.campaignIds = Array.from({ length: n }, () => ctx.org.ids.next(prefix));
    this.campaignStart = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const createdMs = ctx.timeAt((i + r.next()) / n);
      const startMs = createdMs + (3 + r.int(30)) * DAY_MS;
      const endMs = startMs + (1 + r.int(60)) * DAY_MS;
      const name = `${CAMPAIGN_NAMES[i % CAMPAIGN_NAMES.length]}${i >= CAMPAIGN_NAMES.length ? ` ${Math.floor(i / CAMPAIGN_NAMES.length) + 1}` : ''}`;
      const status = endMs < ctx.nowMs ? (r.chance(0.95) ? 'Completed' : 'Aborted') : startMs < ctx.nowMs ? 'In Progress' : 'Planned';
      this.campaignStart[i] = startMs;
      let contacts = 0;
      let leads = 0;
      let responses = 0;
      if (members) {
        const seen = new Set<string>();
        const want = Math.max(1, Math.round(membersPerCampaign * (0.5 + r.next())));
        for (let m = 0; m < want; m++) {
          const useLead = this.leadIds.length > 0 && (r.chance(0.4) || !this.contactIds.length);
          const ids = useLead ? this.leadIds : this.contactIds;
          const created = useLead ? this.leadCreated : this.contactCreated;
          if (!ids.length) break;
          const x = this.earlier((startMs - ctx.startMs) / (ctx.endMs - ctx.startMs), ids.length);
          const memberId = ids[x]!;
          if (seen.has(memberId)) continue;
          seen.add(memberId);
          const memberCreated = Math.min(Math.max(startMs, created[x]! + HOUR_MS) + r.int(5 * DAY_MS), ctx.endMs);
          const responded = r.chance(0.25);
          const memberStatus = responded ? members.valueOr('Status', 'Responded') : r.chance(0.8) ? members.valueOr('Status', 'Sent') : members.valueOr('Status', 'Received');
          if (useLead) leads++;
          else contacts++;
          if (responded) responses++;
          const respondedMs = Math.min(memberCreated + r.int(10 * DAY_MS), ctx.endMs);
          this.put(members, {
            CampaignId: this.campaignIds[i],
            LeadId: useLead ? memberId : null,
            ContactId: useLead ? null : memberId,
            Status: memberStatus,
            HasResponded: responded,
            FirstRespondedDate: responded ? ctx.date(respondedMs) : null,
          }, null, memberCreated, 0.3, responded ? respondedMs : 0);
        }
      }
      const budget = this.amountLike(2000, 80_000);
      this.put(shape, {
        Id: this.campaignIds[i],
        Name: name,
        Type: types.length ? r.pick(types) : null,
        Status: shape.valueOr('Status', status),
        StartDate: ctx.date(startMs),
        EndDate: ctx.date(endMs),
        BudgetedCost: budget,
        ActualCost: status === 'Completed' ? Math.round(budget * (0.7 + r.next() * 0.5)) : null,
        ExpectedRevenue: budget * (5 + r.int(20)),
        ExpectedResponse: 1 + r.int(15),
        NumberSent: contacts + leads,
        IsActive: status === 'In Progress' || status === 'Planned',
        Description: r.chance(0.5) ? `${name}: ${types.length ? 'multi-channel' : ''} outreach to plant and operations managers.` : null,
        ParentId: i > 4 && r.chance(0.15) ? this.campaignIds[r.int(i)] : null,
        NumberOfLeads: leads,
        NumberOfContacts: contacts,
        NumberOfResponses: responses,
        NumberOfConvertedLeads: 0,
        NumberOfOpportunities: 0,
        NumberOfWonOpportunities: 0,
        AmountAllOpportunities: 0,
        AmountWonOpportunities: 0,
      }, r.pick(marketing), createdMs, 0.7, status === 'Completed' ? Math.min(endMs, ctx.endMs) : 0);
    }
  }

  // ------------------------------------------------------------ opportunities

  /** Opportunities with line items (most of them) and contact roles; call after contacts. */
  opportunities(n: number, linesPerOpportunity: number): void {
    const ctx = this.ctx;
    const r = ctx.rng;
    const shape = ctx.shape('Opportunity');
    const accounts = this.accountIds.length;
    if (!shape || n <= 0 || !accounts) return;
    const lineShape = this.standardEntryIds.length ? ctx.shape('OpportunityLineItem') : undefined;
    const roleShape = ctx.shape('OpportunityContactRole');
    const stages = this.stages(shape);
    const types = shape.values('Type');
    const sources = shape.values('LeadSource');
    const roles = roleShape?.values('Role') ?? [];
    const installation = shape.values('DeliveryInstallationStatus__c');
    const lineProduct = new Int32Array(8);
    const lineQuantity = new Float64Array(8);
    const linePrice = new Float64Array(8);
    this.opportunityIds = new Array<string>(n);
    this.opportunityCreated = new Float64Array(n);
    this.opportunityAccount = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const fraction = (i + r.next()) / n;
      const a = this.earlier(fraction, accounts);
      const createdMs = this.after(this.accountCreated[a]!, ctx.timeAt(fraction));
      const closeMs = createdMs + (20 + r.int(150)) * DAY_MS;
      let stage: string;
      let stageIndex = -1;
      let decidedMs = 0;
      if (closeMs < ctx.nowMs && r.chance(0.9)) {
        stage = r.chance(0.35) ? stages.won : stages.lost;
        // Deals are marked won or lost during the close day, not at the minute they were opened.
        decidedMs = Math.min(closeMs + r.int(10 * HOUR_MS), ctx.endMs);
      } else {
        // Later stages are rarer: deals drop out along the way.
        stageIndex = Math.min(stages.open.length - 1, Math.floor(Math.pow(r.next(), 1.6) * stages.open.length));
        stage = stages.open[stageIndex] ?? stages.won;
      }
      const won = stage === stages.won;
      const lost = stage === stages.lost;
      const lines = lineShape && r.chance(0.75) ? 1 + r.int(Math.max(1, Math.round(linesPerOpportunity * 2 - 1))) : 0;
      let amount = 0;
      let quantity = 0;
      for (let l = 0; l < Math.min(lines, 8); l++) {
        const p = r.int(this.productIds.length);
        lineProduct[l] = p;
        lineQuantity[l] = this.productPrices[p]! > 5000 ? 1 + r.int(3) : 1 + r.int(60);
        linePrice[l] = Math.round(this.productPrices[p]! * (1 - r.int(4) * 0.05) * 100) / 100;
        amount += lineQuantity[l]! * linePrice[l]!;
        quantity += lineQuantity[l]!;
      }
      if (!lines) amount = this.amountLike(5000, 750_000);
      const probability = won ? 100 : lost ? 0 : Math.round(10 + (80 * Math.max(0, stageIndex)) / Math.max(1, stages.open.length - 1));
      const forecast = won ? 'Closed' : lost ? 'Omitted' : probability >= 70 ? 'Commit' : probability >= 40 ? 'Best Case' : 'Pipeline';
      const owner = r.chance(0.75) ? this.accountOwner[a]! : ctx.owner(ctx.users.salesIds, createdMs);
      const campaign = this.campaignIds.length && r.chance(0.15) ? r.int(this.campaignIds.length) : -1;
      const values: Values = {
        AccountId: this.accountIds[a],
        Name: `${this.accountName[a]} - ${r.pick(OPPORTUNITY_TOPICS)}`,
        Description: r.chance(0.2) ? `Sensors for ${1 + r.int(12)} production lines; decision expected by ${ctx.date(closeMs)}.` : null,
        StageName: stage,
        Amount: Math.round(amount * 100) / 100,
        Probability: probability,
        TotalOpportunityQuantity: lines ? quantity : null,
        CloseDate: ctx.date(closeMs),
        Type: types.length ? shape.valueOr('Type', r.chance(0.4) ? 'New Customer' : r.pick(types)) : null,
        NextStep: won || lost ? null : r.pick(['Send proposal', 'Schedule site survey', 'Pilot review', 'Legal review', 'Security questionnaire', 'Follow up call']),
        LeadSource: sources.length && r.chance(0.7) ? r.pick(sources) : null,
        ForecastCategory: shape.valueOr('ForecastCategory', forecast === 'Commit' ? 'Forecast' : forecast === 'Best Case' ? 'BestCase' : forecast),
        ForecastCategoryName: shape.valueOr('ForecastCategoryName', forecast),
        CampaignId: campaign >= 0 && this.campaignStart[campaign]! < createdMs ? this.campaignIds[campaign] : null,
        HasOpportunityLineItem: lines > 0,
        Pricebook2Id: lines ? this.standardPricebookId : null,
        DeliveryInstallationStatus__c: won && installation.length ? r.pick(installation) : null,
        TrackingNumber__c: won && r.chance(0.5) ? `1Z${r.int(1e9)}`.slice(0, 12) : null,
        OrderNumber__c: won ? String(10_000_000 + r.int(89_999_999)) : null,
        MainCompetitors__c: r.chance(0.4) ? r.pick(COMPETITORS) : null,
        LastStageChangeDate: decidedMs ? ctx.formatMs(decidedMs) : null,
      };
      const id = this.put(shape, values, owner, createdMs, 0.8, decidedMs);
      this.opportunityIds[i] = id;
      this.opportunityCreated[i] = createdMs;
      this.opportunityAccount[i] = a;
      for (let l = 0; l < Math.min(lines, 8) && lineShape; l++) {
        const p = lineProduct[l]!;
        const lineCreated = createdMs + (l + 1) * 60_000;
        this.put(lineShape, {
          OpportunityId: id,
          PricebookEntryId: this.standardEntryIds[p],
          Product2Id: this.productIds[p],
          Quantity: lineQuantity[l],
          UnitPrice: linePrice[l],
          ListPrice: this.productPrices[p],
          TotalPrice: Math.round(lineQuantity[l]! * linePrice[l]! * 100) / 100,
          ServiceDate: ctx.date(closeMs),
          Description: r.chance(0.1) ? 'Includes mounting hardware' : null,
        }, null, lineCreated, 0.2);
      }
      const contacts = this.contactsByAccount;
      if (roleShape && contacts && contacts.count(a) && r.chance(0.6)) {
        const k = 1 + r.int(Math.min(3, contacts.count(a)));
        const used = new Set<number>();
        for (let c = 0; c < k; c++) {
          const contact = contacts.pick(a, r.next());
          if (used.has(contact)) continue;
          used.add(contact);
          this.put(roleShape, {
            OpportunityId: id,
            ContactId: this.contactIds[contact],
            Role: roles.length ? r.pick(roles) : null,
            IsPrimary: c === 0,
          }, null, this.after(this.contactCreated[contact]!, createdMs + (c + 1) * 120_000), 0.1);
        }
      }
    }
    this.opportunitiesByAccount = new ChildIndex(this.opportunityAccount, n, accounts);
  }

  // ------------------------------------------------------------ leads

  /** Leads; some converted into an existing contact and account. Call after opportunities. */
  leads(n: number): void {
    const ctx = this.ctx;
    const r = ctx.rng;
    const shape = ctx.shape('Lead');
    if (!shape || n <= 0) return;
    const statuses = shape.values('Status', ['Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted', 'Closed - Converted']);
    const converted = statuses.find((s) => /converted/i.test(s) && !/not/i.test(s));
    const open = statuses.filter((s) => !/closed/i.test(s));
    const notConverted = statuses.find((s) => /not converted/i.test(s)) ?? statuses[0]!;
    const sources = shape.values('LeadSource');
    const industries = shape.values('Industry');
    const ratings = shape.values('Rating');
    const interests = shape.values('ProductInterest__c');
    const queue = this.queues.get(QUEUES.leads);
    const sdr = ctx.users.salesIds[ctx.users.salesIds.length - 1] ?? ctx.users.apiUserId;
    this.leadIds = new Array<string>(n);
    this.leadCreated = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const fraction = (i + r.next()) / n;
      const createdMs = ctx.timeAt(fraction);
      const first = r.pick(FIRST_NAMES);
      const last = r.pick(LAST_NAMES);
      const company = `${r.pick(LEAD_COMPANY_WORDS)} ${r.pick(COMPANY_SECOND)} ${r.pick(COMPANY_SUFFIX)}`;
      const city = r.pick(CITIES);
      const age = ctx.nowMs - createdMs;
      let values: Values = {};
      let decidedMs = 0;
      const convert = converted && this.contactIds.length && age > 30 * DAY_MS && r.chance(0.18);
      if (convert) {
        // The contact made from the lead was created at conversion, after the lead.
        const c = Math.min(this.contactIds.length - 1, Math.floor(fraction * this.contactIds.length) + r.int(10));
        const a = this.contactAccount[c]!;
        const convertedMs = Math.max(this.contactCreated[c]!, createdMs + HOUR_MS);
        decidedMs = Math.min(convertedMs, ctx.endMs);
        const opp = this.opportunitiesByAccount?.pick(a, r.next()) ?? -1;
        values = {
          Status: converted,
          IsConverted: true,
          ConvertedDate: ctx.date(decidedMs),
          ConvertedAccountId: this.accountIds[a],
          ConvertedContactId: this.contactIds[c],
          ConvertedOpportunityId: opp >= 0 && r.chance(0.6) ? this.opportunityIds[opp] : null,
        };
      } else {
        values = { Status: age > 90 * DAY_MS && r.chance(0.6) ? notConverted : r.pick(open.length ? open : statuses) };
      }
      Object.assign(values, {
        FirstName: first,
        LastName: last,
        Salutation: null,
        Title: r.pick(TITLES),
        Company: company,
        Street: this.street(),
        City: city.city,
        State: city.state,
        PostalCode: city.postalCode,
        Country: city.country,
        Phone: this.phone(city.phonePrefix),
        MobilePhone: r.chance(0.3) ? this.phone(city.phonePrefix) : null,
        Email: r.chance(0.9) ? `${slug(first)}.${slug(last)}@${slug(company.split(' ').slice(0, 2).join(''))}.com` : null,
        Website: r.chance(0.5) ? `https://${slug(company.split(' ').slice(0, 2).join(''))}.com` : null,
        Description: r.chance(0.1) ? 'Downloaded the predictive maintenance e-book.' : null,
        LeadSource: sources.length ? r.pick(sources) : null,
        Industry: industries.length && r.chance(0.7) ? r.pick(industries) : null,
        Rating: ratings.length && r.chance(0.5) ? r.pick(ratings) : null,
        AnnualRevenue: r.chance(0.4) ? this.amountLike(500_000, 500_000_000) : null,
        NumberOfEmployees: r.chance(0.5) ? Math.round(Math.exp(2 + r.next() * 7)) : null,
        IsUnreadByOwner: age < 7 * DAY_MS,
        ProductInterest__c: interests.length && r.chance(0.4) ? r.pick(interests) : null,
        NumberofLocations__c: r.chance(0.3) ? 1 + r.int(20) : null,
      });
      const owner = queue && !convert && r.chance(0.1) ? queue : r.chance(0.5) ? ctx.owner([sdr], createdMs) : ctx.owner(ctx.users.salesIds, createdMs);
      this.leadIds[i] = this.put(shape, values, owner, createdMs, 0.6, decidedMs);
      this.leadCreated[i] = createdMs;
    }
  }

  // ------------------------------------------------------------ cases

  /** Cases raised by contacts, with comments; call after contacts. */
  cases(n: number, commentsPerCase: number): void {
    const ctx = this.ctx;
    const r = ctx.rng;
    const shape = ctx.shape('Case');
    const contacts = this.contactIds.length;
    if (!shape || n <= 0 || !contacts) return;
    const comments = ctx.shape('CaseComment');
    const types = shape.values('Type');
    const reasons = shape.values('Reason');
    const origins = shape.values('Origin');
    const priorities = shape.values('Priority');
    const products = shape.values('Product__c');
    const queue = this.queues.get(QUEUES.support);
    const support = ctx.users.supportIds.length ? ctx.users.supportIds : ctx.users.salesIds;
    const lastOfAccount = new Int32Array(this.accountIds.length).fill(-1);
    this.caseIds = new Array<string>(n);
    this.caseCreated = new Float64Array(n);
    this.caseContact = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const fraction = (i + r.next()) / n;
      const c = this.earlier(fraction, contacts);
      const a = this.contactAccount[c]!;
      const createdMs = this.after(this.contactCreated[c]!, ctx.timeAt(fraction));
      const age = ctx.nowMs - createdMs;
      const closed = age > 3 * DAY_MS && r.chance(age > 30 * DAY_MS ? 0.93 : 0.5);
      const closedMs = closed ? Math.min(createdMs + HOUR_MS + r.int(12 * DAY_MS), ctx.endMs) : 0;
      const status = closed ? shape.valueOr('Status', 'Closed') : shape.valueOr('Status', r.pick(['New', 'Working', 'Working', 'Escalated']));
      const origin = origins.length ? r.pick(origins) : null;
      const owner = !closed && queue && r.chance(0.2) ? queue : ctx.owner(support, createdMs, 'support');
      const previous = lastOfAccount[a]!;
      const values: Values = {
        ContactId: this.contactIds[c],
        AccountId: this.accountIds[a],
        ParentId: previous >= 0 && r.chance(0.04) ? this.caseIds[previous] : null,
        SuppliedEmail: origin === 'Web' || origin === 'Email' ? `support-request${r.int(1000)}@${this.accountDomain[a]}` : null,
        SuppliedName: origin === 'Web' ? `${r.pick(FIRST_NAMES)} ${r.pick(LAST_NAMES)}` : null,
        SuppliedCompany: origin === 'Web' ? this.accountName[a] : null,
        Type: types.length ? r.pick(types) : null,
        Status: status,
        Reason: reasons.length && r.chance(0.8) ? r.pick(reasons) : null,
        Origin: origin,
        Subject: r.pick(CASE_SUBJECTS),
        Priority: priorities.length ? r.pick(priorities) : null,
        Description: r.chance(0.6) ? 'Customer reports the issue started after the last maintenance window.' : null,
        ClosedDate: closed ? ctx.formatMs(closedMs) : null,
        IsEscalated: status === 'Escalated' || r.chance(0.03),
        Product__c: products.length && r.chance(0.5) ? r.pick(products) : null,
        SLAViolation__c: shape.valueOr('SLAViolation__c', r.chance(0.08) ? 'Yes' : 'No'),
        PotentialLiability__c: r.chance(0.1) ? shape.valueOr('PotentialLiability__c', 'Yes') : null,
        EngineeringReqNumber__c: r.chance(0.05) ? String(100000 + r.int(900000)) : null,
      };
      const id = this.put(shape, values, owner, createdMs, 0.7, closedMs);
      this.caseIds[i] = id;
      this.caseCreated[i] = createdMs;
      this.caseContact[i] = c;
      lastOfAccount[a] = i;
      if (!comments) continue;
      const k = r.int(Math.max(1, Math.round(commentsPerCase * 2)) + 1);
      const endMs = closed ? closedMs : ctx.endMs;
      for (let j = 0; j < k; j++) {
        const at = Math.min(createdMs + Math.floor(((j + r.next()) / k) * (endMs - createdMs)), ctx.endMs);
        const author = owner.startsWith('005') && ctx.activeAt(owner, at) ? owner : ctx.owner(support, at, 'support');
        ctx.modified(at, 0.1);
        ctx.load(comments, {
          ParentId: id,
          IsPublished: r.chance(0.4),
          CommentBody: r.pick(CASE_COMMENTS),
        }, null, author, at, author, ctx.modMs, ctx.modMs);
      }
    }
  }

  // ------------------------------------------------------------ activities

  /** Tasks and events on contacts, leads, accounts, opportunities and cases. */
  activities(tasks: number, events: number): void {
    this.activityRecords('Task', tasks);
    this.activityRecords('Event', events);
  }

  private activityRecords(objectName: 'Task' | 'Event', n: number): void {
    const ctx = this.ctx;
    const r = ctx.rng;
    const shape = ctx.shape(objectName);
    if (!shape || n <= 0) return;
    const isTask = objectName === 'Task';
    const who = shape.object.field('WhoId')?.referenceTo ?? [];
    const what = shape.object.field('WhatId')?.referenceTo ?? [];
    const canWhat = (object: string): boolean => what.includes(object);
    const priorities = shape.values('Priority');
    const callTypes = shape.values('CallType');
    const subtypes = shape.values(isTask ? 'TaskSubtype' : 'EventSubtype');
    for (let i = 0; i < n; i++) {
      const fraction = (i + r.next()) / n;
      let createdMs = ctx.timeAt(fraction);
      let whoId: string | null = null;
      let whatId: string | null = null;
      let owner: string | null = null;
      const kind = r.next();
      if (kind < 0.5 && this.contactIds.length && who.includes('Contact')) {
        const c = this.earlier(fraction, this.contactIds.length);
        const a = this.contactAccount[c]!;
        createdMs = this.after(this.contactCreated[c]!, createdMs);
        whoId = this.contactIds[c]!;
        owner = this.accountOwner[a]!;
        const opp = this.opportunitiesByAccount?.pick(a, r.next()) ?? -1;
        if (opp >= 0 && canWhat('Opportunity') && this.opportunityCreated[opp]! < createdMs && r.chance(0.5)) whatId = this.opportunityIds[opp]!;
        else if (canWhat('Account') && r.chance(0.6)) whatId = this.accountIds[a]!;
      } else if (kind < 0.65 && this.leadIds.length && who.includes('Lead')) {
        const l = this.earlier(fraction, this.leadIds.length);
        createdMs = this.after(this.leadCreated[l]!, createdMs);
        whoId = this.leadIds[l]!;
      } else if (kind < 0.8 && this.caseIds.length && canWhat('Case')) {
        const k = this.earlier(fraction, this.caseIds.length);
        createdMs = this.after(this.caseCreated[k]!, createdMs);
        whatId = this.caseIds[k]!;
        if (who.includes('Contact')) whoId = this.contactIds[this.caseContact[k]!] ?? null;
        owner = ctx.owner(ctx.users.supportIds.length ? ctx.users.supportIds : ctx.users.salesIds, createdMs, 'support');
      } else if (kind < 0.9 && this.opportunityIds.length && canWhat('Opportunity')) {
        const o = this.earlier(fraction, this.opportunityIds.length);
        createdMs = this.after(this.opportunityCreated[o]!, createdMs);
        whatId = this.opportunityIds[o]!;
        owner = this.accountOwner[this.opportunityAccount[o]!]!;
      } else if (this.accountIds.length && canWhat('Account')) {
        const a = this.earlier(fraction, this.accountIds.length);
        createdMs = this.after(this.accountCreated[a]!, createdMs);
        whatId = this.accountIds[a]!;
        owner = this.accountOwner[a]!;
      }
      if (owner === null || !ctx.activeAt(owner, createdMs) || r.chance(0.2)) owner = ctx.owner(ctx.users.salesIds, createdMs);
      const dueMs = createdMs + r.int(14) * DAY_MS;
      const past = dueMs < ctx.nowMs - 2 * DAY_MS;
      let values: Values;
      let doneMs = 0;
      if (isTask) {
        const subject = r.pick(TASK_SUBJECTS);
        const call = subject.startsWith('Call');
        const completed = past ? r.chance(0.85) : r.chance(0.2);
        const status = completed ? 'Completed' : r.pick(['Not Started', 'Not Started', 'In Progress', 'Waiting on someone else', 'Deferred']);
        doneMs = completed ? Math.min(dueMs + r.int(2 * DAY_MS), ctx.endMs) : 0;
        values = {
          WhoId: whoId,
          WhatId: whatId,
          Subject: subject,
          ActivityDate: ctx.date(dueMs),
          Status: shape.valueOr('Status', status),
          Priority: priorities.length ? shape.valueOr('Priority', r.chance(0.15) ? 'High' : r.chance(0.1) ? 'Low' : 'Normal') : null,
          Description: r.chance(0.25) ? 'Left a voicemail; will try again next week.' : null,
          CallDurationInSeconds: call && completed ? 30 + r.int(1800) : null,
          CallType: call && callTypes.length ? shape.valueOr('CallType', 'Outbound') : null,
          CallDisposition: call && completed ? r.pick(['Reached', 'Left voicemail', 'No answer']) : null,
          IsReminderSet: !completed && r.chance(0.3),
          ReminderDateTime: !completed && r.chance(0.3) ? ctx.formatMs(dueMs - HOUR_MS) : null,
          TaskSubtype: subtypes.length ? shape.valueOr('TaskSubtype', call ? 'Call' : subject.startsWith('Email') || subject.startsWith('Send') ? 'Email' : 'Task') : null,
          CompletedDateTime: completed ? ctx.formatMs(doneMs) : null,
        };
      } else {
        const startMs = Math.floor((dueMs + (8 + r.int(9)) * HOUR_MS) / (30 * 60_000)) * 30 * 60_000;
        const duration = r.pick([30, 30, 60, 60, 90, 120]);
        const allDay = r.chance(0.03);
        values = {
          WhoId: whoId,
          WhatId: whatId,
          Subject: r.pick(EVENT_SUBJECTS),
          Location: r.chance(0.5) ? 'Zoom' : r.chance(0.5) ? 'Customer site' : r.pick(CITIES).city,
          IsAllDayEvent: allDay,
          ActivityDateTime: ctx.formatMs(startMs),
          ActivityDate: ctx.date(startMs),
          DurationInMinutes: allDay ? 1440 : duration,
          StartDateTime: ctx.formatMs(startMs),
          EndDateTime: ctx.formatMs(startMs + (allDay ? 1440 : duration) * 60_000),
          EndDate: ctx.date(startMs),
          Description: r.chance(0.2) ? 'Agenda: current process, pain points, pilot scope.' : null,
          IsPrivate: r.chance(0.02),
          ShowAs: shape.valueOr('ShowAs', 'Busy'),
          EventSubtype: subtypes.length ? shape.valueOr('EventSubtype', 'Event') : null,
          GroupEventType: shape.valueOr('GroupEventType', '0'),
        };
      }
      this.put(shape, values, owner, createdMs, 0.4, doneMs);
    }
  }

  // ------------------------------------------------------------ invoices

  /** Invoices of customer accounts, with lines; roll-ups are left to `recomputeAllRollups`. */
  invoices(n: number, linesPerInvoice: number): void {
    const ctx = this.ctx;
    const r = ctx.rng;
    const shape = ctx.shape('Invoice__c');
    const accounts = this.accountIds.length;
    if (!shape || n <= 0 || !accounts) return;
    const lines = ctx.shape('Invoice_Line__c');
    // Invoices come from the ERP integration, or an administrator fixing one by hand.
    const billing = ctx.users.adminIds.length ? ctx.users.adminIds : [ctx.users.apiUserId];
    this.invoiceIds = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const fraction = (i + r.next()) / n;
      const a = this.earlier(fraction, accounts);
      const createdMs = this.after(this.accountCreated[a]!, ctx.timeAt(fraction), 30 * DAY_MS);
      const dueMs = createdMs + (r.chance(0.7) ? 30 : r.chance(0.5) ? 45 : 60) * DAY_MS;
      const age = ctx.nowMs - createdMs;
      const status = age < 2 * DAY_MS ? 'Draft' : r.chance(0.03) ? 'Void' : dueMs < ctx.nowMs && r.chance(0.9) ? 'Paid' : age > 5 * DAY_MS && r.chance(0.8) ? 'Sent' : 'Draft';
      const paidMs = status === 'Paid' ? Math.min(createdMs + r.int(dueMs - createdMs + 20 * DAY_MS), ctx.endMs) : 0;
      const creator = r.chance(0.6) ? ctx.users.apiUserId : r.pick(billing);
      const values: Values = {
        Account__c: this.accountIds[a],
        Status__c: shape.valueOr('Status__c', status),
        Due_Date__c: ctx.date(dueMs),
        Paid_Date__c: paidMs ? ctx.date(paidMs) : null,
        External_Id__c: `ERP-${String(400000 + i).padStart(7, '0')}`,
        Notes__c: r.chance(0.1) ? 'PO number required on remittance.' : null,
      };
      ctx.modified(createdMs, 0.6);
      const modMs = Math.max(ctx.modMs, paidMs);
      const id = ctx.load(shape, values, null, creator, createdMs, ctx.modBulk && modMs === ctx.modMs ? ctx.users.apiUserId : creator, modMs, ctx.systemStamp(modMs));
      this.invoiceIds[i] = id;
      if (!lines) continue;
      const k = 1 + r.int(Math.max(1, Math.round(linesPerInvoice * 2 - 1)));
      for (let j = 0; j < k; j++) {
        const p = this.productIds.length ? r.int(this.productIds.length) : -1;
        const price = p >= 0 ? this.productPrices[p]! : this.amountLike(50, 5000);
        const lineCreated = createdMs + (j + 1) * 1000;
        ctx.load(lines, {
          Name: p >= 0 ? PRODUCTS[p]!.name : `Line ${j + 1}`,
          Invoice__c: id,
          Product__c: p >= 0 ? this.productIds[p] : null,
          Quantity__c: price > 5000 ? 1 : 1 + r.int(40),
          Unit_Price__c: Math.round(price * (1 - r.int(3) * 0.05) * 100) / 100,
          Description__c: r.chance(0.2) ? `Period ${ctx.date(createdMs)} to ${ctx.date(createdMs + 30 * DAY_MS)}` : null,
        }, null, creator, lineCreated, creator, lineCreated, lineCreated);
      }
    }
  }
}
