// `--ids-file` for restore and purge: a CSV export's Id column (quoted values too), else the first value of each line.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readIdsFile } from '../../src/cli/ids-file.ts';
import { UsageError } from '../../src/core/errors.ts';

test('reads a CSV export by its Id column, a plain list by its first values, and names a missing file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'orgvault-ids-'));
  try {
    await writeFile(join(dir, 'export.csv'), 'Name,Id\r\n"Acme, Inc.",001000000000001AAA\r\nGlobex,"001000000000002AAA"\r\n');
    assert.deepEqual(await readIdsFile(join(dir, 'export.csv')), ['001000000000001AAA', '001000000000002AAA']);
    await writeFile(join(dir, 'list.txt'), '001000000000003AAA\n\n  001000000000004AAA  \n');
    assert.deepEqual(await readIdsFile(join(dir, 'list.txt')), ['001000000000003AAA', '001000000000004AAA']);
    await assert.rejects(readIdsFile(join(dir, 'missing.csv')), (e: unknown) => e instanceof UsageError && /Cannot read --ids-file .*missing\.csv/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
