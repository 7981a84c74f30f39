/**
 * The code and configuration every emulated org starts with, beside what its schema implies: a
 * little Apex around the invoice objects, a record-triggered flow, two permission sets and an
 * inactive validation rule. Inactive on purpose: validation rules are enforced on API writes, and
 * a seeded active rule would change what every other test may write.
 */

export interface ApexSource {
  name: string;
  apiVersion: string;
  status: 'Active' | 'Inactive' | 'Deleted';
  body: string;
}

export interface ApexTriggerSource extends ApexSource {
  object: string;
}

/** A permission set as the Metadata API describes it, trimmed to what the emulator models. */
export interface PermissionSetSource {
  name: string;
  label: string;
  description: string;
  objects: { object: string; read: boolean; create: boolean; edit: boolean; delete: boolean; viewAll: boolean; modifyAll: boolean }[];
  /** Custom fields of these objects get read (and edit, where `editFields`) permission. */
  fieldObjects: string[];
  editFields: boolean;
  classes: string[];
  userPermissions: string[];
}

export const SEED_APEX_CLASSES: readonly ApexSource[] = [
  {
    name: 'InvoiceService',
    apiVersion: '59.0',
    status: 'Active',
    body: `public with sharing class InvoiceService {
    public static final String PAID = 'Paid';

    /** Marks invoices paid today; returns how many changed. */
    public static Integer markPaid(Set<Id> invoiceIds) {
        List<Invoice__c> invoices = [SELECT Id, Status__c FROM Invoice__c WHERE Id IN :invoiceIds AND Status__c != :PAID];
        for (Invoice__c invoice : invoices) {
            invoice.Status__c = PAID;
            invoice.Paid_Date__c = Date.today();
        }
        update invoices;
        return invoices.size();
    }

    public static Decimal outstandingFor(Id accountId) {
        AggregateResult[] rows = [SELECT SUM(Total__c) total FROM Invoice__c WHERE Account__c = :accountId AND Status__c IN ('Draft', 'Sent')];
        Decimal total = (Decimal) rows[0].get('total');
        return total == null ? 0 : total;
    }
}
`,
  },
  {
    name: 'InvoiceServiceTest',
    apiVersion: '59.0',
    status: 'Active',
    body: `@IsTest
private class InvoiceServiceTest {
    @IsTest
    static void marksInvoicesPaid() {
        Account account = new Account(Name = 'Test Account');
        insert account;
        Invoice__c invoice = new Invoice__c(Account__c = account.Id, Due_Date__c = Date.today().addDays(30), Status__c = 'Sent');
        insert invoice;

        Test.startTest();
        Integer changed = InvoiceService.markPaid(new Set<Id>{ invoice.Id });
        Test.stopTest();

        System.assertEquals(1, changed);
        System.assertEquals('Paid', [SELECT Status__c FROM Invoice__c WHERE Id = :invoice.Id].Status__c);
    }
}
`,
  },
  {
    name: 'AccountHierarchy',
    apiVersion: '58.0',
    status: 'Active',
    body: `public with sharing class AccountHierarchy {
    /** The top of an account's parent chain, at most five levels up as the UI shows it. */
    public static Id ultimateParent(Id accountId) {
        Account current = [SELECT Id, ParentId FROM Account WHERE Id = :accountId];
        for (Integer depth = 0; depth < 5 && current.ParentId != null; depth++) {
            current = [SELECT Id, ParentId FROM Account WHERE Id = :current.ParentId];
        }
        return current.Id;
    }
}
`,
  },
];

export const SEED_APEX_TRIGGERS: readonly ApexTriggerSource[] = [
  {
    name: 'InvoiceLineTrigger',
    object: 'Invoice_Line__c',
    apiVersion: '59.0',
    status: 'Active',
    body: `trigger InvoiceLineTrigger on Invoice_Line__c (before insert, before update) {
    for (Invoice_Line__c line : Trigger.new) {
        if (line.Quantity__c == null) {
            line.Quantity__c = 1;
        }
    }
}
`,
  },
];

/** Flows as their `.flow` files: the Metadata API's Flow, serialized. */
export const SEED_FLOWS: readonly { name: string; xml: string }[] = [
  {
    name: 'Opportunity_Closed_Won_Follow_Up',
    xml: `<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>59.0</apiVersion>
    <description>Creates a thank-you task for the owner when an opportunity is won.</description>
    <environments>Default</environments>
    <interviewLabel>Opportunity Closed Won Follow Up {!$Flow.CurrentDateTime}</interviewLabel>
    <label>Opportunity Closed Won Follow Up</label>
    <processMetadataValues>
        <name>BuilderType</name>
        <value>
            <stringValue>LightningFlowBuilder</stringValue>
        </value>
    </processMetadataValues>
    <processType>AutoLaunchedFlow</processType>
    <recordCreates>
        <name>Create_Follow_Up_Task</name>
        <label>Create Follow-Up Task</label>
        <locationX>176</locationX>
        <locationY>323</locationY>
        <inputAssignments>
            <field>OwnerId</field>
            <value>
                <elementReference>$Record.OwnerId</elementReference>
            </value>
        </inputAssignments>
        <inputAssignments>
            <field>Subject</field>
            <value>
                <stringValue>Send a thank-you note</stringValue>
            </value>
        </inputAssignments>
        <inputAssignments>
            <field>WhatId</field>
            <value>
                <elementReference>$Record.Id</elementReference>
            </value>
        </inputAssignments>
        <object>Task</object>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordCreates>
    <start>
        <locationX>50</locationX>
        <locationY>0</locationY>
        <connector>
            <targetReference>Create_Follow_Up_Task</targetReference>
        </connector>
        <doesRequireRecordChangedToMeetCriteria>true</doesRequireRecordChangedToMeetCriteria>
        <filterLogic>and</filterLogic>
        <filters>
            <field>StageName</field>
            <operator>EqualTo</operator>
            <value>
                <stringValue>Closed Won</stringValue>
            </value>
        </filters>
        <object>Opportunity</object>
        <recordTriggerType>CreateAndUpdate</recordTriggerType>
        <triggerType>RecordAfterSave</triggerType>
    </start>
    <status>Active</status>
</Flow>
`,
  },
];

export const SEED_PERMISSION_SETS: readonly PermissionSetSource[] = [
  {
    name: 'Invoice_Manager',
    label: 'Invoice Manager',
    description: 'Create, edit and void invoices and their lines.',
    objects: [
      { object: 'Invoice__c', read: true, create: true, edit: true, delete: true, viewAll: true, modifyAll: false },
      { object: 'Invoice_Line__c', read: true, create: true, edit: true, delete: true, viewAll: true, modifyAll: false },
    ],
    fieldObjects: ['Invoice__c', 'Invoice_Line__c'],
    editFields: true,
    classes: ['InvoiceService'],
    userPermissions: [],
  },
  {
    name: 'Integration_Read_Access',
    label: 'Integration Read Access',
    description: 'Read-only API access for reporting integrations.',
    objects: [
      { object: 'Account', read: true, create: false, edit: false, delete: false, viewAll: true, modifyAll: false },
      { object: 'Invoice__c', read: true, create: false, edit: false, delete: false, viewAll: true, modifyAll: false },
      { object: 'Project__c', read: true, create: false, edit: false, delete: false, viewAll: true, modifyAll: false },
    ],
    fieldObjects: ['Invoice__c', 'Project__c'],
    editFields: false,
    classes: [],
    userPermissions: ['ApiEnabled'],
  },
];

export const SEED_VALIDATION_RULES: readonly {
  object: string;
  fullName: string;
  active: boolean;
  description: string;
  errorConditionFormula: string;
  errorMessage: string;
  errorDisplayField?: string;
}[] = [
  {
    object: 'Opportunity',
    fullName: 'Close_Date_Not_In_Past',
    active: false,
    description: 'Open opportunities must close today or later. Switched off during the data migration.',
    errorConditionFormula: 'AND(NOT(IsClosed), CloseDate < TODAY())',
    errorMessage: 'The close date of an open opportunity cannot be in the past.',
    errorDisplayField: 'CloseDate',
  },
];

// ------------------------------------------------------------------------------ folders

/** The metadata types that live in folders, and the folder type of each as listMetadata names it. */
export type FolderedType = 'Report' | 'Dashboard' | 'Document' | 'EmailTemplate';

/**
 * A folder of reports, dashboards, documents or Classic email templates, as the Metadata API's
 * Folder describes it. `name` is its API name (the fullName), `label` what Setup shows.
 */
export interface FolderSource {
  contentType: FolderedType;
  name: string;
  label: string;
  accessType: 'Public' | 'Shared' | 'Hidden' | 'PublicInternal';
  publicFolderAccess?: 'ReadOnly' | 'ReadWrite';
}

/**
 * A component in a folder. `folder` is the folder's API name or `unfiled$public` (Unfiled Public
 * Reports, Unfiled Public Classic Email Templates), which no listing of folders returns. `xml` is
 * the component's file (`.report`, `.dashboard`) or, for a document or an email template, its
 * `-meta.xml`; `content` is the email template's body or the document's bytes in base64.
 */
export interface FolderedSource {
  type: FolderedType;
  folder: string;
  /** The name within the folder; a document's includes its extension (`logo.png`). */
  name: string;
  xml: string;
  content?: string;
}

/** The private folders every org has: listed by no folder query, but their contents can be. */
export const UNFILED_PUBLIC = 'unfiled$public';

export const SEED_FOLDERS: readonly FolderSource[] = [
  { contentType: 'Report', name: 'Sales_Reports', label: 'Sales Reports', accessType: 'Public', publicFolderAccess: 'ReadOnly' },
  { contentType: 'Report', name: 'Finance_Reports', label: 'Finance Reports', accessType: 'Public', publicFolderAccess: 'ReadWrite' },
  { contentType: 'Dashboard', name: 'Executive_Dashboards', label: 'Executive Dashboards', accessType: 'Public', publicFolderAccess: 'ReadOnly' },
  { contentType: 'Document', name: 'Brand_Assets', label: 'Brand Assets', accessType: 'Public', publicFolderAccess: 'ReadOnly' },
  { contentType: 'EmailTemplate', name: 'Invoice_Emails', label: 'Invoice Emails', accessType: 'Public', publicFolderAccess: 'ReadWrite' },
];

const METADATA_XML = 'http://soap.sforce.com/2006/04/metadata';

/** The report file the admin API's `upsertReport` writes, from its few settings. */
export function reportXml(r: { label: string; description?: string; reportType: string; format: string; columns: readonly string[] }): string {
  const lines = [`<?xml version="1.0" encoding="UTF-8"?>`, `<Report xmlns="${METADATA_XML}">`];
  for (const field of r.columns) lines.push('    <columns>', `        <field>${escape(field)}</field>`, '    </columns>');
  if (r.description) lines.push(`    <description>${escape(r.description)}</description>`);
  lines.push(
    `    <format>${escape(r.format)}</format>`,
    `    <name>${escape(r.label)}</name>`,
    '    <params>',
    '        <name>co</name>',
    '        <value>1</value>',
    '    </params>',
    `    <reportType>${escape(r.reportType)}</reportType>`,
    '    <scope>organization</scope>',
    '    <showDetails>true</showDetails>',
    '    <showGrandTotal>true</showGrandTotal>',
    '    <showSubTotals>true</showSubTotals>',
    '    <timeFrameFilter>',
    '        <dateColumn>CREATED_DATE</dateColumn>',
    '        <interval>INTERVAL_CUSTOM</interval>',
    '    </timeFrameFilter>',
    '</Report>',
    '',
  );
  return lines.join('\n');
}

/** An email template's `-meta.xml`. */
export function emailTemplateMetaXml(t: { label: string; subject: string; description?: string; available: boolean; type: 'text' | 'html' | 'custom' }): string {
  const lines = [`<?xml version="1.0" encoding="UTF-8"?>`, `<EmailTemplate xmlns="${METADATA_XML}">`, `    <available>${t.available}</available>`];
  if (t.description) lines.push(`    <description>${escape(t.description)}</description>`);
  lines.push('    <encodingKey>UTF-8</encodingKey>', `    <name>${escape(t.label)}</name>`, '    <style>none</style>', `    <subject>${escape(t.subject)}</subject>`, `    <type>${t.type}</type>`, '    <uiType>Aloha</uiType>', '</EmailTemplate>', '');
  return lines.join('\n');
}

/** A document's `-meta.xml`. */
export function documentMetaXml(d: { label: string; description?: string; public: boolean }): string {
  const lines = [`<?xml version="1.0" encoding="UTF-8"?>`, `<Document xmlns="${METADATA_XML}">`];
  if (d.description) lines.push(`    <description>${escape(d.description)}</description>`);
  lines.push('    <internalUseOnly>false</internalUseOnly>', `    <name>${escape(d.label)}</name>`, `    <public>${d.public}</public>`, '</Document>', '');
  return lines.join('\n');
}

/** A dashboard's file: one component per report it shows, in one column. */
export function dashboardXml(d: { title: string; description?: string; reports: readonly string[]; runningUser?: string }): string {
  const lines = [`<?xml version="1.0" encoding="UTF-8"?>`, `<Dashboard xmlns="${METADATA_XML}">`, '    <backgroundEndColor>#FFFFFF</backgroundEndColor>', '    <backgroundFadeDirection>Diagonal</backgroundFadeDirection>', '    <backgroundStartColor>#FFFFFF</backgroundStartColor>'];
  if (d.description) lines.push(`    <description>${escape(d.description)}</description>`);
  lines.push('    <leftSection>', '        <columnSize>Wide</columnSize>');
  for (const report of d.reports) {
    lines.push('        <components>', '            <autoselectColumnsFromReport>true</autoselectColumnsFromReport>', '            <componentType>Table</componentType>', '            <displayUnits>Auto</displayUnits>', `            <report>${escape(report)}</report>`, '        </components>');
  }
  lines.push('    </leftSection>', '    <runningUser>admin@example.com</runningUser>', '    <textColor>#000000</textColor>', `    <title>${escape(d.title)}</title>`, '</Dashboard>', '');
  return lines.join('\n');
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A 1×1 transparent PNG: the seeded logo's bytes. */
const LOGO_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/** Reports name the object they report on; those on objects an org lacks are not seeded there. */
export const SEED_FOLDERED: readonly (FolderedSource & { object?: string })[] = [
  {
    type: 'Report',
    folder: 'Sales_Reports',
    name: 'Open_Pipeline',
    object: 'Opportunity',
    xml: reportXml({ label: 'Open Pipeline', description: 'Open opportunities by stage.', reportType: 'Opportunity', format: 'Summary', columns: ['OPPORTUNITY_NAME', 'ACCOUNT_NAME', 'STAGE_NAME', 'AMOUNT', 'CLOSE_DATE'] }),
  },
  {
    type: 'Report',
    folder: 'Sales_Reports',
    name: 'Accounts_By_Industry',
    object: 'Account',
    xml: reportXml({ label: 'Accounts by Industry', reportType: 'AccountList', format: 'Tabular', columns: ['ACCOUNT.NAME', 'INDUSTRY', 'TYPE', 'PHONE1'] }),
  },
  {
    type: 'Report',
    folder: 'Finance_Reports',
    name: 'Unpaid_Invoices',
    object: 'Invoice__c',
    xml: reportXml({ label: 'Unpaid Invoices', description: 'Invoices sent and not yet paid.', reportType: 'CustomEntity$Invoice__c', format: 'Tabular', columns: ['CUST_NAME', 'Invoice__c.Status__c', 'Invoice__c.Due_Date__c', 'Invoice__c.Total__c'] }),
  },
  {
    type: 'Report',
    folder: UNFILED_PUBLIC,
    name: 'New_Contacts_This_Month',
    object: 'Contact',
    xml: reportXml({ label: 'New Contacts This Month', reportType: 'ContactList', format: 'Tabular', columns: ['FIRST_NAME', 'LAST_NAME', 'ACCOUNT.NAME', 'EMAIL'] }),
  },
  {
    type: 'Dashboard',
    folder: 'Executive_Dashboards',
    name: 'Sales_Overview',
    object: 'Opportunity',
    xml: dashboardXml({ title: 'Sales Overview', description: 'Pipeline and accounts at a glance.', reports: ['Sales_Reports/Open_Pipeline', 'Sales_Reports/Accounts_By_Industry'] }),
  },
  {
    type: 'Document',
    folder: 'Brand_Assets',
    name: 'company_emblem.png',
    xml: documentMetaXml({ label: 'Company Logo', description: 'The logo on quotes and invoices.', public: true }),
    content: LOGO_PNG,
  },
  {
    type: 'Document',
    folder: 'Brand_Assets',
    name: 'invoice_footer.txt',
    xml: documentMetaXml({ label: 'Invoice Footer', public: false }),
    content: Buffer.from('Thank you for your business. Payment is due within 30 days.\n', 'utf8').toString('base64'),
  },
  {
    type: 'EmailTemplate',
    folder: 'Invoice_Emails',
    name: 'Invoice_Sent',
    object: 'Invoice__c',
    xml: emailTemplateMetaXml({ label: 'Invoice Sent', subject: 'Your invoice {!Invoice__c.Name}', description: 'Sent with every new invoice.', available: true, type: 'text' }),
    content: 'Dear {!Contact.FirstName},\n\nPlease find attached invoice {!Invoice__c.Name}, due {!Invoice__c.Due_Date__c}.\n\nKind regards,\n{!User.Name}\n',
  },
  {
    type: 'EmailTemplate',
    folder: 'Invoice_Emails',
    name: 'Payment_Reminder',
    object: 'Invoice__c',
    xml: emailTemplateMetaXml({ label: 'Payment Reminder', subject: 'Reminder: invoice {!Invoice__c.Name} is due', available: true, type: 'text' }),
    content: 'Dear {!Contact.FirstName},\n\nInvoice {!Invoice__c.Name} is due on {!Invoice__c.Due_Date__c}.\n',
  },
  {
    type: 'EmailTemplate',
    folder: UNFILED_PUBLIC,
    name: 'Welcome_New_Customer',
    xml: emailTemplateMetaXml({ label: 'Welcome New Customer', subject: 'Welcome to {!Organization.Name}', available: true, type: 'text' }),
    content: 'Hello {!Contact.FirstName},\n\nWelcome aboard.\n',
  },
];
