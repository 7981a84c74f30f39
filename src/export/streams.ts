/** Writing to a sink's streams with backpressure, so that a slow disk or download holds the export back instead of memory filling up. */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Writes a chunk; waits for 'drain' when the stream's buffer is full. Rejects when the stream fails. */
export async function writeChunk(stream: Writable, chunk: string | Uint8Array): Promise<void> {
  if (stream.destroyed) throw stream.errored ?? new Error('The output stream was closed.');
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** Ends a stream and waits until everything written has been handed on ('finish'). */
export async function endStream(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream, { readable: false });
}
