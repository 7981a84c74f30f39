/** What `orgvault cdc show` reports: the selection, and per object what its stream is doing. */
import type { OrgRegistration } from '../core/vault.ts';
import type { ChangeCaptureStore, StreamObjectState } from '../store/port.ts';
import { cdcSettings, unsubscribedState } from './settings.ts';

export interface CdcStatus {
  org: string;
  objects: string[];
  /** One per selected object (never subscribed: status Stopped, no replay ID), then any no longer selected. */
  streams: (StreamObjectState & { selected: boolean })[];
}

/** The org's Change Data Capture selection and stream states, as stored. */
export async function cdcStatus(store: Pick<ChangeCaptureStore, 'getStreamStates'>, org: OrgRegistration): Promise<CdcStatus> {
  const { objects } = cdcSettings(org);
  const states = await store.getStreamStates(org.orgId);
  const byName = new Map(states.map((s) => [s.objectName.toLowerCase(), s]));
  const streams: CdcStatus['streams'] = objects.map((name) => {
    const state = byName.get(name.toLowerCase());
    byName.delete(name.toLowerCase());
    return {
      ...(state ?? unsubscribedState(name, 0)),
      selected: true,
    };
  });
  for (const state of byName.values()) streams.push({ ...state, selected: false });
  return { org: org.name, objects, streams };
}
