/**
 * Global search over every version the vault holds (GRAX's global search): the keyed blind
 * index offers the records that may match, and each is verified by opening its versions, newest
 * first, which also drops hash collisions and tokens of versions retention has since forgotten.
 * A record matches when one of its versions holds every word of the search, in any fields; the
 * hit is the newest such version, in the record's latest state or only in its history.
 */
import { UsageError } from '../core/errors.ts';
import type { SearchTerm } from '../core/search-text.ts';
import { eachSearchableValue, matchRanges, matchesAll, queryTerms, recordTokens } from '../core/search-text.ts';
import { isoTime, parseTime } from '../core/time.ts';
import type { OrgRegistration, RecordVersion } from '../core/vault.ts';
import type { ArchiveStore, FileCatalog, ObjectStateStore, SearchCandidate, SearchIndex, VersionStore } from '../store/port.ts';

/** What search needs of the vault. */
export type SearchStore = SearchIndex & Pick<VersionStore, 'versionAsOf' | 'versionsOf'> & Pick<FileCatalog, 'filesOf'> & Pick<ObjectStateStore, 'getObjectStates'> & Partial<Pick<ArchiveStore, 'archivedRecords'>>;

export const DEFAULT_SEARCH_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 1000;
/**
 * Records opened at most per search. Candidates are checked latest first and the search stops as
 * soon as no later one can enter the results, so this bounds only searches whose words are each
 * common but rarely together in one version; their result says it was cut short.
 */
export const MAX_VERIFIED = 2000;
/** Objects whose records carry file bodies, found by name (Title, PathOnClient, Name). */
const FILE_OBJECTS = new Set(['ContentVersion', 'Attachment', 'Document']);
/** Matching fields shown per hit, and the length of a snippet around the first match. */
const MAX_MATCHED_FIELDS = 5;
const SNIPPET_CONTEXT = 40;
const SNIPPET_MAX = 160;

export interface SearchRequest {
  org: OrgRegistration;
  /** The words to find (every one must match, in any fields of one version). */
  text: string;
  /** Only these objects (API names, any case). */
  objects?: readonly string[];
  /** Only versions with SystemModstamp in [from, to] (epoch ms). */
  from?: number;
  to?: number;
  /** Only records deleted now (their latest version is a delete). */
  deletedOnly?: boolean;
  /** Only records whose latest version matches (not those that matched only in the past). */
  latestOnly?: boolean;
  limit?: number;
}

/** A field that holds some of the words, with a snippet of its value around them. */
export interface SearchMatch {
  field: string;
  snippet: string;
  /** [start, end) of each matching word in the snippet. */
  marks: [number, number][];
}

export interface SearchHit {
  objectName: string;
  recordId: string;
  /** The record's name (Name, Title, Subject, CaseNumber, first and last name…) in the matching version. */
  name: string | null;
  /** `latest`: the record's latest version matches; `history`: only an older version does (the value has changed since). */
  matchedIn: 'latest' | 'history';
  /** The matching version. */
  version: { systemModstamp: string; changeType: string; capturedAt: string; runId: string; isDeleted: boolean };
  /** The record's latest version, as the vault holds it now. */
  latest: { systemModstamp: string; isDeleted: boolean };
  /** Whether the record is deleted now (in the Recycle Bin or gone from the org). */
  isDeleted: boolean;
  /** Whether an archive deleted it from Salesforce (`orgvault archive`) and it was not restored since. */
  archived: boolean;
  matches: SearchMatch[];
  /** File bodies backed up with the matching version (Files, Attachments, Documents). */
  files: { field: string; fileName: string | null; size: number; address: string }[];
}

export interface SearchResult {
  org: string;
  text: string;
  /** The words searched for, as normalised (one list of alternatives each). */
  terms: string[][];
  filters: { objects: string[] | null; from: string | null; to: string | null; deletedOnly: boolean; latestOnly: boolean; limit: number };
  hits: SearchHit[];
  /** Records the index holds every word for (in any version, any object), before the filters. */
  candidates: number;
  /** Records opened to verify them. */
  verified: number;
  /**
   * Whether there may be matches beyond `hits`: the limit was reached with candidates left, or
   * MAX_VERIFIED records were opened (then `cutShort` says so).
   */
  more: boolean;
  cutShort: boolean;
  /** Versions indexed just before searching (written by a crashed run, or by an older orgvault). */
  indexedNow: number;
}

export interface SearchOptions {
  /** Reports the catch-up of versions not yet indexed (a vault from before the index). */
  onIndexProgress?: (done: number, total: number) => void;
}

/**
 * `--from`/`--to` as a search takes them: ISO-8601 times, a plain date for `to` meaning the whole
 * day (so `--from 2026-03-01 --to 2026-03-31` is March). A UsageError names the bad flag.
 */
export function parseSearchRange(from: string | undefined, to: string | undefined, flags: { from: string; to: string } = { from: '--from', to: '--to' }): { from?: number; to?: number } {
  const range: { from?: number; to?: number } = {};
  if (from !== undefined && from.trim() !== '') range.from = parseTime(from, flags.from);
  if (to !== undefined && to.trim() !== '') {
    range.to = parseTime(to, flags.to);
    if (/^\d{4}-\d{2}-\d{2}$/.test(to.trim())) range.to += 86_400_000 - 1;
  }
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
    throw new UsageError(`${flags.from} ${from} is after ${flags.to} ${to}: the date range is empty. Swap them.`);
  }
  return range;
}

/** Searches an org's backed-up records, latest first. */
export async function searchRecords(store: SearchStore, request: SearchRequest, options: SearchOptions = {}): Promise<SearchResult> {
  const text = request.text.trim();
  if (text === '') throw new UsageError('Give the text to search for, for example `orgvault search "Acme" --org prod`.');
  const terms = queryTerms(text);
  if (terms.length === 0) throw new UsageError(`"${text}" has no word to search for: search for words of at least two letters or digits.`);
  const limit = request.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) throw new UsageError(`The limit must be a whole number from 1 to ${MAX_SEARCH_LIMIT}, not ${String(request.limit)}.`);
  if (request.from !== undefined && request.to !== undefined && request.from > request.to) throw new UsageError('The date range is empty: its start is after its end.');
  const objects = request.objects?.length ? await resolveObjects(store, request.org, request.objects) : undefined;

  const { versions: indexedNow } = await store.catchUpSearchIndex({ onProgress: options.onIndexProgress });
  const { count, candidates } = await store.openSearchCandidates({ orgId: request.org.orgId, terms, objectNames: objects, deletedOnly: request.deletedOnly, modifiedFrom: request.from });

  const inRange = (v: RecordVersion): boolean => (request.from === undefined || v.systemModstamp >= request.from) && (request.to === undefined || v.systemModstamp <= request.to);
  const found: { candidate: SearchCandidate; version: RecordVersion; latest: boolean }[] = [];
  let verified = 0;
  let more = false;
  let cutShort = false;
  for await (const candidate of candidates) {
    // Candidates come latest first: once `limit` hits are at least as recent as this record's
    // latest version, no later candidate can enter the results.
    if (found.length >= limit && candidate.headModstamp < found[limit - 1]!.version.systemModstamp) {
      more = true;
      break;
    }
    if (verified >= MAX_VERIFIED) {
      more = cutShort = true;
      break;
    }
    verified++;
    const match = await verify(store, request, candidate, terms, inRange);
    if (!match) continue;
    found.push({ candidate, ...match });
    found.sort((a, b) => b.version.systemModstamp - a.version.systemModstamp || b.version.seq - a.version.seq);
  }
  if (found.length > limit) {
    found.length = limit;
    more = true;
  }

  const archived = store.archivedRecords && found.length ? await store.archivedRecords(request.org.orgId, found.map((f) => f.candidate.recordId)) : new Map<string, { restored: boolean }>();
  const hits: SearchHit[] = [];
  for (const { candidate, version, latest } of found) {
    const files = FILE_OBJECTS.has(candidate.objectName) ? await store.filesOf(request.org.orgId, candidate.recordId) : [];
    const ofVersion = files.filter((f) => f.systemModstamp === version.systemModstamp);
    hits.push({
      objectName: candidate.objectName,
      recordId: candidate.recordId,
      name: recordName(version.fields),
      matchedIn: latest ? 'latest' : 'history',
      version: { systemModstamp: isoTime(version.systemModstamp), changeType: version.changeType, capturedAt: isoTime(version.capturedAt), runId: version.runId, isDeleted: version.isDeleted },
      latest: { systemModstamp: isoTime(candidate.headModstamp), isDeleted: candidate.isDeleted },
      isDeleted: candidate.isDeleted,
      archived: archived.get(candidate.recordId)?.restored === false,
      matches: matchesOf(version.fields, terms),
      files: (ofVersion.length ? ofVersion : files).map((f) => ({ field: f.field, fileName: f.fileName, size: f.size, address: f.address })),
    });
  }
  return {
    org: request.org.name,
    text,
    terms: terms.map((t) => [...t]),
    filters: {
      objects: objects ?? null,
      from: request.from === undefined ? null : isoTime(request.from),
      to: request.to === undefined ? null : isoTime(request.to),
      deletedOnly: request.deletedOnly ?? false,
      latestOnly: request.latestOnly ?? false,
      limit,
    },
    hits,
    candidates: count,
    verified,
    more,
    cutShort,
    indexedNow,
  };
}

/** The newest version of a candidate that holds every term within the range, if any. */
async function verify(
  store: SearchStore,
  request: SearchRequest,
  candidate: SearchCandidate,
  terms: readonly SearchTerm[],
  inRange: (v: RecordVersion) => boolean,
): Promise<{ version: RecordVersion; latest: boolean } | undefined> {
  const orgId = request.org.orgId;
  // The latest version first: one pack opened, and where most matches are.
  const head = await store.versionAsOf(orgId, candidate.objectName, candidate.recordId, Number.MAX_SAFE_INTEGER);
  if (!head) return undefined;
  if (inRange(head) && matchesAll(recordTokens(head.fields), terms)) return { version: head, latest: true };
  if (request.latestOnly) return undefined;
  for (const version of await store.versionsOf(orgId, candidate.recordId)) {
    if (version.objectName !== candidate.objectName || version.seq === head.seq || !inRange(version)) continue;
    if (matchesAll(recordTokens(version.fields), terms)) return { version, latest: false };
  }
  return undefined;
}

/** The fields of a version that hold some of the terms, with a snippet of each. */
function matchesOf(fields: Record<string, unknown>, terms: readonly SearchTerm[]): SearchMatch[] {
  const out: SearchMatch[] = [];
  eachSearchableValue(fields, (field, value) => {
    if (out.length >= MAX_MATCHED_FIELDS) return;
    const ranges = matchRanges(value, terms);
    if (ranges.length) out.push({ field, ...snippet(value, ranges) });
  });
  return out;
}

/** The value around its first match, on one line, with the matches' positions in it. */
function snippet(value: string, ranges: [number, number][]): { snippet: string; marks: [number, number][] } {
  const word = /[\p{L}\p{N}]/u;
  let start = Math.max(0, ranges[0]![0] - SNIPPET_CONTEXT);
  // Whole words at the edges, within a few characters.
  for (let k = 0; k < 15 && start > 0 && word.test(value[start - 1]!); k++) start--;
  let end = Math.min(value.length, start + SNIPPET_MAX);
  for (let k = 0; k < 15 && end < value.length && word.test(value[end]!); k++) end++;
  const prefix = start > 0 ? '…' : '';
  const suffix = end < value.length ? '…' : '';
  const body = value.slice(start, end).replace(/\s/g, ' ');
  const marks = ranges.filter(([a, b]) => a >= start && b <= end).map(([a, b]): [number, number] => [a - start + prefix.length, b - start + prefix.length]);
  return { snippet: `${prefix}${body}${suffix}`, marks };
}

const NAME_FIELDS = ['Name', 'Title', 'Subject', 'CaseNumber', 'PathOnClient', 'ContractNumber', 'OrderNumber', 'MasterLabel', 'DeveloperName'];

/** What a user calls the record, from its fields. */
export function recordName(fields: Record<string, unknown>): string | null {
  for (const field of NAME_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  const person = [fields.FirstName, fields.LastName].filter((v): v is string => typeof v === 'string' && v !== '').join(' ');
  return person || null;
}

/** The objects named, as the vault spells them; a UsageError for one the org's backups do not have. */
async function resolveObjects(store: SearchStore, org: OrgRegistration, names: readonly string[]): Promise<string[]> {
  const known = (await store.getObjectStates(org.orgId)).map((s) => s.objectName);
  const byLower = new Map(known.map((n) => [n.toLowerCase(), n]));
  return names.map((name) => {
    const found = byLower.get(name.trim().toLowerCase());
    if (found) return found;
    const wanted = name.trim().toLowerCase();
    const close = known.filter((k) => editDistance(k.toLowerCase(), wanted) <= 2 || k.toLowerCase().startsWith(wanted.slice(0, 3))).slice(0, 5);
    throw new UsageError(
      `The backups of ${org.name} have no object ${JSON.stringify(name)}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}. \`orgvault status --org ${org.name}\` lists the objects backed up.`,
    );
  });
}

/** Levenshtein distance, for "did you mean" (names are short). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
