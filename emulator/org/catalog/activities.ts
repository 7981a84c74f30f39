/**
 * Activities: Task and Event. WhoId and WhatId are polymorphic; deleting the record they point at
 * deletes the activity, as Salesforce does.
 */
import type { FormulaContext } from '../schema.ts';
import {
  CREATE_ONLY,
  DATA_OBJECT,
  READ_ONLY,
  REQUIRED,
  checkbox,
  combobox,
  date,
  datetime,
  idField,
  int,
  isDeleted,
  masterRecordType,
  ownerId,
  picklist,
  polymorphic,
  reference,
  stampFields,
  text,
  textarea,
} from './fields.ts';
import type { CatalogField, CatalogObject } from './fields.ts';
import { ACTIVITY_WHAT, ACTIVITY_WHO } from './targets.ts';

/**
 * The account an activity rolls up to: the What when it is an account, the What's account for
 * opportunities and cases, else the Who's account. Salesforce maintains it on save; computing it
 * keeps it right when the parents change.
 */
function activityAccountId(ctx: FormulaContext): string | null {
  const whatId = ctx.record.WhatId;
  if (typeof whatId === 'string' && whatId) {
    if (whatId.startsWith('001')) return whatId;
    if (whatId.startsWith('006') || whatId.startsWith('500')) {
      const accountId = ctx.lookup(whatId)?.AccountId;
      return typeof accountId === 'string' ? accountId : null;
    }
  }
  const whoId = ctx.record.WhoId;
  if (typeof whoId === 'string' && whoId.startsWith('003')) {
    const accountId = ctx.lookup(whoId)?.AccountId;
    return typeof accountId === 'string' ? accountId : null;
  }
  return null;
}

function activityFields(childName: 'Tasks' | 'Events'): CatalogField[] {
  return [
    polymorphic('WhoId', 'Name ID', ACTIVITY_WHO, 'Who', { cascadeDelete: true, childRelationshipName: childName }),
    polymorphic('WhatId', 'Related To ID', ACTIVITY_WHAT, 'What', { cascadeDelete: true, childRelationshipName: childName }),
  ];
}

function accountIdField(): CatalogField {
  return reference('AccountId', 'Account ID', 'Account', 'Account', {
    ...READ_ONLY,
    childRelationshipName: null,
    describeHints: { calculated: false },
    formula: activityAccountId,
  });
}

/** Event fields under field-level security; the rest are always visible with the event. */
const EVENT_FLS_FIELDS = new Set(['WhoId', 'WhatId', 'Location', 'IsAllDayEvent', 'Description']);

function notPermissionable(f: CatalogField): CatalogField {
  return { ...f, describeHints: { ...f.describeHints, permissionable: false } };
}

const SUBJECTS = ['Call', 'Email', 'Send Letter', 'Send Quote', 'Other'];

export function task(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Activity ID'),
    ...activityFields('Tasks'),
    combobox('Subject', 'Subject', SUBJECTS, { nameField: true }),
    date('ActivityDate', 'Due Date Only', { describeHints: { aggregatable: false } }),
    picklist('Status', 'Status', ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'], {
      length: 40,
      ...REQUIRED,
      default: 'Not Started',
    }),
    picklist('Priority', 'Priority', ['High', 'Normal', 'Low'], { length: 40, ...REQUIRED, default: 'Normal' }),
    checkbox('IsHighPriority', 'High Priority', false, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => ctx.record.Priority === 'High',
    }),
    ownerId({ referenceTo: ['Group', 'User'], label: 'Assigned To ID' }),
    textarea('Description', 'Description', 32000),
    isDeleted(),
    accountIdField(),
    checkbox('IsClosed', 'Closed', false, {
      ...READ_ONLY,
      describeHints: { calculated: false },
      formula: (ctx) => ctx.record.Status === 'Completed' || ctx.record.Status === 'Deferred',
    }),
    ...stampFields(),
    checkbox('IsArchived', 'Archived', false, READ_ONLY),
    int('CallDurationInSeconds', 'Call Duration', 8),
    picklist('CallType', 'Call Type', ['Internal', 'Inbound', 'Outbound'], { length: 40, restrictedPicklist: true }),
    text('CallDisposition', 'Call Result', 255),
    text('CallObject', 'Call Object Identifier', 255),
    datetime('ReminderDateTime', 'Reminder Date/Time'),
    checkbox('IsReminderSet', 'Reminder Set'),
    picklist('TaskSubtype', 'Task Subtype', ['Task', 'Email', 'ListEmail', 'Cadence', 'Call', 'LinkedIn'], {
      length: 40,
      ...CREATE_ONLY,
      restrictedPicklist: true,
    }),
    datetime('CompletedDateTime', 'Completed Date/Time', READ_ONLY),
  ];
  return {
    ...DATA_OBJECT,
    name: 'Task',
    label: 'Task',
    labelPlural: 'Tasks',
    keyPrefix: '00T',
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
    describeHints: {
      supportedScopes: [
        ['delegated', 'My delegated tasks'],
        ['everything', 'All tasks'],
        ['mine', 'My tasks'],
        ['scopingRule', 'Filter by scope'],
        ['team', "My team's tasks"],
      ],
    },
  };
}

export function event(): CatalogObject {
  const fields: CatalogField[] = [
    idField('Activity ID'),
    ...activityFields('Events'),
    combobox('Subject', 'Subject', ['Call', 'Email', 'Meeting', 'Send Letter/Quote', 'Other'], { nameField: true }),
    text('Location', 'Location', 255),
    checkbox('IsAllDayEvent', 'All-Day Event'),
    datetime('ActivityDateTime', 'Due Date Time'),
    date('ActivityDate', 'Due Date Only', { describeHints: { aggregatable: false } }),
    int('DurationInMinutes', 'Duration', 8),
    datetime('StartDateTime', 'Start Date Time'),
    datetime('EndDateTime', 'End Date Time'),
    date('EndDate', 'End Date', READ_ONLY),
    textarea('Description', 'Description', 32000),
    accountIdField(),
    // Real orgs also allow Calendar owners; this org has users only, but the field stays polymorphic.
    { ...ownerId({ label: 'Assigned To ID' }), polymorphicForeignKey: true },
    checkbox('IsPrivate', 'Private', false),
    picklist('ShowAs', 'Show Time As', ['Busy', ['OutOfOffice', 'Out of Office'], 'Free'], {
      length: 40,
      restrictedPicklist: true,
      default: 'Busy',
    }),
    isDeleted(),
    checkbox('IsChild', 'Is Child', false, READ_ONLY),
    checkbox('IsGroupEvent', 'Is Group Event', false, READ_ONLY),
    picklist(
      'GroupEventType',
      'Group Event Type',
      [
        ['0', 'Non-group Event'],
        ['1', 'Group Event'],
        ['2', 'Proposed Event'],
        ['3', 'IsRecurrence2 Series Pattern'],
      ],
      { length: 40, ...READ_ONLY, restrictedPicklist: true, default: '0' },
    ),
    ...stampFields(),
    checkbox('IsArchived', 'Archived', false, READ_ONLY),
    reference('RecurrenceActivityId', 'Recurrence Activity ID', 'Event', undefined, {
      ...READ_ONLY,
      describeHints: { childRelationshipName: 'RecurringEvents' },
    }),
    checkbox('IsRecurrence', 'Create Recurring Series of Events', false, CREATE_ONLY),
    datetime('RecurrenceStartDateTime', 'Recurrence Start'),
    date('RecurrenceEndDateOnly', 'Recurrence End'),
    picklist(
      'RecurrenceType',
      'Recurrence Type',
      [
        ['RecursDaily', 'Recurs Daily'],
        ['RecursEveryWeekday', 'Recurs Every Weekday'],
        ['RecursMonthly', 'Recurs Monthly'],
        ['RecursMonthlyNth', 'Recurs Monthly Nth'],
        ['RecursWeekly', 'Recurs Weekly'],
        ['RecursYearly', 'Recurs Yearly'],
        ['RecursYearlyNth', 'Recurs Yearly Nth'],
      ],
      { length: 40, restrictedPicklist: true },
    ),
    int('RecurrenceInterval', 'Recurrence Interval', 9),
    datetime('ReminderDateTime', 'Reminder Date/Time'),
    checkbox('IsReminderSet', 'Reminder Set'),
    picklist('EventSubtype', 'Event Subtype', ['Event'], { length: 40, ...CREATE_ONLY, restrictedPicklist: true }),
  ].map((f) => (EVENT_FLS_FIELDS.has(f.name) ? f : notPermissionable(f)));
  return {
    ...DATA_OBJECT,
    name: 'Event',
    label: 'Event',
    labelPlural: 'Events',
    keyPrefix: '00U',
    cdcCapable: true,
    fields,
    recordTypes: [masterRecordType()],
    describeHints: {
      supportedScopes: [
        ['delegated', 'My delegated events'],
        ['everything', 'All events'],
        ['mine', 'My events'],
        ['scopingRule', 'Filter by scope'],
        ['team', "My team's events"],
      ],
      approvalLayouts: false,
      listviews: false,
      extraUrls: { eventSeriesUpdates: '/{ID}/fromThisEventOnwards' },
    },
  };
}
