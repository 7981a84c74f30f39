import type { FieldDef, ObjectSchema, Schema, StoredRecord } from '../org/schema.ts';
import type { QueryPlanResult } from '../soql/execute.ts';
import { columnReader, kindOf, outputValue, storedPropertyCode } from '../soql/paths.ts';
import type { ValueKind } from '../soql/paths.ts';
import type { QuerySource } from '../soql/source.ts';
import { quoted, resultCell } from './csv.ts';
import type { QueryResult } from './jobs.ts';

/**
 * A query job's result set: the rows as they matched when it ran, written as CSV on demand. Each
 * row goes straight into a buffer (one native write per row): building a page as one long
 * JavaScript string costs more in concatenation and garbage than the formatting itself.
 */
export function queryResultSet(plan: QueryPlanResult, soql: string, source: QuerySource, delimiter: string, eol: string): QueryResult {
  const write = csvRowWriter(plan, soql, source, delimiter);
  const rows = plan.rows;
  let estimate = 64 * 1024;
  return {
    size: rows.length,
    header: plan.columns.map(quoted).join(delimiter) + eol,
    rows(start, end) {
      let buffer = Buffer.allocUnsafe(estimate);
      let at = 0;
      for (let i = start; i < end; i++) {
        const line = write(rows[i]!) + eol;
        // UTF-8 takes at most three bytes per UTF-16 unit.
        if (buffer.length - at < line.length * 3) {
          const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, at + line.length * 3));
          buffer.copy(grown, 0, 0, at);
          buffer = grown;
        }
        at += buffer.write(line, at);
      }
      // The next chunk starts at the size this one needed, so growing is rare.
      estimate = Math.max(estimate, Math.ceil(at * 1.1));
      return buffer.subarray(0, at);
    },
  };
}

/**
 * The CSV writer of query rows, the hot path of Bulk serving. Values are the ones the SOQL engine
 * projects; only their printing differs from REST: every value quoted, null as an empty cell,
 * datetimes as `2024-01-01T00:00:00.000Z` where REST prints `+0000`.
 *
 * A result of plain columns of the queried object (what a backup selects) is written by a row
 * function generated once per job, with a call or property site per column and the printing for
 * the column's type inlined. Anything else (parent paths, toLabel) goes through the engine's
 * `projectFlat`.
 */
function csvRowWriter(plan: QueryPlanResult, soql: string, source: QuerySource, delimiter: string): (record: StoredRecord) => string {
  const object = source.schema.object(plan.object);
  const plain = object && !/\btolabel\s*\(/i.test(soql) ? plainFields(object, plan.columns) : undefined;
  if (object && plain) return generatedWriter(object, plain, source, delimiter);
  const kinds = plan.columns.map((name) => (object ? columnKind(source.schema, object, name) : undefined));
  const cells = kinds.map((kind) => cellWriter(kind));
  const width = cells.length;
  return (record) => {
    const values = plan.projectFlat(record);
    let line = '';
    for (let k = 0; k < width; k++) {
      if (k > 0) line += delimiter;
      const value = values[k];
      if (value !== null && value !== undefined) line += cells[k]!(value);
    }
    return line;
  };
}

/** The fields behind the columns when every column is a plain field of the queried object. */
function plainFields(object: ObjectSchema, columns: string[]): FieldDef[] | undefined {
  const fields: FieldDef[] = [];
  for (const name of columns) {
    const field = name.includes('.') ? undefined : object.field(name);
    if (!field || field.name !== name || kindOf(field) === 'compound') return undefined;
    fields.push(field);
  }
  return fields;
}

type CellWriter = (value: unknown) => string;

const scalarCell: CellWriter = (value) => `"${value as string}"`;
const booleanCell: CellWriter = (value) => (value ? '"true"' : '"false"');
const textCell: CellWriter = (value) => (typeof value === 'string' ? quoted(value) : resultCell(value));
const datetimeCell: CellWriter = (value) =>
  typeof value === 'string' && value.endsWith('+0000') ? `"${value.slice(0, -5)}Z"` : resultCell(value);

/** How a non-null value of a kind is printed. IDs, numbers, dates and times never hold a quote. */
function cellWriter(kind: ValueKind | undefined): CellWriter {
  switch (kind) {
    case 'id':
    case 'number':
    case 'date':
    case 'time':
      return scalarCell;
    case 'boolean':
      return booleanCell;
    case 'datetime':
      return datetimeCell;
    case 'text':
    case 'multipicklist':
    case 'base64':
      return textCell;
    default:
      return resultCell;
  }
}

function generatedWriter(object: ObjectSchema, fields: FieldDef[], source: QuerySource, delimiter: string): (record: StoredRecord) => string {
  const readers = fields.map((field) => columnReader(source, object, field));
  const cells = fields.map((field) => cellWriter(kindOf(field)));
  const cellsCode = fields.map((field, k) => {
    // A stored field read from its own property site (`?? null` folded into the null checks below).
    const raw = storedPropertyCode(source, object, field) ?? `readers[${k}](r)`;
    // Each cell brings its delimiter: a row is one chain of concatenations, the constant parts
    // (delimiter and opening quote, `"true"`…) folded into literals.
    const empty = JSON.stringify(k > 0 ? delimiter : '');
    const open = JSON.stringify(`${k > 0 ? delimiter : ''}"`);
    switch (kindOf(field)) {
      case 'number':
        return `((v = out("number", ${raw})), v == null ? ${empty} : ${open} + v + '"')`;
      case 'id':
      case 'date':
      case 'time':
        return `((v = ${raw}), v == null || v === "" ? ${empty} : ${open} + v + '"')`;
      case 'boolean':
        return `((v = ${raw}), v == null ? ${empty} : v ? ${JSON.stringify(`${k > 0 ? delimiter : ''}"true"`)} : ${JSON.stringify(`${k > 0 ? delimiter : ''}"false"`)})`;
      case 'datetime':
        return `((v = ${raw}), v == null || v === "" ? ${empty} : typeof v === "string" && v.endsWith("+0000") ? ${open} + v.slice(0, -5) + 'Z"' : ${empty} + cells[${k}](v))`;
      case 'text':
      case 'multipicklist':
        return `((v = ${raw}), v == null || v === "" ? ${empty} : typeof v === "string" && v.indexOf('"') === -1 ? ${open} + v + '"' : ${empty} + cells[${k}](v))`;
      default:
        return `((v = ${raw}), v == null || v === "" ? ${empty} : ${empty} + cells[${k}](v))`;
    }
  });
  // Only field names that are plain identifiers, JSON string literals and array indexes become code.
  const make = new Function('readers', 'cells', 'out', `return function csvRow(r) { let v; return ${cellsCode.length ? cellsCode.join(' +\n') : '""'}; };`) as (
    readers: ((record: StoredRecord) => unknown)[],
    cells: CellWriter[],
    out: typeof outputValue,
  ) => (record: StoredRecord) => string;
  return make(readers, cells, outputValue);
}


/** The kind of a column (`Name`, `Account.CreatedDate`, `What.Name`) when it is the same on every object the path can reach. */
function columnKind(schema: Schema, object: ObjectSchema, column: string): ValueKind | undefined {
  const steps = column.split('.');
  let objects = [object];
  for (const step of steps.slice(0, -1)) {
    objects = objects.flatMap((o) => (o.relationship(step)?.referenceTo ?? []).flatMap((name) => schema.object(name) ?? []));
  }
  const kinds = new Set(objects.flatMap((o) => {
    const field = o.field(steps[steps.length - 1]!);
    return field ? [kindOf(field)] : [];
  }));
  return kinds.size === 1 ? [...kinds][0] : undefined;
}
