/**
 * The Salesforce adapter's public surface: everything outside src/salesforce imports from here.
 * jsforce's types never leave this folder.
 */
export { API_VERSION, connectOrg } from './client.ts';
export type { ConnectOptions } from './client.ts';
export { describeAuth } from './describe-auth.ts';
export { jwtAudience } from './auth.ts';
export type { RetryPolicy } from './retry.ts';
export type { BulkTuning } from './bulk.ts';
