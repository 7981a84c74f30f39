/**
 * Built-in (standard) profiles export under other names in the Metadata API: the profile an admin
 * sees as "System Administrator" is `Admin` in package.xml and `profiles/Admin.profile-meta.xml`
 * (AvePoint's appendix lists them; so does Salesforce's change-set screen). A custom profile keeps
 * its own name, so a custom profile an admin named "Admin" or "standard" would take the same file
 * in an export and, once unzipped (on a case-insensitive file system for "standard"), overwrite
 * the built-in one. `exportProfileNames` gives each profile of an export a file name no other
 * profile has: a built-in keeps its Metadata API name, so that a deploy updates it in place, and
 * a custom profile whose name is taken is exported as `Custom_<name>` (a new custom profile when
 * deployed, never the built-in).
 */

/** A built-in profile: the name Setup shows and the name the Metadata API uses. */
export interface BuiltInProfile {
  label: string;
  apiName: string;
}

/**
 * The standard profiles whose Metadata API name differs from their label. Portal and community
 * profiles (Customer Community User, High Volume Customer Portal User…) keep their labels as
 * fullNames in the orgs checked, so they need no entry.
 */
export const BUILT_IN_PROFILES: readonly BuiltInProfile[] = [
  { label: 'System Administrator', apiName: 'Admin' },
  { label: 'Standard User', apiName: 'Standard' },
  { label: 'Read Only', apiName: 'ReadOnly' },
  { label: 'Solution Manager', apiName: 'SolutionManager' },
  { label: 'Marketing User', apiName: 'MarketingProfile' },
  { label: 'Contract Manager', apiName: 'ContractManager' },
  { label: 'Partner User', apiName: 'Partner' },
  { label: 'Standard Platform User', apiName: 'StandardAul' },
];

/** The prefix of a custom profile exported under another name because its own is a built-in's. */
export const CUSTOM_PROFILE_PREFIX = 'Custom_';

const byApiName = new Map(BUILT_IN_PROFILES.map((p) => [p.apiName, p]));

/** The built-in profile a Metadata API fullName names (exact case, as Salesforce lists it). */
export function builtInProfile(fullName: string): BuiltInProfile | undefined {
  return byApiName.get(fullName);
}

/** "Admin (System Administrator)" for a built-in profile; the fullName otherwise. */
export function profileDisplayName(fullName: string): string {
  const builtIn = builtInProfile(fullName);
  return builtIn ? `${fullName} (${builtIn.label})` : fullName;
}

/** How one profile of an export is named in it. */
export interface ExportedProfileName {
  fullName: string;
  /** The member name in package.xml and the file's base name. */
  exportName: string;
  builtIn: BuiltInProfile | undefined;
}

/**
 * The export names of a set of profiles (by fullName): no two equal, ignoring case. Built-ins
 * keep their API names; a custom profile whose name a built-in (or an earlier profile) holds, in
 * any case, takes `Custom_<name>`, with a number when that is taken too.
 */
export function exportProfileNames(fullNames: readonly string[]): ExportedProfileName[] {
  const taken = new Set<string>();
  const builtIns = fullNames.filter((n) => builtInProfile(n));
  for (const n of builtIns) taken.add(n.toLowerCase());
  const named = new Map<string, ExportedProfileName>();
  for (const n of builtIns) named.set(n, { fullName: n, exportName: n, builtIn: builtInProfile(n) });
  for (const n of fullNames) {
    if (named.has(n)) continue;
    let exportName = n;
    if (taken.has(n.toLowerCase()) || BUILT_IN_PROFILES.some((p) => p.apiName.toLowerCase() === n.toLowerCase())) {
      exportName = `${CUSTOM_PROFILE_PREFIX}${n}`;
      for (let i = 2; taken.has(exportName.toLowerCase()); i++) exportName = `${CUSTOM_PROFILE_PREFIX}${n}_${i}`;
    }
    taken.add(exportName.toLowerCase());
    named.set(n, { fullName: n, exportName, builtIn: undefined });
  }
  return fullNames.map((n) => named.get(n)!);
}
