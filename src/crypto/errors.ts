import { OrgvaultError } from '../core/errors.ts';

/** Stored data failed authentication or its content hash: it was altered or misplaced. */
export class IntegrityError extends OrgvaultError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('INTEGRITY', message, options);
  }
}

/** The passphrase or key file does not unlock this vault. Nothing was changed. */
export class WrongKeyError extends OrgvaultError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('WRONG_KEY', message, options);
  }
}
