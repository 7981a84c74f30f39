/**
 * Engine-independent parts of the pack rewrite that prune and purge share on both engines: which
 * payloads of a partly used pack move (each checked against its recorded hash), and how a new pack
 * is built and sealed. Packs copy between SQLite and PostgreSQL unchanged, so both must seal a
 * rewritten pack the same way (its pack ID as associated data): it is done here once.
 */
import { randomBytes } from 'node:crypto';
import { IntegrityError } from '../../crypto/errors.ts';
import type { Keyring } from '../../crypto/keys.ts';
import type { OpenedPack, PackBuilder } from '../packs.ts';
import { compressPackBody, openPack, packHeader, payloadHash, sealPackBody } from '../packs.ts';
import type { RepackOutcome } from '../port.ts';
import { HASH_BYTES } from './versions.ts';

/** Records per page of recordChains. */
export const CHAIN_PAGE = 2000;
/** Old packs per rewrite transaction: bounds the transaction's size (about 8 MiB of sealed packs). */
export const REPACK_GROUP = 256;

/** A payload moving from an old pack's slot into a new pack. */
export interface RepackEntry {
  payload: Buffer;
  hash: Buffer;
  oldPack: number;
  oldSlot: number;
  objectKey: number;
  recordId: string;
}

/** A repack outcome with every count at zero. */
export function emptyRepack(): RepackOutcome {
  return { packsBefore: 0, packsAfter: 0, packsDeleted: 0, packsRewritten: 0, packsWritten: 0, payloadsMoved: 0, payloadsDropped: 0, sealedBytesBefore: 0, sealedBytesAfter: 0, damagedPacks: [] };
}

/**
 * The payloads of a pack's used slots, each checked against its recorded hash; undefined when the
 * pack does not open or a payload does not match (the caller leaves such a pack as it is and names
 * it: re-sealing it would hide the damage from verify).
 */
export function repackEntries(
  keyring: Keyring,
  packKey: number,
  row: { pack_id: string; payload_hashes: Buffer; sealed: Buffer },
  used: readonly { slot: number; object_key: number }[],
): RepackEntry[] | undefined {
  let pack: OpenedPack;
  try {
    pack = openPack(keyring.sealing, row.pack_id, row.sealed);
  } catch (error) {
    if (!(error instanceof IntegrityError)) throw error;
    return undefined;
  }
  const entries: RepackEntry[] = [];
  for (const u of used) {
    const hash = row.payload_hashes.subarray(u.slot * HASH_BYTES, (u.slot + 1) * HASH_BYTES);
    const payload = u.slot < pack.count ? pack.payload(u.slot) : undefined;
    if (!payload || hash.length !== HASH_BYTES || !payloadHash(keyring.addressing, payload).equals(hash)) return undefined;
    entries.push({ payload, hash: Buffer.from(hash), oldPack: packKey, oldSlot: u.slot, objectKey: u.object_key, recordId: pack.recordId(u.slot) });
  }
  return entries;
}

/** Seals a rewrite builder's entries as a new pack: its ID, payload count, hashes and sealed bytes, for the packs row. */
export function sealRepack(keyring: Keyring, builder: PackBuilder<RepackEntry>): { packId: string; payloads: number; payloadHashes: Buffer; sealed: Buffer } {
  const packId = randomBytes(8).toString('hex');
  const body = Buffer.concat([packHeader(builder.entries), ...builder.entries.map((e) => e.ref.payload)]);
  const sealed = sealPackBody(keyring.sealing, packId, compressPackBody(body));
  return { packId, payloads: builder.entries.length, payloadHashes: Buffer.concat(builder.entries.map((e) => e.ref.hash)), sealed };
}
