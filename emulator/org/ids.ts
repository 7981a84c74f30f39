/**
 * Salesforce record IDs: a 3-character key prefix, a 2-character pod/instance part, and a base-62
 * counter, 15 characters case-sensitive; the 18-character form appends a 3-character checksum that
 * makes the ID case-insensitive-safe. The checksum algorithm is Salesforce's published one.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The three checksum characters for a 15-character ID. */
export function idChecksum(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) flags |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET[flags];
  }
  return suffix;
}

/** The 18-character form of a 15- or 18-character ID, or undefined when it is not an ID. */
export function toId18(id: string): string | undefined {
  if (id.length === 18) {
    if (!/^[a-zA-Z0-9]{18}$/.test(id)) return undefined;
    const id15 = id.slice(0, 15);
    // Salesforce accepts an 18-character ID whose suffix was upper-cased; it re-derives the case.
    if (idChecksum(id15).toLowerCase() !== id.slice(15).toLowerCase()) return undefined;
    return id15 + idChecksum(id15);
  }
  if (id.length === 15 && /^[a-zA-Z0-9]{15}$/.test(id)) return id + idChecksum(id);
  return undefined;
}

/** Whether a string has the shape of a Salesforce ID (15 or 18 characters, valid checksum). */
export function isSalesforceId(id: string): boolean {
  return toId18(id) !== undefined;
}

function base62(n: number, width: number): string {
  let out = '';
  let rest = n;
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** The two characters after the key prefix that name the org's instance (its pod) in every ID. */
export const DEFAULT_INSTANCE = '5g';

/**
 * An org ID on an instance: `00D` and the instance, like the IDs of its records. Two emulators
 * on different instances are two orgs whose IDs never collide, as a production org and a sandbox.
 */
export function orgIdOn(instance: string): string {
  const id15 = `00D${instance}00000EmUL8`;
  return id15 + idChecksum(id15);
}

/** Checks an `--instance` value: two letters or digits. */
export function isInstance(value: string): boolean {
  return /^[0-9A-Za-z]{2}$/.test(value);
}

/**
 * Hands out IDs per key prefix. Counters are sequential like Salesforce's, so IDs of one object
 * sort in creation order, which keyset paging on (SystemModstamp, Id) relies on for ties.
 */
export class IdAllocator {
  private readonly counters = new Map<string, number>();
  constructor(readonly instancePart = DEFAULT_INSTANCE) {}

  next(keyPrefix: string): string {
    const n = (this.counters.get(keyPrefix) ?? 0) + 1;
    this.counters.set(keyPrefix, n);
    const id15 = keyPrefix + this.instancePart + base62(n, 10);
    return id15 + idChecksum(id15);
  }

  /** Counter state, for saving and restoring an org. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counters);
  }

  restore(state: Record<string, number>): void {
    this.counters.clear();
    for (const [k, v] of Object.entries(state)) this.counters.set(k, v);
  }
}
