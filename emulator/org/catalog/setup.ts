/**
 * Setup objects: users, profiles, queues and groups, record types, the organization itself, and two
 * read-only logs (LoginHistory, SetupAuditTrail) that show a backup product what objects without a
 * SystemModstamp look like.
 */
import {
  CREATE_ONLY,
  DATA_OBJECT,
  READ_ONLY,
  READ_ONLY_OBJECT,
  REQUIRED,
  addressFields,
  checkbox,
  createdFields,
  datetime,
  email,
  idField,
  int,
  lastViewedFields,
  ownerId,
  personNameFields,
  phone,
  picklist,
  polymorphic,
  reference,
  stampFields,
  systemModstamp,
  text,
  textarea,
  url,
} from './fields.ts';
import type { CatalogField, CatalogObject } from './fields.ts';
import { EMAIL_ENCODINGS, LANGUAGES, LOCALES, TIME_ZONES } from './locales.ts';

const USER_TYPES = [
  'Standard',
  ['PowerPartner', 'Partner'],
  ['PowerCustomerSuccess', 'Customer Portal Manager'],
  ['CustomerSuccess', 'Customer Portal User'],
  ['Guest', 'Guest'],
  ['CspLitePortal', 'High Volume Portal'],
  ['CsnOnly', 'CSN Only'],
  ['SelfService', 'Self Service'],
] as const;

const localePicklists = (o: { timeZone: string; locale: string; language: string }): CatalogField[] => [
  picklist(o.timeZone, 'Time Zone', TIME_ZONES, { length: 40, ...REQUIRED, restrictedPicklist: true }),
  picklist(o.locale, 'Locale', LOCALES, { length: 40, ...REQUIRED, restrictedPicklist: true }),
  picklist(o.language, 'Language', LANGUAGES, { length: 40, ...REQUIRED, restrictedPicklist: true }),
];

export function user(): CatalogObject {
  const [timeZone, locale, language] = localePicklists({
    timeZone: 'TimeZoneSidKey',
    locale: 'LocaleSidKey',
    language: 'LanguageLocaleKey',
  });
  const fields: CatalogField[] = [
    idField('User ID'),
    text('Username', 'Username', 80, { ...REQUIRED, unique: true, idLookup: true }),
    ...personNameFields([], { nameLabel: 'Full Name' }).filter((f) => f.name !== 'Salutation'),
    text('CompanyName', 'Company Name', 80),
    text('Division', 'Division', 80),
    text('Department', 'Department', 80),
    text('Title', 'Title', 80),
    ...addressFields('', ''),
    email('Email', 'Email', { length: 128, ...REQUIRED, idLookup: true }),
    phone('Phone', 'Phone'),
    phone('Fax', 'Fax'),
    phone('MobilePhone', 'Mobile'),
    text('Alias', 'Alias', 8, REQUIRED),
    text('CommunityNickname', 'Nickname', 40, { ...REQUIRED, defaultedOnCreate: true, unique: true, idLookup: true }),
    checkbox('IsActive', 'Active', true),
    timeZone,
    locale,
    checkbox('ReceivesInfoEmails', 'Info Emails'),
    checkbox('ReceivesAdminInfoEmails', 'Admin Info Emails'),
    picklist('EmailEncodingKey', 'Email Encoding', EMAIL_ENCODINGS, { length: 40, ...REQUIRED, restrictedPicklist: true }),
    reference('ProfileId', 'Profile ID', 'Profile', 'Profile', { ...REQUIRED, childRelationshipName: 'Users' }),
    picklist('UserType', 'User Type', USER_TYPES, { length: 40, ...READ_ONLY, restrictedPicklist: true, defaultedOnCreate: true }),
    language,
    text('EmployeeNumber', 'Employee Number', 20),
    polymorphic('DelegatedApproverId', 'Delegated Approver ID', ['Group', 'User'], 'DelegatedApprover', { childRelationshipName: null }),
    reference('ManagerId', 'Manager ID', 'User', 'Manager', { childRelationshipName: 'ManagedUsers' }),
    datetime('LastLoginDate', 'Last Login', READ_ONLY),
    datetime('LastPasswordChangeDate', 'Last Password Change or Reset', READ_ONLY),
    ...stampFields(),
    // Portal users point at their contact; a contact with a user cannot be deleted.
    reference('ContactId', 'Contact ID', 'Contact', 'Contact', { ...CREATE_ONLY, restrictedDelete: true, childRelationshipName: 'Users' }),
    reference('AccountId', 'Account ID', 'Account', 'Account', { ...READ_ONLY, childRelationshipName: 'Users' }),
    text('FederationIdentifier', 'SAML Federation ID', 512, { idLookup: true }),
    textarea('AboutMe', 'About Me', 1000),
    url('FullPhotoUrl', 'Url for full-sized Photo', { length: 1024, ...READ_ONLY, describeHints: { extraTypeInfo: 'imageurl' } }),
    url('SmallPhotoUrl', 'Photo', { length: 1024, ...READ_ONLY, describeHints: { extraTypeInfo: 'imageurl' } }),
    ...lastViewedFields(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'User',
    label: 'User',
    labelPlural: 'Users',
    keyPrefix: '005',
    // Users are deactivated, never deleted; the object has no IsDeleted field.
    deletable: false,
    undeletable: false,
    recycleBin: false,
    feedEnabled: true,
    cdcCapable: true,
    fields,
    describeHints: {
      approvalLayouts: false,
      listviews: false,
      extraUrls: {
        namedLayouts: '/describe/namedLayouts/{LayoutName}',
        passwordUtilities: '/{ID}/password',
      },
    },
  };
}

export function profile(): CatalogObject {
  const permission = (name: string, label: string) => checkbox(`Permissions${name}`, label);
  const fields: CatalogField[] = [
    idField('Profile ID'),
    text('Name', 'Name', 255, { ...REQUIRED, nameField: true }),
    permission('EmailSingle', 'Send Email'),
    permission('RunReports', 'Run Reports'),
    permission('ExportReport', 'Export Reports'),
    permission('ApiEnabled', 'API Enabled'),
    permission('ViewSetup', 'View Setup and Configuration'),
    permission('ModifyAllData', 'Modify All Data'),
    permission('ViewAllData', 'View All Data'),
    permission('ManageUsers', 'Manage Users'),
    permission('CustomizeApplication', 'Customize Application'),
    permission('AuthorApex', 'Author Apex'),
    permission('ViewEncryptedData', 'View Encrypted Data'),
    picklist('UserType', 'User Type', USER_TYPES, { length: 40, ...READ_ONLY, restrictedPicklist: true }),
    ...stampFields(),
    text('Description', 'Description', 255),
    ...lastViewedFields(),
  ].map((f) => ({ ...f, createable: false }));
  return {
    ...DATA_OBJECT,
    name: 'Profile',
    label: 'Profile',
    labelPlural: 'Profile',
    keyPrefix: '00e',
    createable: false,
    deletable: false,
    undeletable: false,
    searchable: false,
    triggerable: false,
    layoutable: false,
    recycleBin: false,
    fields,
  };
}

export function group(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Group ID'),
    text('Name', 'Name', 40, { ...REQUIRED, nameField: true }),
    text('DeveloperName', 'Developer Name', 80, { defaultedOnCreate: true }),
    reference('RelatedId', 'Related ID', 'User', 'Related', { ...READ_ONLY, childRelationshipName: null }),
    picklist(
      'Type',
      'Type',
      ['Regular', 'Queue', 'Role', 'RoleAndSubordinates', 'RoleAndSubordinatesInternal', 'Organization', 'Manager', 'ManagerAndSubordinatesInternal', 'AllCustomerPortal'],
      { length: 40, ...REQUIRED, ...CREATE_ONLY, restrictedPicklist: true },
    ),
    email('Email', 'Email', { length: 255 }),
    ownerId({ referenceTo: ['Organization', 'User'] }),
    checkbox('DoesSendEmailToMembers', 'Send Email to Members'),
    checkbox('DoesIncludeBosses', 'Include Bosses'),
    ...stampFields(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Group',
    label: 'Group',
    labelPlural: 'Groups',
    keyPrefix: '00G',
    undeletable: false,
    searchable: false,
    triggerable: false,
    layoutable: false,
    recycleBin: false,
    fields,
  };
}

/** RecordType; the SobjectType picklist is filled in from the catalog's objects. */
export function recordType(sobjectTypes: readonly string[]): CatalogObject {
  const fields: CatalogField[] = [
    idField('Record Type ID'),
    text('Name', 'Name', 80, { ...REQUIRED, nameField: true }),
    text('DeveloperName', 'Record Type Name', 80, REQUIRED),
    text('NamespacePrefix', 'Namespace Prefix', 15, READ_ONLY),
    text('Description', 'Description', 255),
    picklist('SobjectType', 'SObject Type Name', sobjectTypes, { length: 40, ...REQUIRED, ...CREATE_ONLY, restrictedPicklist: true }),
    checkbox('IsActive', 'Active'),
    checkbox('IsPersonType', 'Is Person Type', false, READ_ONLY),
    ...stampFields(),
  ];
  return {
    ...DATA_OBJECT,
    name: 'RecordType',
    label: 'Record Type',
    labelPlural: 'Record Types',
    keyPrefix: '012',
    // Managed as metadata: created and edited, never deleted through the data API.
    deletable: false,
    undeletable: false,
    searchable: false,
    triggerable: false,
    layoutable: false,
    recycleBin: false,
    fields,
  };
}

/** Organization, its fields in the order a real org returns them. */
export function organization(): CatalogObject {
  const editable = { createable: false, updateable: true } as const;
  const fixed = READ_ONLY;
  const access = (name: string, label: string, values: readonly string[]) =>
    picklist(name, label, values, { length: 40, ...REQUIRED, ...fixed, restrictedPicklist: true });
  const [timeZone, locale, language] = localePicklists({
    timeZone: 'TimeZoneSidKey',
    locale: 'DefaultLocaleSidKey',
    language: 'LanguageLocaleKey',
  });
  const preference = (name: string, label: string) => checkbox(`Preferences${name}`, label, false, editable);
  const fields: CatalogField[] = [
    idField('Organization ID'),
    text('Name', 'Name', 80, { ...REQUIRED, ...editable, nameField: true }),
    text('Division', 'Division', 80, editable),
    ...addressFields('', '', editable),
    phone('Phone', 'Phone', editable),
    phone('Fax', 'Fax', editable),
    text('PrimaryContact', 'Primary Contact', 80, fixed),
    { ...locale, ...editable },
    { ...timeZone, ...editable },
    { ...language, ...editable },
    checkbox('ReceivesInfoEmails', 'Info Emails', false, editable),
    checkbox('ReceivesAdminInfoEmails', 'Info Emails Admin', false, editable),
    preference('RequireOpportunityProducts', 'RequireOpportunityProducts'),
    preference('TransactionSecurityPolicy', 'TransactionSecurityPolicy'),
    preference('TerminateOldestSession', 'TerminateOldestSession'),
    preference('ConsentManagementEnabled', 'ConsentManagementEnabled'),
    preference('AutoSelectIndividualOnMerge', 'AutoSelectIndividualOnMerge'),
    preference('LightningLoginEnabled', 'LightningLoginEnabled'),
    preference('OnlyLLPermUserAllowed', 'OnlyLLPermUserAllowed'),
    int('FiscalYearStartMonth', 'Fiscal Year Starts In', 9, fixed),
    checkbox('UsesStartDateAsFiscalYearName', 'Fiscal Year Name by Start', false, fixed),
    access('DefaultAccountAccess', 'Default Account Access', ['None', 'Read', 'Edit']),
    access('DefaultContactAccess', 'Default Contact Access', ['None', 'Read', 'Edit', 'ControlledByParent']),
    access('DefaultOpportunityAccess', 'Default Opportunity Access', ['None', 'Read', 'Edit']),
    access('DefaultLeadAccess', 'Default Lead Access', ['None', 'Read', 'Edit', 'ReadEditTransfer']),
    access('DefaultCaseAccess', 'Default Case Access', ['None', 'Read', 'Edit', 'ReadEditTransfer']),
    access('DefaultCalendarAccess', 'Default Calendar Access', [
      'HideDetails',
      'HideDetailsInsert',
      'ShowDetails',
      'ShowDetailsInsert',
      'AllowEdits',
    ]),
    access('DefaultPricebookAccess', 'Default Price Book Access', ['None', 'Read', 'ReadSelect']),
    access('DefaultCampaignAccess', 'Default Campaign Access', ['None', 'Read', 'Edit', 'All']),
    url('DelegatedAuthenticationServiceUrl', 'Delegated Authentication Service URL', { length: 1000, ...fixed }),
    systemModstamp(),
    email('ComplianceBccEmail', 'Compliance BCC Email', editable),
    picklist('UiSkin', 'UI Skin', ['Theme1', 'Theme2', 'PortalDefault', 'Webstore', 'Theme3', 'Theme4d', 'Theme4t', 'Theme4u'], {
      length: 40,
      ...editable,
      restrictedPicklist: true,
    }),
    text('SignupCountryIsoCode', 'Signup Country', 2, fixed),
    datetime('TrialExpirationDate', 'Trial Expiration Date', fixed),
    int('NumKnowledgeService', 'Knowledge Licenses', 9, fixed),
    picklist(
      'OrganizationType',
      'Edition',
      [
        'Team Edition',
        'Professional Edition',
        'Enterprise Edition',
        'Developer Edition',
        'Personal Edition',
        'Unlimited Edition',
        'Contact Manager Edition',
        'Base Edition',
      ],
      { length: 40, ...fixed, restrictedPicklist: true },
    ),
    text('NamespacePrefix', 'Namespace Prefix', 15, fixed),
    text('InstanceName', 'Instance Name', 5, fixed),
    checkbox('IsSandbox', 'Is Sandbox', false, fixed),
    text('WebToCaseDefaultOrigin', 'Web to Cases Default Origin', 40, editable),
    int('MonthlyPageViewsUsed', 'Monthly Page Views Used', 9, fixed),
    int('MonthlyPageViewsEntitlement', 'Monthly Page Views Allowed', 9, fixed),
    checkbox('IsReadOnly', 'Is Read Only', false, fixed),
    ...createdFields(),
    ...stampFields().slice(2, 4),
  ].map((f) => ({ ...f, createable: false }));
  return {
    ...READ_ONLY_OBJECT,
    name: 'Organization',
    label: 'Organization',
    labelPlural: 'Organizations',
    keyPrefix: '00D',
    updateable: true,
    replicateable: true,
    fields,
  };
}

function stripAudit(fields: CatalogField[]): CatalogField[] {
  return fields.map(({ audit: _audit, ...rest }) => rest);
}

/** LoginHistory: no SystemModstamp, no CreatedDate, no IsDeleted; LoginTime is the only clock. */
export function loginHistory(): CatalogObject {
  const s = (name: string, label: string, length: number) => text(name, label, length, READ_ONLY);
  const fields: CatalogField[] = [
    idField('Login History ID'),
    reference('UserId', 'User ID', 'User', undefined, READ_ONLY),
    datetime('LoginTime', 'Login Time', { ...REQUIRED, ...READ_ONLY }),
    picklist(
      'LoginType',
      'Login Type',
      [
        ['Application', 'Application'],
        ['Remote Access 2.0', 'Remote Access 2.0'],
        ['SAML Sfdc Initiated SSO', 'SAML Sfdc Initiated SSO'],
        ['Other Apex API', 'Other Apex API'],
        ['Partner Product', 'Partner Product'],
      ],
      { length: 40, ...READ_ONLY, restrictedPicklist: true },
    ),
    s('SourceIp', 'Source IP', 39),
    s('LoginUrl', 'Login URL', 120),
    s('Browser', 'Browser', 64),
    s('Platform', 'Platform', 64),
    s('Status', 'Status', 128),
    s('Application', 'Application', 255),
    s('ClientVersion', 'Client Version', 64),
    s('ApiType', 'API Type', 64),
    s('ApiVersion', 'API Version', 32),
    s('CountryIso', 'Country Code', 2),
    picklist('TlsProtocol', 'TLS Protocol', ['TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3', 'Unknown'], {
      length: 40,
      ...READ_ONLY,
      restrictedPicklist: true,
    }),
    s('AuthMethodReference', 'Authentication Method Reference', 255),
  ];
  return {
    ...READ_ONLY_OBJECT,
    name: 'LoginHistory',
    label: 'Login History',
    labelPlural: 'Login History',
    keyPrefix: '0Ya',
    fields,
  };
}

/** SetupAuditTrail: append-only, with CreatedDate but neither LastModifiedDate nor SystemModstamp. */
export function setupAuditTrail(): CatalogObject {
  const s = (name: string, label: string, length: number) => text(name, label, length, READ_ONLY);
  const fields: CatalogField[] = [
    idField('Setup Audit Trail ID'),
    s('Action', 'Action', 120),
    s('Section', 'Section', 80),
    ...stripAudit(createdFields()),
    s('Display', 'Display', 1000),
    s('DelegateUser', 'Delegate User', 80),
    s('ResponsibleNamespacePrefix', 'Namespace Prefix', 15),
    s('CreatedByContext', 'Created By Context', 40),
    s('CreatedByIssuer', 'Created By Issuer', 255),
  ];
  return {
    ...READ_ONLY_OBJECT,
    name: 'SetupAuditTrail',
    label: 'Setup Audit Trail',
    labelPlural: 'Setup Audit Trail',
    keyPrefix: '0Ym',
    fields,
  };
}
