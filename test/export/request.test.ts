// The export command's flags, as the CLI, the API and the dashboard read them: the scope, the
// format and where the export goes, each problem a UsageError naming the fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatOf, outputOf, scopeOf } from '../../src/export/request.ts';
import { UsageError } from '../../src/core/errors.ts';

const refused = (work: () => unknown, message: RegExp): void => assert.throws(work, (error: unknown) => error instanceof UsageError && message.test(error.message));

describe('export flags', () => {
  it('reads one scope, the latest state by default', () => {
    assert.deepEqual(scopeOf({}), { kind: 'latest' });
    assert.deepEqual(scopeOf({ asOf: '2026-01-01' }), { kind: 'asOf', at: Date.UTC(2026, 0, 1) });
    assert.deepEqual(scopeOf({ asOf: '2026-01-01T10:00:00+02:00' }), { kind: 'asOf', at: Date.UTC(2026, 0, 1, 8) });
    assert.deepEqual(scopeOf({ allVersions: true }), { kind: 'allVersions' });
    assert.deepEqual(scopeOf({ sinceLastExport: true }), { kind: 'sinceLastExport' });
    assert.deepEqual(scopeOf({ sinceRun: ' r1 ' }), { kind: 'sinceRun', runId: 'r1' });
    refused(() => scopeOf({ asOf: '2026-01-01', allVersions: true }), /--as-of and --all-versions cannot be combined/);
    refused(() => scopeOf({ sinceLastExport: true, sinceRun: 'r' }), /--since-last-export and --since-run cannot be combined/);
    refused(() => scopeOf({ asOf: 'yesterday' }), /--as-of "yesterday" is not an ISO-8601 time/);
    refused(() => scopeOf({ asOf: '2026-01-01T10:00' }), /has no time zone/);
    refused(() => scopeOf({ sinceRun: ' ' }), /--since-run needs a backup run ID/);
  });

  it('reads the format and the SQL dialect', () => {
    assert.equal(formatOf({}).name, 'csv');
    assert.equal(formatOf({ format: 'SQL' }).name, 'sql');
    assert.equal(formatOf({ format: 'sql', dialect: 'mysql' }).name, 'sql');
    assert.equal(formatOf({ format: 'parquet' }).name, 'parquet');
    refused(() => formatOf({ format: 'xlsx' }), /--format xlsx is not an export format: choose csv, sql, parquet/);
    refused(() => formatOf({ format: 'sql', dialect: 'oracle' }), /--dialect oracle .*choose postgres or mysql/);
    refused(() => formatOf({ dialect: 'mysql' }), /--dialect applies to --format sql only/);
  });

  it('needs exactly one of --out and --zip, a .zip name, and a password file only with a zip', () => {
    assert.deepEqual(outputOf({ out: 'dir' }), { kind: 'folder', dir: 'dir' });
    assert.deepEqual(outputOf({ zip: 'a.ZIP', passwordFile: 'p' }), { kind: 'zip', file: 'a.ZIP' });
    refused(() => outputOf({}), /Say where the export goes: --out DIR .* or --zip FILE/);
    refused(() => outputOf({ out: 'd', zip: 'z.zip' }), /not both/);
    refused(() => outputOf({ out: 'd', passwordFile: 'p' }), /--password-file protects a zip/);
    refused(() => outputOf({ zip: 'export.txt' }), /name the file with \.zip/);
  });
});
