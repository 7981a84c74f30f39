import type { StoredRecord } from '../org/schema.ts';
import type { QuerySource } from './source.ts';
import type { Scope } from './lexer.ts';

/** How a query runs: REST query vs queryAll, and which API asked (Bulk 2.0 rejects more). */
export interface SoqlOptions {
  /** queryAll: include records in the Recycle Bin (IsDeleted = true). */
  includeDeleted: boolean;
  context: 'rest' | 'bulk';
}

/** What every compile step needs: the data, the query text for error excerpts, and the scope. */
export interface CompileContext {
  source: QuerySource;
  soql: string;
  options: SoqlOptions;
  /** Token range of the SELECT being compiled, for locating error positions. */
  scope: Scope;
  /** The FROM object's alias (`SELECT a.Name FROM Account a`), if any. */
  alias: string | undefined;
  /** Memoised field readers of this query, shared by its WHERE and ORDER BY (see paths.ts). */
  readers: Map<string, (record: StoredRecord) => unknown>;
}
