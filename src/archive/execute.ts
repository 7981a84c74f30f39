/**
 * Sends an archive plan's deletes, batch by batch, each journaled before it is sent and completed
 * with its per-record results (and the marks of what it deleted) after Salesforce answered. A
 * record whose delete failed keeps every record above it in the org: its parent is skipped, not
 * sent, so a hierarchy is never left half-deleted from the top.
 */
import type { OrgClient, RecordWriteResult } from '../core/org-client.ts';
import type { ArchiveResult } from '../core/vault.ts';
import type { ArchiveStore } from '../store/port.ts';
import type { ArchivePlan, DeleteBatch } from './plan.ts';
import { stepRecords } from './plan.ts';
import type { ArchiveNode } from './select.ts';

export interface ExecuteDeps {
  client: OrgClient;
  journal: Pick<ArchiveStore, 'beginArchiveStep' | 'completeArchiveStep'>;
  now: () => number;
  onProgress?: (done: number, total: number, objectName: string) => void;
}

export interface ExecuteContext {
  orgId: string;
  runId: string;
  /** The next step's ID (unique in the run, in order). */
  nextStepId: () => string;
  /** Every node of the selection, to walk from a failed record up to its parents. */
  nodes: ReadonlyMap<string, ArchiveNode>;
}

/** Salesforce's answer to a record another transaction holds: worth sending again. */
const RETRIED_CODE = 'UNABLE_TO_LOCK_ROW';
const RETRIES = 2;

/** Carries out the plan's batches in order. A call that fails as a whole leaves its step begun and raises. */
export async function executeDeletes(deps: ExecuteDeps, plan: ArchivePlan, context: ExecuteContext): Promise<void> {
  const blocked = new Map<string, string>();
  const block = (from: ArchiveNode, because: string): void => {
    let at = from.via === null ? undefined : context.nodes.get(from.via);
    while (at && !blocked.has(at.recordId)) {
      blocked.set(at.recordId, because);
      at = at.via === null ? undefined : context.nodes.get(at.via);
    }
  };
  const total = plan.batches.reduce((n, b) => n + b.sent.reduce((m, s) => m + 1 + s.cascaded.length, 0), 0);
  let done = 0;

  for (const batch of plan.batches) {
    const held = batch.sent.filter((s) => blocked.has(s.node.recordId));
    const live: DeleteBatch = { ...batch, sent: batch.sent.filter((s) => !blocked.has(s.node.recordId)) };
    const results: (Omit<ArchiveResult, 'stepId'>)[] = [];
    for (const { node, cascaded } of held) {
      const because = blocked.get(node.recordId)!;
      results.push(row(node, 'Skipped', 'CHILD_NOT_DELETED', `Not deleted: its child ${because} could not be deleted, so it stays in the org with it.`));
      for (const c of cascaded) results.push(row(c, 'Skipped', 'CHILD_NOT_DELETED', `Not deleted: ${node.objectName} ${node.recordId}, which Salesforce would delete it with, stays in the org.`));
      block(node, because);
    }
    const stepId = context.nextStepId();
    await deps.journal.beginArchiveStep({ runId: context.runId, stepId, objectName: batch.objectName, action: live.sent.length ? 'delete' : 'plan', records: stepRecords(live), startedAt: deps.now(), completedAt: null });
    if (live.sent.length) {
      const answers = await deleteWithRetries(deps.client, live.sent.map((s) => s.node.recordId));
      live.sent.forEach(({ node, cascaded }, i) => {
        const answer = answers[i]!;
        if (answer.ok) {
          results.push(row(node, 'Deleted', null, null));
          for (const c of cascaded) results.push(row(c, 'Deleted', null, `Deleted with ${node.objectName} ${node.recordId} (cascade).`));
          return;
        }
        const error = answer.errors[0]!;
        if (error.statusCode === 'ENTITY_IS_DELETED') {
          // Already in the Recycle Bin (deleted with another parent, by someone, or by a resent call): gone, and safe in the vault.
          results.push(row(node, 'Deleted', error.statusCode, 'Already in the Recycle Bin when the archive reached it.'));
          for (const c of cascaded) results.push(row(c, 'Deleted', null, `Deleted with ${node.objectName} ${node.recordId} (cascade).`));
          return;
        }
        results.push(row(node, 'Failed', error.statusCode, answer.errors.map((e) => e.message).join(' ')));
        for (const c of cascaded) results.push(row(c, 'Skipped', 'PARENT_NOT_DELETED', `Not deleted: ${node.objectName} ${node.recordId}, which Salesforce would delete it with, could not be deleted.`));
        block(node, `${node.objectName} ${node.recordId}`);
      });
    }
    await deps.journal.completeArchiveStep(context.orgId, context.runId, stepId, deps.now(), results.map((r) => ({ ...r, stepId })));
    done += batch.sent.reduce((m, s) => m + 1 + s.cascaded.length, 0);
    deps.onProgress?.(done, total, batch.objectName);
  }
}

function row(node: ArchiveNode, outcome: ArchiveResult['outcome'], statusCode: string | null, message: string | null): Omit<ArchiveResult, 'stepId'> {
  return { objectName: node.objectName, recordId: node.recordId, outcome, statusCode, message, via: node.via, systemModstamp: node.systemModstamp };
}

/** Deletes, sending records Salesforce found locked by another transaction again, twice at most. */
async function deleteWithRetries(client: OrgClient, ids: readonly string[]): Promise<RecordWriteResult[]> {
  const results = await client.deleteRecords(ids);
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    const again = results.flatMap((r, i) => (!r.ok && r.errors.some((e) => e.statusCode === RETRIED_CODE) ? [i] : []));
    if (!again.length) break;
    const answers = await client.deleteRecords(again.map((i) => ids[i]!));
    again.forEach((i, k) => (results[i] = answers[k]!));
  }
  return results;
}
