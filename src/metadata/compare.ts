/**
 * `metadata compare`: the org's configuration at two points (two metadata backups, by default
 * the last two; a run, a time, or the live org), as the components added, removed and changed,
 * each changed one with a unified diff of its source-format files. On the metadata port only; the
 * live org's components come from a capture the caller passes in (`live`), so this module never
 * reaches Salesforce itself.
 *
 * Two backed-up versions are equal when they share a content address, so a compare of two
 * backups reads the files of the changed components only.
 */
import { UsageError } from '../core/errors.ts';
import { componentKey, isBinaryMetadataFile } from '../core/metadata.ts';
import type { MetadataComponentRef, MetadataComponentVersion, MetadataFiles, MetadataRunSummary } from '../core/metadata.ts';
import { parseTime } from '../core/time.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { OrgClient } from '../core/org-client.ts';
import type { MetadataStore } from '../store/port.ts';
import { readLiveMetadata } from './backup.ts';
import { metadataSettings } from './settings.ts';
import { unifiedDiff } from './xml-diff.ts';

/** A point of a compare: a completed metadata backup, a moment, or the org as it is now. */
export type MetadataPoint = { runId: string } | { at: number } | { live: true };

/** A component as the live org has it now. */
export interface LiveMetadataComponent extends MetadataComponentRef {
  files: MetadataFiles;
  lastModifiedDate: number | null;
}

/** A side of a compare, as resolved. */
export interface ResolvedPoint {
  /** "run 1a2b… (captured 2026-…)", "as of 2026-…", "live org". */
  label: string;
  runId?: string;
  /** ISO-8601: when the run captured, or the moment asked for. */
  at?: string;
  live?: boolean;
}

/** What one side says of a component that differs. */
export interface ComponentSide {
  /** ISO-8601 of Salesforce's lastModifiedDate, when it gave one. */
  lastModifiedDate: string | null;
  /** The backup that captured this version (absent for the live org). */
  runId?: string;
  capturedAt?: string;
}

export interface MetadataComponentChange extends MetadataComponentRef {
  change: 'added' | 'removed' | 'changed';
  before?: ComponentSide;
  after?: ComponentSide;
  /** The component's files that differ (all of them for an added or removed component). */
  files: { path: string; change: 'added' | 'removed' | 'changed' }[];
  /** A unified diff of the changed files (`--- a/path`, `+++ b/path`); '' unless changed. */
  diff: string;
}

export interface MetadataComparison {
  org: string;
  from: ResolvedPoint;
  to: ResolvedPoint;
  counts: { added: number; removed: number; changed: number; unchanged: number };
  /** By type, then fullName. */
  changes: MetadataComponentChange[];
}

export interface MetadataCompareDeps {
  store: MetadataStore;
  /** Captures the live org's components (only called when a side is `live`). */
  live?: () => Promise<LiveMetadataComponent[]>;
}

export interface MetadataCompareOptions {
  /** Only components of this metadata type. */
  type?: string;
  /** Lines of context around each change in a diff (default 3). */
  context?: number;
}

/**
 * A `--from`/`--to` value: `live`, a run ID (or a unique prefix of one; resolved later), or a
 * time. A bare word that is not a time is taken for a run.
 */
export function parseMetadataPoint(value: string, flag: string): MetadataPoint {
  const text = value.trim();
  if (text.toLowerCase() === 'live') return { live: true };
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) return { at: parseTime(text, flag) };
  if (!text) throw new UsageError(`${flag} is empty: give a run ID, a time (ISO-8601) or "live".`);
  return { runId: text };
}

interface Side {
  point: ResolvedPoint;
  /** By component key. */
  components: Map<string, SideComponent>;
}

interface SideComponent extends MetadataComponentRef {
  version?: MetadataComponentVersion;
  files?: MetadataFiles;
  lastModifiedDate: number | null;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** The org's completed metadata backup a run ID (or unique prefix) names. */
export async function findMetadataRun(store: MetadataStore, org: OrgRegistration, runId: string): Promise<MetadataRunSummary> {
  const runs = await store.metadataRuns(org.orgId);
  const exact = runs.find((r) => r.runId === runId);
  if (exact) return exact;
  const matches = runs.filter((r) => r.runId.startsWith(runId));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UsageError(`Run "${runId}" is ambiguous: ${matches.length} metadata backups of ${org.name} start with it. Give more of the run ID.`);
  throw new UsageError(`No metadata backup of ${org.name} has run ID "${runId}". \`orgvault metadata list --org ${org.name}\` and \`orgvault logs --org ${org.name}\` show the runs.`);
}

/** The points to compare: both given, or the defaults (the last two backups; the backup before `to`). */
async function defaultPoints(store: MetadataStore, org: OrgRegistration, from: MetadataPoint | undefined, to: MetadataPoint | undefined): Promise<{ from: MetadataPoint; to: MetadataPoint }> {
  if (from && to) return { from, to };
  const runs = await store.metadataRuns(org.orgId);
  const none = `${org.name} has ${runs.length === 0 ? 'no metadata backup' : 'one metadata backup'} yet`;
  if (!to) {
    const latest = runs[0];
    if (!latest) throw new UsageError(`${none}: run \`orgvault backup --org ${org.name}\` first, or compare with --to live.`);
    to = { runId: latest.runId };
  }
  if (!from) {
    let before: MetadataRunSummary | undefined;
    if ('runId' in to) {
      const target = await findMetadataRun(store, org, to.runId);
      // Runs come newest first: the one before `to` is the next in the list.
      before = runs[runs.findIndex((r) => r.runId === target.runId) + 1];
    } else if ('at' in to) {
      // The state at a time is that of the last backup before it: compare with the backup before that one.
      const at = to.at;
      const last = runs.findIndex((r) => r.capturedAt <= at);
      before = last >= 0 ? runs[last + 1] : undefined;
    } else before = runs[0];
    if (!before) throw new UsageError(`${none}, and nothing before the --to point to compare it with: give --from RUN|TIME, or compare the latest backup with --to live.`);
    from = { runId: before.runId };
  }
  return { from, to };
}

async function resolveSide(deps: MetadataCompareDeps, org: OrgRegistration, point: MetadataPoint, type: string | undefined, liveCache: { value?: Promise<LiveMetadataComponent[]> }): Promise<Side> {
  const components = new Map<string, SideComponent>();
  if ('live' in point) {
    if (!deps.live) throw new UsageError('Comparing with the live org needs a connection to it; this caller has none.');
    liveCache.value ??= deps.live();
    for (const c of await liveCache.value) {
      if (type && c.type !== type) continue;
      components.set(componentKey(c), { type: c.type, fullName: c.fullName, files: c.files, lastModifiedDate: c.lastModifiedDate });
    }
    return { point: { label: 'live org', live: true }, components };
  }
  let resolved: ResolvedPoint;
  let heads: MetadataComponentVersion[];
  if ('runId' in point) {
    const run = await findMetadataRun(deps.store, org, point.runId);
    resolved = { label: `run ${run.runId} (captured ${iso(run.capturedAt)})`, runId: run.runId, at: iso(run.capturedAt)! };
    heads = await deps.store.metadataHeads(org.orgId, { runId: run.runId, ...(type ? { type } : {}) });
  } else {
    resolved = { label: `as of ${iso(point.at)}`, at: iso(point.at)! };
    heads = await deps.store.metadataHeads(org.orgId, { at: point.at, ...(type ? { type } : {}) });
  }
  for (const v of heads) {
    if (v.deleted) continue;
    components.set(componentKey(v), { type: v.type, fullName: v.fullName, version: v, lastModifiedDate: v.lastModifiedDate });
  }
  return { point: resolved, components };
}

async function filesOf(store: MetadataStore, org: OrgRegistration, c: SideComponent): Promise<MetadataFiles> {
  if (c.files) return c.files;
  const contentId = c.version?.contentId;
  if (!contentId) return {};
  const files = await store.readMetadataFiles(org.orgId, contentId);
  if (!files) throw new UsageError(`The vault has no content ${contentId} for ${componentKey(c)} (version of run ${c.version?.runId}): run \`orgvault verify\`.`);
  return files;
}

function sideOf(c: SideComponent): ComponentSide {
  // Standard components carry the epoch as their date: no one's change, so none is shown.
  return { lastModifiedDate: c.lastModifiedDate ? iso(c.lastModifiedDate) : null, ...(c.version ? { runId: c.version.runId, capturedAt: iso(c.version.capturedAt)! } : {}) };
}

/**
 * What differs between two sets of files, file by file, with a unified diff of each changed
 * one. Pure; files equal on both sides are left out.
 */
export function diffComponentFiles(before: MetadataFiles, after: MetadataFiles, context = 3): { files: MetadataComponentChange['files']; diff: string } {
  const paths = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const files: MetadataComponentChange['files'] = [];
  let diff = '';
  for (const path of paths) {
    const a = before[path];
    const b = after[path];
    if (a === b) continue;
    files.push({ path, change: a === undefined ? 'added' : b === undefined ? 'removed' : 'changed' });
    // A line diff of base64 says nothing: binary files are named, as diff does.
    if ((a !== undefined && isBinaryMetadataFile(a)) || (b !== undefined && isBinaryMetadataFile(b))) diff += `Binary files ${a === undefined ? '/dev/null' : `a/${path}`} and ${b === undefined ? '/dev/null' : `b/${path}`} differ\n`;
    else diff += unifiedDiff(a, b, { old: `a/${path}`, new: `b/${path}` }, context);
  }
  return { files, diff };
}

const byRef = (a: MetadataComponentRef, b: MetadataComponentRef): number => (a.type === b.type ? (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0) : a.type < b.type ? -1 : 1);

/** Compares the org's metadata at two points (defaults: the last two backups). */
export async function compareMetadata(deps: MetadataCompareDeps, org: OrgRegistration, points: { from?: MetadataPoint; to?: MetadataPoint }, options: MetadataCompareOptions = {}): Promise<MetadataComparison> {
  const { from, to } = await defaultPoints(deps.store, org, points.from, points.to);
  const liveCache: { value?: Promise<LiveMetadataComponent[]> } = {};
  const left = await resolveSide(deps, org, from, options.type, liveCache);
  const right = await resolveSide(deps, org, to, options.type, liveCache);
  const changes: MetadataComponentChange[] = [];
  let unchanged = 0;
  const keys = [...new Set([...left.components.keys(), ...right.components.keys()])];
  for (const key of keys) {
    const a = left.components.get(key);
    const b = right.components.get(key);
    if (a && b) {
      // Two stored versions with one content address are equal without reading them.
      if (a.version && b.version && a.version.contentId === b.version.contentId) {
        unchanged++;
        continue;
      }
      const { files, diff } = diffComponentFiles(await filesOf(deps.store, org, a), await filesOf(deps.store, org, b), options.context);
      if (files.length === 0) {
        unchanged++;
        continue;
      }
      changes.push({ type: a.type, fullName: a.fullName, change: 'changed', before: sideOf(a), after: sideOf(b), files, diff });
    } else if (b) {
      const files = Object.keys(await filesOf(deps.store, org, b)).sort().map((path) => ({ path, change: 'added' as const }));
      changes.push({ type: b.type, fullName: b.fullName, change: 'added', after: sideOf(b), files, diff: '' });
    } else if (a) {
      const files = Object.keys(await filesOf(deps.store, org, a)).sort().map((path) => ({ path, change: 'removed' as const }));
      changes.push({ type: a.type, fullName: a.fullName, change: 'removed', before: sideOf(a), files, diff: '' });
    }
  }
  changes.sort(byRef);
  const count = (kind: MetadataComponentChange['change']): number => changes.filter((c) => c.change === kind).length;
  return { org: org.name, from: left.point, to: right.point, counts: { added: count('added'), removed: count('removed'), changed: count('changed'), unchanged }, changes };
}

/**
 * The live side of a compare: the org's components now, read as a backup reads them (the org's
 * metadata settings; only `type` when given), connecting only when a compare asks for it.
 */
export function liveMetadata(connect: () => Promise<OrgClient>, org: OrgRegistration, type?: string): () => Promise<LiveMetadataComponent[]> {
  return async () => {
    const settings = metadataSettings(org);
    const live = await readLiveMetadata(await connect(), type ? { ...settings, types: [type] } : settings);
    return [...live.values()].map((c) => ({ type: c.ref.type, fullName: c.ref.fullName, files: c.files, lastModifiedDate: c.lastModifiedDate }));
  };
}
