/**
 * Names for exported file bodies, pure: `files/<Object>/<RecordId>/<original name>`, made safe
 * for every file system (no path traversal, separators, control characters, reserved Windows
 * names or over-long names) and disambiguated within a record's folder (`report (2).pdf`).
 */

const UNSAFE = /[\u0000-\u001f\u007f/\\:*?"<>|]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** Bytes of a name, well under the usual 255-byte limit, leaving room for " (n)". */
const MAX_NAME_BYTES = 200;

/** A file name that is one safe path segment; `fallback` when nothing usable is left. */
export function safeFileName(name: string | null | undefined, fallback: string): string {
  let safe = (name ?? '').normalize('NFC').replace(UNSAFE, '_').trim();
  // Leading dots would hide the file or walk up (".."); trailing dots and spaces vanish on Windows.
  safe = safe.replace(/^\.+/, (dots) => '_'.repeat(dots.length)).replace(/[. ]+$/, '');
  if (safe === '' || /^_+$/.test(safe)) safe = fallback;
  if (RESERVED.test(safe)) safe = `_${safe}`;
  return truncate(safe);
}

/** Cuts a name to MAX_NAME_BYTES of UTF-8, keeping its extension and whole characters. */
function truncate(name: string): string {
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let stem = name.slice(0, name.length - extension.length);
  while (Buffer.byteLength(stem + extension) > MAX_NAME_BYTES) stem = Array.from(stem).slice(0, -1).join('');
  return stem + extension;
}

/** `name (n).ext`: the n-th file of the same name in one folder. */
export function numbered(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}

/** A folder segment for an object or record ID (they are letters, digits and underscores already). */
export function safeSegment(text: string): string {
  return safeFileName(text, '_');
}

/**
 * The names taken in one record's folder. Case-insensitive, as on Windows and macOS, so that
 * `Report.pdf` and `report.pdf` do not overwrite each other there.
 */
export class FolderNames {
  private readonly taken = new Set<string>();

  /** A free name for `wanted` in this folder, now taken. */
  claim(wanted: string): string {
    let name = wanted;
    for (let n = 2; this.taken.has(name.toLowerCase()); n++) name = numbered(wanted, n);
    this.taken.add(name.toLowerCase());
    return name;
  }
}
