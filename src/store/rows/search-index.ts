/**
 * Engine-independent parts of the search index's write path, shared by both engines: how the
 * fields of a batch just written are kept in hand (so its versions are not read back from their
 * packs), and how one process takes its writes of one object one at a time.
 */
import type { SearchCandidate, VersionBatch } from '../port.ts';

/** The points of an index transaction at which a test may crash the process. */
export type IndexStep = 'before-commit' | 'after-commit';

/** Versions indexed per transaction: bounds how long a catch-up holds its write lock or locks. */
export const CHUNK_VERSIONS = 20_000;
/** Rows per page of the latest-first read of candidates. */
export const SCAN_PAGE = 500;

/** No candidates. */
export async function* noCandidates(): AsyncIterable<SearchCandidate> {}

/** The key of a version in `fieldsInHand`: record ID and SystemModstamp. */
export const versionKey = (recordId: string, systemModstamp: number): string => `${recordId}\u0000${systemModstamp}`;

/** A batch's fields by versionKey, for indexing the batch without reading its packs. */
export function fieldsInHand(batch: VersionBatch): Map<string, Record<string, unknown>[]> {
  const versions = new Map<string, Record<string, unknown>[]>();
  for (const v of batch.versions) {
    const at = versionKey(v.recordId, v.systemModstamp);
    const list = versions.get(at);
    if (list) list.push(v.fields);
    else versions.set(at, [v.fields]);
  }
  return versions;
}

/**
 * Runs `run` after every earlier call with the same key has settled (whether it succeeded or
 * not), so that this process's writes of one object are taken one at a time; the map holds only
 * the keys with a call pending.
 */
export function oneAtATime<T>(queue: Map<string, Promise<void>>, key: string, run: () => Promise<T>): Promise<T> {
  const result = (queue.get(key) ?? Promise.resolve()).then(run, run);
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  queue.set(key, settled);
  void settled.then(() => {
    if (queue.get(key) === settled) queue.delete(key);
  });
  return result;
}
