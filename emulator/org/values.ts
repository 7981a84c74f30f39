/**
 * Value formats as Salesforce's REST API prints them. Datetimes are stored in this canonical form
 * (`2024-03-17T16:21:26.000+0000`, always UTC) so that string order is time order.
 */

/** Canonical datetime string for epoch milliseconds. */
export function formatDatetime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** Canonical date string (`YYYY-MM-DD`) for epoch milliseconds. */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Parses a datetime in any form Salesforce accepts on input (`Z`, `+0000`, `+00:00`, with or
 * without milliseconds) to epoch milliseconds, or NaN.
 */
export function parseDatetime(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) return NaN;
  let zone = m[4] ?? 'Z';
  if (zone !== 'Z' && !zone.includes(':')) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return Date.parse(`${m[1]}T${m[2]}${m[3] ?? ''}${zone}`);
}

/** Canonical form of an input datetime, or undefined when it does not parse. */
export function canonicalDatetime(text: string): string | undefined {
  const ms = parseDatetime(text);
  return Number.isNaN(ms) ? undefined : formatDatetime(ms);
}
