import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { RecordWriteError, SalesforceError } from '../org/errors.ts';
import type { SalesforceErrorBody } from '../org/errors.ts';

/** Salesforce's error body: a JSON array of `{message, errorCode, fields?}`. */
export function errorResponse(c: Context, status: number, errors: SalesforceErrorBody[]): Response {
  return c.json(errors, status as ContentfulStatusCode);
}

/**
 * Maps a thrown error to the response Salesforce would give. Anything that is not a Salesforce
 * error is an emulator bug; it answers UNKNOWN_EXCEPTION like Salesforce's own internal errors,
 * and is logged so that it is not lost.
 */
export function respondWithError(c: Context, error: unknown): Response {
  if (error instanceof SalesforceError) return errorResponse(c, error.httpStatus, [error.toJSON()]);
  if (error instanceof RecordWriteError) return errorResponse(c, error.httpStatus, error.errors.map((e) => e.toJSON()));
  console.error('[emulator] internal error', error);
  return errorResponse(c, 500, [{ errorCode: 'UNKNOWN_EXCEPTION', message: 'An unexpected error occurred. Please include this ErrorId if you contact support: 0-0 (-1)' }]);
}

/** The error elements of a failed write, for collection, composite and Bulk results. */
export function errorsOf(error: unknown): SalesforceErrorBody[] {
  if (error instanceof RecordWriteError) return error.errors.map((e) => ({ ...e.toJSON(), fields: e.fields ?? [] }));
  if (error instanceof SalesforceError) return [{ ...error.toJSON(), fields: error.fields ?? [] }];
  console.error('[emulator] internal error', error);
  return [{ errorCode: 'UNKNOWN_EXCEPTION', message: 'An unexpected error occurred.', fields: [] }];
}
