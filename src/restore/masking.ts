/**
 * Masking for restores into another org (sandbox seeding): personal fields replaced by believable
 * values derived from the original with a keyed hash, so one person gets the same fake name,
 * email and phone in every record and every run with the same key, and nobody without the key
 * can map them back.
 */
import { createHmac } from 'node:crypto';
import { UsageError } from '../core/errors.ts';

export const MASK_KINDS = ['first-name', 'last-name', 'name', 'email', 'phone', 'company', 'street', 'text', 'null'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

/** `Object.Field=kind` or `Object.Field=template` (a template may use {hash} and {n}). */
export interface MaskRule {
  objectName: string;
  field: string;
  kind: MaskKind | 'template';
  template?: string;
}

const FIRST = ['Alex', 'Sam', 'Jordan', 'Taylor', 'Morgan', 'Casey', 'Jamie', 'Robin', 'Avery', 'Riley', 'Quinn', 'Drew', 'Harper', 'Rowan', 'Emery', 'Sasha', 'Noa', 'Kai', 'Elliot', 'Remy'];
const LAST = ['Smith', 'Garcia', 'Chen', 'Novak', 'Okafor', 'Larsen', 'Silva', 'Kowalski', 'Haddad', 'Moreau', 'Tanaka', 'Brennan', 'Ivanova', 'Costa', 'Mensah', 'Fischer', 'Dubois', 'Patel', 'Rossi', 'Nguyen'];
const COMPANY = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell'];
const SUFFIX = ['Corp', 'Ltd', 'Group', 'Partners', 'Holdings', 'Labs', 'Systems', 'Industries'];
const STREETS = ['Main St', 'Oak Ave', 'Pine Rd', 'Maple Dr', 'Cedar Ln', 'Elm St', 'Lake Rd', 'Hill St'];

/** Reads `--mask Object.Field=kind|template`. */
export function parseMaskRule(text: string): MaskRule {
  const m = /^([A-Za-z][\w]*)\.([A-Za-z][\w]*)=(.+)$/.exec(text);
  if (!m) throw new UsageError(`--mask ${text} is not Object.Field=KIND or Object.Field=TEMPLATE, e.g. --mask Contact.Email=email. Kinds: ${MASK_KINDS.join(', ')}.`);
  const [, objectName, field, spec] = m as unknown as [string, string, string, string];
  if ((MASK_KINDS as readonly string[]).includes(spec)) return { objectName, field, kind: spec as MaskKind };
  if (!spec.includes('{')) throw new UsageError(`--mask ${text}: "${spec}" is neither a kind (${MASK_KINDS.join(', ')}) nor a template with {hash} or {n}.`);
  const unknown = [...spec.matchAll(/\{([^}]*)\}/g)].map((t) => t[1]).filter((t) => t !== 'hash' && t !== 'n');
  if (unknown.length) throw new UsageError(`--mask ${text}: unknown placeholder {${unknown[0]}}; a template may use {hash} and {n}.`);
  return { objectName, field, kind: 'template', template: spec };
}

/** Masks values with one key: equal inputs give equal outputs. */
export class Masker {
  constructor(private readonly key: string) {}

  mask(rule: MaskRule, value: unknown): unknown {
    if (value === null || value === undefined || value === '') return value ?? null;
    if (rule.kind === 'null') return null;
    const digest = createHmac('sha256', this.key).update(String(value)).digest();
    const pick = <T>(list: readonly T[], byte: number): T => list[digest[byte]! % list.length]!;
    const hash = digest.subarray(0, 4).toString('hex');
    const n = String(digest.readUInt32BE(4) % 10_000_000).padStart(7, '0');
    switch (rule.kind) {
      case 'first-name':
        return pick(FIRST, 0);
      case 'last-name':
        return `${pick(LAST, 1)}-${hash.slice(0, 4)}`;
      case 'name':
        return `${pick(FIRST, 0)} ${pick(LAST, 1)}`;
      case 'email':
        return `${pick(FIRST, 0).toLowerCase()}.${pick(LAST, 1).toLowerCase()}.${hash}@example.invalid`;
      case 'phone':
        return `+1 555 ${n.slice(0, 3)} ${n.slice(3)}`;
      case 'company':
        return `${pick(COMPANY, 2)} ${pick(SUFFIX, 3)} ${hash.slice(0, 4).toUpperCase()}`;
      case 'street':
        return `${(digest.readUInt16BE(6) % 9000) + 100} ${pick(STREETS, 5)}`;
      case 'text':
        return `Masked ${hash}`;
      case 'template':
        return rule.template!.replace(/\{hash\}/g, hash).replace(/\{n\}/g, n);
    }
  }
}
