// The line diff behind `metadata compare`: hunks, context, added and removed files.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffHunks, diffLines, unifiedDiff } from '../../src/metadata/xml-diff.ts';

const lines = (n: number, prefix = 'line'): string[] => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);

describe('xml diff', () => {
  test('equal texts have no diff', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', { old: 'a/x', new: 'b/x' }), '');
    assert.deepEqual(diffHunks('', ''), []);
  });

  test('a changed line in a long file: one hunk with three lines of context each side', () => {
    const before = lines(20);
    const after = [...before];
    after[9] = 'changed 10';
    const diff = unifiedDiff(`${before.join('\n')}\n`, `${after.join('\n')}\n`, { old: 'a/f.xml', new: 'b/f.xml' });
    assert.equal(diff, ['--- a/f.xml', '+++ b/f.xml', '@@ -7,7 +7,7 @@', ' line 7', ' line 8', ' line 9', '-line 10', '+changed 10', ' line 11', ' line 12', ' line 13', ''].join('\n'));
  });

  test('changes far apart make two hunks; close ones one', () => {
    const before = lines(40);
    const far = [...before];
    far[2] = 'x';
    far[30] = 'y';
    assert.equal(diffHunks(before.join('\n'), far.join('\n')).length, 2);
    const near = [...before];
    near[2] = 'x';
    near[8] = 'y';
    const hunks = diffHunks(before.join('\n'), near.join('\n'));
    assert.equal(hunks.length, 1);
    assert.deepEqual([hunks[0]!.oldStart, hunks[0]!.oldLines, hunks[0]!.newStart, hunks[0]!.newLines], [1, 12, 1, 12]);
  });

  test('insertions and deletions are minimal and keep the order of both texts', () => {
    const a = ['<fields>', '  <name>A</name>', '  <name>B</name>', '  <name>C</name>', '</fields>'];
    const b = ['<fields>', '  <name>A</name>', '  <name>C</name>', '  <name>D</name>', '</fields>'];
    const d = diffLines(a, b);
    assert.deepEqual(
      d.filter((l) => l.kind !== 'context'),
      [
        { kind: 'removed', text: '  <name>B</name>' },
        { kind: 'added', text: '  <name>D</name>' },
      ],
    );
    // Applying the script gives both texts back.
    assert.deepEqual(d.filter((l) => l.kind !== 'added').map((l) => l.text), a);
    assert.deepEqual(d.filter((l) => l.kind !== 'removed').map((l) => l.text), b);
  });

  test('random edits: the script always rebuilds both sides and keeps every common line it can', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: rand(30) }, () => `v${rand(6)}`);
      const b = Array.from({ length: rand(30) }, () => `v${rand(6)}`);
      const d = diffLines(a, b);
      assert.deepEqual(d.filter((l) => l.kind !== 'added').map((l) => l.text), a);
      assert.deepEqual(d.filter((l) => l.kind !== 'removed').map((l) => l.text), b);
      // Myers finds a longest common subsequence: compare its length with the textbook DP.
      const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
      for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      assert.equal(d.filter((l) => l.kind === 'context').length, lcs[0]![0]);
    }
  });

  test('an added file diffs against /dev/null; line endings do not count as changes', () => {
    assert.equal(unifiedDiff(undefined, 'one\ntwo\n', { old: 'a/n', new: 'b/n' }), ['--- /dev/null', '+++ b/n', '@@ -0,0 +1,2 @@', '+one', '+two', ''].join('\n'));
    assert.equal(unifiedDiff('gone\n', undefined, { old: 'a/n', new: 'b/n' }), ['--- a/n', '+++ /dev/null', '@@ -1 +0,0 @@', '-gone', ''].join('\n'));
    assert.equal(unifiedDiff('a\r\nb\r\n', 'a\nb\n', { old: 'a/n', new: 'b/n' }), '');
  });
});
