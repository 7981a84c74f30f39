/**
 * Failed sign-ins per key (a user name, a client address, or both), in memory: enough to slow a
 * password guesser against one server process to a few guesses per window. A restart forgets
 * the counts, which costs a guesser a restart per window, not a way around it.
 */

const DEFAULT_MAX = 5;
const DEFAULT_WINDOW_MS = 15 * 60_000;
/** Keys remembered at most: a guesser cycling through made-up names must not grow memory without bound. */
const MAX_KEYS = 10_000;

export class SignInThrottle {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Per key, the times of its latest failures (at most `max`), oldest first. Map order: least recently failed first. */
  private readonly failures = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(options: { max?: number; windowMs?: number; now?: () => number } = {}) {
    this.max = options.max ?? DEFAULT_MAX;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.max) || this.max < 1) throw new RangeError(`SignInThrottle: max must be a positive integer, not ${this.max}.`);
    if (!(this.windowMs > 0)) throw new RangeError(`SignInThrottle: windowMs must be positive, not ${this.windowMs}.`);
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  blocked(key: string): number {
    const now = this.now();
    const times = this.recent(key, now);
    if (times.length < this.max) return 0;
    // The oldest of the last `max` failures leaving the window frees one attempt.
    return Math.max(1, times[times.length - this.max]! + this.windowMs - now);
  }

  failed(key: string): void {
    const now = this.now();
    const times = this.recent(key, now);
    times.push(now);
    if (times.length > this.max) times.splice(0, times.length - this.max);
    // Re-inserted to move it to the end: the first key is then the least recently failed.
    this.failures.delete(key);
    this.failures.set(key, times);
    if (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
    this.sweep(now);
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }

  /** The failures of `key` still inside the window. */
  private recent(key: string, now: number): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    const live = times.filter((t) => t > now - this.windowMs);
    if (live.length === 0) this.failures.delete(key);
    else if (live.length !== times.length) this.failures.set(key, live);
    return live;
  }

  /** Forgets keys whose failures all left the window, at most once a window. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, times] of this.failures) {
      if (times[times.length - 1]! <= now - this.windowMs) this.failures.delete(key);
    }
  }
}
