/**
 * Reads a secret from the terminal without echoing it. The prompt goes to stderr so that stdout
 * stays clean for --json, and the secret never passes through readline's history.
 */
import { ExitCode, OrgvaultError } from '../core/errors.ts';

/** Whether a hidden prompt is possible: a terminal on stdin to read from and stderr to ask on. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Asks for a secret on the terminal, echoing nothing; Ctrl-C cancels. */
export function promptSecret(question: string): Promise<string> {
  const input = process.stdin;
  // Echo off before the question appears, so that nothing typed in answer is ever shown.
  input.setRawMode(true);
  process.stderr.write(question);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new OrgvaultError('CANCELLED', 'Cancelled at the passphrase prompt; nothing was changed.', { exitCode: ExitCode.Usage }));
          return;
        }
        if (ch === '\u007f' || ch === '\b') {
          value = Array.from(value).slice(0, -1).join('');
        } else if (ch === '\u001b') {
          // An arrow or function key: drop the rest of its escape sequence rather than store it.
          return;
        } else if (ch >= ' ') {
          value += ch;
        }
      }
    };
    input.on('data', onData);
  });
}
