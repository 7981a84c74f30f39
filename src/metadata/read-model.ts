/** The read models behind `orgvault metadata list` and `metadata history` (and the dashboard's metadata tab). */
import { UsageError } from '../core/errors.ts';
import type { MetadataComponentVersion, MetadataRunSummary } from '../core/metadata.ts';
import { parseComponentRef } from '../core/metadata.ts';
import type { MetadataStore } from '../store/port.ts';

export interface MetadataTypeSummary {
  type: string;
  /** Components the vault holds live (not deleted) for this type. */
  components: number;
  /** Components backed up before and since deleted in the org. */
  deleted: number;
  /** The latest lastModifiedDate Salesforce reported among its components (ms), if any. */
  lastModified: number | null;
  /** When a backup last stored a change of this type (a new version or a deletion). */
  lastChangeCaptured: number;
  lastChangeRunId: string;
}

export interface MetadataInventory {
  types: MetadataTypeSummary[];
  /** The latest completed metadata capture, if any. */
  lastRun: MetadataRunSummary | null;
}

/** Types with their counts and last change, as the vault holds them now (or only `type`). */
export async function metadataInventory(store: MetadataStore, orgId: string, options: { type?: string } = {}): Promise<MetadataInventory> {
  const heads = await store.metadataHeads(orgId, { includeDeleted: true, type: options.type });
  const byType = new Map<string, MetadataTypeSummary>();
  for (const head of heads) {
    let summary = byType.get(head.type);
    if (!summary) byType.set(head.type, (summary = { type: head.type, components: 0, deleted: 0, lastModified: null, lastChangeCaptured: head.capturedAt, lastChangeRunId: head.runId }));
    if (head.deleted) summary.deleted++;
    else summary.components++;
    // Standard components carry the epoch as their date: not a change anyone made.
    if (head.lastModifiedDate && (summary.lastModified === null || head.lastModifiedDate > summary.lastModified)) summary.lastModified = head.lastModifiedDate;
    if (head.capturedAt > summary.lastChangeCaptured) {
      summary.lastChangeCaptured = head.capturedAt;
      summary.lastChangeRunId = head.runId;
    }
  }
  const [lastRun] = await store.metadataRuns(orgId, { limit: 1 });
  return { types: [...byType.values()].sort((a, b) => a.type.localeCompare(b.type)), lastRun: lastRun ?? null };
}

/**
 * Every stored version of one component named `Type:FullName`, newest first. The type is matched
 * exactly; the name also without regard to case when nothing matches exactly (Salesforce's names
 * are case-insensitive).
 */
export async function componentHistory(store: MetadataStore, orgId: string, ref: string): Promise<{ type: string; fullName: string; versions: MetadataComponentVersion[] }> {
  const parsed = parseComponentRef(ref);
  if (!parsed) throw new UsageError(`"${ref}" is not a component: name it as TYPE:NAME, such as ApexClass:InvoiceService or CustomField:Account.Rating__c.`);
  let versions = await store.metadataHistory(orgId, parsed.type, parsed.fullName);
  let fullName = parsed.fullName;
  if (versions.length === 0) {
    const match = (await store.metadataHeads(orgId, { type: parsed.type, includeDeleted: true })).find((h) => h.fullName.toLowerCase() === parsed.fullName.toLowerCase());
    if (match) {
      fullName = match.fullName;
      versions = await store.metadataHistory(orgId, parsed.type, fullName);
    }
  }
  if (versions.length === 0) {
    throw new UsageError(`The vault holds no ${parsed.type} named ${parsed.fullName} for this org; \`orgvault metadata list --type ${parsed.type}\` lists the types and counts backed up.`);
  }
  return { type: parsed.type, fullName, versions };
}
