/**
 * The automation of the demo org: what a restore into a real, customised org runs into. Each
 * behaviour matches a part of the seeded data or a likely restore, not every write, so a demo
 * restore succeeds for most records and fails, with Salesforce's status codes, for some.
 */
import type { Org } from '../org/org.ts';
import { addBehaviours } from './registry.ts';
import type { Spec } from './spec.ts';

export const DEMO_BEHAVIOURS: readonly Spec[] = [
  // Blanking a customer's phone (or restoring a customer saved before the rule) fails.
  {
    kind: 'validationRule',
    object: 'Account',
    name: 'Phone_Required_For_Customers',
    formula: 'AND(BEGINS(TEXT(Type), "Customer"), ISBLANK(Phone))',
    message: 'Customer accounts need a phone number.',
    errorField: 'Phone',
  },
  // A record-level error (no field), written as a JSON condition.
  {
    kind: 'validationRule',
    object: 'Opportunity',
    name: 'Closed_Won_Requires_Amount',
    condition: { field: 'StageName', equals: 'Closed Won', and: { or: [{ field: 'Amount', isNull: true }, { field: 'Amount', lessOrEqual: 0 }] } },
    message: 'A won opportunity needs an amount greater than zero.',
  },
  {
    kind: 'lookupFilter',
    object: 'Contact',
    field: 'ReportsToId',
    formula: 'AccountId = $Source.AccountId',
    message: 'Reports To must be a contact of the same account.',
  },
  // Opportunities in negotiation are waiting for a discount approval: locked.
  { kind: 'approvalLock', object: 'Opportunity', processName: 'Discount_Approval', condition: { field: 'StageName', equals: 'Negotiation/Review' } },
  // Winning an opportunity creates a follow-up task whose own trigger writes back to the
  // opportunity, still in its before trigger: SELF_REFERENCE_FROM_TRIGGER.
  {
    kind: 'trigger',
    name: 'OpportunityTrigger',
    object: 'Opportunity',
    timing: 'before',
    operations: ['update'],
    formula: 'AND(ISCHANGED(StageName), ISPICKVAL(StageName, "Closed Won"))',
    actions: [{ create: 'Task', values: { Subject: 'Send thank-you note: {!Name}', WhatId: '{!Id}', Status: 'Not Started', Priority: 'Normal' } }],
  },
  {
    kind: 'trigger',
    name: 'TaskTrigger',
    object: 'Task',
    timing: 'after',
    operations: ['create'],
    condition: { field: 'Subject', startsWith: 'Send thank-you note' },
    actions: [{ update: 'WhatId', set: { NextStep: 'Thank-you note sent' } }],
  },
  // Escalating a case marks its account hot: a trigger that writes another record.
  {
    kind: 'trigger',
    name: 'CaseEscalationTrigger',
    object: 'Case',
    timing: 'after',
    operations: ['create', 'update'],
    formula: 'AND(OR(ISNEW(), ISCHANGED(Status)), ISPICKVAL(Status, "Escalated"))',
    actions: [{ update: 'AccountId', set: { Rating: 'Hot' } }],
  },
  { kind: 'duplicateRule', object: 'Account', name: 'Standard_Account_Duplicate_Rule', matchFields: ['Name'], matchRule: 'Standard_Account_Match_Rule_v1_0' },
  { kind: 'duplicateRule', object: 'Contact', name: 'Standard_Contact_Duplicate_Rule', matchFields: ['Email'], matchRule: 'Standard_Contact_Match_Rule_v1_1' },
  // Private subsidiaries of the "Other" type are shared with their owners only.
  { kind: 'sharing', object: 'Account', name: 'Private_Other_Accounts', formula: 'AND(ISPICKVAL(Type, "Other"), ISPICKVAL(Ownership, "Private"))' },
  // The legacy account record type was retired: records restored with it are refused.
  { kind: 'recordTypes', object: 'Account', available: ['Business_Account', 'Partner_Account'], default: 'Business_Account' },
  // Tracking numbers became a number field; the UPS-style values in backups no longer fit.
  { kind: 'fieldTypeChange', object: 'Opportunity', field: 'TrackingNumber__c', newType: 'double' },
];

/**
 * Installs the demo org's behaviours. Call it once the demo org is built (`createEmulator` for the
 * `demo` profile); the admin API lists, removes and adds to them afterwards.
 */
export function installDemoBehaviours(org: Org): void {
  addBehaviours(org, DEMO_BEHAVIOURS);
}
