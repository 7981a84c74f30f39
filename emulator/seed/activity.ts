/**
 * Day-to-day activity in an existing org, through the validated write pipeline: what a backup
 * product sees between two runs. Each change is one record written by one call (cascades come on
 * top): new contacts, opportunities, cases, tasks, leads and invoices; field edits, some of them
 * bulk updates sharing one SystemModstamp; contacts moved to another account; deletes, including
 * an account with its children; undeletes from the Recycle Bin.
 */
import type { Org, WriteOptions } from '../org/org.ts';
import type { StoredRecord } from '../org/schema.ts';
import { formatDate } from '../org/values.ts';
import { Random, cumulative } from './random.ts';
import { CASE_SUBJECTS, COMPANY_SECOND, FIRST_NAMES, LAST_NAMES, LEAD_COMPANY_WORDS, TASK_SUBJECTS, TITLES, slug } from './vocabulary.ts';

export interface ActivityResult {
  created: number;
  updated: number;
  deleted: number;
  undeleted: number;
}

const DAY_MS = 86_400_000;
const POOL_OBJECTS = ['Account', 'Contact', 'Opportunity', 'Case', 'Lead', 'Task', 'Event', 'Invoice__c', 'Product2'] as const;
type PoolObject = (typeof POOL_OBJECTS)[number];

/** create, update, bulk update, re-parent, delete, undelete. */
const KIND_WEIGHTS = cumulative([34, 30, 8, 6, 14, 8]);

/**
 * Makes `changes` changes, each through org.insert/update/delete/undelete as an active user. A
 * change the pipeline rejects is skipped and another one tried. The same seed on the same org
 * state makes the same changes (timestamps come from the org's clock).
 */
export function applyActivity(org: Org, options: { changes: number; seed: string | number }): ActivityResult {
  return new Activity(org, options.seed).run(Math.max(0, Math.floor(options.changes)));
}

class Activity {
  private readonly org: Org;
  private readonly rng: Random;
  private readonly users: string[];
  private readonly live = new Map<PoolObject, string[]>();
  private readonly deleted: string[] = [];
  private readonly result: ActivityResult = { created: 0, updated: 0, deleted: 0, undeleted: 0 };
  private accountDeleted = false;

  constructor(org: Org, seed: string | number) {
    this.org = org;
    this.rng = new Random(`activity:${seed}`);
    this.users = [...org.records('User')].filter((u) => u.IsActive !== false).map((u) => u.Id);
    for (const name of POOL_OBJECTS) {
      const ids: string[] = [];
      for (const record of org.records(name)) {
        if (!record.IsDeleted) ids.push(record.Id);
        else this.deleted.push(record.Id);
      }
      this.live.set(name, ids);
    }
  }

  run(changes: number): ActivityResult {
    if (!this.users.length) return this.result;
    let attempts = changes * 20 + 100;
    while (this.total() < changes && attempts-- > 0) {
      const left = changes - this.total();
      try {
        switch (this.rng.weighted(KIND_WEIGHTS)) {
          case 0: this.create(left); break;
          case 1: this.update(); break;
          case 2: this.bulkUpdate(left); break;
          case 3: this.reparent(); break;
          case 4: this.remove(); break;
          default: this.restore(); break;
        }
      } catch {
        // Rejected by the pipeline (a validation rule, a restricted delete, a parent in the
        // Recycle Bin): nothing was written; try another change.
      }
    }
    return { ...this.result };
  }

  private total(): number {
    const r = this.result;
    return r.created + r.updated + r.deleted + r.undeleted;
  }

  private options(stampMs?: number): WriteOptions {
    return { userId: this.rng.pick(this.users), system: true, ...(stampMs === undefined ? {} : { stampMs }) };
  }

  /** A live record of the object, or undefined; pools shrink lazily as records go. */
  private pick(object: PoolObject): StoredRecord | undefined {
    const ids = this.live.get(object)!;
    for (let tries = 0; tries < 20 && ids.length; tries++) {
      const i = this.rng.int(ids.length);
      const record = this.org.get(ids[i]!);
      if (record && !record.IsDeleted) return record;
      ids[i] = ids[ids.length - 1]!;
      ids.pop();
    }
    return undefined;
  }

  /** Values limited to the fields the object has (the pipeline rejects unknown fields). */
  private fit(object: string, values: Record<string, unknown>): Record<string, unknown> {
    const schema = this.org.schema.object(object);
    const out: Record<string, unknown> = {};
    if (!schema) return out;
    for (const [key, value] of Object.entries(values)) {
      const field = schema.field(key);
      if (field && !field.formula && value !== undefined) out[field.name] = value;
    }
    return out;
  }

  /** A value of a picklist, `preferred` when the field has it. */
  private picklist(object: string, field: string, preferred?: string): string | undefined {
    const values = this.org.schema.object(object)?.field(field)?.picklistValues?.filter((p) => p.active).map((p) => p.value) ?? [];
    if (preferred !== undefined && values.includes(preferred)) return preferred;
    return values.length ? this.rng.pick(values) : undefined;
  }

  private day(offsetDays: number): string {
    return formatDate(this.org.clock.nowMs() + offsetDays * DAY_MS);
  }

  private insert(object: PoolObject | 'Invoice_Line__c', values: Record<string, unknown>): StoredRecord {
    if (!this.org.schema.object(object)) throw new Error(`no ${object}`);
    const record = this.org.insert(object, this.fit(object, values), this.options());
    this.result.created++;
    if (object !== 'Invoice_Line__c') this.live.get(object)!.push(record.Id);
    return record;
  }

  private save(record: StoredRecord, values: Record<string, unknown>, stampMs?: number): void {
    const object = this.org.schema.objectForId(record.Id)!.name;
    this.org.update(object, record.Id, this.fit(object, values), this.options(stampMs));
    this.result.updated++;
  }

  // ------------------------------------------------------------ creates

  private create(left: number): void {
    const r = this.rng;
    const owner = r.pick(this.users);
    const first = r.pick(FIRST_NAMES);
    const last = r.pick(LAST_NAMES);
    switch (r.int(6)) {
      case 0: {
        const account = this.pick('Account');
        if (!account) throw new Error('no account');
        const domain = typeof account.Website === 'string' ? account.Website.replace(/^https?:\/\/(www\.)?/, '') : 'example.com';
        this.insert('Contact', {
          AccountId: account.Id, FirstName: first, LastName: last, Title: r.pick(TITLES),
          Email: `${slug(first)}.${slug(last)}@${domain}`, Phone: account.Phone ?? null, OwnerId: owner,
          LeadSource: this.picklist('Contact', 'LeadSource'),
        });
        return;
      }
      case 1: {
        const account = this.pick('Account');
        if (!account) throw new Error('no account');
        this.insert('Opportunity', {
          AccountId: account.Id, Name: `${String(account.Name)} - ${r.pick(['Expansion', 'Renewal', 'New site', 'Add-on'])}`,
          StageName: this.picklist('Opportunity', 'StageName', 'Prospecting'), CloseDate: this.day(30 + r.int(90)),
          Amount: 5000 + r.int(200) * 500, OwnerId: owner, Type: this.picklist('Opportunity', 'Type'),
        });
        return;
      }
      case 2: {
        const contact = this.pick('Contact');
        if (!contact) throw new Error('no contact');
        this.insert('Case', {
          ContactId: contact.Id, AccountId: contact.AccountId ?? null, Subject: r.pick(CASE_SUBJECTS),
          Status: this.picklist('Case', 'Status', 'New'), Origin: this.picklist('Case', 'Origin'),
          Priority: this.picklist('Case', 'Priority'), OwnerId: owner,
        });
        return;
      }
      case 3: {
        const contact = this.pick('Contact');
        this.insert('Task', {
          WhoId: contact?.Id ?? null, WhatId: contact?.AccountId ?? null, Subject: r.pick(TASK_SUBJECTS),
          Status: this.picklist('Task', 'Status', 'Not Started'), Priority: this.picklist('Task', 'Priority', 'Normal'),
          ActivityDate: this.day(r.int(14)), OwnerId: owner,
        });
        return;
      }
      case 4: {
        const company = `${r.pick(LEAD_COMPANY_WORDS)} ${r.pick(COMPANY_SECOND)}`;
        this.insert('Lead', {
          FirstName: first, LastName: last, Company: company, Title: r.pick(TITLES),
          Email: `${slug(first)}.${slug(last)}@${slug(company)}.com`, Status: this.picklist('Lead', 'Status', 'Open - Not Contacted'),
          LeadSource: this.picklist('Lead', 'LeadSource', 'Web'), OwnerId: owner,
        });
        return;
      }
      default: {
        const account = this.pick('Account');
        if (!account) throw new Error('no account');
        const invoice = this.insert('Invoice__c', {
          Account__c: account.Id, Status__c: this.picklist('Invoice__c', 'Status__c', 'Draft'), Due_Date__c: this.day(30),
          External_Id__c: `ACT-${invoiceKey(this.org, r)}`,
        });
        if (left < 2) return;
        const product = this.pick('Product2');
        this.insert('Invoice_Line__c', {
          Invoice__c: invoice.Id, Product__c: product?.Id ?? null, Quantity__c: 1 + r.int(20),
          Unit_Price__c: 50 + r.int(100) * 10, Name: typeof product?.Name === 'string' ? product.Name : 'Services',
        });
      }
    }
  }

  // ------------------------------------------------------------ updates

  private update(): void {
    const r = this.rng;
    switch (r.int(7)) {
      case 0: {
        const opp = this.pick('Opportunity');
        if (!opp) throw new Error('none');
        const stages = this.org.schema.object('Opportunity')?.field('StageName')?.picklistValues?.map((p) => p.value) ?? [];
        const at = stages.indexOf(String(opp.StageName));
        const closed = /closed/i.test(String(opp.StageName));
        const next = closed || at < 0 ? stages[r.int(stages.length)] : r.chance(0.2) ? stages.find((s) => /lost/i.test(s)) : stages[Math.min(at + 1, stages.length - 1)];
        this.save(opp, { StageName: next, Amount: typeof opp.Amount === 'number' ? Math.round(opp.Amount * (0.9 + r.next() * 0.3)) : 10000, NextStep: r.pick(['Send revised quote', 'Exec sponsor call', 'Legal review']) });
        return;
      }
      case 1: {
        const c = this.pick('Case');
        if (!c) throw new Error('none');
        this.save(c, { Status: this.picklist('Case', 'Status', r.chance(0.5) ? 'Closed' : 'Working'), Priority: this.picklist('Case', 'Priority') });
        return;
      }
      case 2: {
        const contact = this.pick('Contact');
        if (!contact) throw new Error('none');
        this.save(contact, { Title: r.pick(TITLES), MobilePhone: `(555) 01${r.int(10)}-${String(r.int(10000)).padStart(4, '0')}` });
        return;
      }
      case 3: {
        const account = this.pick('Account');
        if (!account) throw new Error('none');
        this.save(account, { Rating: this.picklist('Account', 'Rating'), NumberOfEmployees: 10 + r.int(20000) });
        return;
      }
      case 4: {
        const lead = this.pick('Lead');
        if (!lead || lead.IsConverted) throw new Error('none');
        this.save(lead, { Status: this.picklist('Lead', 'Status', 'Working - Contacted'), Rating: this.picklist('Lead', 'Rating') });
        return;
      }
      case 5: {
        const task = this.pick('Task');
        if (!task) throw new Error('none');
        this.save(task, { Status: this.picklist('Task', 'Status', 'Completed'), Description: 'Done; notes in the account.' });
        return;
      }
      default: {
        const invoice = this.pick('Invoice__c');
        if (!invoice) throw new Error('none');
        const paid = invoice.Status__c === 'Sent';
        this.save(invoice, { Status__c: this.picklist('Invoice__c', 'Status__c', paid ? 'Paid' : 'Sent'), Paid_Date__c: paid ? this.day(0) : undefined });
      }
    }
  }

  /** Several records of one object changed by one data load: they share a SystemModstamp. */
  private bulkUpdate(left: number): void {
    const r = this.rng;
    const n = Math.min(left, 3 + r.int(6));
    const object: PoolObject = r.pick(['Account', 'Contact', 'Case', 'Opportunity'] as const);
    const values: Record<string, Record<string, unknown>> = {
      Account: { Rating: this.picklist('Account', 'Rating') },
      Contact: { LeadSource: this.picklist('Contact', 'LeadSource') },
      Case: { Priority: this.picklist('Case', 'Priority') },
      Opportunity: { NextStep: 'Quarter-end review' },
    };
    const stampMs = this.org.clock.stampMs();
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const record = this.pick(object);
      if (!record || seen.has(record.Id)) continue;
      seen.add(record.Id);
      try {
        this.save(record, values[object]!, stampMs);
      } catch {
        // One rejected row does not stop the rest of a data load.
      }
    }
  }

  /** A contact moves to another account (people change jobs, accounts get merged). */
  private reparent(): void {
    const contact = this.pick('Contact');
    const account = this.pick('Account');
    if (!contact || !account || contact.AccountId === account.Id) throw new Error('none');
    this.save(contact, { AccountId: account.Id });
  }

  // ------------------------------------------------------------ deletes and undeletes

  private remove(): void {
    const r = this.rng;
    let record: StoredRecord | undefined;
    if (!this.accountDeleted || r.chance(0.03)) {
      // An account that has contacts, so that the delete cascades.
      const contact = this.pick('Contact');
      record = typeof contact?.AccountId === 'string' ? this.org.get(contact.AccountId) : undefined;
      if (record?.IsDeleted) record = undefined;
    } else {
      record = this.pick(r.pick(['Task', 'Task', 'Event', 'Contact', 'Lead', 'Opportunity', 'Case', 'Invoice__c'] as const));
    }
    if (!record) throw new Error('none');
    this.org.delete(record.Id, this.options());
    if (record.Id.startsWith('001')) this.accountDeleted = true;
    this.result.deleted++;
    this.deleted.push(record.Id);
  }

  private restore(): void {
    const ids = this.deleted;
    for (let tries = 0; tries < 10 && ids.length; tries++) {
      const i = this.rng.int(ids.length);
      const id = ids[i]!;
      const record = this.org.get(id);
      if (!record || !record.IsDeleted || !this.org.isInRecycleBin(id)) {
        ids[i] = ids[ids.length - 1]!;
        ids.pop();
        continue;
      }
      this.org.undelete(id, this.options());
      this.result.undeleted++;
      ids[i] = ids[ids.length - 1]!;
      ids.pop();
      return;
    }
    throw new Error('nothing to undelete');
  }
}

/** An external ID not yet used (the field is unique). */
function invoiceKey(org: Org, r: Random): string {
  for (;;) {
    const key = String(r.int(1e9)).padStart(9, '0');
    if (!org.findByField('Invoice__c', 'External_Id__c', `ACT-${key}`).length) return key;
  }
}
