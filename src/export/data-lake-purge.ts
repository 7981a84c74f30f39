/**
 * Purge reaches the data lake: the rows of purged records are taken out of every lake file of
 * their object, so that "Delete Forever" leaves no copy in the analytics folder either.
 *
 * Every Parquet file under `org=<orgId>/object=<Object>/` is checked by its `Id` column alone; a
 * file holding a purged record is rewritten row group by row group with the same schema, column
 * metadata and compression, without those rows, and published over the old one in one rename (a
 * reader sees the old file or the new, never half of one). A file left with no row is removed.
 * Every file is checked, not only the days the vault's versions point to, because versions an
 * earlier `forget` removed from the vault may still be in the lake.
 */
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnSource } from 'hyparquet-writer';
import type { DataLakeStore, StagedFile } from './data-lake.ts';

export interface LakePurgeOutcome {
  /** Parquet files of the object checked. */
  filesChecked: number;
  filesRewritten: number;
  /** Files that held nothing but purged rows. */
  filesRemoved: number;
  /** Rows (versions) taken out. */
  rows: number;
}

/**
 * Read raw: dates as days, timestamps as epoch milliseconds, exactly the values the lake writer
 * was given, so a rewritten file holds the same values with the same types.
 */
const RAW_PARSERS = {
  timestampFromMilliseconds: (millis: bigint): number => Number(millis),
  dateFromDays: (days: number): number => days,
};

/** Takes the rows of `recordIds` (18-character IDs) out of the object's lake files. */
export async function purgeFromDataLake(lake: DataLakeStore, orgId: string, objectName: string, recordIds: ReadonlySet<string>): Promise<LakePurgeOutcome> {
  const outcome: LakePurgeOutcome = { filesChecked: 0, filesRewritten: 0, filesRemoved: 0, rows: 0 };
  const files = (await lake.list(`org=${orgId}/object=${objectName}/`)).filter((path) => path.endsWith('.parquet'));
  for (const path of files) {
    const bytes = await lake.read(path);
    if (!bytes) continue;
    outcome.filesChecked++;
    const file = toArrayBuffer(bytes);
    const metadata = parquetMetadata(file);
    const ids = (await parquetReadObjects({ file, metadata, columns: ['Id'] })) as { Id: unknown }[];
    const purged = ids.filter((row) => typeof row.Id === 'string' && recordIds.has(row.Id)).length;
    if (purged === 0) continue;
    outcome.rows += purged;
    if (purged === ids.length) {
      await lake.remove(path);
      outcome.filesRemoved++;
      continue;
    }
    await rewriteWithout(lake, path, file, metadata, recordIds);
    outcome.filesRewritten++;
  }
  return outcome;
}

async function rewriteWithout(lake: DataLakeStore, path: string, file: ArrayBuffer, metadata: FileMetaData, recordIds: ReadonlySet<string>): Promise<void> {
  const staged = await lake.create(path);
  try {
    const bytes = new ByteWriter();
    const writer = new ParquetWriter({ writer: bytes, schema: metadata.schema, codec: 'SNAPPY', kvMetadata: metadata.key_value_metadata, createdBy: 'orgvault' });
    const names = metadata.schema.slice(1).map((element) => element.name);
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = (await parquetReadObjects({ file, metadata, rowStart, rowEnd, parsers: RAW_PARSERS })) as Record<string, unknown>[];
      rowStart = rowEnd;
      const kept = rows.filter((row) => !(typeof row.Id === 'string' && recordIds.has(row.Id)));
      if (kept.length === 0) continue;
      // Statistics as the lake writer keeps them: for Id and the non-text columns.
      const columnData: ColumnSource[] = names.map((name, i) => ({
        name,
        data: kept.map((row) => row[name] ?? null),
        statistics: name === 'Id' || metadata.schema[i + 1]!.type !== 'BYTE_ARRAY',
      }));
      await writer.write({ columnData, rowGroupSize: kept.length });
    }
    await writer.finish();
    await writeAll(staged, new Uint8Array(bytes.getBuffer()));
  } catch (error) {
    await staged.discard().catch(() => undefined);
    throw error;
  }
  await staged.publish();
}

function writeAll(staged: StagedFile, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    staged.stream.once('error', reject);
    staged.stream.end(bytes, () => resolve());
  });
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
