// Writer locks on PostgreSQL under contention: two stores on one schema, each with its own pool
// (as two machines would be), racing for the same lock. What the contract suite cannot show.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import type { OrgLock, VaultStore } from '../../src/store/port.ts';
import { LockHeldError } from '../../src/store/port.ts';
import { openPostgresVaultStore } from '../../src/store/postgres/index.ts';
import { newKeyring } from '../contracts/vault-store.contract.ts';
import { freshStoreUrl, postgresSkip, withSchema } from '../fixtures/postgres.ts';

const skip = postgresSkip();
const ORG = '00D000000000001AAA';
/** Concurrent attempts per store and race. */
const CONTENDERS = 6;
const ROUNDS = 5;

/** Settles every attempt; returns the locks won and the errors of the others. */
async function race(attempts: Promise<OrgLock>[]): Promise<{ won: OrgLock[]; lost: unknown[] }> {
  const settled = await Promise.allSettled(attempts);
  return {
    won: settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])),
    lost: settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : [])),
  };
}

/** Runs SQL on the store's schema from outside either store. */
function onSchema(schema: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  return withSchema(schema, (client) => client.query(text, params));
}

describe('PostgreSQL writer locks across machines', { skip }, () => {
  let location: ReturnType<typeof freshStoreUrl>;
  let machineA: VaultStore;
  let machineB: VaultStore;

  before(async () => {
    location = freshStoreUrl();
    const keyring = newKeyring();
    machineA = await openPostgresVaultStore({ url: location.url, keyring });
    machineB = await openPostgresVaultStore({ url: location.url, keyring });
  });

  after(async () => {
    await machineA?.close();
    await machineB?.close();
    await location?.drop();
  });

  const attempts = (take: (store: VaultStore, i: number) => Promise<OrgLock>): Promise<OrgLock>[] =>
    [machineA, machineB].flatMap((store) => Array.from({ length: CONTENDERS }, (_, i) => take(store, i)));

  test('of many takers of one org lock on two machines, exactly one wins; the others name it', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { won, lost } = await race(attempts((store, i) => store.acquireOrgLock(ORG, `backup-${round}-${store === machineA ? 'A' : 'B'}-${i}`)));
      assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
      assert.equal(lost.length, 2 * CONTENDERS - 1);
      for (const error of lost) {
        assert.ok(error instanceof LockHeldError, String(error));
        assert.equal(error.orgId, ORG);
        assert.ok(error.holder.includes(won[0]!.owner), `${error.holder} names the winner ${won[0]!.owner}`);
      }
      const rows = await onSchema(location.schema, 'SELECT owner FROM locks WHERE org_id = $1', [ORG]);
      assert.deepEqual(rows.rows, [{ owner: won[0]!.owner }]);
      await won[0]!.release();
    }
  });

  test('a stale lock (its machine died) is taken over by exactly one taker; the old holder learns it', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const old = await machineA.acquireOrgLock(ORG, `old-${round}`);
      // The holder's machine stopped an hour ago: its heartbeat is old and its host is not ours.
      await onSchema(location.schema, "UPDATE locks SET heartbeat_at = heartbeat_at - 3600000, hostname = 'machine-that-died' WHERE org_id = $1", [ORG]);

      const { won, lost } = await race(attempts((store, i) => store.acquireOrgLock(ORG, `taker-${round}-${store === machineA ? 'A' : 'B'}-${i}`)));
      assert.equal(won.length, 1, `round ${round}: ${won.length} takers won`);
      for (const error of lost) {
        assert.ok(error instanceof LockHeldError, String(error));
        assert.ok(error.holder.includes(won[0]!.owner), `${error.holder} names the taker ${won[0]!.owner}`);
      }
      await assert.rejects(old.heartbeat(), LockHeldError);
      // The old holder's release leaves the taker's lock alone.
      await old.release();
      await assert.rejects(machineB.acquireOrgLock(ORG, 'late'), LockHeldError);
      await won[0]!.release();
    }
  });

  test('the vault lock and org locks are never held at once, however they race', async () => {
    const orgs = Array.from({ length: CONTENDERS }, (_, i) => `00D00000000000${i}ZZZ`);
    for (let round = 0; round < ROUNDS; round++) {
      const vault = machineA.acquireVaultLock(`prune-${round}`);
      const writers = orgs.map((org, i) => (i % 2 === 0 ? machineA : machineB).acquireOrgLock(org, `backup-${round}-${i}`));
      const [vaultOutcome, ...writerOutcomes] = await Promise.allSettled([vault, ...writers]);
      const writersWon = writerOutcomes.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      if (vaultOutcome!.status === 'fulfilled') {
        assert.equal(writersWon.length, 0, `round ${round}: the vault lock and ${writersWon.length} org locks were both granted`);
        await vaultOutcome!.value.release();
      } else {
        assert.ok(vaultOutcome!.reason instanceof LockHeldError, String(vaultOutcome!.reason));
        assert.ok(writersWon.length > 0);
      }
      for (const outcome of writerOutcomes) if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof LockHeldError, String(outcome.reason));
      for (const lock of writersWon) await lock.release();
    }
  });

  test('closing a store releases the locks it holds', async () => {
    const location2 = freshStoreUrl();
    try {
      const keyring = newKeyring();
      const holder = await openPostgresVaultStore({ url: location2.url, keyring });
      const other = await openPostgresVaultStore({ url: location2.url, keyring });
      try {
        await holder.acquireOrgLock(ORG, 'backup-closing');
        await assert.rejects(other.acquireOrgLock(ORG, 'backup-waiting'), LockHeldError);
        await holder.close();
        await (await other.acquireOrgLock(ORG, 'backup-waiting')).release();
      } finally {
        await other.close();
      }
    } finally {
      await location2.drop();
    }
  });
});
