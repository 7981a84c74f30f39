/**
 * Bounded retries with exponential backoff and full jitter (AWS's "Exponential Backoff and
 * Jitter"): a random pause between 0 and min(maxDelayMs, baseDelayMs × 2^attempt), so clients
 * that failed together do not retry together.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** One request's time limit (headers and body; for downloads, until the first byte). */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 300_000 };

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY, ...overrides };
  policy.attempts = Math.max(1, Math.floor(policy.attempts));
  return policy;
}

export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(Math.random() * ceiling);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` until it succeeds, `shouldRetry` says no, or the attempts are spent; the last error
 * is thrown as it was.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  work: (attempt: number) => Promise<T>,
  shouldRetry: (error: unknown) => boolean,
  onRetry: (error: unknown, attempt: number, delayMs: number) => void = () => {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !shouldRetry(error)) throw error;
      const delay = backoffDelay(policy, attempt - 1);
      onRetry(error, attempt, delay);
      await sleep(delay);
    }
  }
}
