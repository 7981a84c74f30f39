/**
 * `orgvault search TEXT --org NAME`: finds backed-up records by any text value of any field, in
 * every object, in their latest state and in their history, and files by name; each hit names
 * the `orgvault history` command that shows the record's versions.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { MAX_SEARCH_LIMIT, parseSearchRange, searchRecords } from '../../search/index.ts';
import type { SearchHit, SearchResult } from '../../search/index.ts';
import { formatBytes } from '../format.ts';
import { listOption } from '../option-lists.ts';
import { globalOptions, printResult, warn } from '../vault-options.ts';
import { requireOrg, withVault } from '../vault-session.ts';

interface SearchFlags {
  org?: string;
  object?: string[];
  from?: string;
  to?: string;
  deletedOnly?: boolean;
  latestOnly?: boolean;
  limit?: string;
}

export function registerSearchCommand(program: Command): void {
  program
    .command('search')
    .description('find backed-up records by any text value (names, emails, phone numbers, addresses, file names…), in their latest state and in their history')
    .argument('<text...>', 'the words to find; a record matches when one of its versions holds every word, in any fields')
    .option('--org <name>', 'the org (optional when the vault holds one org)')
    .option('--object <names>', 'only these objects (API names; repeat or separate with commas)', listOption)
    .option('--from <time>', 'only versions modified (SystemModstamp) at or after this time: 2026-03-01 or 2026-03-01T09:00:00Z')
    .option('--to <time>', 'only versions modified at or before this time; a plain date means the whole day')
    .option('--deleted-only', 'only records deleted now (in the Recycle Bin or gone from the org)')
    .option('--latest-only', 'only records whose latest version matches, not those that matched only in the past')
    .option('--limit <n>', `at most this many records, latest first (1 to ${MAX_SEARCH_LIMIT}, default 50)`)
    .addHelpText(
      'after',
      '\nExamples:\n  orgvault search "Acme Corporation" --org prod\n  orgvault search jane.doe@example.com --org prod --deleted-only\n  orgvault search "(415) 555-0123" --org prod --object Contact,Lead\n  orgvault search "Q3 report.pdf" --org prod --from 2026-01-01 --to 2026-03-31',
    )
    .action(async (words: string[], flags: SearchFlags, command: Command) => {
      const options = globalOptions(command);
      const text = words.join(' ');
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT)) {
        throw new UsageError(`--limit must be a whole number from 1 to ${MAX_SEARCH_LIMIT}, not ${JSON.stringify(flags.limit)}.`);
      }
      if (text.trim() === '') throw new UsageError('Give the text to search for, for example `orgvault search "Acme" --org prod`.');
      const range = parseSearchRange(flags.from, flags.to);
      // Not read-only: versions a crashed run or an older orgvault left unindexed are indexed first.
      const result = await withVault(command, async (vault) => {
        const org = await requireOrg(vault, flags.org);
        return searchRecords(
          vault.store,
          { org, text, objects: flags.object, ...range, deletedOnly: flags.deletedOnly, latestOnly: flags.latestOnly, limit },
          { onIndexProgress: (done, total) => warn(`Indexing versions not yet in the search index: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`) },
        );
      });
      const json = { ...result, hits: result.hits.map((hit) => ({ ...hit, history: historyCommand(hit.recordId, result.org) })) };
      printResult(options, json, () => textReport(result));
    });
}

function textReport(result: SearchResult): string[] {
  const scope = [
    result.filters.objects ? `in ${result.filters.objects.join(', ')}` : '',
    result.filters.from || result.filters.to ? `modified ${result.filters.from ?? '…'} → ${result.filters.to ?? '…'}` : '',
    result.filters.deletedOnly ? 'deleted records only' : '',
    result.filters.latestOnly ? 'latest versions only' : '',
  ].filter(Boolean);
  const head = `${result.hits.length === 0 ? 'No record matches' : `${result.hits.length} record(s) match`} "${result.text}" in ${result.org}${scope.length ? ` (${scope.join(', ')})` : ''}.`;
  const lines = [head];
  if (result.indexedNow > 0) lines.push(`(${result.indexedNow.toLocaleString('en-US')} version(s) were indexed first.)`);
  for (const hit of result.hits) lines.push('', ...hitLines(hit, result.org));
  if (result.cutShort) {
    lines.push('', `Stopped after checking ${result.verified.toLocaleString('en-US')} of ${result.candidates.toLocaleString('en-US')} candidate records: narrow the search with more words, --object, --from or --to.`);
  } else if (result.more) {
    lines.push('', `More records may match: raise --limit (now ${result.filters.limit}) or narrow the search.`);
  }
  return lines;
}

function hitLines(hit: SearchHit, org: string): string[] {
  const state = hit.archived ? 'archived' : hit.isDeleted ? 'deleted' : 'live';
  const where =
    hit.matchedIn === 'latest'
      ? `latest version (${hit.version.systemModstamp})`
      : `only in an older version (${hit.version.systemModstamp}); the latest (${hit.latest.systemModstamp}) no longer matches`;
  const lines = [`${hit.objectName} ${hit.recordId}${hit.name ? `  ${JSON.stringify(hit.name)}` : ''}  [${state}]`, `    matched in the ${where}`];
  for (const m of hit.matches) lines.push(`    ${m.field}: ${m.snippet}`);
  for (const f of hit.files) lines.push(`    file: ${f.fileName ?? f.field} (${formatBytes(f.size)})`);
  lines.push(`    history: ${historyCommand(hit.recordId, org)}`);
  return lines;
}

/** The command that lists a record's versions. */
function historyCommand(recordId: string, org: string): string {
  return `orgvault history ${recordId} --org ${quoteArg(org)}`;
}

function quoteArg(value: string): string {
  return /^[\w.@:/-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
