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
