/**
 * File bodies (ContentVersion.VersionData, Attachment.Body, Document.Body) streamed from the
 * sObject Blob Get resource, never held whole. A failure before the first byte is retried (and a
 * dead session renewed); once bytes have been handed out, a failure is raised, since the caller
 * has already consumed part of the body.
 */
import { SalesforceApiError } from '../core/errors.ts';
import { isNetworkError, networkError, shouldRetry } from './api-errors.ts';
import type { OrgHttp } from './http.ts';
import { withRetry } from './retry.ts';

export async function* downloadBody(http: OrgHttp, objectName: string, recordId: string, field: string): AsyncIterable<Uint8Array> {
  const path = http.dataPath(`/sobjects/${encodeURIComponent(objectName)}/${encodeURIComponent(recordId)}/${encodeURIComponent(field)}`);
  const what = `GET ${objectName} ${recordId} ${field}`;
  const { reader, first } = await withRetry(
    http.retry,
    async () => {
      const response = await http.open('GET', path, '*/*');
      if (!response.body) return { reader: undefined, first: undefined };
      const reader = response.body.getReader();
      try {
        const chunk = await reader.read();
        return { reader, first: chunk.done ? undefined : chunk.value };
      } catch (error) {
        reader.releaseLock();
        throw error;
      }
    },
    shouldRetry,
    (error, attempt, delay) => http.log(`${what} failed before the first byte (${(error as Error).message}); attempt ${attempt + 1} of ${http.retry.attempts} in ${delay} ms`),
  ).catch((error: unknown) => {
    throw isNetworkError(error) ? networkError(error, what) : error;
  });
  if (!reader || !first) return;
  try {
    yield first;
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new SalesforceApiError('CONNECTION_ERROR', `The download of ${objectName} ${recordId} ${field} broke off mid-body: ${(error as Error).message}`, { cause: error });
      }
      if (chunk.done) return;
      yield chunk.value;
    }
  } finally {
    // A consumer that stops early must not leave the connection open.
    await reader.cancel().catch(() => {});
  }
}
