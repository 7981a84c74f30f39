/**
 * CSV, one file per object, as Salesforce Data Loader writes its exports: a header row of API
 * names, every value quoted, datetimes in UTC with milliseconds (`2024-01-15T10:20:30.000Z`),
 * dates `2024-01-15`, `true`/`false`, plain numbers, null as an empty field, UTF-8. A file loads
 * back with Data Loader (columns map by API name) or any CSV reader.
 */
import { stringify } from 'csv-stringify/sync';
import type { Options } from 'csv-stringify/sync';
import { columnValue } from './columns.ts';
import type { ExportFormat, ExportedObject, ExportedRecord, ExportSink, ObjectWriter } from './format.ts';
import { endStream, writeChunk } from './streams.ts';
import { textOf } from './values.ts';

const OPTIONS: Options = { quoted: true, quoted_empty: true, record_delimiter: '\n' };

/** The cells of one row, as text ('' for null). */
export function csvRow(record: ExportedRecord, object: ExportedObject): string[] {
  return object.columns.map((c) => textOf(columnValue(record, c), c.type) ?? '');
}

export const csvFormat: ExportFormat = {
  name: 'csv',
  async openObject(sink: ExportSink, object: ExportedObject): Promise<ObjectWriter> {
    const path = `${object.objectName}.csv`;
    const stream = sink.createFile(path);
    await writeChunk(stream, stringify([object.columns.map((c) => c.name)], OPTIONS));
    let rows = 0;
    return {
      async write(records) {
        if (records.length === 0) return;
        await writeChunk(stream, stringify(records.map((r) => csvRow(r, object)), OPTIONS));
        rows += records.length;
      },
      async close() {
        await endStream(stream);
        return { rows, files: [path] };
      },
    };
  },
  async finish() {
    return [];
  },
};
