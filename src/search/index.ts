/**
 * The global search use case: records found by any text value of any field, across objects, in
 * their latest state and in their history, through the vault's keyed blind index. Depends on the
 * vault's ports only.
 */
export { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, MAX_VERIFIED, parseSearchRange, recordName, searchRecords } from './search.ts';
export type { SearchHit, SearchMatch, SearchOptions, SearchRequest, SearchResult, SearchStore } from './search.ts';
