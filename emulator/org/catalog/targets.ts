/**
 * Targets of the catalog's polymorphic lookups. Salesforce lists every object that allows the
 * relationship (activities, notes, attachments, files) in alphabetical order, custom objects
 * included; these are the ones this org has.
 */

/** Task and Event WhatId. */
export const ACTIVITY_WHAT = ['Account', 'Campaign', 'Case', 'Invoice__c', 'Opportunity', 'Product2', 'Project__c'];

/** Task and Event WhoId. */
export const ACTIVITY_WHO = ['Contact', 'Lead'];

/** Attachment.ParentId. */
export const ATTACHMENT_PARENTS = [
  'Account',
  'Campaign',
  'Case',
  'Contact',
  'Event',
  'Invoice_Line__c',
  'Invoice__c',
  'Lead',
  'Opportunity',
  'Product2',
  'Project__c',
  'Task',
];

/** Note.ParentId: classic notes attach to fewer objects than attachments (no cases, no activities). */
export const NOTE_PARENTS = ['Account', 'Contact', 'Invoice_Line__c', 'Invoice__c', 'Lead', 'Opportunity', 'Product2', 'Project__c'];

/** ContentDocumentLink.LinkedEntityId and ContentVersion.FirstPublishLocationId. */
export const CONTENT_LINK_TARGETS = [
  'Account',
  'Campaign',
  'Case',
  'Contact',
  'Event',
  'Invoice_Line__c',
  'Invoice__c',
  'Lead',
  'Opportunity',
  'Product2',
  'Project__c',
  'Task',
  'User',
];
