/**
 * Content addresses: HMAC-SHA-256 of the content under the vault's addressing key. Identical
 * content gets one address (files are stored once), and an address reveals nothing about the
 * content to anyone without the vault's key: no confirming that a known file is present.
 */
import { createHmac } from 'node:crypto';
import type { Hmac } from 'node:crypto';

export function contentAddress(addressingKey: Buffer, content: Uint8Array | string): string {
  return createHmac('sha256', addressingKey).update(content).digest('hex');
}

/** An incremental address for streamed content. */
export function addressHasher(addressingKey: Buffer): { update(chunk: Uint8Array): void; digest(): string } {
  const hmac: Hmac = createHmac('sha256', addressingKey);
  return {
    update: (chunk) => {
      hmac.update(chunk);
    },
    digest: () => hmac.digest('hex'),
  };
}
