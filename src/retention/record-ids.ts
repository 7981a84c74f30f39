/** Record IDs as the vault stores them: 18 characters, the case-safe form Salesforce's APIs return. */
import { isRecordId } from '../core/vault.ts';

const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/**
 * The 18-character form of a 15- or 18-character ID (Salesforce's checksum: one character per five,
 * encoding which of them are upper case), or undefined when `id` is not a record ID.
 */
export function toId18(id: string): string | undefined {
  const text = id.trim();
  if (!isRecordId(text)) return undefined;
  if (text.length === 18) return text;
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = text[chunk * 5 + i]!;
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX[bits];
  }
  return text + suffix;
}
