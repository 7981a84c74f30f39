/**
 * What every admin route shares: the admin bearer token check, strict JSON bodies (unknown fields
 * refused by name), and errors that name the body field at fault.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../server/context.ts';

export type Body = Record<string, unknown>;

/** A request the admin API refuses, naming the body field at fault. */
export class AdminError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badField = (field: string, message: string): AdminError => new AdminError(400, 'INVALID_FIELD', message, field);

/** Constant-time comparison of the bearer token; hashing first makes the lengths equal. */
export function authorized(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match || !token) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

export async function readBody(c: Context<AppEnv>, fields: string[]): Promise<Body> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AdminError(400, 'INVALID_JSON', 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AdminError(400, 'INVALID_JSON', 'The request body must be a JSON object.');
  }
  for (const key of Object.keys(body)) {
    if (!fields.includes(key)) {
      throw badField(key, fields.length ? `Unknown field "${key}"; expected ${fields.map((f) => `"${f}"`).join(', ')}.` : `This route takes no body; unknown field "${key}".`);
    }
  }
  return body as Body;
}

export function optionalInteger(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badField(field, `"${field}" must be an integer from ${min} to ${max}.`);
  }
  return value;
}
