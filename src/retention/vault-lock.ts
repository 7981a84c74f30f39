/** Taking the vault's exclusive lock, waiting a while for writers to finish if asked to. */
import type { LockManager, OrgLock } from '../store/port.ts';
import { LockHeldError } from '../store/port.ts';

const POLL_MS = 1000;

/**
 * The vault's exclusive lock, retried every second for up to `waitMs` while an org's writer (a
 * backup, a restore) or another prune or purge holds the vault; then the LockHeldError naming it.
 */
export async function takeVaultLock(store: Pick<LockManager, 'acquireVaultLock'>, owner: string, waitMs = 0, onWait?: (message: string) => void): Promise<OrgLock> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      return await store.acquireVaultLock(owner);
    } catch (error) {
      if (!(error instanceof LockHeldError) || Date.now() + POLL_MS > deadline) throw error;
      if (!told) onWait?.(`Waiting for the vault: ${error.message}`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
