/** Engine-independent parts of the search index, shared by both engines. */
import type { SearchCandidate } from '../port.ts';

/** The points of an index transaction at which a test may crash the process. */
export type IndexStep = 'before-commit' | 'after-commit';

/**
 * Versions indexed per transaction: bounds how long a catch-up holds its write lock or locks (and,
 * on SQLite, this thread: about a quarter of a second here), and the memory of a chunk and of the
 * one cut beside it.
 */
export const CHUNK_VERSIONS = 5_000;
/** Rows per page of the latest-first read of candidates. */
export const SCAN_PAGE = 500;

/** No candidates. */
export async function* noCandidates(): AsyncIterable<SearchCandidate> {}
