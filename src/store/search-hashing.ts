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

/** Whether every character of `text` is ASCII (then its UTF-8 bytes are its char codes). */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The org's own index key: the same word in two orgs of a vault does not hash alike. */
export function orgIndexKey(indexingKey: Buffer, orgId: string): Buffer {
  return createHmac('sha256', indexingKey).update(`orgvault:search:v1:${orgId}`).digest();
}

export class TokenHasher {
  private readonly hashes = new Map<string, string>();
  /** Value → the hashes of its tokens, in two generations (see cacheValueHashes). */
  private valueHashes = new Map<string, readonly string[]>();
  private olderValueHashes = new Map<string, readonly string[]>();
  private readonly blockKey: Buffer;
  private readonly longKey: Buffer;

  constructor(key: Buffer) {
    this.blockKey = createHmac('sha256', key).update('block').digest();
    this.longKey = createHmac('sha256', key).update('long').digest();
  }

  /**
   * Starts gathering the token hashes of many versions (a chunk of the index): see ValueHashes.
   * Per value, not per token: a value seen before costs one lookup and no token work.
   */
  gather(): ValueHashes {
    return new ValueHashes(this);
  }

  /** The token hashes of a value gathered and hashed before, if still cached. */
  cachedValueHashes(value: string): readonly string[] | undefined {
    return this.valueHashes.get(value) ?? this.promote(value);
  }

  /** Keeps the token hashes of a short value for the next chunks. */
  cacheValueHashes(value: string, hashes: readonly string[]): void {
    if (value.length > VALUE_CACHE_LENGTH) return;
    // Two generations, not one map emptied at its limit: the values in use survive each turnover.
    if (this.valueHashes.size >= VALUE_CACHE_LIMIT) {
      this.olderValueHashes = this.valueHashes;
      this.valueHashes = new Map();
    }
    this.valueHashes.set(value, hashes);
  }

  private promote(value: string): readonly string[] | undefined {
    const hashes = this.olderValueHashes.get(value);
    if (hashes !== undefined) this.cacheValueHashes(value, hashes);
    return hashes;
  }

  /** The hash of each token, as a latin1 string of HASH_BYTES bytes; uncached short tokens in one cipher call. */
  hashAll(tokens: Iterable<string>): Map<string, string> {
    const result = new Map<string, string>();
    const short: string[] = [];
    for (const token of tokens) {
      if (result.has(token)) continue;
      const cached = this.hashes.get(token);
      if (cached !== undefined) result.set(token, cached);
      else if (token.length < BLOCK && (isAscii(token) || Buffer.byteLength(token, 'utf8') < BLOCK)) {
        short.push(token);
        result.set(token, '');
      } else result.set(token, this.remember(token, createHmac('sha256', this.longKey).update(token).digest().toString('latin1', 0, HASH_BYTES)));
    }
    if (short.length > 0) {
      const blocks = Buffer.alloc(short.length * BLOCK);
      for (let i = 0; i < short.length; i++) {
        const token = short[i]!;
        const at = i * BLOCK;
        // Tokens are nearly all ASCII: copied by hand, a native call each cost more than the cipher.
        if (isAscii(token)) {
          for (let k = 0; k < token.length; k++) blocks[at + k] = token.charCodeAt(k);
          blocks[at + token.length] = 0x80;
        } else blocks[at + blocks.write(token, at, 'utf8')] = 0x80;
      }
      const cipher = createCipheriv('aes-256-ecb', this.blockKey, null).setAutoPadding(false);
      const out = cipher.update(blocks);
      for (let i = 0, at = 0; i < short.length; i++, at += BLOCK) {
        // The first HASH_BYTES bytes as a latin1 string, as toString('latin1') gives them.
        const hash = String.fromCharCode(out[at]!, out[at + 1]!, out[at + 2]!, out[at + 3]!, out[at + 4]!, out[at + 5]!);
        result.set(short[i]!, this.remember(short[i]!, hash));
      }
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

/**
 * The token hashes of a chunk's versions, gathered value by value. `add` lists, for each
 * searchable value of a version, an array of the hashes of the value's tokens, shared by every
 * equal value (of this chunk, and of earlier chunks while cached); a value not seen before is cut
 * into tokens once, and its array holds those tokens until `finish` hashes every new token of the
 * chunk in one cipher call and puts the hashes in their place. The arrays are read only after
 * `finish`; a gathering abandoned before it (a failed chunk) leaves the caches as they were.
 */
export class ValueHashes {
  /** Values first met in this chunk → their tokens, hashed in place by finish. */
  private readonly pending = new Map<string, string[]>();
  private readonly scratch = new Set<string>();
  private finished = false;

  constructor(private readonly hasher: TokenHasher) {}

  /** Appends to `out` the token-hash array of each searchable value of `fields` (empty ones left out). */
  add(fields: Record<string, unknown>, out: (readonly string[])[]): void {
    eachSearchableValue(fields, (_field, value) => {
      let hashes: readonly string[] | undefined = this.hasher.cachedValueHashes(value) ?? this.pending.get(value);
      if (hashes === undefined) {
        this.scratch.clear();
        addValueTokens(value, this.scratch);
        const tokens = [...this.scratch];
        this.pending.set(value, tokens);
        hashes = tokens;
      }
      if (hashes.length > 0) out.push(hashes);
    });
  }

  /** Hashes the tokens of the values first met in this chunk, in place. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const distinct = new Set<string>();
    for (const tokens of this.pending.values()) for (const token of tokens) distinct.add(token);
    const hashes = this.hasher.hashAll(distinct);
    for (const [value, tokens] of this.pending) {
      for (let i = 0; i < tokens.length; i++) tokens[i] = hashes.get(tokens[i]!)!;
      this.hasher.cacheValueHashes(value, tokens);
    }
    this.pending.clear();
  }
}

/**
 * The distinct token hashes of each of a run of payloads (canonical JSON of versions' fields,
 * `offsets` delimiting them in `bytes`), for the payload worker: every payload's hashes back to
 * back in one latin1 buffer, payload i's ending at `ends[i]` bytes.
 */
export function payloadTokenHashes(hasher: TokenHasher, bytes: Buffer, offsets: Uint32Array): { hashes: Buffer; ends: Uint32Array } {
  const count = offsets.length - 1;
  const gathering = hasher.gather();
  const values: (readonly string[])[][] = new Array<(readonly string[])[]>(count);
  for (let i = 0; i < count; i++) {
    values[i] = [];
    gathering.add(JSON.parse(bytes.toString('utf8', offsets[i], offsets[i + 1])) as Record<string, unknown>, values[i]!);
  }
  gathering.finish();
  const ends = new Uint32Array(count);
  const parts: string[] = [];
  const met = new Set<string>();
  let length = 0;
  for (let i = 0; i < count; i++) {
    met.clear();
    for (const hashes of values[i]!) {
      for (let k = 0; k < hashes.length; k++) {
        const hash = hashes[k]!;
        if (met.has(hash)) continue;
        met.add(hash);
        parts.push(hash);
        length += HASH_BYTES;
      }
    }
    ends[i] = length;
  }
  // A buffer of its own (not from the shared pool), so that it can be transferred.
  const hashes = Buffer.allocUnsafeSlow(length);
  hashes.write(parts.join(''), 0, 'latin1');
  return { hashes, ends };
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
