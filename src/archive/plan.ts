/**
 * The archive plan, pure: which records go and in which order. A selected record goes only with
 * its whole hierarchy (the children Salesforce deletes with it, and the lookup children of the
 * objects named): if any of them is not safely in the vault, none of them is deleted. What goes is
 * sent deepest level first (children before parents, so a child behind a restricted lookup never
 * blocks its parent), one object at a time, 200 records a batch; records Salesforce deletes
 * with their parent ride with the batch of the record they hang from and are not sent themselves.
 */
import type { ArchiveStepRecord } from '../core/vault.ts';
import type { ArchiveNode } from './select.ts';

/** Records per sObject Collections delete: Salesforce's limit. */
export const DELETES_PER_BATCH = 200;

export interface PlannedRecord {
  node: ArchiveNode;
  decision: 'delete' | 'refuse' | 'skip';
  /** For refused and skipped records. */
  code: string | null;
  message: string | null;
}

export interface DeleteBatch {
  objectName: string;
  level: number;
  /** The records sent, each with the records Salesforce deletes with it. */
  sent: { node: ArchiveNode; cascaded: ArchiveNode[] }[];
}

export interface ArchivePlan {
  records: PlannedRecord[];
  batches: DeleteBatch[];
}

export interface PlanOptions {
  /** Children are archived with their parents; without, a record that has any is refused. */
  children: boolean;
  /** Go ahead with the safe hierarchies when some are refused; without, nothing is deleted. */
  skipUnsafe: boolean;
}

/** Decides every selected record and child, and orders the deletes. */
export function planArchive(nodes: readonly ArchiveNode[], refusals: ReadonlyMap<string, { code: string; message: string }>, options: PlanOptions): ArchivePlan {
  const byId = new Map(nodes.map((n) => [n.recordId, n]));
  const rootOf = (node: ArchiveNode): ArchiveNode => {
    let at = node;
    while (at.via !== null && byId.has(at.via)) at = byId.get(at.via)!;
    return at;
  };
  const trees = new Map<string, ArchiveNode[]>();
  for (const node of nodes) {
    const root = rootOf(node);
    trees.set(root.recordId, [...(trees.get(root.recordId) ?? []), node]);
  }

  const records: PlannedRecord[] = [];
  const going: ArchiveNode[] = [];
  let refusedTrees = 0;
  const decided: { tree: ArchiveNode[]; safe: boolean }[] = [];
  for (const tree of trees.values()) {
    const root = tree[0]!;
    if (!options.children && tree.length > 1) {
      const counts = new Map<string, number>();
      for (const child of tree.slice(1)) counts.set(child.objectName, (counts.get(child.objectName) ?? 0) + 1);
      const listed = [...counts].map(([o, n]) => `${o} ×${n}`).join(', ');
      records.push({
        node: root,
        decision: 'refuse',
        code: 'HAS_CHILDREN',
        message: `Has ${tree.length - 1} child record(s) that Salesforce deletes with it (${listed}); pass --children to archive them with it.`,
      });
      refusedTrees++;
      continue;
    }
    const unsafe = tree.filter((n) => refusals.has(n.recordId));
    decided.push({ tree, safe: unsafe.length === 0 });
    if (unsafe.length) refusedTrees++;
  }
  for (const { tree, safe } of decided) {
    const root = tree[0]!;
    if (safe) {
      going.push(...tree);
      continue;
    }
    const first = tree.find((n) => refusals.has(n.recordId))!;
    const firstRefusal = refusals.get(first.recordId)!;
    for (const node of tree) {
      const own = refusals.get(node.recordId);
      if (own) records.push({ node, decision: 'refuse', code: own.code, message: own.message });
      else if (node === root) records.push({ node, decision: 'refuse', code: firstRefusal.code, message: `Not archived: its ${first.objectName} ${first.recordId} is not safe to delete (${firstRefusal.message})` });
      else records.push({ node, decision: 'skip', code: 'HIERARCHY_REFUSED', message: `Not archived with ${root.objectName} ${root.recordId}: a record of its hierarchy is not safely in the vault.` });
    }
  }
  if (refusedTrees > 0 && !options.skipUnsafe) {
    for (const node of going) {
      records.push({ node, decision: 'skip', code: 'ARCHIVE_HELD', message: `Safe to delete, but held back: ${refusedTrees} selected record(s) are not safely in the vault. Back up and archive again, or pass --skip-unsafe to archive the safe ones.` });
    }
    return { records: order(records, nodes), batches: [] };
  }
  for (const node of going) records.push({ node, decision: 'delete', code: null, message: null });
  return { records: order(records, nodes), batches: batchesOf(going, byId) };
}

/** Records Salesforce deletes with the record they hang from ride with the nearest one sent. */
function batchesOf(going: readonly ArchiveNode[], byId: ReadonlyMap<string, ArchiveNode>): DeleteBatch[] {
  const cascaded = new Map<string, ArchiveNode[]>();
  const sent: ArchiveNode[] = [];
  for (const node of going) {
    if (!node.cascade || node.via === null) {
      sent.push(node);
      continue;
    }
    let sender = byId.get(node.via)!;
    while (sender.cascade && sender.via !== null) sender = byId.get(sender.via)!;
    cascaded.set(sender.recordId, [...(cascaded.get(sender.recordId) ?? []), node]);
  }
  const groups = new Map<string, ArchiveNode[]>();
  for (const node of sent) {
    const key = `${String(1000 - node.level).padStart(4, '0')}\u0000${node.objectName}`;
    groups.set(key, [...(groups.get(key) ?? []), node]);
  }
  const batches: DeleteBatch[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    for (let at = 0; at < group.length; at += DELETES_PER_BATCH) {
      const chunk = group.slice(at, at + DELETES_PER_BATCH);
      batches.push({ objectName: chunk[0]!.objectName, level: chunk[0]!.level, sent: chunk.map((node) => ({ node, cascaded: cascaded.get(node.recordId) ?? [] })) });
    }
  }
  return batches;
}

/** The records in selection order (selected first, then level by level). */
function order(records: PlannedRecord[], nodes: readonly ArchiveNode[]): PlannedRecord[] {
  const rank = new Map(nodes.map((n, i) => [n.recordId, i]));
  return records.sort((a, b) => rank.get(a.node.recordId)! - rank.get(b.node.recordId)!);
}

/** The journal's form of a batch: every record it deletes, sent or cascaded, at its confirmed SystemModstamp. */
export function stepRecords(batch: DeleteBatch): ArchiveStepRecord[] {
  // Only records confirmed in the vault are planned for deletion: they all have a SystemModstamp.
  const stamp = (node: ArchiveNode): number => node.systemModstamp!;
  return batch.sent.flatMap(({ node, cascaded }) => [
    { objectName: node.objectName, recordId: node.recordId, systemModstamp: stamp(node), via: node.via, cascadeOf: null },
    ...cascaded.map((c) => ({ objectName: c.objectName, recordId: c.recordId, systemModstamp: stamp(c), via: c.via, cascadeOf: node.recordId })),
  ]);
}
