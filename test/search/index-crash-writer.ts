/**
 * A writer for the search index's crash test, run in its own process: it writes SEARCH_BATCHES
 * batches of Accounts (batch b names its accounts "Crashtest b-n"), each followed by a catch-up of
 * the search index as a backup ends with, and prints `ack N` once batch N is stored and indexed.
 * While indexing batch SEARCH_CRASH_BATCH it kills itself with SIGKILL at the step SEARCH_CRASH_AT,
 * as a power cut or an OOM kill would.
 */
import { writeSync } from 'node:fs';
import { deriveKeyring } from '../../src/crypto/keys.ts';
import { openSqliteVaultStore } from '../../src/store/sqlite/index.ts';
import type { IndexStep } from '../../src/store/sqlite/search-index.ts';

export const CRASH_ORG = '00D00000000SEARCHA';
const T = Date.UTC(2025, 0, 1);

export const crashId = (b: number, n: number): string => `001${String(b).padStart(3, '0')}${String(n).padStart(9, '0')}AAA`;

const env = process.env;
if (env.SEARCH_VAULT_PATH) {
  const crashAt = env.SEARCH_CRASH_AT as IndexStep;
  const crashBatch = Number(env.SEARCH_CRASH_BATCH ?? -1);
  let current = -1;
  const store = await openSqliteVaultStore({
    path: env.SEARCH_VAULT_PATH,
    keyring: deriveKeyring(Buffer.from(env.SEARCH_VAULT_KEY!, 'hex'), 'search-crash'),
    testHooks: {
      onIndexStep(step) {
        if (current === crashBatch && step === crashAt) process.kill(process.pid, 'SIGKILL');
      },
    },
  });
  for (current = 0; current < Number(env.SEARCH_BATCHES ?? 3); current++) {
    const versions = Array.from({ length: 300 }, (_, n) => ({
      recordId: crashId(current, n),
      systemModstamp: T + current * 100_000 + n,
      changeType: 'created' as const,
      isDeleted: false,
      fields: { Id: crashId(current, n), Name: `Crashtest b${current} n${n}`, Description: `batch${current}` },
    }));
    await store.writeVersions({ orgId: CRASH_ORG, objectName: 'Account', runId: `run-${current}`, capturedAt: T, schemaId: null, versions });
    await store.catchUpSearchIndex();
    writeSync(1, `ack ${current}\n`);
  }
  await store.close();
}
