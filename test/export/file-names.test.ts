// Names of exported file bodies: one safe path segment on every file system, distinct within a
// record's folder, as close to the original name as that allows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FolderNames, safeFileName } from '../../src/export/file-names.ts';

describe('exported file names', () => {
  it('keeps ordinary names, and makes unsafe ones one harmless segment', () => {
    assert.equal(safeFileName('Q3 report (final).pdf', 'x'), 'Q3 report (final).pdf');
    assert.equal(safeFileName('Zoë – 日本.docx', 'x'), 'Zoë – 日本.docx');
    assert.equal(safeFileName('../../etc/passwd', 'x'), '___.._etc_passwd');
    assert.equal(safeFileName('..', 'fallback'), 'fallback');
    assert.equal(safeFileName('a\\b:c*d?e"f<g>h|i', 'x'), 'a_b_c_d_e_f_g_h_i');
    assert.equal(safeFileName('line\nbreak\u0000.txt', 'x'), 'line_break_.txt');
    assert.equal(safeFileName('.env', 'x'), '_env');
    assert.equal(safeFileName('trailing dots... ', 'x'), 'trailing dots');
    assert.equal(safeFileName('CON', 'x'), '_CON');
    assert.equal(safeFileName('lpt1.txt', 'x'), '_lpt1.txt');
    assert.equal(safeFileName(null, 'Body-00P000000000001AAA'), 'Body-00P000000000001AAA');
    assert.equal(safeFileName('   ', 'fallback'), 'fallback');
    assert.equal(safeFileName('e\u0301te\u0301.txt', 'x'), 'été.txt', 'NFC, as macOS and Windows expect');
  });

  it('cuts long names to 200 bytes, keeping the extension and whole characters', () => {
    const long = safeFileName(`${'日'.repeat(150)}.pdf`, 'x');
    assert.ok(Buffer.byteLength(long) <= 200, `${Buffer.byteLength(long)} bytes`);
    assert.ok(long.endsWith('.pdf'));
    assert.ok(!long.includes('\uFFFD'));
    assert.equal(safeFileName('a'.repeat(300), 'x').length, 200);
  });

  it('numbers names that repeat in one folder, ignoring case', () => {
    const folder = new FolderNames();
    assert.deepEqual(['report.pdf', 'Report.pdf', 'report.pdf', 'notes', 'notes'].map((n) => folder.claim(n)), ['report.pdf', 'Report (2).pdf', 'report (3).pdf', 'notes', 'notes (2)']);
  });
});
