/**
 * The bench profile: `scale` records in the proportions of a mid-sized sales and service org,
 * with the same relationships and history as the demo but none of its one-off curiosities.
 * Tasks come last and take whatever is left, so the org holds exactly `scale` records (base
 * records included) whenever `scale` is larger than the base.
 */
import { BusinessSeeder } from './business.ts';
import type { SeedContext } from './context.ts';

/** Share of `scale` per object; nested objects follow from their averages per parent. */
const SHARES = {
  accounts: 0.06,
  contacts: 0.18,
  /** ~1.1 line items and ~1 contact role per opportunity come on top. */
  opportunities: 0.06,
  leads: 0.09,
  campaignMembers: 0.02,
  /** ~1 comment per case on top. */
  cases: 0.07,
  /** ~2.5 lines per invoice on top. */
  invoices: 0.04,
  events: 0.04,
} as const;

export function seedBench(ctx: SeedContext, scale: number): void {
  const b = new BusinessSeeder(ctx);
  const n = (share: number): number => Math.round(scale * share);
  b.products();
  b.accounts(Math.max(1, n(SHARES.accounts)));
  b.contacts(n(SHARES.contacts));
  b.opportunities(n(SHARES.opportunities), 1.5);
  b.leads(n(SHARES.leads));
  const campaigns = Math.max(1, Math.round(scale / 20_000));
  b.campaigns(campaigns, n(SHARES.campaignMembers) / campaigns);
  b.cases(n(SHARES.cases), 1);
  b.invoices(n(SHARES.invoices), 2.5);
  const events = n(SHARES.events);
  b.activities(Math.max(0, scale - ctx.loaded - events), events);
  ctx.org.recomputeAllRollups();
}
