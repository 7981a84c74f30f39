import { SalesforceError } from './errors.ts';
import type { FieldDef } from './schema.ts';
import { canonicalDatetime } from './values.ts';

/**
 * Turns a value from a request body (JSON or CSV) into the stored form for a field, or the error
 * Salesforce gives for it. Text is not length-checked here: that is a record-level rule with its
 * own error (STRING_TOO_LONG), applied by the write pipeline.
 */
export function coerceFieldValue(field: FieldDef, raw: unknown): unknown {
  if (raw === null || raw === undefined) return field.type === 'boolean' ? false : null;
  switch (field.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw parserError('boolean', raw);
    case 'int':
    case 'long':
    case 'double':
    case 'currency':
    case 'percent': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw parserError(field.type === 'int' ? 'int' : 'double', raw);
      if (field.type === 'int' && !Number.isInteger(n)) throw parserError('int', raw);
      const value = field.scale !== undefined && field.type !== 'int' ? roundTo(n, field.scale) : n;
      // Salesforce numbers have no negative zero; JSON would silently turn one into 0 anyway.
      return value === 0 ? 0 : value;
    }
    case 'date': {
      if (typeof raw !== 'string') throw parserError('date', raw);
      const date = /^\d{4}-\d{2}-\d{2}/.exec(raw)?.[0];
      if (!date || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) throw parserError('date', raw);
      return date;
    }
    case 'datetime': {
      if (typeof raw !== 'string') throw parserError('datetime', raw);
      const value = canonicalDatetime(raw) ?? (/^\d{4}-\d{2}-\d{2}$/.test(raw) ? canonicalDatetime(`${raw}T00:00:00Z`) : undefined);
      if (!value) throw parserError('datetime', raw);
      return value;
    }
    case 'time':
      if (typeof raw !== 'string' || !/^\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z?$/.test(raw)) throw parserError('time', raw);
      return raw;
    case 'base64':
      if (typeof raw !== 'string') throw parserError('base64', raw);
      return raw;
    case 'address':
    case 'location':
      // Compound fields are written through their components only.
      throw new SalesforceError('INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${field.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, { fields: [field.name] });
    default:
      if (typeof raw === 'object') throw parserError('String', raw);
      return String(raw);
  }
}

function roundTo(n: number, scale: number): number {
  const f = 10 ** scale;
  return Math.round(n * f) / f;
}

function parserError(type: string, raw: unknown): SalesforceError {
  const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
  const token = typeof raw === 'string' ? 'VALUE_STRING' : typeof raw === 'number' ? 'VALUE_NUMBER_INT' : typeof raw === 'boolean' ? `VALUE_${String(raw).toUpperCase()}` : 'START_OBJECT';
  return new SalesforceError(
    'JSON_PARSER_ERROR',
    `Cannot deserialize instance of ${type} from ${token} value ${shown} or request may be missing a required field`,
  );
}

/** Text field types whose `length` bounds the value. */
export function isLengthBounded(field: FieldDef): boolean {
  return ['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'multipicklist', 'combobox', 'encryptedstring'].includes(field.type);
}
