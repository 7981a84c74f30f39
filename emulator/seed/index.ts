/** Seeding the emulated org: profiles, activity between backups, and the `--state` file. */
export { buildOrg, SEED_PROFILES } from './build-org.ts';
export type { BuildOrgOptions, SeedProfile } from './build-org.ts';
export { applyActivity } from './activity.ts';
export type { ActivityResult } from './activity.ts';
export { API_PASSWORD, API_USERNAME } from './base.ts';
export { loadOrgState, saveOrgState } from './state-file.ts';
