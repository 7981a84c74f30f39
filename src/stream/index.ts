/**
 * Continuous data protection over Change Data Capture: the capture service that streams an org's
 * selected objects into the vault, its settings and status, and recovery points. Depends on the
 * vault's ports, the org port and the backup use case (for the scans that cover a hole).
 */
export { ChangeCaptureService } from './capture-service.ts';
export type { StreamDeps, StreamStore } from './capture-service.ts';
export { cdcSettings, changeEventChannel, updateCdcSettings } from './settings.ts';
export type { CdcSettings } from './settings.ts';
export { cdcStatus } from './status.ts';
export type { CdcStatus } from './status.ts';
export { createRecoveryPoint, findRecoveryPoint, listRecoveryPoints } from './recovery-points.ts';
export type { RecoveryPointRequest, RecoveryPointStore } from './recovery-points.ts';
export { StreamFleet } from './fleet.ts';
export type { StreamFleetDeps } from './fleet.ts';
