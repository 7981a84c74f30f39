/**
 * The keyed hashes of a version's search tokens, as the blind index stores them: 48 bits of
 * HMAC-SHA-256 under a key of the org's own (derived from the vault's index key), kept as latin1
 * strings of 6 bytes, with the caches that spare re-cutting and re-hashing repeated values.
 */
import { createHmac } from 'node:crypto';
import { addValueTokens, eachSearchableValue } from '../../core/search-text.ts';

/** Bytes of a token hash: 48 bits. Collisions only cost a verification (search opens the versions). */
export const HASH_BYTES = 6;
/** Hashes cached: tokens repeat a lot (picklist values, cities, common words). */
const TOKEN_CACHE_LIMIT = 1 << 17;
/**
 * Values (up to VALUE_CACHE_LENGTH characters) whose token hashes are cached: picklist values,
 * cities and names repeat across records and versions, and a cached value costs one lookup
 * instead of being cut and hashed again.
 */
const VALUE_CACHE_LIMIT = 1 << 16;
const VALUE_CACHE_LENGTH = 48;

/** The org's own index key: the same word in two orgs of a vault does not hash alike. */
export function orgIndexKey(indexingKey: Buffer, orgId: string): Buffer {
  return createHmac('sha256', indexingKey).update(`orgvault:search:v1:${orgId}`).digest();
}

export class TokenHasher {
  private readonly tokens = new Map<string, string>();
  private readonly values = new Map<string, string[]>();
  private readonly scratch = new Set<string>();

  constructor(private readonly key: Buffer) {}

  /** A token's hash, as a latin1 string of HASH_BYTES bytes. */
  token(token: string): string {
    let hash = this.tokens.get(token);
    if (hash === undefined) {
      hash = createHmac('sha256', this.key).update(token).digest().toString('latin1', 0, HASH_BYTES);
      if (this.tokens.size >= TOKEN_CACHE_LIMIT) this.tokens.clear();
      this.tokens.set(token, hash);
    }
    return hash;
  }

  /** Adds the hash of every token of a version's fields to `out`. */
  addVersion(fields: Record<string, unknown>, out: Set<string>): void {
    eachSearchableValue(fields, (_field, value) => {
      const cacheable = value.length <= VALUE_CACHE_LENGTH;
      let hashes = cacheable ? this.values.get(value) : undefined;
      if (hashes === undefined) {
        this.scratch.clear();
        addValueTokens(value, this.scratch);
        hashes = [];
        for (const token of this.scratch) hashes.push(this.token(token));
        if (cacheable) {
          if (this.values.size >= VALUE_CACHE_LIMIT) this.values.clear();
          this.values.set(value, hashes);
        }
      }
      for (let i = 0; i < hashes.length; i++) out.add(hashes[i]!);
    });
  }
}
