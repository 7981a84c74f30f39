// The archive plan on its own (pure): a hierarchy goes whole or not at all, a refusal holds the
// archive back unless --skip-unsafe, records without --children that have children are refused,
// and deletes go deepest level first, per object, 200 to a batch, cascades riding with their sender.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planArchive, stepRecords } from '../../src/archive/plan.ts';
import type { ArchiveNode } from '../../src/archive/select.ts';

const T = Date.UTC(2026, 0, 1);
let n = 0;
const id = (prefix: string): string => `${prefix}5g00000${String(++n).padStart(8, '0')}AAA`;
function node(objectName: string, prefix: string, via: ArchiveNode | null = null, cascade = false): ArchiveNode {
  return { objectName, recordId: id(prefix), systemModstamp: T + n, via: via?.recordId ?? null, viaField: via ? 'ParentId' : null, cascade, level: via ? via.level + 1 : 0, documentId: null };
}

describe('archive plan', () => {
  test('a hierarchy with one unsafe record is refused whole; the others are held back without --skip-unsafe', () => {
    const a1 = node('Account', '001');
    const c1 = node('Contact', '003', a1, true);
    const case1 = node('Case', '500', a1, false);
    const a2 = node('Account', '001');
    const c2 = node('Contact', '003', a2, true);
    const nodes = [a1, a2, c1, case1, c2];
    const refusals = new Map([[c1.recordId, { code: 'CHANGED_SINCE_BACKUP', message: 'changed' }]]);

    const held = planArchive(nodes, refusals, { children: true, skipUnsafe: false });
    const decision = (plan: typeof held, record: ArchiveNode) => plan.records.find((r) => r.node === record)!;
    assert.equal(held.batches.length, 0, 'nothing is deleted while a record is refused');
    assert.equal(decision(held, c1).decision, 'refuse');
    assert.equal(decision(held, c1).code, 'CHANGED_SINCE_BACKUP');
    assert.equal(decision(held, a1).decision, 'refuse', 'the root of an unsafe hierarchy is refused');
    assert.match(decision(held, a1).message!, new RegExp(`its Contact ${c1.recordId}`));
    assert.equal(decision(held, case1).code, 'HIERARCHY_REFUSED');
    assert.equal(decision(held, a2).code, 'ARCHIVE_HELD');
    assert.equal(decision(held, c2).code, 'ARCHIVE_HELD');
    assert.deepEqual(held.records.map((r) => r.node), nodes, 'records stay in selection order');

    const skipping = planArchive(nodes, refusals, { children: true, skipUnsafe: true });
    assert.equal(decision(skipping, a2).decision, 'delete');
    assert.equal(decision(skipping, c2).decision, 'delete');
    assert.equal(decision(skipping, a1).decision, 'refuse');
    // Only the safe account is sent; its contact goes with it (cascade), not on its own.
    assert.deepEqual(
      skipping.batches.map((b) => [b.objectName, b.sent.map((s) => [s.node.recordId, s.cascaded.map((c) => c.recordId)])]),
      [['Account', [[a2.recordId, [c2.recordId]]]]],
    );
  });

  test('without --children a record that has children is refused, naming them', () => {
    const a1 = node('Account', '001');
    const a2 = node('Account', '001');
    const nodes = [a1, a2, node('Contact', '003', a1, true), node('Contact', '003', a1, true), node('Case', '500', a1, false)];
    const plan = planArchive(nodes, new Map(), { children: false, skipUnsafe: true });
    const refused = plan.records.find((r) => r.node === a1)!;
    assert.equal(refused.code, 'HAS_CHILDREN');
    assert.match(refused.message!, /3 child record\(s\).*Case ×1, Contact ×2|3 child record\(s\).*Contact ×2, Case ×1/);
    assert.match(refused.message!, /--children/);
    assert.deepEqual(plan.records.map((r) => [r.node.recordId, r.decision]), [[a1.recordId, 'refuse'], [a2.recordId, 'delete']], 'the children themselves are not part of the archive');
  });

  test('deletes go deepest first, one object at a time, 200 a batch; cascades ride with the nearest record sent', () => {
    const accounts = Array.from({ length: 250 }, () => node('Account', '001'));
    const account = accounts[0]!;
    const caseRow = node('Case', '500', account, false);
    const comment = node('CaseComment', '00a', caseRow, true);
    const opp = node('Opportunity', '006', account, true);
    const item = node('OpportunityLineItem', '00k', opp, true);
    const task = node('Task', '00T', opp, false);
    const plan = planArchive([...accounts, caseRow, opp, comment, item, task], new Map(), { children: true, skipUnsafe: false });
    assert.deepEqual(
      plan.batches.map((b) => [b.level, b.objectName, b.sent.length]),
      [
        [2, 'Task', 1],
        [1, 'Case', 1],
        [0, 'Account', 200],
        [0, 'Account', 50],
      ],
    );
    const first = plan.batches[2]!.sent.find((s) => s.node === account)!;
    assert.deepEqual(first.cascaded.map((c) => c.recordId).sort(), [opp.recordId, item.recordId].sort(), 'an opportunity and its line item go with the account');
    assert.deepEqual(plan.batches[1]!.sent[0]!.cascaded, [comment]);
    const journaled = stepRecords(plan.batches[1]!);
    assert.deepEqual(journaled, [
      { objectName: 'Case', recordId: caseRow.recordId, systemModstamp: caseRow.systemModstamp, via: account.recordId, cascadeOf: null },
      { objectName: 'CaseComment', recordId: comment.recordId, systemModstamp: comment.systemModstamp, via: caseRow.recordId, cascadeOf: caseRow.recordId },
    ]);
  });
});
