/**
 * Salesforce API errors. REST answers them as `[{"message","errorCode","fields"}]`; record-level
 * failures inside collections, composite and Bulk results carry the same code and message.
 */
export interface SalesforceErrorBody {
  message: string;
  errorCode: string;
  fields?: string[];
}

export class SalesforceError extends Error {
  readonly errorCode: string;
  readonly httpStatus: number;
  readonly fields: string[] | undefined;

  constructor(errorCode: string, message: string, options: { status?: number; fields?: string[] } = {}) {
    super(message);
    this.name = 'SalesforceError';
    this.errorCode = errorCode;
    this.httpStatus = options.status ?? 400;
    this.fields = options.fields;
  }

  /** The body element, with `fields` only where Salesforce sends it (record errors). */
  toJSON(): SalesforceErrorBody {
    const body: SalesforceErrorBody = { message: this.message, errorCode: this.errorCode };
    if (this.fields) body.fields = this.fields;
    return body;
  }
}

/** A record write rejected for one or more reasons; REST reports every one of them. */
export class RecordWriteError extends Error {
  readonly errors: SalesforceError[];
  constructor(errors: SalesforceError[]) {
    super(errors.map((e) => `${e.errorCode}: ${e.message}`).join('; '));
    this.name = 'RecordWriteError';
    this.errors = errors;
  }

  get httpStatus(): number {
    return this.errors[0]?.httpStatus ?? 400;
  }
}

export const notFound = (message = 'The requested resource does not exist'): SalesforceError =>
  new SalesforceError('NOT_FOUND', message, { status: 404 });

export const invalidSession = (): SalesforceError =>
  new SalesforceError('INVALID_SESSION_ID', 'Session expired or invalid', { status: 401 });
