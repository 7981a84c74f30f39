/**
 * `--recovery-point ID` of export and restore: the point's objects and time put into the command's
 * own --object and --as-of, so that both commands select exactly as they do for those flags.
 */
import { UsageError } from '../../core/errors.ts';
import { isoTime } from '../../core/time.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import type { ChangeCaptureStore } from '../../store/port.ts';
import { findRecoveryPoint } from '../../stream/index.ts';

/** Export's flags with the point applied: its objects (or those of --object it holds) as of its time. */
export async function exportFlagsAt<F extends { object?: string[]; asOf?: string; allVersions?: boolean; sinceLastExport?: boolean; sinceRun?: string }>(
  store: Pick<ChangeCaptureStore, 'getRecoveryPoint' | 'listRecoveryPoints'>,
  org: OrgRegistration,
  ref: string,
  flags: F,
): Promise<F> {
  if (flags.asOf !== undefined || flags.allVersions || flags.sinceLastExport || flags.sinceRun !== undefined) {
    throw new UsageError('--recovery-point sets the point in time itself: leave out --as-of, --all-versions, --since-last-export and --since-run.');
  }
  const point = await findRecoveryPoint(store, org, ref);
  const inPoint = point.objects.map((o) => o.objectName);
  let objects = inPoint;
  if (flags.object?.length) {
    const outside = flags.object.filter((o) => !inPoint.some((p) => p.toLowerCase() === o.toLowerCase()));
    if (outside.length) throw new UsageError(`Recovery point ${point.id} does not hold ${outside.join(', ')}; it holds ${inPoint.join(', ')}.`);
    objects = flags.object;
  }
  return { ...flags, object: objects, asOf: isoTime(point.at) };
}

/** Restore's flags with the point applied: its time, and its object when it holds only one. */
export async function restoreFlagsAt<F extends { object?: string; asOf?: string }>(store: Pick<ChangeCaptureStore, 'getRecoveryPoint' | 'listRecoveryPoints'>, org: OrgRegistration, ref: string, flags: F): Promise<F> {
  if (flags.asOf !== undefined) throw new UsageError('--recovery-point sets the point in time itself: leave out --as-of.');
  const point = await findRecoveryPoint(store, org, ref);
  const inPoint = point.objects.map((o) => o.objectName);
  let object = flags.object;
  if (object === undefined) {
    if (inPoint.length !== 1) throw new UsageError(`Recovery point ${point.id} holds ${inPoint.join(', ')}: name the one to restore with --object.`);
    object = inPoint[0];
  } else if (!inPoint.some((p) => p.toLowerCase() === object!.toLowerCase())) {
    throw new UsageError(`Recovery point ${point.id} does not hold ${object}; it holds ${inPoint.join(', ')}.`);
  }
  return { ...flags, object, asOf: isoTime(point.at) };
}
