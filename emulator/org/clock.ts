/**
 * The org's clock. Tests move it forward to expire sessions, Recycle Bin entries and limit
 * windows without waiting. It runs with real time from an offset, so ordering stays monotonic.
 */
export class OrgClock {
  private offsetMs: number;
  private lastIssued = 0;

  constructor(start?: Date) {
    this.offsetMs = start ? start.getTime() - Date.now() : 0;
  }

  /** The org's current time in epoch milliseconds. */
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /**
   * A timestamp for a write. Successive writes never go backwards, even if the host clock does;
   * several writes in one millisecond share it, as they can in Salesforce.
   */
  stampMs(): number {
    const t = Math.max(this.nowMs(), this.lastIssued);
    this.lastIssued = t;
    return t;
  }

  /** Sets the clock to a given time, forwards or backwards (loading a saved org). */
  set(ms: number): void {
    this.offsetMs = ms - Date.now();
    this.lastIssued = Math.min(this.lastIssued, ms);
  }

  advance(seconds: number): Date {
    this.offsetMs += seconds * 1000;
    return this.now();
  }
}
