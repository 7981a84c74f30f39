/**
 * Retention and erasure: an org's retention policy (`policy.ts`, pure; stored with the org's
 * settings by `settings.ts`), `forget` (remove the versions a policy does not keep), `prune`
 * (rewrite packs and delete blobs nothing refers to, under the vault's exclusive lock) and
 * `purge` (remove every trace of chosen records, GDPR). Depends on the vault's ports only.
 */
export { DAY_MS, POLICY_FLAGS, POLICY_KEYS, describePolicy, evaluateRecord, policySettings, removesAnything, resolvePolicy } from './policy.ts';
export type { FileKeepReason, FileVerdict, KeepReason, PolicyKey, PolicyRecord, RecordVerdict, RetentionPolicy, VersionVerdict } from './policy.ts';
export { clearRetentionPolicy, storedPolicy, updateRetentionPolicy } from './settings.ts';
export type { PolicyDeps } from './settings.ts';
export { forget, referenceTime } from './forget.ts';
export type { ForgetDeps, ForgetMetadataReport, ForgetObjectReport, ForgetRecordDetail, ForgetReport, ForgetRequest, ForgetStore } from './forget.ts';
export { prune } from './prune.ts';
export type { PruneDeps, PruneReport, PruneRequest, PruneStore } from './prune.ts';
export { purge } from './purge.ts';
export type { PurgeDeps, PurgeReport, PurgeRequest, PurgeStore } from './purge.ts';
export { toId18 } from './record-ids.ts';
export { takeVaultLock } from './vault-lock.ts';
