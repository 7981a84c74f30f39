/**
 * Text written as UTF-8 into one growing buffer. Large bodies (REST query pages, Bulk CSV result
 * pages) are built with it instead of as one long JavaScript string: such a string costs a
 * concatenation per row, a flattening and an encoding pass when it is sent, and V8 allocates it
 * outside the young generation, where it brings on collections of the whole (large) org heap.
 */
export class Utf8Buffer {
  private buffer: Buffer;
  private at: number;

  /**
   * `capacity`: the expected size in bytes; the buffer grows past it when needed. `reserve`: bytes
   * kept free in front for a head known only at the end (`bytesAfter`).
   */
  constructor(capacity = 64 * 1024, private readonly reserve = 0) {
    this.buffer = Buffer.allocUnsafe(Math.max(1024, capacity + reserve));
    this.at = reserve;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.at - this.reserve;
  }

  write(text: string): void {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    if (this.buffer.length - this.at < text.length * 3) this.grow(text.length * 3);
    this.at += this.buffer.write(text, this.at);
  }

  /** One ASCII character (a separator), without a native call. */
  writeAscii(code: number): void {
    if (this.at === this.buffer.length) this.grow(1);
    this.buffer[this.at++] = code;
  }

  /** The bytes written, sharing this buffer's memory. */
  bytes(): Buffer {
    return this.buffer.subarray(this.reserve, this.at);
  }

  /** `head` then the bytes written: in the reserved space when it fits, else copied. */
  bytesAfter(head: string): Buffer {
    const size = Buffer.byteLength(head);
    if (size > this.reserve) return Buffer.concat([Buffer.from(head), this.bytes()]);
    this.buffer.write(head, this.reserve - size);
    return this.buffer.subarray(this.reserve - size, this.at);
  }

  private grow(needed: number): void {
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + needed));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}
