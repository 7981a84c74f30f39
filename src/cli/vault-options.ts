/**
 * How every command finds the vault and the key that opens it, in one place.
 *
 * The vault: `--vault DIR`, else ORGVAULT_HOME, else ./.orgvault. The key: `--key-file FILE`
 * (or ORGVAULT_KEY_FILE), else a recovery key in ORGVAULT_RECOVERY_KEY, else the passphrase in
 * ORGVAULT_PASSPHRASE, else a hidden prompt when there is a terminal. A passphrase is never taken
 * from the command line (it would land in shell history and `ps`), and no secret is ever printed
 * or logged: messages name the variable or file, never its content.
 */
import { constants } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { OrgvaultError, UsageError } from '../core/errors.ts';
import { generateKeyFileContent } from '../crypto/keys.ts';
import type { ScryptParams, Unlocker } from '../crypto/keys.ts';
import { locationOverrides } from '../store/location.ts';
import type { LocationOverrides } from '../store/location.ts';
import { DEFAULT_VAULT_DIR } from '../store/vault.ts';
import type { KeyOptions, VaultUnlocker } from '../store/vault.ts';
import { canPrompt, promptSecret } from './secret-prompt.ts';

/** The options defined on the program, available to every command. */
export interface GlobalOptions {
  vault?: string;
  keyFile?: string;
  json?: boolean;
  /** Where the catalog is: postgres://… or sqlite (see src/store/location.ts). */
  store?: string;
  /** Where the blobs are: s3://… or fs. */
  blobs?: string;
}

/**
 * Test-only: `ORGVAULT_TEST_SCRYPT=fast` makes new passphrase wrappings cheap to derive, so that
 * test suites can create many vaults. It weakens the passphrase against guessing; a warning says
 * so each time, and the parameters are recorded in vault.json and shown by `key list`.
 */
const TEST_SCRYPT: Record<string, ScryptParams> = { fast: { N: 2 ** 10, r: 8, p: 1 } };

const NO_KEY_HELP =
  'set ORGVAULT_PASSPHRASE, pass --key-file FILE (or set ORGVAULT_KEY_FILE), or run in a terminal to be prompted. The passphrase is never accepted on the command line.';

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Where the vault's catalog and blobs are, as the command line and environment say (storage.json fills the rest). */
export function resolveLocationOverrides(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): LocationOverrides {
  return locationOverrides({ store: options.store, blobs: options.blobs }, env);
}

/** The vault directory, absolute. */
export function resolveVaultDir(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(options.vault ?? (env.ORGVAULT_HOME || DEFAULT_VAULT_DIR));
}

/** The key that opens an existing vault. */
export async function resolveUnlocker(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<VaultUnlocker> {
  const keyFile = options.keyFile ?? (env.ORGVAULT_KEY_FILE || undefined);
  if (keyFile) return { keyFile: await readKeyFile(keyFile) };
  if (env.ORGVAULT_RECOVERY_KEY) return { exportedKey: env.ORGVAULT_RECOVERY_KEY };
  if (env.ORGVAULT_PASSPHRASE) return { passphrase: env.ORGVAULT_PASSPHRASE };
  if (canPrompt()) return { passphrase: await promptSecret('Vault passphrase: ') };
  throw new UsageError(`No passphrase or key file to open the vault: ${NO_KEY_HELP}`);
}

/**
 * The key for a new vault (`init`): `--key-file FILE`, created with a fresh random key when it
 * does not exist, or a new passphrase from ORGVAULT_PASSPHRASE or a prompt (asked twice).
 */
export async function resolveInitKey(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<NewKey> {
  const keyFile = options.keyFile ?? (env.ORGVAULT_KEY_FILE || undefined);
  if (keyFile) return keyFileKey(keyFile);
  return { unlocker: { passphrase: await newPassphrase(env.ORGVAULT_PASSPHRASE, 'set ORGVAULT_PASSPHRASE, pass --key-file FILE (or set ORGVAULT_KEY_FILE)') } };
}

/**
 * The new key for `key add` and `key rotate`: `--new-key-file FILE` (created when it does not
 * exist), or a new passphrase from ORGVAULT_NEW_PASSPHRASE or a prompt (asked twice).
 */
export async function resolveNewKey(newKeyFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<NewKey> {
  if (newKeyFile) return keyFileKey(newKeyFile);
  return { unlocker: { passphrase: await newPassphrase(env.ORGVAULT_NEW_PASSPHRASE, 'set ORGVAULT_NEW_PASSPHRASE, pass --new-key-file FILE') } };
}

export interface NewKey {
  unlocker: Unlocker;
  /** Set when the key is a key file; `created` when this command wrote it. */
  keyFile?: { path: string; created: boolean };
  /** Removes a key file this command created, when the command then failed. */
  discard?(): Promise<void>;
}

/** Options for creating key wrappings: the scrypt cost, cheap only under ORGVAULT_TEST_SCRYPT. */
export function keyOptions(env: NodeJS.ProcessEnv = process.env, options: GlobalOptions = {}): KeyOptions {
  const location = resolveLocationOverrides(options, env);
  const name = env.ORGVAULT_TEST_SCRYPT;
  if (!name) return { location };
  const scrypt = TEST_SCRYPT[name];
  if (!scrypt) throw new UsageError(`ORGVAULT_TEST_SCRYPT=${name} is not known; it is a test-only setting (\`fast\`). Unset it for real vaults.`);
  warn(`ORGVAULT_TEST_SCRYPT=${name}: new passphrases get weak, test-only key derivation. Never use this for a real vault.`);
  return { scrypt, location };
}

/** Writes a command's result: one JSON document with --json, else lines for a human. */
export function printResult(options: GlobalOptions, data: unknown, lines: () => string[]): void {
  process.stdout.write(options.json ? `${JSON.stringify(data, null, 2)}\n` : `${lines().join('\n')}\n`);
}

/** A line on stderr: progress, warnings. */
export function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function newPassphrase(fromEnv: string | undefined, howToGive: string): Promise<string> {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!canPrompt()) throw new UsageError(`No new passphrase: ${howToGive}, or run in a terminal to be prompted. The passphrase is never accepted on the command line.`);
  const first = await promptSecret('New passphrase: ');
  if (first === '') throw new UsageError('The passphrase is empty; nothing was changed.');
  const second = await promptSecret('Repeat the new passphrase: ');
  if (first !== second) throw new UsageError('The two passphrases differ; nothing was changed.');
  return first;
}

async function keyFileKey(file: string): Promise<NewKey> {
  const path = resolve(file);
  let handle;
  try {
    // O_EXCL: never replace an existing key file, which may be the only key to another vault.
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new UsageError(`Cannot create the key file ${path}: ${(error as Error).message}`, { cause: error });
    return { unlocker: { keyFile: await readKeyFile(path) }, keyFile: { path, created: false } };
  }
  const content = generateKeyFileContent();
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return {
    unlocker: { keyFile: Buffer.from(content) },
    keyFile: { path, created: true },
    discard: () => unlink(path).catch(() => undefined),
  };
}

async function readKeyFile(file: string): Promise<Buffer> {
  const path = resolve(file);
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`The key file ${path} does not exist. Check --key-file or ORGVAULT_KEY_FILE.`, { cause: error });
    throw new OrgvaultError('KEY_FILE', `Cannot read the key file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) {
    warn(`Warning: the key file ${path} can be read by other users; restrict it with \`chmod 600 ${path}\`.`);
  }
  return content;
}
