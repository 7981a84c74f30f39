/**
 * Password hashing for local users: scrypt from Node's crypto, in the self-describing form
 * `scrypt$N$r$p$salt$hash` (base64), so that the cost can be raised later and old hashes still
 * verify with the parameters they were made with.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { UsageError } from '../core/errors.ts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** About 100 ms and 32 MiB per sign-in, as for vault passphrases: slow for a guesser, bearable for a server. */
const DEFAULT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };

/**
 * Test-only, as for vault keys (src/cli/vault-options.ts): `ORGVAULT_TEST_SCRYPT=fast` makes new
 * hashes cheap, so that test suites can add many users. The cost is in each hash, so a password
 * set this way stays weak until it is set again without it.
 */
const TEST_COSTS: Record<string, ScryptCost> = { fast: { N: 2 ** 10, r: 8, p: 1 } };

/** Bounds on the cost read back from a stored hash, so that a tampered row cannot make a sign-in eat the machine. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** The shortest password accepted, in characters. */
export const MIN_PASSWORD_LENGTH = 12;

const HASH_FORM = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function currentCost(env: NodeJS.ProcessEnv = process.env): ScryptCost {
  const name = env.ORGVAULT_TEST_SCRYPT;
  if (!name) return DEFAULT_COST;
  const cost = TEST_COSTS[name];
  if (!cost) throw new UsageError(`ORGVAULT_TEST_SCRYPT=${name} is not known; it is a test-only setting (\`fast\`). Unset it for real vaults.`);
  return cost;
}

// NFKC, as for vault passphrases: the same password typed on another keyboard or OS must match.
const derive = (password: string, salt: Buffer, keylen: number, cost: ScryptCost): Promise<Buffer> =>
  scrypt(password.normalize('NFKC'), salt, keylen, { ...cost, maxmem: 256 * cost.N * cost.r });

/** A UsageError unless the password is long enough. */
export function checkPasswordStrength(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`The password is too weak: use at least ${MIN_PASSWORD_LENGTH} characters (a passphrase of a few words is easiest to remember).`);
  }
}

export async function hashPassword(password: string): Promise<string> {
  const cost = currentCost();
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, HASH_BYTES, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Whether `password` matches `hash`, compared in constant time. A hash that is not in the
 * expected form (or asks for an absurd cost) matches nothing.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = HASH_FORM.exec(hash);
  if (!match) return false;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const salt = Buffer.from(match[4]!, 'base64');
  const expected = Buffer.from(match[5]!, 'base64');
  const powerOfTwo = N >= 2 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P || salt.length < 8 || expected.length < 16) return false;
  const actual = await derive(password, salt, expected.length, { N, r, p });
  return timingSafeEqual(actual, expected);
}

const dummyHashes = new Map<string, Promise<string>>();

/**
 * Spends what checking a password costs, for a name that has no user: a sign-in with an unknown
 * name must take as long as one with a wrong password, or its timing tells which names exist.
 * The first call makes the dummy hash, which costs the same as verifying against it.
 */
export async function spendPasswordCheck(password: string): Promise<void> {
  const cost = currentCost();
  const key = `${cost.N}/${cost.r}/${cost.p}`;
  const existing = dummyHashes.get(key);
  if (existing) {
    await verifyPassword(password, await existing);
    return;
  }
  const made = hashPassword(randomBytes(16).toString('hex'));
  dummyHashes.set(key, made);
  made.catch(() => dummyHashes.delete(key));
  await made;
}
