/**
 * `metadata export`: a deployable zip of the org's metadata as of a point in time or a run, as a
 * Salesforce DX project: `package.xml` (the manifest: every type with its members, and the API
 * version), `sfdx-project.json`, the components' source-format files under
 * `force-app/main/default/`, and a README.txt saying what the zip holds and how to deploy it
 * (`sf project deploy start --manifest package.xml`). Built-in profiles keep their Metadata API
 * names and a custom profile whose name is taken is renamed (`profile-names.ts`), so that no
 * profile's file overwrites another's. Report, dashboard, document and email template folders are
 * members of the type they hold, beside their contents (`Report: Sales`, `Report: Sales/Pipeline`),
 * with their files where a Salesforce DX project has them (`reports/Sales.reportFolder-meta.xml`).
 *
 * The zip is not encrypted: it is made to be deployed. It is written to a temporary file beside
 * the target (owner-only), flushed, then renamed over it, so a failed export leaves no partial zip.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { TextReader, Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { OrgvaultError, UsageError } from '../core/errors.ts';
import { componentKey, isBinaryMetadataFile, metadataFileBytes } from '../core/metadata.ts';
import type { MetadataComponentRef, MetadataFiles } from '../core/metadata.ts';
import type { OrgRegistration } from '../core/vault.ts';
import type { MetadataStore } from '../store/port.ts';
import { findMetadataRun } from './compare.ts';
import { FOLDER_CONTENT_TYPES, folderTypesOf } from './source-format.ts';
import { BUILT_IN_PROFILES, CUSTOM_PROFILE_PREFIX, exportProfileNames } from './profile-names.ts';
import type { ExportedProfileName } from './profile-names.ts';

/** The Metadata API version package.xml names unless told otherwise (the one orgvault's client speaks). */
export const DEFAULT_PACKAGE_API_VERSION = '62.0';
/** Where the source files go in the zip: the default package directory of `sfdx-project.json`. */
export const SOURCE_ROOT = 'force-app/main/default';

/** A component and its files, as the package is built from. */
export interface PackageComponent extends MetadataComponentRef {
  files: MetadataFiles;
}

/** A built package, before it is zipped. */
export interface MetadataPackage {
  /** package.xml's types: by name, members sorted. */
  types: { name: string; members: string[] }[];
  version: string;
  /** Zip entries: path → text. */
  entries: Map<string, string>;
  /** Every profile of the package, with the name it is exported under. */
  profiles: ExportedProfileName[];
  /** Paths two components both had with different text: the first component's file is kept. */
  conflicts: { path: string; kept: string; dropped: string }[];
}

const xmlEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The Metadata API manifest (package.xml) for these types, as `sf project retrieve` writes it. */
export function packageXml(types: readonly { name: string; members: readonly string[] }[], version: string): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<Package xmlns="http://soap.sforce.com/2006/04/metadata">'];
  for (const t of [...types].sort((a, b) => byText(a.name, b.name))) {
    lines.push('    <types>');
    for (const m of [...t.members].sort(byText)) lines.push(`        <members>${xmlEscape(m)}</members>`);
    lines.push(`        <name>${xmlEscape(t.name)}</name>`);
    lines.push('    </types>');
  }
  lines.push(`    <version>${xmlEscape(version)}</version>`, '</Package>', '');
  return lines.join('\n');
}

/** A profile's file path under its export name: `profiles/Foo.profile-meta.xml` → `profiles/Custom_Foo.profile-meta.xml`. */
function renameProfilePath(path: string, fullName: string, exportName: string): string {
  if (fullName === exportName) return path;
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const file = path.slice(slash + 1);
  return file.startsWith(`${fullName}.`) ? `${dir}${exportName}${file.slice(fullName.length)}` : path;
}

/** Types whose components are folders of files of their own kinds (`lwc/foo/foo.js`, `foo.html`): kept as they are. */
const BUNDLE_FOLDERS = ['lwc/', 'aura/', 'experiences/', 'waveTemplates/'];

/**
 * A stored path in source format. The vault keeps what the retrieve gave for components that are
 * not cut up (`profiles/Admin.profile`, `layouts/Account-Account Layout.layout`); in a Salesforce
 * DX project an XML-only component's file ends in `-meta.xml`. A body with a companion
 * (`classes/Foo.cls` beside `classes/Foo.cls-meta.xml`) and bundle files keep their names.
 */
export function sourceFormatPath(path: string, text: string, files: MetadataFiles): string {
  if (path.endsWith('-meta.xml') || `${path}-meta.xml` in files) return path;
  if (BUNDLE_FOLDERS.some((folder) => path.startsWith(folder))) return path;
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (!name.includes('.') || isBinaryMetadataFile(text) || !text.trimStart().startsWith('<')) return path;
  return `${path}-meta.xml`;
}

/**
 * A stored path of a component in source format, by type. A folder's `reports/Sales-meta.xml`
 * is `reports/Sales.reportFolder-meta.xml`; a document's `documents/F/logo.png-meta.xml` is
 * `documents/F/logo.document-meta.xml` beside `documents/F/logo.png`; the rest as
 * `sourceFormatPath` says (a report's `reports/F/R.report` is `reports/F/R.report-meta.xml`).
 */
export function sourcePathOf(type: string, path: string, text: string, files: MetadataFiles): string {
  const META = '-meta.xml';
  if (type in FOLDER_CONTENT_TYPES && path.endsWith(META) && !/\.[A-Za-z]+Folder-meta\.xml$/.test(path)) {
    return `${path.slice(0, -META.length)}.${type[0]!.toLowerCase()}${type.slice(1)}${META}`;
  }
  if (type === 'Document' && path.endsWith(META) && !path.endsWith(`.document${META}`)) {
    const file = path.slice(0, -META.length);
    const slash = file.lastIndexOf('/');
    const dot = file.lastIndexOf('.');
    return `${dot > slash ? file.slice(0, dot) : file}.document${META}`;
  }
  return sourceFormatPath(path, text, files);
}

/**
 * Builds the package of a set of components: manifest, project file, source files and README.
 * Pure. `about` is what the README says of where the metadata comes from.
 */
export function buildMetadataPackage(components: readonly PackageComponent[], about: { org: string; point: string; version?: string }): MetadataPackage {
  const version = about.version ?? DEFAULT_PACKAGE_API_VERSION;
  const sorted = [...components].sort((a, b) => byText(a.type, b.type) || byText(a.fullName, b.fullName));
  const profiles = exportProfileNames(sorted.filter((c) => c.type === 'Profile').map((c) => c.fullName));
  const profileName = new Map(profiles.map((p) => [p.fullName, p]));
  const members = new Map<string, string[]>();
  const files = new Map<string, { text: string; owner: string }>();
  const conflicts: MetadataPackage['conflicts'] = [];
  for (const c of sorted) {
    const renamed = c.type === 'Profile' ? profileName.get(c.fullName) : undefined;
    const member = renamed?.exportName ?? c.fullName;
    // A folder is a member of the type it holds (`Report: Sales`, beside `Report: Sales/Pipeline`).
    const typeName = FOLDER_CONTENT_TYPES[c.type] ?? c.type;
    members.set(typeName, [...(members.get(typeName) ?? []), member]);
    for (const [stored, text] of Object.entries(c.files)) {
      const path = sourcePathOf(c.type, stored, text, c.files);
      const target = renamed ? renameProfilePath(path, c.fullName, renamed.exportName) : path;
      const held = files.get(target);
      if (held && held.text !== text) conflicts.push({ path: target, kept: held.owner, dropped: componentKey(c) });
      if (!held) files.set(target, { text, owner: componentKey(c) });
    }
  }
  const types = [...members].map(([name, list]) => ({ name, members: list.sort(byText) }));
  const entries = new Map<string, string>();
  entries.set('package.xml', packageXml(types, version));
  entries.set('sfdx-project.json', `${JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }], sourceApiVersion: version }, null, 2)}\n`);
  entries.set('README.txt', readme(about.org, about.point, version, types, profiles, conflicts));
  for (const path of [...files.keys()].sort(byText)) entries.set(`${SOURCE_ROOT}/${path}`, files.get(path)!.text);
  return { types, version, entries, profiles, conflicts };
}

function readme(org: string, point: string, version: string, types: MetadataPackage['types'], profiles: ExportedProfileName[], conflicts: MetadataPackage['conflicts']): string {
  const total = types.reduce((n, t) => n + t.members.length, 0);
  const lines = [
    `Metadata of ${org}, ${point}`,
    `Exported by orgvault: ${total} component(s) of ${types.length} type(s), Metadata API version ${version}.`,
    '',
    'Contents',
    '  package.xml          the manifest: every type with its members',
    '  sfdx-project.json    a Salesforce DX project, so that the Salesforce CLI can deploy it',
    `  ${SOURCE_ROOT}/   the components in source format`,
    '',
    'Deploy (check first, then deploy):',
    '  sf project deploy start --manifest package.xml --target-org ALIAS --dry-run',
    '  sf project deploy start --manifest package.xml --target-org ALIAS',
    'A deploy replaces the components it names in the target org. Deploy only the types you need',
    '(edit package.xml), and try it in a sandbox first.',
    '',
    'Types',
    ...types.map((t) => `  ${t.name.padEnd(24)} ${t.members.length}`),
    '',
    'Profiles',
    'Built-in profiles export under their Metadata API names, not the names Setup shows:',
    ...BUILT_IN_PROFILES.map((p) => `  ${p.label.padEnd(24)} -> ${p.apiName}`),
    `A custom profile whose name is one of these (in any case) is exported as ${CUSTOM_PROFILE_PREFIX}<name>, so that`,
    'it never overwrites the built-in profile; deployed, it becomes a new custom profile of that name.',
  ];
  const renamed = profiles.filter((p) => p.exportName !== p.fullName);
  if (renamed.length > 0) {
    lines.push('Renamed in this export:', ...renamed.map((p) => `  ${p.fullName} -> ${p.exportName}`));
  }
  if (conflicts.length > 0) {
    lines.push('', 'Files two components both held (the first is kept):', ...conflicts.map((c) => `  ${c.path}: kept ${c.kept}, dropped ${c.dropped}`));
  }
  lines.push('');
  return lines.join('\n');
}

/** The zip of a package, in memory (metadata is component-sized text; a large org's is tens of MB). */
export async function zipMetadataPackage(pkg: MetadataPackage): Promise<Uint8Array<ArrayBuffer>> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), { useWebWorkers: false, keepOrder: true });
  for (const [path, text] of pkg.entries) await writer.add(path, isBinaryMetadataFile(text) ? new Uint8ArrayReader(metadataFileBytes(text)) : new TextReader(text));
  // zip.js builds the bytes in an ordinary (never shared) ArrayBuffer.
  return (await writer.close()) as Uint8Array<ArrayBuffer>;
}

export interface MetadataExportRequest {
  /** The metadata as of this moment (ms)… */
  at?: number;
  /** …or as of this completed metadata backup (an ID or unique prefix). Default: the latest. */
  runId?: string;
  /** Only components of this type. */
  type?: string;
  /** package.xml's API version. */
  version?: string;
}

export interface MetadataExportResult {
  org: string;
  /** Where the zip was written (absolute). */
  file: string;
  point: { runId?: string; at: string };
  components: number;
  bytes: number;
  types: { name: string; count: number }[];
  /** Profiles exported under another name than their own. */
  renamedProfiles: { fullName: string; exportName: string }[];
  conflicts: MetadataPackage['conflicts'];
}

/** The package of the org's metadata at a point (a run, a time, or the latest backup). */
export async function metadataPackageAt(store: MetadataStore, org: OrgRegistration, request: MetadataExportRequest): Promise<{ pkg: MetadataPackage; point: MetadataExportResult['point'] }> {
  if (request.at !== undefined && request.runId !== undefined) throw new UsageError('--as-of and --run cannot be combined: export as of a time or as of a run.');
  if (request.version !== undefined && !/^\d{2,3}\.0$/.test(request.version)) throw new UsageError(`--api-version ${request.version} is not a Metadata API version: give one such as 62.0.`);
  let point: MetadataExportResult['point'];
  let label: string;
  // Reports deploy into their folders: a type held in folders brings its folders along.
  const types = request.type ? [request.type, ...folderTypesOf(request.type)] : [undefined];
  const headsAt = async (point: { at: number } | { runId: string }) =>
    (await Promise.all(types.map((type) => store.metadataHeads(org.orgId, { ...point, ...(type ? { type } : {}) })))).flat();
  let heads;
  if (request.at !== undefined) {
    const runs = await store.metadataRuns(org.orgId);
    if (!runs.some((r) => r.capturedAt <= request.at!)) {
      throw new UsageError(`${org.name} has no metadata backup at or before ${new Date(request.at).toISOString()}${runs.length ? `; the first was captured ${new Date(runs[runs.length - 1]!.capturedAt).toISOString()}` : ''}.`);
    }
    point = { at: new Date(request.at).toISOString() };
    label = `as of ${point.at}`;
    heads = await headsAt({ at: request.at });
  } else {
    let runId = request.runId;
    if (runId === undefined) {
      const latest = (await store.metadataRuns(org.orgId, { limit: 1 }))[0];
      if (!latest) throw new UsageError(`${org.name} has no metadata backup yet: run \`orgvault backup --org ${org.name}\` first.`);
      runId = latest.runId;
    }
    const run = await findMetadataRun(store, org, runId);
    point = { runId: run.runId, at: new Date(run.capturedAt).toISOString() };
    label = `as of backup run ${run.runId} (captured ${point.at})`;
    heads = await headsAt({ runId: run.runId });
  }
  const components: PackageComponent[] = [];
  for (const v of heads) {
    if (v.deleted || !v.contentId) continue;
    const files = await store.readMetadataFiles(org.orgId, v.contentId);
    if (!files) throw new OrgvaultError('METADATA_CONTENT_MISSING', `The vault has no content ${v.contentId} for ${componentKey(v)} (run ${v.runId}): run \`orgvault verify\`.`);
    components.push({ type: v.type, fullName: v.fullName, files });
  }
  if (components.length === 0) throw new UsageError(`${org.name} had no metadata${request.type ? ` of type ${request.type}` : ''} ${label}: nothing to export.`);
  return { pkg: buildMetadataPackage(components, { org: org.name, point: label, ...(request.version ? { version: request.version } : {}) }), point };
}

/** Writes the org's metadata at a point to a deployable zip (refused when `out` exists, unless `force`). */
export async function exportMetadata(store: MetadataStore, org: OrgRegistration, request: MetadataExportRequest, out: string, options: { force?: boolean } = {}): Promise<MetadataExportResult> {
  const file = resolve(out);
  if (!file.toLowerCase().endsWith('.zip')) throw new UsageError(`--out ${out}: give a file name ending in .zip.`);
  const parent = await stat(dirname(file)).catch(() => undefined);
  if (!parent?.isDirectory()) throw new UsageError(`--out ${out}: the folder ${dirname(file)} does not exist; create it first.`);
  const found = await stat(file).catch(() => undefined);
  if (found?.isDirectory()) throw new UsageError(`--out ${out} is a folder: give a file name such as metadata.zip.`);
  if (found && !options.force) throw new UsageError(`--out ${out} already exists: give a new file name, or add --force to replace it.`);
  const { pkg, point } = await metadataPackageAt(store, org, request);
  const bytes = await zipMetadataPackage(pkg);
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return {
    org: org.name,
    file,
    point,
    components: pkg.types.reduce((n, t) => n + t.members.length, 0),
    bytes: bytes.length,
    types: pkg.types.map((t) => ({ name: t.name, count: t.members.length })),
    renamedProfiles: pkg.profiles.filter((p) => p.exportName !== p.fullName).map((p) => ({ fullName: p.fullName, exportName: p.exportName })),
    conflicts: pkg.conflicts,
  };
}
