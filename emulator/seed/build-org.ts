import { standardCatalog } from '../org/catalog/index.ts';
import { Org } from '../org/org.ts';
import { seedBase } from './base.ts';
import { seedBench } from './bench.ts';
import { SeedContext } from './context.ts';
import { seedDemo } from './demo.ts';

export type SeedProfile = 'empty' | 'demo' | 'bench';
export const SEED_PROFILES: readonly SeedProfile[] = ['empty', 'demo', 'bench'];

export interface BuildOrgOptions {
  profile: SeedProfile;
  seed: string | number;
  /** Records of the bench profile (default 1,000,000); the other profiles ignore it. */
  scale?: number;
  /** The org's start time (default: now). */
  now?: Date;
  /** The instance part of the org's IDs (default `5g`): another instance is another org. */
  instance?: string;
}

/**
 * Builds an org of the standard catalog, seeded for a profile:
 * - `empty`: the Organization, profiles, users (the API user, a team, two former employees),
 *   queues, record types, the standard price book, credentials and the connected app;
 * - `demo`: that plus about 10,000 records of a company with two years of history and a
 *   Recycle Bin;
 * - `bench`: that plus `scale` records in realistic proportions, loaded without validation.
 *
 * The org's clock starts at `now`; every seeded timestamp lies in the two years (three, for the
 * base records) before it and is derived from the seed. Two builds with the same seed and the
 * same `now` are identical (IDs, values, timestamps) except for the running clock and the RSA
 * key pair, which is generated once per process and shared.
 */
export function buildOrg(options: BuildOrgOptions): Org {
  const now = options.now ?? new Date();
  const org = new Org(standardCatalog(), { now, instance: options.instance });
  const ctx = new SeedContext(org, options.seed, now.getTime());
  ctx.users = seedBase(ctx);
  if (options.profile === 'demo') seedDemo(ctx);
  else if (options.profile === 'bench') seedBench(ctx, Math.max(0, Math.floor(options.scale ?? 1_000_000)));
  else if (options.profile !== 'empty') throw new Error(`unknown seed profile "${String(options.profile)}"`);
  return org;
}
