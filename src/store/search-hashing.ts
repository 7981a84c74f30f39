/**
 * The keyed hashes of search tokens, as the blind index stores them: 48 bits of a pseudorandom
 * function under a key of the org's own (derived from the vault's index key), kept as latin1
 * strings of 6 bytes, with the caches that spare re-cutting and re-hashing repeated values.
 *
 * The function: a token of up to 15 UTF-8 bytes, padded to one 16-byte block (its bytes, 0x80,
 * zeros: an injective padding), is encrypted with AES-256 under one key; a longer token gets
 * HMAC-SHA-256 under another. AES on one block is a pseudorandom permutation, so a pseudorandom
 * function on distinct inputs, and every short token of a chunk is hashed in one cipher call:
 * HMAC costs a call into OpenSSL per token (5–12 µs each here), which made indexing the larger
 * half of a backup's CPU; one AES call for thousands of blocks costs under 1 µs a token.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { addValueTokens, eachSearchableValue } from '../core/search-text.ts';

/** Bytes of a token hash: 48 bits. Collisions only cost a verification (search opens the versions). */
export const HASH_BYTES = 6;
const BLOCK = 16;
/** Hashes cached: tokens repeat a lot (picklist values, cities, common words). */
const TOKEN_CACHE_LIMIT = 1 << 17;
/**
 * Values (up to VALUE_CACHE_LENGTH characters) whose tokens are cached: picklist values, cities
 * and names repeat across records and versions, and a cached value costs one lookup instead of
 * being cut again.
 */
const VALUE_CACHE_LIMIT = 1 << 16;
const VALUE_CACHE_LENGTH = 48;

/** The org's own index key: the same word in two orgs of a vault does not hash alike. */
export function orgIndexKey(indexingKey: Buffer, orgId: string): Buffer {
  return createHmac('sha256', indexingKey).update(`orgvault:search:v1:${orgId}`).digest();
}

export class TokenHasher {
  private readonly hashes = new Map<string, string>();
  private readonly values = new Map<string, readonly string[]>();
  private readonly scratch = new Set<string>();
  private readonly blockKey: Buffer;
  private readonly longKey: Buffer;

  constructor(key: Buffer) {
    this.blockKey = createHmac('sha256', key).update('block').digest();
    this.longKey = createHmac('sha256', key).update('long').digest();
  }

  /** Adds every token of a version's fields to `out` (plain tokens: they stay in memory). */
  addVersion(fields: Record<string, unknown>, out: Set<string>): void {
    eachSearchableValue(fields, (_field, value) => {
      const cacheable = value.length <= VALUE_CACHE_LENGTH;
      let tokens = cacheable ? this.values.get(value) : undefined;
      if (tokens === undefined) {
        this.scratch.clear();
        addValueTokens(value, this.scratch);
        tokens = [...this.scratch];
        if (cacheable) {
          if (this.values.size >= VALUE_CACHE_LIMIT) this.values.clear();
          this.values.set(value, tokens);
        }
      }
      for (let i = 0; i < tokens.length; i++) out.add(tokens[i]!);
    });
  }

  /** The hash of each token, as a latin1 string of HASH_BYTES bytes; uncached short tokens in one cipher call. */
  hashAll(tokens: Iterable<string>): Map<string, string> {
    const result = new Map<string, string>();
    const short: string[] = [];
    for (const token of tokens) {
      if (result.has(token)) continue;
      const cached = this.hashes.get(token);
      if (cached !== undefined) result.set(token, cached);
      else if (Buffer.byteLength(token, 'utf8') < BLOCK) {
        short.push(token);
        result.set(token, '');
      } else result.set(token, this.remember(token, createHmac('sha256', this.longKey).update(token).digest().toString('latin1', 0, HASH_BYTES)));
    }
    if (short.length > 0) {
      const blocks = Buffer.alloc(short.length * BLOCK);
      for (let i = 0; i < short.length; i++) blocks[i * BLOCK + blocks.write(short[i]!, i * BLOCK, 'utf8')] = 0x80;
      const cipher = createCipheriv('aes-256-ecb', this.blockKey, null).setAutoPadding(false);
      const out = cipher.update(blocks);
      for (let i = 0; i < short.length; i++) result.set(short[i]!, this.remember(short[i]!, out.toString('latin1', i * BLOCK, i * BLOCK + HASH_BYTES)));
    }
    return result;
  }

  /** One token's hash. */
  token(token: string): string {
    return this.hashAll([token]).get(token)!;
  }

  private remember(token: string, hash: string): string {
    if (this.hashes.size >= TOKEN_CACHE_LIMIT) this.hashes.clear();
    this.hashes.set(token, hash);
    return hash;
  }
}

/** Each org's TokenHasher under the vault's indexing key, made once per org and kept. */
export class OrgTokenHashers {
  private readonly hashers = new Map<string, TokenHasher>();

  constructor(private readonly indexingKey: Buffer) {}

  of(orgId: string): TokenHasher {
    let hasher = this.hashers.get(orgId);
    if (!hasher) this.hashers.set(orgId, (hasher = new TokenHasher(orgIndexKey(this.indexingKey, orgId))));
    return hasher;
  }
}
