/**
 * An org's OrgAuth, sealed with the vault's sealing key. The associated data binds it to the org
 * ID, so a sealed blob copied onto another org's registration fails to open.
 */
import { OrgvaultError } from '../core/errors.ts';
import type { OrgAuth } from '../core/org-client.ts';
import type { OrgRegistration } from '../core/vault.ts';
import { open, seal } from '../crypto/seal.ts';

/** The part of the vault's keyring the org use case needs. */
export interface SealingKeyring {
  sealing: Buffer;
}

const aad = (orgId: string): string => `orgvault:org-auth:${orgId}`;

export function sealOrgAuth(keyring: SealingKeyring, orgId: string, auth: OrgAuth): Uint8Array {
  return seal(keyring.sealing, Buffer.from(JSON.stringify(auth), 'utf8'), aad(orgId));
}

export function unsealOrgAuth(keyring: SealingKeyring, registration: Pick<OrgRegistration, 'name' | 'orgId' | 'sealedAuth'>): OrgAuth {
  const plain = open(keyring.sealing, registration.sealedAuth, aad(registration.orgId), `the credentials of org "${registration.name}"`);
  const auth = JSON.parse(plain.toString('utf8')) as OrgAuth;
  if (!auth || typeof auth !== 'object' || typeof auth.kind !== 'string') {
    throw new OrgvaultError('CORRUPT', `The credentials of org "${registration.name}" are not an OrgAuth document; register the org again.`);
  }
  return auth;
}
