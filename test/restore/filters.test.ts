// Restore filters: conditions checked against the schema, logic parsed with clear errors, and
// records matched as Salesforce Backup's advanced filters match them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldSummary } from '../../src/core/describe.ts';
import type { FieldSummary } from '../../src/core/org-client.ts';
import { matches, parseCondition, parseLogic } from '../../src/restore/index.ts';

const field = (name: string, type: string): FieldSummary => fieldSummary({ name, type, createable: true, updateable: true });
const FIELDS = [field('Name', 'string'), field('Industry', 'picklist'), field('AnnualRevenue', 'currency'), field('IsActive__c', 'boolean'), field('CreatedDate', 'datetime'), field('StageName', 'picklist')];

describe('restore filters', () => {
  it('parses conditions with typed values, quotes, lists and null tests', () => {
    assert.deepEqual(parseCondition('Industry = Banking', FIELDS, 1), { field: 'Industry', operator: '=', values: ['Banking'] });
    assert.deepEqual(parseCondition("name contains 'Acme Corp'", FIELDS, 1), { field: 'Name', operator: 'contains', values: ['Acme Corp'] });
    assert.deepEqual(parseCondition('AnnualRevenue >= 1000000', FIELDS, 1), { field: 'AnnualRevenue', operator: '>=', values: [1_000_000] });
    assert.deepEqual(parseCondition('IsActive__c = TRUE', FIELDS, 1), { field: 'IsActive__c', operator: '=', values: [true] });
    assert.deepEqual(parseCondition("StageName in (Prospecting, 'Closed Won')", FIELDS, 1), { field: 'StageName', operator: 'in', values: ['Prospecting', 'Closed Won'] });
    assert.deepEqual(parseCondition('Industry is not null', FIELDS, 1), { field: 'Industry', operator: 'is not null', values: [] });
    assert.deepEqual(parseCondition('Name <> x', FIELDS, 1).operator, '!=');
  });

  it('refuses what would silently select nothing, naming the condition and the fix', () => {
    assert.throws(() => parseCondition('Indstry = Banking', FIELDS, 2), /Condition 2: the object has no field "Indstry" \(did you mean Industry\?\)/);
    assert.throws(() => parseCondition('AnnualRevenue = lots', FIELDS, 1), /currency field; "lots" is not a number/);
    assert.throws(() => parseCondition('IsActive__c = yes', FIELDS, 1), /checkbox; give true or false/);
    assert.throws(() => parseCondition('CreatedDate > soon', FIELDS, 1), /is not a date/);
    assert.throws(() => parseCondition('Industry > Banking', FIELDS, 1), /has no order/);
    assert.throws(() => parseCondition('AnnualRevenue contains 5', FIELDS, 1), /compares text/);
    assert.throws(() => parseCondition('Industry ~ Banking', FIELDS, 3), /Condition 3 .* is not FIELD OPERATOR VALUE/);
    assert.throws(() => parseCondition('StageName in Prospecting', FIELDS, 1), /takes a list in parentheses/);
    assert.throws(() => parseCondition('Industry =', FIELDS, 1), /has no value/);
  });

  it('parses ALL, ANY and custom logic, and rejects logic that does not fit the conditions', () => {
    assert.deepEqual(parseLogic(undefined, 2), { op: 'and', terms: [{ op: 'ref', index: 1 }, { op: 'ref', index: 2 }] });
    assert.deepEqual(parseLogic('ANY', 2), { op: 'or', terms: [{ op: 'ref', index: 1 }, { op: 'ref', index: 2 }] });
    assert.deepEqual(parseLogic('1 AND (2 OR NOT 3)', 3), {
      op: 'and',
      terms: [{ op: 'ref', index: 1 }, { op: 'or', terms: [{ op: 'ref', index: 2 }, { op: 'not', term: { op: 'ref', index: 3 } }] }],
    });
    assert.equal(parseLogic(undefined, 0), undefined);
    assert.throws(() => parseLogic('1 AND 4', 3), /there is no condition 4/);
    assert.throws(() => parseLogic('1 AND 2', 3), /condition 3 is not used/);
    assert.throws(() => parseLogic('1 AND (2 OR 3', 3), /parenthesis is not closed/);
    assert.throws(() => parseLogic('1 XOR 2', 2), /"XOR" is not expected there/);
    assert.throws(() => parseLogic('1 AND', 1), /ends too early/);
    assert.throws(() => parseLogic('1 OR 2', 0), /no --where condition was given/);
  });

  it('matches records: text without case, numbers and instants as such, nulls', () => {
    const conditions = [parseCondition('Industry = banking', FIELDS, 1), parseCondition('AnnualRevenue > 500', FIELDS, 2), parseCondition('CreatedDate >= 2026-01-01', FIELDS, 3)];
    const record = { Industry: 'Banking', AnnualRevenue: 1000, CreatedDate: '2026-03-01T10:00:00.000+0000' };
    assert.equal(matches(record, conditions, parseLogic('all', 3)), true);
    assert.equal(matches({ ...record, AnnualRevenue: 100 }, conditions, parseLogic('all', 3)), false);
    assert.equal(matches({ ...record, AnnualRevenue: 100 }, conditions, parseLogic('1 AND (2 OR 3)', 3)), true);
    assert.equal(matches({ ...record, CreatedDate: '2025-12-31T23:59:59.000+0000', AnnualRevenue: 100 }, conditions, parseLogic('1 AND (2 OR 3)', 3)), false);
    const nulls = [parseCondition('Industry is null', FIELDS, 1), parseCondition('Industry != Banking', FIELDS, 2)];
    assert.equal(matches({ Industry: null }, nulls, parseLogic('all', 2)), true);
    assert.equal(matches({ Industry: 'Retail' }, nulls, parseLogic('all', 2)), false);
    assert.equal(matches({ Industry: 'Retail' }, nulls, parseLogic('any', 2)), true);
    assert.equal(matches({}, [], undefined), true);
  });
});
