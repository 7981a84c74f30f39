/**
 * The org's metadata in a state file (`--state`): deployed and seeded components (report,
 * dashboard, document and email template folders with what they hold among them), validation
 * rules, schema changes and component versions, so an emulator restarted from the file serves the
 * same metadata with the same versions and IDs. Retrieve jobs are not kept; they are short-lived.
 */
import type { Org } from '../org/org.ts';
import { replaySchemaChange } from './admin.ts';
import { metadataState } from './model.ts';
import type { ComponentVersion, ValidationRuleMetadata } from './model.ts';
import type { ApexSource, ApexTriggerSource, FolderedSource, FolderSource, PermissionSetSource } from './seed.ts';

/** The JSON form of an org's metadata state. */
export interface MetadataSnapshot {
  ids: Record<string, number>;
  apexClasses: ApexSource[];
  apexTriggers: ApexTriggerSource[];
  flows: { name: string; xml: string }[];
  permissionSets: PermissionSetSource[];
  /** Absent in files saved before folders were kept: the seeded ones stay. */
  folders?: FolderSource[];
  foldered?: FolderedSource[];
  rules: ValidationRuleMetadata[];
  layoutFields: Record<string, string[]>;
  versions: Record<string, ComponentVersion>;
  componentIds: Record<string, string>;
  initialized: boolean;
  schemaChanges: Record<string, unknown>[];
}

/** The metadata state of an org as plain JSON. */
export function exportMetadata(org: Org): MetadataSnapshot {
  const state = metadataState(org);
  return structuredClone({
    ids: state.ids.snapshot(),
    apexClasses: [...state.apexClasses.values()],
    apexTriggers: [...state.apexTriggers.values()],
    flows: [...state.flows.values()],
    permissionSets: [...state.permissionSets.values()],
    folders: [...state.folders.values()],
    foldered: [...state.foldered.values()],
    rules: [...state.rules.values()],
    layoutFields: Object.fromEntries(state.layoutFields),
    versions: Object.fromEntries(state.versions),
    componentIds: Object.fromEntries(state.componentIds),
    initialized: state.initialized,
    schemaChanges: state.schemaChanges,
  });
}

/**
 * Replaces an org's metadata state with a saved one. Schema changes are made again first (the org
 * was built from its profile), then the components, rules and versions are put back as saved.
 */
export function importMetadata(org: Org, snapshot: MetadataSnapshot): void {
  const state = metadataState(org);
  state.schemaChanges.length = 0;
  for (const change of snapshot.schemaChanges) replaySchemaChange(org, change);
  const fill = <T>(map: Map<string, T>, items: T[], key: (item: T) => string): void => {
    map.clear();
    for (const item of items) map.set(key(item).toLowerCase(), item);
  };
  state.ids.restore(snapshot.ids);
  fill(state.apexClasses, snapshot.apexClasses, (c) => c.name);
  fill(state.apexTriggers, snapshot.apexTriggers, (t) => t.name);
  fill(state.flows, snapshot.flows, (f) => f.name);
  fill(state.permissionSets, snapshot.permissionSets, (p) => p.name);
  if (snapshot.folders) fill(state.folders, snapshot.folders, (f) => `${f.contentType}:${f.name}`);
  if (snapshot.foldered) fill(state.foldered, snapshot.foldered, (f) => `${f.type}:${f.folder}/${f.name}`);
  fill(state.rules, snapshot.rules, (r) => `${r.object}.${r.fullName}`);
  const entries = <T>(map: Map<string, T>, record: Record<string, T>): void => {
    map.clear();
    for (const [k, v] of Object.entries(record)) map.set(k, v);
  };
  entries(state.layoutFields, snapshot.layoutFields);
  entries(state.versions, snapshot.versions);
  entries(state.componentIds, snapshot.componentIds);
  state.initialized = snapshot.initialized;
  state.jobs.clear();
}
