/**
 * MIME multipart bodies, as the sObject resources take blob uploads: a JSON part with the record's
 * fields and a binary part named after the blob field. Parts are views into the request body, so a
 * large upload is not copied again.
 */

export interface MultipartPart {
  /** The `name` of the part's Content-Disposition. */
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

/** The boundary of a multipart Content-Type, or undefined when the type is not multipart. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * Splits a multipart body into its parts. Lenient where clients differ (bare LF line breaks, a
 * trailing `;` after the disposition, a missing closing delimiter); undefined when no part is found.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    // `--boundary--` closes the body.
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break;
    start = skipLineBreak(body, skipBlanks(body, start));
    const next = body.indexOf(delimiter, start);
    const end = next < 0 ? body.length : trimLineBreak(body, next);
    const part = parsePart(body.subarray(start, Math.max(start, end)));
    if (part) parts.push(part);
    at = next;
  }
  return parts.length ? parts : undefined;
}

function parsePart(raw: Buffer): MultipartPart | undefined {
  let split = raw.indexOf('\r\n\r\n');
  let gap = 4;
  const lf = raw.indexOf('\n\n');
  if (lf >= 0 && (split < 0 || lf < split)) {
    split = lf;
    gap = 2;
  }
  if (split < 0) return undefined;
  const headers = new Map<string, string>();
  for (const line of raw.subarray(0, split).toString('utf8').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get('content-disposition') ?? '';
  const name = parameter(disposition, 'name');
  if (name === undefined) return undefined;
  return { name, filename: parameter(disposition, 'filename'), contentType: headers.get('content-type'), body: raw.subarray(split + gap) };
}

function parameter(header: string, key: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${key}=(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(header);
  return match ? (match[1] ?? match[2]) : undefined;
}

function skipBlanks(body: Buffer, at: number): number {
  while (body[at] === 0x20 || body[at] === 0x09) at++;
  return at;
}

function skipLineBreak(body: Buffer, at: number): number {
  if (body[at] === 0x0d && body[at + 1] === 0x0a) return at + 2;
  return body[at] === 0x0a ? at + 1 : at;
}

/** The end of a part's content: the line break before the next delimiter belongs to it. */
function trimLineBreak(body: Buffer, delimiterAt: number): number {
  if (body[delimiterAt - 2] === 0x0d && body[delimiterAt - 1] === 0x0a) return delimiterAt - 2;
  return body[delimiterAt - 1] === 0x0a ? delimiterAt - 1 : delimiterAt;
}
