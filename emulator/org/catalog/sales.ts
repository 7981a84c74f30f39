/**
 * Sales Cloud objects: Account, Contact, Lead, Opportunity and its line items and contact roles,
 * products and price books, campaigns. Field lists, lengths and flags follow recorded describes of
 * real orgs; the `__c` fields are the ones a Developer Edition org ships with.
 */
import type { StoredRecord } from '../schema.ts';
import {
  CREATE_ONLY,
  DATA_OBJECT,
  READ_ONLY,
  REQUIRED,
  addressFields,
  checkbox,
  currency,
  date,
  datetime,
  double,
  email,
  formulaText,
  idField,
  int,
  isDeleted,
  lastActivityDate,
  lastViewedFields,
  masterRecordId,
  masterRecordType,
  ownerId,
  percent,
  personNameFields,
  phone,
  picklist,
  polymorphic,
  recordTypeId,
  recordTypeIdField,
  reference,
  stampFields,
  text,
  textarea,
  url,
} from './fields.ts';
import type { CatalogField, CatalogObject } from './fields.ts';

export const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'] as const;

export const INDUSTRIES = [
  'Agriculture',
  'Apparel',
  'Banking',
  'Biotechnology',
  'Chemicals',
  'Communications',
  'Construction',
  'Consulting',
  'Education',
  'Electronics',
  'Energy',
  'Engineering',
  'Entertainment',
  'Environmental',
  'Finance',
  'Food & Beverage',
  'Government',
  'Healthcare',
  'Hospitality',
  'Insurance',
  'Machinery',
  'Manufacturing',
  'Media',
  'Not For Profit',
  'Recreation',
  'Retail',
  'Shipping',
  'Technology',
  'Telecommunications',
  'Transportation',
  'Utilities',
  'Other',
] as const;

export const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'] as const;
export const RATINGS = ['Hot', 'Warm', 'Cold'] as const;

export const CLEAN_STATUSES = [
  ['Matched', 'In Sync'],
  'Different',
  ['Acknowledged', 'Reviewed'],
  ['NotFound', 'Not Found'],
  'Inactive',
  ['Pending', 'Not Compared'],
  ['SelectMatch', 'Select Match'],
  'Skipped',
] as const;

export const OPPORTUNITY_STAGES = [
  'Prospecting',
  'Qualification',
  'Needs Analysis',
  'Value Proposition',
  'Id. Decision Makers',
  'Perception Analysis',
  'Proposal/Price Quote',
  'Negotiation/Review',
  'Closed Won',
  'Closed Lost',
] as const;

const YES_NO = ['No', 'Yes'] as const;

/** Record types of Account; their IDs are fixed so seeds and tests can name them. */
export const ACCOUNT_RECORD_TYPES = {
  business: recordTypeId(1),
  partner: recordTypeId(2),
  legacy: recordTypeId(3),
} as const;

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

type Lookup = (id: string) => StoredRecord | undefined;

/** A field of the record a lookup points at, or null. */
export function parentField(record: StoredRecord, lookup: Lookup, idField: string, field: string): unknown {
  const id = str(record[idField]);
  return id ? (lookup(id)?.[field] ?? null) : null;
}

export function account(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Account ID'),
    isDeleted(),
    masterRecordId('Account'),
    text('Name', 'Account Name', 255, { ...REQUIRED, nameField: true }),
    picklist(
      'Type',
      'Account Type',
      ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Channel Partner / Reseller', 'Installation Partner', 'Technology Partner', 'Other'],
      { length: 40 },
    ),
    recordTypeIdField(),
    reference('ParentId', 'Parent Account ID', 'Account', 'Parent', { childRelationshipName: 'ChildAccounts' }),
    ...addressFields('Billing', 'Billing'),
    ...addressFields('Shipping', 'Shipping'),
    phone('Phone', 'Account Phone'),
    phone('Fax', 'Account Fax'),
    text('AccountNumber', 'Account Number', 40),
    url('Website', 'Website'),
    url('PhotoUrl', 'Photo URL', { ...READ_ONLY, describeHints: { extraTypeInfo: 'imageurl' } }),
    text('Sic', 'SIC Code', 20),
    picklist('Industry', 'Industry', INDUSTRIES, { length: 40 }),
    currency('AnnualRevenue', 'Annual Revenue', 18, 0),
    int('NumberOfEmployees', 'Employees', 8),
    picklist('Ownership', 'Ownership', ['Public', 'Private', 'Subsidiary', 'Other'], { length: 40 }),
    text('TickerSymbol', 'Ticker Symbol', 20),
    textarea('Description', 'Account Description', 32000),
    picklist('Rating', 'Account Rating', RATINGS, { length: 40 }),
    text('Site', 'Account Site', 80),
    ownerId(),
    ...stampFields(),
    lastActivityDate(),
    ...lastViewedFields(),
    text('Jigsaw', 'Data.com Key', 20),
    text('JigsawCompanyId', 'Jigsaw Company ID', 20, READ_ONLY),
    picklist('CleanStatus', 'Clean Status', CLEAN_STATUSES, { length: 40, restrictedPicklist: true }),
    picklist('AccountSource', 'Account Source', LEAD_SOURCES, { length: 40 }),
    text('DunsNumber', 'D-U-N-S Number', 9),
    text('Tradestyle', 'Tradestyle', 255),
    text('NaicsCode', 'NAICS Code', 8),
    text('NaicsDesc', 'NAICS Description', 120),
    text('YearStarted', 'Year Started', 4),
    text('SicDesc', 'SIC Description', 80),
    picklist('CustomerPriority__c', 'Customer Priority', ['High', 'Low', 'Medium']),
    picklist('SLA__c', 'SLA', ['Gold', 'Silver', 'Platinum', 'Bronze']),
    picklist('Active__c', 'Active', YES_NO),
    double('NumberofLocations__c', 'Number of Locations', 3, 0),
    picklist('UpsellOpportunity__c', 'Upsell Opportunity', ['Maybe', 'No', 'Yes']),
    text('SLASerialNumber__c', 'SLA Serial Number', 10),
    date('SLAExpirationDate__c', 'SLA Expiration Date'),
    formulaText(
      'Billing_Location__c',
      'Billing Location',
      'IF(ISBLANK(BillingCity), BillingCountry, BillingCity & IF(ISBLANK(BillingCountry), "", ", " & BillingCountry))',
      (r) => {
        const city = str(r.BillingCity);
        const country = str(r.BillingCountry);
        if (!city) return country;
        return country ? `${city}, ${country}` : city;
      },
    ),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Account',
    label: 'Account',
    labelPlural: 'Accounts',
    keyPrefix: '001',
    feedEnabled: true,
    mergeable: true,
    cdcCapable: true,
    fields,
    recordTypes: [
      { id: ACCOUNT_RECORD_TYPES.business, developerName: 'Business_Account', name: 'Business Account', active: true, defaultRecordTypeMapping: true, master: false },
      { id: ACCOUNT_RECORD_TYPES.partner, developerName: 'Partner_Account', name: 'Partner Account', active: true, defaultRecordTypeMapping: false, master: false },
      { id: ACCOUNT_RECORD_TYPES.legacy, developerName: 'Legacy_Account', name: 'Legacy Account', active: false, defaultRecordTypeMapping: false, master: false },
      masterRecordType(false),
    ],
    describeHints: {
      supportedScopes: [
        ['everything', 'All accounts'],
        ['mine', 'My accounts'],
        ['scopingRule', 'Filter by scope'],
        ['team', "My team's accounts"],
      ],
    },
  };
}

export function contact(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Contact ID'),
    isDeleted(),
    masterRecordId('Contact'),
    // Salesforce deletes an account's contacts with it, although the lookup is not master-detail.
    reference('AccountId', 'Account ID', 'Account', 'Account', { cascadeDelete: true }),
    ...personNameFields(SALUTATIONS),
    ...addressFields('Other', 'Other'),
    ...addressFields('Mailing', 'Mailing'),
    phone('Phone', 'Business Phone'),
    phone('Fax', 'Business Fax'),
    phone('MobilePhone', 'Mobile Phone'),
    phone('HomePhone', 'Home Phone'),
    phone('OtherPhone', 'Other Phone'),
    phone('AssistantPhone', 'Asst. Phone'),
    reference('ReportsToId', 'Reports To ID', 'Contact', 'ReportsTo', { childRelationshipName: null }),
    email('Email', 'Email', { idLookup: true }),
    text('Title', 'Title', 128),
    text('Department', 'Department', 80),
    text('AssistantName', "Assistant's Name", 40),
    picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    date('Birthdate', 'Birthdate'),
    textarea('Description', 'Contact Description', 32000),
    ownerId(),
    ...stampFields(),
    lastActivityDate(),
    datetime('LastCURequestDate', 'Last Stay-in-Touch Request Date', READ_ONLY),
    datetime('LastCUUpdateDate', 'Last Stay-in-Touch Save Date', READ_ONLY),
    ...lastViewedFields(),
    text('EmailBouncedReason', 'Email Bounced Reason', 255, { describeHints: { permissionable: false } }),
    datetime('EmailBouncedDate', 'Email Bounced Date', { describeHints: { permissionable: false } }),
    checkbox('IsEmailBounced', 'Is Email Bounced', false, READ_ONLY),
    url('PhotoUrl', 'Photo URL', { ...READ_ONLY, describeHints: { extraTypeInfo: 'imageurl' } }),
    text('Jigsaw', 'Data.com Key', 20),
    text('JigsawContactId', 'Jigsaw Contact ID', 20, READ_ONLY),
    picklist('CleanStatus', 'Clean Status', CLEAN_STATUSES, { length: 40, restrictedPicklist: true }),
    text('Languages__c', 'Languages', 100),
    picklist('Level__c', 'Level', ['Secondary', 'Tertiary', 'Primary']),
    formulaText('Account_Name__c', 'Account Name', 'Account.Name', (r, lookup) => str(parentField(r, lookup, 'AccountId', 'Name'))),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Contact',
    label: 'Contact',
    labelPlural: 'Contacts',
    keyPrefix: '003',
    feedEnabled: true,
    mergeable: true,
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
    describeHints: {
      supportedScopes: [
        ['everything', 'All contacts'],
        ['mine', 'My contacts'],
        ['scopingRule', 'Filter by scope'],
        ['team', "My team's contacts"],
      ],
    },
  };
}

export function lead(): CatalogObject {
  const convertedRef = (name: string, label: string, target: string, rel: string) =>
    reference(name, label, target, rel, { ...READ_ONLY, childRelationshipName: null });
  const fields: CatalogField[] = [
    idField('Lead ID'),
    isDeleted(),
    masterRecordId('Lead'),
    ...personNameFields([...SALUTATIONS, 'Mx.']),
    text('Title', 'Title', 128),
    text('Company', 'Company', 255, { ...REQUIRED, describeHints: { permissionable: false } }),
    ...addressFields('', ''),
    phone('Phone', 'Phone'),
    phone('MobilePhone', 'Mobile Phone'),
    phone('Fax', 'Fax'),
    email('Email', 'Email', { idLookup: true }),
    url('Website', 'Website'),
    url('PhotoUrl', 'Photo URL', { ...READ_ONLY, describeHints: { extraTypeInfo: 'imageurl' } }),
    textarea('Description', 'Description', 32000),
    picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    picklist('Status', 'Status', ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'], {
      ...REQUIRED,
      default: 'Open - Not Contacted',
      describeHints: { permissionable: false },
    }),
    picklist('Industry', 'Industry', INDUSTRIES),
    picklist('Rating', 'Rating', RATINGS),
    currency('AnnualRevenue', 'Annual Revenue', 18, 0),
    int('NumberOfEmployees', 'Employees', 8),
    ownerId({ referenceTo: ['Group', 'User'] }),
    checkbox('IsConverted', 'Converted', false, { updateable: false, describeHints: { permissionable: false } }),
    date('ConvertedDate', 'Converted Date', READ_ONLY),
    convertedRef('ConvertedAccountId', 'Converted Account ID', 'Account', 'ConvertedAccount'),
    convertedRef('ConvertedContactId', 'Converted Contact ID', 'Contact', 'ConvertedContact'),
    convertedRef('ConvertedOpportunityId', 'Converted Opportunity ID', 'Opportunity', 'ConvertedOpportunity'),
    checkbox('IsUnreadByOwner', 'Unread By Owner', false, { describeHints: { permissionable: false } }),
    ...stampFields(),
    lastActivityDate(),
    ...lastViewedFields(),
    text('Jigsaw', 'Data.com Key', 20),
    text('JigsawContactId', 'Jigsaw Contact ID', 20, READ_ONLY),
    picklist('CleanStatus', 'Clean Status', CLEAN_STATUSES, { length: 40, restrictedPicklist: true }),
    text('CompanyDunsNumber', 'Company D-U-N-S Number', 9),
    text('EmailBouncedReason', 'Email Bounced Reason', 255, { createable: false, describeHints: { permissionable: false } }),
    datetime('EmailBouncedDate', 'Email Bounced Date', { createable: false, describeHints: { permissionable: false } }),
    text('SICCode__c', 'SIC Code', 15),
    picklist('ProductInterest__c', 'Product Interest', ['GC1000 series', 'GC5000 series', 'GC3000 series']),
    picklist('Primary__c', 'Primary', YES_NO),
    text('CurrentGenerators__c', 'Current Generator(s)', 100),
    double('NumberofLocations__c', 'Number of Locations', 3, 0),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Lead',
    label: 'Lead',
    labelPlural: 'Leads',
    keyPrefix: '00Q',
    feedEnabled: true,
    mergeable: true,
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
    describeHints: {
      supportedScopes: [
        ['everything', 'All leads'],
        ['mine', 'My leads'],
        ['queue_owned', 'Queue owned leads'],
        ['scopingRule', 'Filter by scope'],
        ['team', "My team's leads"],
        ['user_owned', 'User owned leads'],
      ],
    },
  };
}

/** Calendar quarter and year of a close date; the org's fiscal year starts in January. */
function fiscalParts(closeDate: unknown): { year: number; quarter: number } | null {
  if (typeof closeDate !== 'string' || !/^\d{4}-\d{2}/.test(closeDate)) return null;
  return { year: Number(closeDate.slice(0, 4)), quarter: Math.floor((Number(closeDate.slice(5, 7)) - 1) / 3) + 1 };
}

export function opportunity(): CatalogObject {
  const systemComputed = { ...READ_ONLY, describeHints: { calculated: false } };
  const fields: CatalogField[] = [
    idField('Opportunity ID'),
    isDeleted(),
    // Deleting an account deletes its opportunities (describe shows the cascade too).
    reference('AccountId', 'Account ID', 'Account', 'Account', { cascadeDelete: true }),
    checkbox('IsPrivate', 'Private', false),
    text('Name', 'Name', 120, { ...REQUIRED, nameField: true, idLookup: true }),
    textarea('Description', 'Description', 32000),
    picklist('StageName', 'Stage', OPPORTUNITY_STAGES, { ...REQUIRED, describeHints: { permissionable: false } }),
    currency('Amount', 'Amount', 18, 2),
    percent('Probability', 'Probability (%)', 3, 0, { defaultedOnCreate: true }),
    currency('ExpectedRevenue', 'Expected Amount', 18, 2, {
      ...systemComputed,
      describeHints: { calculated: false, permissionable: true },
      formula: (ctx) => {
        const amount = num(ctx.record.Amount);
        const probability = num(ctx.record.Probability);
        return amount === null || probability === null ? null : Math.round(amount * probability) / 100;
      },
    }),
    double('TotalOpportunityQuantity', 'Quantity', 18, 2),
    date('CloseDate', 'Close Date', { ...REQUIRED, describeHints: { permissionable: false } }),
    picklist('Type', 'Opportunity Type', [
      'Existing Customer - Upgrade',
      'Existing Customer - Replacement',
      'Existing Customer - Downgrade',
      'New Customer',
    ]),
    text('NextStep', 'Next Step', 255),
    picklist('LeadSource', 'Lead Source', LEAD_SOURCES),
    checkbox('IsClosed', 'Closed', false, {
      ...systemComputed,
      formula: (ctx) => ctx.record.StageName === 'Closed Won' || ctx.record.StageName === 'Closed Lost',
    }),
    checkbox('IsWon', 'Won', false, { ...systemComputed, formula: (ctx) => ctx.record.StageName === 'Closed Won' }),
    picklist(
      'ForecastCategory',
      'Forecast Category',
      ['Omitted', 'Pipeline', ['BestCase', 'Best Case'], ['MostLikely', 'Most Likely'], ['Forecast', 'Commit'], 'Closed'],
      { length: 40, ...REQUIRED, ...READ_ONLY, restrictedPicklist: true, describeHints: { permissionable: false } },
    ),
    picklist('ForecastCategoryName', 'Forecast Category', ['Omitted', 'Pipeline', 'Best Case', 'Commit', 'Closed'], {
      restrictedPicklist: true,
      defaultedOnCreate: true,
      describeHints: { permissionable: false },
    }),
    reference('CampaignId', 'Campaign ID', 'Campaign', 'Campaign'),
    checkbox('HasOpportunityLineItem', 'Has Line Item', false, READ_ONLY),
    reference('Pricebook2Id', 'Price Book ID', 'Pricebook2', 'Pricebook2', {
      defaultedOnCreate: true,
      describeHints: { permissionable: false },
    }),
    ownerId(),
    ...stampFields(),
    lastActivityDate(),
    datetime('LastStageChangeDate', 'Last Stage Change Date', READ_ONLY),
    int('FiscalQuarter', 'Fiscal Quarter', 8, {
      ...systemComputed,
      compoundFieldName: 'Fiscal',
      formula: (ctx) => fiscalParts(ctx.record.CloseDate)?.quarter ?? null,
    }),
    int('FiscalYear', 'Fiscal Year', 8, {
      ...systemComputed,
      compoundFieldName: 'Fiscal',
      formula: (ctx) => fiscalParts(ctx.record.CloseDate)?.year ?? null,
    }),
    text('Fiscal', 'Fiscal Period', 6, {
      ...systemComputed,
      describeHints: { calculated: false, byteLength: 6 },
      formula: (ctx) => {
        const parts = fiscalParts(ctx.record.CloseDate);
        return parts ? `${parts.year} ${parts.quarter}` : null;
      },
    }),
    // Only settable on create (the contact role it makes); describe shows no relationship name.
    reference('ContactId', 'Contact ID', 'Contact', undefined, {
      updateable: false,
      describeHints: { permissionable: false, childRelationshipName: 'Opportunities' },
    }),
    ...lastViewedFields(),
    checkbox('HasOpenActivity', 'Has Open Activity', false, { ...READ_ONLY, filterable: false, sortable: false }),
    checkbox('HasOverdueTask', 'Has Overdue Task', false, { ...READ_ONLY, filterable: false, sortable: false }),
    picklist('DeliveryInstallationStatus__c', 'Delivery/Installation Status', ['In progress', 'Yet to begin', 'Completed']),
    text('TrackingNumber__c', 'Tracking Number', 12),
    text('OrderNumber__c', 'Order Number', 8),
    text('CurrentGenerators__c', 'Current Generator(s)', 100),
    text('MainCompetitors__c', 'Main Competitor(s)', 100),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Opportunity',
    label: 'Opportunity',
    labelPlural: 'Opportunities',
    keyPrefix: '006',
    feedEnabled: true,
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
    describeHints: {
      deepCloneable: true,
      supportedScopes: [
        ['everything', 'All opportunities'],
        ['mine', 'My opportunities'],
        ['scopingRule', 'Filter by scope'],
        ['team', "My team's opportunities"],
      ],
    },
  };
}

export function opportunityLineItem(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Line Item ID'),
    reference('OpportunityId', 'Opportunity ID', 'Opportunity', 'Opportunity', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'OpportunityLineItems',
    }),
    int('SortOrder', 'Sort Order', 9, READ_ONLY),
    // A price book entry in use by line items cannot be deleted.
    reference('PricebookEntryId', 'Price Book Entry ID', 'PricebookEntry', 'PricebookEntry', {
      ...CREATE_ONLY,
      restrictedDelete: true,
      childRelationshipName: 'OpportunityLineItems',
    }),
    reference('Product2Id', 'Product ID', 'Product2', 'Product2', { ...CREATE_ONLY, childRelationshipName: null }),
    text('ProductCode', 'Product Code', 255, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => parentField(ctx.record, (id) => ctx.lookup(id), 'Product2Id', 'ProductCode'),
    }),
    text('Name', 'Opportunity Product Name', 376, {
      ...READ_ONLY,
      nameField: true,
      describeHints: { calculated: false },
      formula: (ctx) => {
        const opp = str(parentField(ctx.record, (id) => ctx.lookup(id), 'OpportunityId', 'Name'));
        const product = str(parentField(ctx.record, (id) => ctx.lookup(id), 'Product2Id', 'Name'));
        return [opp, product].filter(Boolean).join(' ') || null;
      },
    }),
    double('Quantity', 'Quantity', 12, 2, REQUIRED),
    currency('TotalPrice', 'Total Price', 16, 2),
    currency('UnitPrice', 'Sales Price', 16, 2),
    currency('ListPrice', 'List Price', 16, 2, READ_ONLY),
    date('ServiceDate', 'Date'),
    text('Description', 'Line Description', 255),
    ...stampFields(),
    isDeleted(),
    ...lastViewedFields(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'OpportunityLineItem',
    label: 'Opportunity Product',
    labelPlural: 'Opportunity Product',
    keyPrefix: '00k',
    undeletable: false,
    searchable: false,
    recycleBin: false,
    fields,
  };
}

export function opportunityContactRole(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Contact Role ID'),
    reference('OpportunityId', 'Opportunity ID', 'Opportunity', 'Opportunity', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'OpportunityContactRoles',
      describeHints: { permissionable: false, searchPrefilterable: false },
    }),
    reference('ContactId', 'Contact ID', 'Contact', 'Contact', {
      ...REQUIRED,
      cascadeDelete: true,
      childRelationshipName: 'OpportunityContactRoles',
      describeHints: { permissionable: false, searchPrefilterable: false },
    }),
    picklist(
      'Role',
      'Role',
      [
        'Business User',
        'Decision Maker',
        'Economic Buyer',
        'Economic Decision Maker',
        'Evaluator',
        'Executive Sponsor',
        'Influencer',
        'Technical Buyer',
        'Other',
      ],
      { length: 40, describeHints: { permissionable: false } },
    ),
    checkbox('IsPrimary', 'Primary', false, { describeHints: { permissionable: false } }),
    ...stampFields(),
    isDeleted(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'OpportunityContactRole',
    label: 'Opportunity Contact Role',
    labelPlural: 'Opportunity Contact Role',
    keyPrefix: '00K',
    undeletable: false,
    searchable: false,
    recycleBin: false,
    fields,
    describeHints: { supportedScopes: [['everything', 'All opportunity contact role']] },
  };
}

export function product2(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Product ID'),
    text('Name', 'Product Name', 255, { ...REQUIRED, nameField: true }),
    text('ProductCode', 'Product Code', 255),
    textarea('Description', 'Product Description', 4000),
    checkbox('IsActive', 'Active', false),
    ...stampFields(),
    picklist('Family', 'Product Family', ['Hardware', 'Software', 'Services'], { length: 40 }),
    text('ExternalId', 'External ID', 255),
    url('DisplayUrl', 'Display URL', { length: 1000 }),
    picklist('QuantityUnitOfMeasure', 'Quantity Unit Of Measure', ['Each']),
    isDeleted(),
    checkbox('IsArchived', 'Archived', false, READ_ONLY),
    ...lastViewedFields(),
    text('StockKeepingUnit', 'Product SKU', 180),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Product2',
    label: 'Product',
    labelPlural: 'Products',
    keyPrefix: '01t',
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
  };
}

export function pricebook2(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Price Book ID'),
    isDeleted(),
    text('Name', 'Price Book Name', 255, { ...REQUIRED, nameField: true }),
    ...stampFields(),
    ...lastViewedFields(),
    checkbox('IsActive', 'Active', false),
    checkbox('IsArchived', 'Archived', false, READ_ONLY),
    text('Description', 'Description', 255),
    checkbox('IsStandard', 'Is Standard Price Book', false, READ_ONLY),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Pricebook2',
    label: 'Price Book',
    labelPlural: 'Price Books',
    keyPrefix: '01s',
    fields,
  };
}

export function pricebookEntry(): CatalogObject {
  const productField = (name: string, label: string, source: string) =>
    text(name, label, 255, {
      ...READ_ONLY,
      ...(name === 'Name' ? { nameField: true } : {}),
      describeHints: { calculated: false },
      formula: (ctx) => parentField(ctx.record, (id) => ctx.lookup(id), 'Product2Id', source),
    });
  const fields: CatalogField[] = [
    idField('Price Book Entry ID'),
    productField('Name', 'Product Name', 'Name'),
    reference('Pricebook2Id', 'Price Book ID', 'Pricebook2', 'Pricebook2', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'PricebookEntries',
    }),
    reference('Product2Id', 'Product ID', 'Product2', 'Product2', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'PricebookEntries',
    }),
    currency('UnitPrice', 'List Price', 16, 2, REQUIRED),
    checkbox('IsActive', 'Active', false),
    checkbox('UseStandardPrice', 'Use Standard Price', false),
    ...stampFields(),
    productField('ProductCode', 'Product Code', 'ProductCode'),
    isDeleted(),
    checkbox('IsArchived', 'Archived', false, READ_ONLY),
  ];
  return {
    ...DATA_OBJECT,
    name: 'PricebookEntry',
    label: 'Price Book Entry',
    labelPlural: 'Price Book Entries',
    keyPrefix: '01u',
    undeletable: false,
    searchable: false,
    recycleBin: false,
    fields,
  };
}

export function campaign(): CatalogObject {
  const count = (name: string, label: string) => int(name, label, 9, READ_ONLY);
  const fields: CatalogField[] = [
    idField('Campaign ID'),
    isDeleted(),
    text('Name', 'Name', 80, { ...REQUIRED, nameField: true }),
    reference('ParentId', 'Parent Campaign ID', 'Campaign', 'Parent', { childRelationshipName: 'ChildCampaigns' }),
    picklist('Type', 'Type', [
      'Conference',
      'Webinar',
      'Trade Show',
      'Public Relations',
      'Partners',
      'Referral Program',
      'Advertisement',
      'Banner Ads',
      'Direct Mail',
      'Email',
      'Telemarketing',
      'Other',
    ]),
    picklist('Status', 'Status', ['Planned', 'In Progress', 'Completed', 'Aborted']),
    date('StartDate', 'Start Date'),
    date('EndDate', 'End Date'),
    currency('ExpectedRevenue', 'Expected Revenue in Campaign', 18, 0),
    currency('BudgetedCost', 'Budgeted Cost in Campaign', 18, 0),
    currency('ActualCost', 'Actual Cost in Campaign', 18, 0),
    percent('ExpectedResponse', 'Expected Response (%)', 10, 2),
    double('NumberSent', 'Num Sent in Campaign', 18, 0),
    checkbox('IsActive', 'Active', false),
    textarea('Description', 'Description', 32000),
    count('NumberOfLeads', 'Leads in Campaign'),
    count('NumberOfConvertedLeads', 'Converted Leads in Campaign'),
    count('NumberOfContacts', 'Contacts in Campaign'),
    count('NumberOfResponses', 'Responses in Campaign'),
    count('NumberOfOpportunities', 'Opportunities in Campaign'),
    count('NumberOfWonOpportunities', 'Won Opportunities in Campaign'),
    currency('AmountAllOpportunities', 'Value Opportunities in Campaign', 18, 0, READ_ONLY),
    currency('AmountWonOpportunities', 'Value Won Opportunities in Campaign', 18, 0, READ_ONLY),
    ownerId(),
    ...stampFields(),
    lastActivityDate(),
    ...lastViewedFields(),
    reference('CampaignMemberRecordTypeId', 'Record Type ID', 'RecordType', 'CampaignMemberRecordType', {
      childRelationshipName: null,
    }),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Campaign',
    label: 'Campaign',
    labelPlural: 'Campaigns',
    keyPrefix: '701',
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
    describeHints: { deepCloneable: true },
  };
}

export function campaignMember(): CatalogObject {
  // The member's details are copies Salesforce keeps in step with the lead or contact.
  const member = (record: StoredRecord, lookup: Lookup) => {
    const id = str(record.ContactId) ?? str(record.LeadId);
    return id ? lookup(id) : undefined;
  };
  const copied = (name: string, label: string, length: number, source = name) =>
    text(name, label, length, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => member(ctx.record, (id) => ctx.lookup(id))?.[source] ?? null,
    });
  const fields: CatalogField[] = [
    idField('Campaign Member ID'),
    isDeleted(),
    reference('CampaignId', 'Campaign ID', 'Campaign', 'Campaign', { ...REQUIRED, ...CREATE_ONLY, cascadeDelete: true }),
    reference('LeadId', 'Lead ID', 'Lead', 'Lead', { ...CREATE_ONLY, cascadeDelete: true }),
    reference('ContactId', 'Contact ID', 'Contact', 'Contact', { ...CREATE_ONLY, cascadeDelete: true }),
    picklist('Status', 'Status', ['Planned', 'Received', 'Responded', 'Sent'], { default: 'Sent' }),
    checkbox('HasResponded', 'Responded', false, READ_ONLY),
    ...stampFields(),
    date('FirstRespondedDate', 'First Responded Date', READ_ONLY),
    copied('Name', 'Name', 121),
    copied('FirstName', 'First Name', 40),
    copied('LastName', 'Last Name', 80),
    copied('Title', 'Title', 128),
    copied('Email', 'Email', 80),
    copied('Phone', 'Phone', 40),
    text('Type', 'Type', 40, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => (str(ctx.record.ContactId) ? 'Contact' : str(ctx.record.LeadId) ? 'Lead' : null),
    }),
    polymorphic('LeadOrContactId', 'Contact or Lead ID', ['Contact', 'Lead'], 'LeadOrContact', {
      ...READ_ONLY,
      childRelationshipName: null,
      describeHints: { calculated: false },
      formula: (ctx) => str(ctx.record.ContactId) ?? str(ctx.record.LeadId),
    }),
  ];
  return {
    ...DATA_OBJECT,
    name: 'CampaignMember',
    label: 'Campaign Member',
    labelPlural: 'Campaign Members',
    keyPrefix: '00v',
    undeletable: false,
    searchable: false,
    recycleBin: false,
    fields,
    recordTypes: [masterRecordType()],
    describeHints: { quickActions: false },
  };
}
