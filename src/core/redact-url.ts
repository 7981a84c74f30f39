/** Showing a URL in a message or log without the password it may carry. */

/** `url` with its password replaced by ***; an unparsable URL keeps only what is not a password. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}
