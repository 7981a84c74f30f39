/**
 * The org's custom objects. Together they give a backup product the hard cases: a two-level
 * master-detail chain with roll-ups and a formula, an auto-number name, a restricted picklist, an
 * external ID, a self-lookup (hierarchies and cycles), classic encryption, a multi-select picklist,
 * rich and long text, and a big object.
 */
import {
  CREATE_ONLY,
  DATA_OBJECT,
  READ_ONLY,
  REQUIRED,
  checkbox,
  createdFields,
  currency,
  date,
  datetime,
  double,
  email,
  encryptedText,
  idField,
  isDeleted,
  lastActivityDate,
  lastViewedFields,
  masterRecordType,
  multipicklist,
  ownerId,
  percent,
  picklist,
  reference,
  stampFields,
  text,
  textarea,
  url,
} from './fields.ts';
import type { CatalogField, CatalogObject } from './fields.ts';

const CUSTOM_OBJECT = { ...DATA_OBJECT, custom: true, cdcCapable: true } as const;

/** The text Name of a custom object: optional, Salesforce fills it with the ID when left blank. */
function nameField(label: string): CatalogField {
  return text('Name', label, 80, { defaultedOnCreate: true, idLookup: true, nameField: true });
}

/** Id, [OwnerId], IsDeleted, Name, audit fields, SystemModstamp, [LastActivityDate], last viewed. */
function customSystemFields(name: CatalogField, o: { owner: boolean; activities: boolean }): CatalogField[] {
  return [
    idField('Record ID'),
    ...(o.owner ? [ownerId({ referenceTo: ['Group', 'User'] })] : []),
    isDeleted(),
    name,
    ...stampFields(),
    ...(o.activities ? [lastActivityDate()] : []),
    ...lastViewedFields(),
  ];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

export function invoice(): CatalogObject {
  const fields: CatalogField[] = [
    ...customSystemFields(
      text('Name', 'Invoice Number', 30, {
        ...REQUIRED,
        ...READ_ONLY,
        autoNumber: true,
        autoNumberFormat: 'INV-{00000}',
        defaultedOnCreate: true,
        idLookup: true,
        nameField: true,
      }),
      { owner: false, activities: true },
    ),
    reference('Account__c', 'Account', 'Account', 'Account__r', {
      ...REQUIRED,
      ...CREATE_ONLY,
      relationshipOrder: 0,
      cascadeDelete: true,
      childRelationshipName: 'Invoices__r',
    }),
    picklist('Status__c', 'Status', ['Draft', 'Sent', 'Paid', 'Void'], { restrictedPicklist: true, default: 'Draft' }),
    date('Due_Date__c', 'Due Date', REQUIRED),
    date('Paid_Date__c', 'Paid Date'),
    text('External_Id__c', 'External ID', 50, { externalId: true, unique: true, idLookup: true }),
    currency('Total__c', 'Total', 18, 2, {
      ...READ_ONLY,
      rollup: { childObject: 'Invoice_Line__c', childField: 'Invoice__c', op: 'sum', summarizedField: 'Amount__c' },
    }),
    double('Line_Count__c', 'Line Count', 18, 0, {
      ...READ_ONLY,
      rollup: { childObject: 'Invoice_Line__c', childField: 'Invoice__c', op: 'count' },
    }),
    textarea('Notes__c', 'Notes', 32768),
  ];
  return {
    ...CUSTOM_OBJECT,
    name: 'Invoice__c',
    label: 'Invoice',
    labelPlural: 'Invoices',
    keyPrefix: 'a00',
    fields,
    recordTypes: [masterRecordType()],
  };
}

export function invoiceLine(): CatalogObject {
  const fields: CatalogField[] = [
    ...customSystemFields(nameField('Invoice Line Name'), { owner: false, activities: false }),
    reference('Invoice__c', 'Invoice', 'Invoice__c', 'Invoice__r', {
      ...REQUIRED,
      ...CREATE_ONLY,
      relationshipOrder: 0,
      cascadeDelete: true,
      childRelationshipName: 'Invoice_Lines__r',
    }),
    // "Don't allow deletion of the lookup record that's part of a lookup relationship."
    reference('Product__c', 'Product', 'Product2', 'Product__r', {
      restrictedDelete: true,
      childRelationshipName: 'Invoice_Lines__r',
    }),
    double('Quantity__c', 'Quantity', 18, 2, { defaultValue: 1, defaultedOnCreate: true }),
    currency('Unit_Price__c', 'Unit Price', 16, 2),
    currency('Amount__c', 'Amount', 18, 2, {
      ...READ_ONLY,
      formulaText: 'Quantity__c * Unit_Price__c',
      // "Treat blank fields as zeroes", so a line without a price adds 0 to the invoice total.
      formula: (ctx) => round2((num(ctx.record.Quantity__c) ?? 0) * (num(ctx.record.Unit_Price__c) ?? 0)),
      describeHints: { formulaTreatNullNumberAsZero: true },
    }),
    text('Description__c', 'Description', 255),
  ];
  return {
    ...CUSTOM_OBJECT,
    name: 'Invoice_Line__c',
    label: 'Invoice Line',
    labelPlural: 'Invoice Lines',
    keyPrefix: 'a01',
    fields,
    recordTypes: [masterRecordType()],
  };
}

export function project(): CatalogObject {
  const fields: CatalogField[] = [
    ...customSystemFields(nameField('Project Name'), { owner: true, activities: true }),
    reference('Account__c', 'Account', 'Account', 'Account__r', { childRelationshipName: 'Projects__r' }),
    // A self-lookup: projects form hierarchies, and nothing stops a cycle.
    reference('Parent_Project__c', 'Parent Project', 'Project__c', 'Parent_Project__r', {
      childRelationshipName: 'Child_Projects__r',
    }),
    picklist('Status__c', 'Status', ['Planned', 'Active', 'On Hold', 'Completed', 'Cancelled'], { default: 'Planned' }),
    date('Start_Date__c', 'Start Date'),
    date('End_Date__c', 'End Date'),
    currency('Budget__c', 'Budget', 16, 2),
    percent('Progress__c', 'Progress', 5, 2),
    checkbox('Is_Billable__c', 'Billable', true),
    multipicklist('Technologies__c', 'Technologies', [
      'Apex',
      'Lightning Web Components',
      'Flow',
      'Integration',
      'Data Migration',
      'Analytics',
    ]),
    encryptedText('Secret_Code__c', 'Secret Code', 175, '*', { describeHints: { maskType: 'all' } }),
    email('Contact_Email__c', 'Contact Email'),
    url('Website__c', 'Website'),
    textarea('Description__c', 'Description', 32768),
    textarea('Status_Report__c', 'Status Report', 32768, { htmlFormatted: true }),
  ];
  return {
    ...CUSTOM_OBJECT,
    name: 'Project__c',
    label: 'Project',
    labelPlural: 'Projects',
    keyPrefix: 'a02',
    fields,
    recordTypes: [masterRecordType()],
  };
}

/** The big object's index, most significant field first; queries must filter on a prefix of it. */
export const CUSTOMER_INTERACTION_INDEX = ['Account__c', 'Interaction_Date__c', 'Channel__c'] as const;

export function customerInteraction(): CatalogObject {
  // Big object fields are written once: a second insert with the same index values overwrites.
  const fields: CatalogField[] = [
    idField('Record ID'),
    ...createdFields().map(({ audit: _audit, ...rest }) => rest),
    reference('Account__c', 'Account', 'Account', 'Account__r', { ...REQUIRED, ...CREATE_ONLY, childRelationshipName: null }),
    datetime('Interaction_Date__c', 'Interaction Date', { ...REQUIRED, ...CREATE_ONLY }),
    text('Channel__c', 'Channel', 40, { ...REQUIRED, ...CREATE_ONLY }),
    reference('Agent__c', 'Agent', 'User', 'Agent__r', { ...CREATE_ONLY, childRelationshipName: null }),
    double('Sentiment_Score__c', 'Sentiment Score', 5, 2, CREATE_ONLY),
    textarea('Summary__c', 'Summary', 32768, CREATE_ONLY),
  ];
  return {
    ...CUSTOM_OBJECT,
    name: 'Customer_Interaction__b',
    label: 'Customer Interaction',
    labelPlural: 'Customer Interactions',
    keyPrefix: 'a03',
    bigObject: true,
    updateable: false,
    undeletable: false,
    retrieveable: false,
    replicateable: false,
    searchable: false,
    triggerable: false,
    layoutable: false,
    recycleBin: false,
    bulkQueryable: false,
    cdcCapable: false,
    fields,
  };
}
