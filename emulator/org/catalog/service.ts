/** Service Cloud objects: Case and its comments. */
import {
  CREATE_ONLY,
  DATA_OBJECT,
  READ_ONLY,
  REQUIRED,
  checkbox,
  datetime,
  email,
  idField,
  isDeleted,
  lastViewedFields,
  masterRecordId,
  masterRecordType,
  ownerId,
  phone,
  picklist,
  reference,
  stampFields,
  auditFields,
  systemModstamp,
  text,
  textarea,
} from './fields.ts';
import type { CatalogField, CatalogObject } from './fields.ts';
import { parentField } from './sales.ts';

export function caseObject(): CatalogObject {
  const contactCopy = (name: string, label: string, source: string, type: 'phone' | 'email') =>
    (type === 'phone' ? phone : email)(name, label, {
      ...READ_ONLY,
      describeHints: { calculated: false, permissionable: false },
      formula: (ctx) => parentField(ctx.record, (id) => ctx.lookup(id), 'ContactId', source),
    });
  const fields: CatalogField[] = [
    idField('Case ID'),
    isDeleted(),
    masterRecordId('Case'),
    text('CaseNumber', 'Case Number', 30, {
      ...REQUIRED,
      ...READ_ONLY,
      autoNumber: true,
      autoNumberFormat: '{00000000}',
      defaultedOnCreate: true,
      idLookup: true,
      nameField: true,
    }),
    // Salesforce refuses to delete a contact that cases point at; describe says so too.
    reference('ContactId', 'Contact ID', 'Contact', 'Contact', { describeHints: { childRestrictedDelete: true } }),
    // Deleting an account deletes its cases, but describe reports the relationship as restricted
    // (the delete fails when the user cannot delete every case), so the two are kept apart.
    reference('AccountId', 'Account ID', 'Account', 'Account', {
      cascadeDelete: true,
      describeHints: { childCascadeDelete: false, childRestrictedDelete: true },
    }),
    reference('ParentId', 'Parent Case ID', 'Case', 'Parent'),
    text('SuppliedName', 'Name', 80),
    email('SuppliedEmail', 'Email Address'),
    text('SuppliedPhone', 'Phone', 40),
    text('SuppliedCompany', 'Company', 80),
    picklist('Type', 'Case Type', ['Mechanical', 'Electrical', 'Electronic', 'Structural', 'Other'], { length: 40 }),
    picklist('Status', 'Status', ['New', 'Working', 'Escalated', 'Closed'], {
      length: 40,
      default: 'New',
      describeHints: { permissionable: false },
    }),
    picklist(
      'Reason',
      'Case Reason',
      ['Installation', 'Equipment Complexity', 'Performance', 'Breakdown', 'Equipment Design', 'Feedback', 'Other'],
      { length: 40 },
    ),
    picklist('Origin', 'Case Origin', ['Phone', 'Email', 'Web'], { length: 40 }),
    text('Subject', 'Subject', 255),
    picklist('Priority', 'Priority', ['High', 'Medium', 'Low'], { length: 40, default: 'Medium' }),
    textarea('Description', 'Description', 32000),
    checkbox('IsClosed', 'Closed', false, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => ctx.record.Status === 'Closed',
    }),
    datetime('ClosedDate', 'Closed Date', { ...READ_ONLY, describeHints: { permissionable: true } }),
    checkbox('IsEscalated', 'Escalated', false),
    ownerId({ referenceTo: ['Group', 'User'] }),
    ...stampFields(),
    contactCopy('ContactPhone', 'Contact Phone', 'Phone', 'phone'),
    contactCopy('ContactMobile', 'Contact Mobile', 'MobilePhone', 'phone'),
    contactCopy('ContactEmail', 'Contact Email', 'Email', 'email'),
    contactCopy('ContactFax', 'Contact Fax', 'Fax', 'phone'),
    textarea('Comments', 'Internal Comments', 4000, {
      sortable: true,
      describeHints: { byteLength: 4000, aggregatable: true, permissionable: false },
    }),
    ...lastViewedFields(),
    text('EngineeringReqNumber__c', 'Engineering Req Number', 12),
    picklist('SLAViolation__c', 'SLA Violation', ['No', 'Yes']),
    picklist('Product__c', 'Product', ['GC1040', 'GC1060', 'GC3020', 'GC3040', 'GC3060', 'GC5020', 'GC5040', 'GC5060', 'GC1020']),
    picklist('PotentialLiability__c', 'Potential Liability', ['No', 'Yes']),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Case',
    label: 'Case',
    labelPlural: 'Cases',
    keyPrefix: '500',
    feedEnabled: true,
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
    describeHints: {
      supportedScopes: [
        ['everything', 'All cases'],
        ['genericteam', 'My case teams cases'],
        ['mine', 'My cases'],
        ['queue_owned', 'Queue owned cases'],
        ['team_by_role', "My role-based team's cases"],
        ['user_owned', 'User owned cases'],
      ],
      extraUrls: {
        caseArticleSuggestions: '/suggestedArticles',
        caseRowArticleSuggestions: '/{ID}/suggestedArticles',
      },
    },
  };
}

export function caseComment(): CatalogObject {
  const [createdDate, createdById, lastModifiedDate, lastModifiedById] = auditFields();
  const fields: CatalogField[] = [
    idField('Case Comment ID'),
    reference('ParentId', 'Parent Case ID', 'Case', 'Parent', {
      ...REQUIRED,
      ...CREATE_ONLY,
      cascadeDelete: true,
      childRelationshipName: 'CaseComments',
    }),
    checkbox('IsPublished', 'Published'),
    textarea('CommentBody', 'Body', 4000),
    createdById,
    createdDate,
    systemModstamp(),
    lastModifiedDate,
    lastModifiedById,
    isDeleted(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'CaseComment',
    label: 'Case Comment',
    labelPlural: 'Case Comments',
    keyPrefix: '00a',
    undeletable: false,
    searchable: false,
    layoutable: false,
    recycleBin: false,
    fields,
  };
}
