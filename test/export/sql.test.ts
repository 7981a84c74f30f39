// The SQL writer's pieces, pure: escaping for each dialect (MySQL's backslashes above all; no
// MySQL server here, so its statements are checked as text), types from the describe, MySQL's row
// size, multi-row INSERTs split by rows and size, and values written without exponents.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnsOf } from '../../src/export/columns.ts';
import type { ExportColumn, ExportedObject, ExportedRecord } from '../../src/export/format.ts';
import { columnType, createTableSql, insertStatements, quoteIdentifier, quoteString, sqlLiteral } from '../../src/export/sql.ts';
import { isoDatetime, plainNumber, textOf } from '../../src/export/values.ts';
import type { RawField } from '../../src/core/describe.ts';

const col = (name: string, type: string, extra: Partial<ExportColumn> = {}): ExportColumn => ({ name, type, label: name, nillable: true, length: 0, precision: 0, scale: 0, ...extra });
const record = (fields: Record<string, unknown>, seq = 1): ExportedRecord => ({ fields, version: { seq, systemModstamp: 0, changeType: 'created', isDeleted: false, capturedAt: 0, runId: 'r' } });

describe('SQL escaping', () => {
  it('MySQL: backslash escapes as mysqldump writes them, so that every character comes back', () => {
    assert.equal(quoteString(`O'Brien`, 'mysql'), `'O\\'Brien'`);
    assert.equal(quoteString('C:\\temp\\new', 'mysql'), `'C:\\\\temp\\\\new'`);
    assert.equal(quoteString('say "hi"', 'mysql'), `'say \\"hi\\"'`);
    assert.equal(quoteString('a\nb\r\nc', 'mysql'), `'a\\nb\\r\\nc'`);
    assert.equal(quoteString('nul\0ctrl-z\x1a', 'mysql'), `'nul\\0ctrl-z\\Z'`);
    assert.equal(quoteString(`\\'`, 'mysql'), `'\\\\\\''`, 'a backslash before a quote cannot end the string');
    assert.equal(quoteString('Zoë 日本 🚀', 'mysql'), `'Zoë 日本 🚀'`);
    assert.equal(quoteString('tab\there %_', 'mysql'), `'tab\there %_'`, 'LIKE wildcards mean nothing in a literal');
  });

  it('MySQL: reading the literal back as MySQL does gives the original text', () => {
    // MySQL's own unescaping of a single-quoted string (with NO_BACKSLASH_ESCAPES off, as the script sets).
    const unescape = (literal: string): string => {
      assert.ok(literal.startsWith("'") && literal.endsWith("'"));
      const body = literal.slice(1, -1);
      const map: Record<string, string> = { '0': '\0', n: '\n', r: '\r', Z: '\x1a', '\\': '\\', "'": "'", '"': '"', t: '\t', b: '\b' };
      let out = '';
      for (let i = 0; i < body.length; i++) {
        const ch = body[i]!;
        if (ch === '\\') out += map[body[++i]!] ?? body[i]!;
        else if (ch === "'") {
          assert.equal(body[++i], "'", 'an unescaped quote would end the string');
          out += "'";
        } else out += ch;
      }
      return out;
    };
    for (const text of [`O'Brien`, 'C:\\temp\\new\\table', `\\'; DROP TABLE x; --`, 'a\nb\r\n\0\x1a"', '\\\\\\', "''", '日本 🚀']) {
      assert.equal(unescape(quoteString(text, 'mysql')), text, JSON.stringify(text));
    }
  });

  it('PostgreSQL: standard strings, only quotes doubled; backslashes are plain characters', () => {
    assert.equal(quoteString(`O'Brien`, 'postgres'), `'O''Brien'`);
    assert.equal(quoteString('C:\\temp\\new', 'postgres'), `'C:\\temp\\new'`);
    assert.equal(quoteString('a\nb', 'postgres'), `'a\nb'`);
    assert.equal(quoteString('no\0nul', 'postgres'), `'nonul'`, 'PostgreSQL text cannot hold NUL');
  });

  it('quotes identifiers per dialect', () => {
    assert.equal(quoteIdentifier('Account', 'postgres'), '"Account"');
    assert.equal(quoteIdentifier('we"ird', 'postgres'), '"we""ird"');
    assert.equal(quoteIdentifier('Account', 'mysql'), '`Account`');
    assert.equal(quoteIdentifier('we`ird', 'mysql'), '`we``ird`');
  });
});

describe('SQL types and statements', () => {
  it('maps describe types for each dialect', () => {
    const cases: [ExportColumn, string, string][] = [
      [col('Id', 'id', { length: 18 }), 'VARCHAR(18)', 'VARCHAR(18)'],
      [col('AccountId', 'reference', { length: 18 }), 'VARCHAR(18)', 'VARCHAR(18)'],
      [col('Name', 'string', { length: 255 }), 'VARCHAR(255)', 'VARCHAR(255)'],
      [col('Street', 'string', { length: 1000 }), 'VARCHAR(1000)', 'TEXT'],
      [col('Stage', 'picklist', { length: 40 }), 'VARCHAR(40)', 'VARCHAR(40)'],
      [col('Email', 'email', { length: 80 }), 'VARCHAR(80)', 'VARCHAR(80)'],
      [col('Description', 'textarea', { length: 32000 }), 'TEXT', 'MEDIUMTEXT'],
      [col('Short', 'textarea', { length: 255 }), 'TEXT', 'TEXT'],
      [col('IsActive', 'boolean'), 'BOOLEAN', 'BOOLEAN'],
      [col('NumberOfEmployees', 'int'), 'INTEGER', 'INT'],
      [col('_version_seq', 'long'), 'BIGINT', 'BIGINT'],
      [col('Amount', 'currency', { precision: 18, scale: 2 }), 'NUMERIC(18, 2)', 'DECIMAL(18, 2)'],
      [col('Probability', 'percent', { precision: 3, scale: 0 }), 'NUMERIC(3, 0)', 'DECIMAL(3, 0)'],
      [col('Score', 'double'), 'DOUBLE PRECISION', 'DOUBLE'],
      [col('CloseDate', 'date'), 'DATE', 'DATE'],
      [col('CreatedDate', 'datetime'), 'TIMESTAMP(3) WITH TIME ZONE', 'DATETIME(3)'],
      [col('Start', 'time'), 'TIME(3)', 'TIME(3)'],
      [col('Anything', 'anyType'), 'TEXT', 'MEDIUMTEXT'],
    ];
    for (const [c, postgres, mysql] of cases) {
      assert.equal(columnType(c, 'postgres'), postgres, `${c.name} (postgres)`);
      assert.equal(columnType(c, 'mysql'), mysql, `${c.name} (mysql)`);
    }
  });

  it('keeps a wide object under MySQL row size by turning late text columns into TEXT', () => {
    const columns = [col('Id', 'id', { length: 18, nillable: false }), ...Array.from({ length: 120 }, (_, i) => col(`Field${i}__c`, 'string', { length: 255 }))];
    const sql = createTableSql({ objectName: 'Wide__c', columns, allVersions: false }, 'mysql');
    const varchars = (sql.match(/VARCHAR\(255\)/g) ?? []).length;
    assert.ok(varchars > 40 && varchars < 120, `${varchars} VARCHAR(255) columns`);
    assert.equal((sql.match(/ TEXT/g) ?? []).length, 120 - varchars);
    assert.ok(varchars * (255 * 4 + 2) < 65_535);
    assert.match(sql, /PRIMARY KEY \(`Id`\)\n\) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;/);
  });

  it('keys the table by Id, or by _version_seq with an index on Id for every version', () => {
    const fields: RawField[] = [{ name: 'Name', type: 'string', length: 80 }, { name: 'Id', type: 'id', length: 18 }, { name: 'BillingAddress', type: 'address' }, { name: 'Body', type: 'base64' }];
    const state: ExportedObject = { objectName: 'Account', columns: columnsOf(fields, false), allVersions: false };
    assert.equal(createTableSql(state, 'postgres'), 'CREATE TABLE "Account" (\n  "Id" VARCHAR(18) NOT NULL,\n  "Name" VARCHAR(80),\n  PRIMARY KEY ("Id")\n);\n');
    const versions: ExportedObject = { objectName: 'Account', columns: columnsOf(fields, true), allVersions: true };
    const pg = createTableSql(versions, 'postgres');
    assert.match(pg, /"Id" VARCHAR\(18\),\n/, 'Id repeats across versions');
    assert.match(pg, /"_version_seq" BIGINT NOT NULL,/);
    assert.match(pg, /PRIMARY KEY \("_version_seq"\)\n\);\nCREATE INDEX "Account_Id_idx" ON "Account" \("Id"\);\n$/);
    assert.match(createTableSql(versions, 'mysql'), /PRIMARY KEY \(`_version_seq`\),\n {2}KEY `Id` \(`Id`\)\n\)/);
  });

  it('writes values as literals of their column type', () => {
    assert.equal(sqlLiteral(null, col('A', 'string'), 'mysql'), 'NULL');
    assert.equal(sqlLiteral(true, col('A', 'boolean'), 'postgres'), 'TRUE');
    assert.equal(sqlLiteral(false, col('A', 'boolean'), 'mysql'), 'FALSE');
    assert.equal(sqlLiteral(1e-7, col('A', 'double'), 'postgres'), '0.0000001');
    assert.equal(sqlLiteral(-12.5, col('A', 'currency'), 'mysql'), '-12.5');
    assert.equal(sqlLiteral('2024-03-17T16:21:26.123+0000', col('A', 'datetime'), 'postgres'), "'2024-03-17T16:21:26.123Z'");
    assert.equal(sqlLiteral('2024-03-17T16:21:26.123+0000', col('A', 'datetime'), 'mysql'), "'2024-03-17 16:21:26.123'", 'MySQL DATETIME takes no zone: UTC');
    assert.equal(sqlLiteral('10:20:30.000Z', col('A', 'time'), 'mysql'), "'10:20:30.000'");
    assert.equal(sqlLiteral('2024-02-29', col('A', 'date'), 'mysql'), "'2024-02-29'");
    assert.equal(sqlLiteral({ a: 1 }, col('A', 'anyType'), 'postgres'), `'{"a":1}'`);
    assert.equal(sqlLiteral('not a number', col('A', 'double'), 'postgres'), "'not a number'", 'a value that is not of its type stays text');
  });

  it('splits INSERTs at 500 rows and at about 1 MiB', () => {
    const object: ExportedObject = { objectName: 'T', columns: [col('Id', 'id'), col('Body__c', 'textarea')], allVersions: false };
    const many = Array.from({ length: 1201 }, (_, i) => record({ Id: `a${i}`, Body__c: 'x' }));
    const statements = insertStatements(object, many, 'postgres');
    assert.equal(statements.length, 3);
    assert.equal((statements[0]!.match(/^\('a/gm) ?? []).length, 500);
    assert.equal((statements[2]!.match(/^\('a/gm) ?? []).length, 201);
    assert.ok(statements.every((s) => s.startsWith('INSERT INTO "T" ("Id", "Body__c") VALUES\n') && s.endsWith(');\n')));
    const big = Array.from({ length: 10 }, (_, i) => record({ Id: `b${i}`, Body__c: 'y'.repeat(300_000) }));
    const split = insertStatements(object, big, 'mysql');
    assert.ok(split.length >= 3 && split.every((s) => s.length < 1.3 * 1024 * 1024), `${split.length} statements`);
    assert.equal(split.join('').match(/\('b/g)?.length, 10);
  });
});

describe('values as Data Loader writes them', () => {
  it('writes numbers without exponents, keeping every digit', () => {
    for (const [n, text] of [[1e-7, '0.0000001'], [-1.5e-10, '-0.00000000015'], [1e21, '1000000000000000000000'], [1.2345e25, '12345000000000000000000000'], [123.456, '123.456'], [0, '0'], [-0, '0'], [5e-324, `0.${'0'.repeat(323)}5`]] as const) {
      assert.equal(plainNumber(n), text);
      assert.ok(Number(plainNumber(n)) === n, `${n} round-trips`);
    }
  });

  it('writes datetimes in UTC with milliseconds, and the rest as Salesforce gives them', () => {
    assert.equal(isoDatetime('2024-01-15T10:20:30.000+0000'), '2024-01-15T10:20:30.000Z');
    assert.equal(isoDatetime('2024-01-15T12:20:30.000+0200'), '2024-01-15T10:20:30.000Z');
    assert.equal(textOf('2024-01-15T10:20:30.000+0000', 'datetime'), '2024-01-15T10:20:30.000Z');
    assert.equal(textOf('2024-01-15', 'date'), '2024-01-15');
    assert.equal(textOf(true, 'boolean'), 'true');
    assert.equal(textOf(null, 'string'), null);
    assert.equal(textOf(['a', 'b'], 'anyType'), '["a","b"]');
  });
});
