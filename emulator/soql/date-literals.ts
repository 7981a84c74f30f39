/**
 * SOQL date literals (TODAY, LAST_N_DAYS:n, THIS_QUARTER ...) as half-open UTC ranges. The emulated
 * org runs in UTC with weeks starting on Sunday (en_US) and a fiscal year equal to the calendar year,
 * Salesforce's defaults, so the FISCAL variants match the calendar ones.
 */

export interface DateRange {
  /** First millisecond in the range. */
  startMs: number;
  /** First millisecond after the range. */
  endMs: number;
}

const DAY = 86_400_000;

/**
 * The range a date literal covers at `nowMs`, or undefined when the name is not a literal.
 * `n` is the number of the `_N_` forms (LAST_N_DAYS:n).
 */
export function dateLiteralRange(literal: string, n: number | undefined, nowMs: number): DateRange | undefined {
  const name = literal.toUpperCase().replace(/:.*$/, '').replace('_FISCAL_', '_');
  const today = Math.floor(nowMs / DAY) * DAY;
  const now = new Date(today);
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const week = today - now.getUTCDay() * DAY;
  const quarterMonth = month - (month % 3);
  const days = (from: number, count: number): DateRange => ({ startMs: today + from * DAY, endMs: today + (from + count) * DAY });
  const weeks = (from: number, count: number): DateRange => ({ startMs: week + from * 7 * DAY, endMs: week + (from + count) * 7 * DAY });
  const months = (first: number, from: number, count: number): DateRange => ({
    startMs: Date.UTC(year, first + from, 1),
    endMs: Date.UTC(year, first + from + count, 1),
  });
  const years = (from: number, count: number): DateRange => ({ startMs: Date.UTC(year + from, 0, 1), endMs: Date.UTC(year + from + count, 0, 1) });
  const k = n ?? 0;

  switch (name) {
    case 'YESTERDAY':
      return days(-1, 1);
    case 'TODAY':
      return days(0, 1);
    case 'TOMORROW':
      return days(1, 1);
    case 'LAST_WEEK':
      return weeks(-1, 1);
    case 'THIS_WEEK':
      return weeks(0, 1);
    case 'NEXT_WEEK':
      return weeks(1, 1);
    case 'LAST_MONTH':
      return months(month, -1, 1);
    case 'THIS_MONTH':
      return months(month, 0, 1);
    case 'NEXT_MONTH':
      return months(month, 1, 1);
    // The LAST_ day forms include today; the NEXT_ forms start tomorrow (Salesforce's definition).
    case 'LAST_90_DAYS':
      return { startMs: today - 90 * DAY, endMs: today + DAY };
    case 'NEXT_90_DAYS':
      return days(1, 90);
    case 'LAST_N_DAYS':
      return { startMs: today - k * DAY, endMs: today + DAY };
    case 'NEXT_N_DAYS':
      return days(1, k);
    case 'N_DAYS_AGO':
      return days(-k, 1);
    case 'LAST_N_WEEKS':
      return weeks(-k, k);
    case 'NEXT_N_WEEKS':
      return weeks(1, k);
    case 'N_WEEKS_AGO':
      return weeks(-k, 1);
    case 'LAST_N_MONTHS':
      return months(month, -k, k);
    case 'NEXT_N_MONTHS':
      return months(month, 1, k);
    case 'N_MONTHS_AGO':
      return months(month, -k, 1);
    case 'LAST_QUARTER':
      return months(quarterMonth, -3, 3);
    case 'THIS_QUARTER':
      return months(quarterMonth, 0, 3);
    case 'NEXT_QUARTER':
      return months(quarterMonth, 3, 3);
    case 'LAST_N_QUARTERS':
      return months(quarterMonth, -3 * k, 3 * k);
    case 'NEXT_N_QUARTERS':
      return months(quarterMonth, 3, 3 * k);
    case 'N_QUARTERS_AGO':
      return months(quarterMonth, -3 * k, 3);
    case 'LAST_YEAR':
      return years(-1, 1);
    case 'THIS_YEAR':
      return years(0, 1);
    case 'NEXT_YEAR':
      return years(1, 1);
    case 'LAST_N_YEARS':
      return years(-k, k);
    case 'NEXT_N_YEARS':
      return years(1, k);
    case 'N_YEARS_AGO':
      return years(-k, 1);
    default:
      return undefined;
  }
}
