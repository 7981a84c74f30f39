/**
 * The emulated org's metadata: components generated from its schema and configuration, with
 * versions, served by the Metadata API (emulator/soap) and changed through the admin API.
 */
export { registerMetadataAdminRoutes } from './admin.ts';
export { metadataState, validationRules } from './model.ts';
export type { ValidationRuleMetadata } from './model.ts';
