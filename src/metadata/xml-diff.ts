/**
 * A line-based unified diff (as `diff -u` prints it) of two versions of a component's files, so
 * that an admin reads what changed in a field, a picklist, a validation rule or an Apex class.
 * Pure. Lines are matched with Myers' O(ND) algorithm after the common head and tail are set
 * aside, which keeps component-sized files (a profile of a few thousand lines) cheap.
 */

/** One line of a diff: kept (context), removed from the old text, or added in the new one. */
export interface DiffLine {
  kind: 'context' | 'removed' | 'added';
  text: string;
}

/** A run of changes with its context, as one `@@ -a,b +c,d @@` block. */
export interface DiffHunk {
  /** First line of the hunk in the old text (1-based; 0 when the old side is empty). */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: DiffLine[];
}

/** Past this many edits the texts are treated as replaced whole: the diff is still right, only longer. */
const MAX_EDITS = 4000;

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  // A final newline ends the last line; it does not start an empty one.
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The edit script between two lists of lines, as kept/removed/added lines in order. */
export function diffLines(oldLines: readonly string[], newLines: readonly string[]): DiffLine[] {
  let head = 0;
  while (head < oldLines.length && head < newLines.length && oldLines[head] === newLines[head]) head++;
  let tail = 0;
  while (tail < oldLines.length - head && tail < newLines.length - head && oldLines[oldLines.length - 1 - tail] === newLines[newLines.length - 1 - tail]) tail++;
  const a = oldLines.slice(head, oldLines.length - tail);
  const b = newLines.slice(head, newLines.length - tail);
  const out: DiffLine[] = oldLines.slice(0, head).map((text) => ({ kind: 'context', text }));
  out.push(...myers(a, b));
  out.push(...oldLines.slice(oldLines.length - tail).map((text): DiffLine => ({ kind: 'context', text })));
  return out;
}

function myers(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const replaced = (): DiffLine[] => [...a.map((text): DiffLine => ({ kind: 'removed', text })), ...b.map((text): DiffLine => ({ kind: 'added', text }))];
  if (n === 0 || m === 0) return replaced();
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  let v: Int32Array<ArrayBufferLike> = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return replaced();
  // Walk the trace back from (n, m) to (0, 0), collecting the moves in reverse.
  const reversed: DiffLine[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    v = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX + (down ? 0 : 1) && y > prevY + (down ? 1 : 0)) {
      reversed.push({ kind: 'context', text: a[x - 1]! });
      x--;
      y--;
    }
    if (down) {
      reversed.push({ kind: 'added', text: b[y - 1]! });
      y--;
    } else {
      reversed.push({ kind: 'removed', text: a[x - 1]! });
      x--;
    }
  }
  while (x > 0 && y > 0) {
    reversed.push({ kind: 'context', text: a[x - 1]! });
    x--;
    y--;
  }
  return reversed.reverse();
}

/** The hunks of a diff, each change with up to `context` unchanged lines around it. */
export function diffHunks(oldText: string, newText: string, context = 3): DiffHunk[] {
  const lines = diffLines(splitLines(oldText), splitLines(newText));
  const hunks: DiffHunk[] = [];
  const changed = lines.map((l, i) => (l.kind === 'context' ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return hunks;
  // Line numbers before each diff line, on both sides.
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 0;
  let nw = 0;
  for (const l of lines) {
    oldAt.push(o);
    newAt.push(nw);
    if (l.kind !== 'added') o++;
    if (l.kind !== 'removed') nw++;
  }
  let start = Math.max(0, changed[0]! - context);
  let end = Math.min(lines.length, changed[0]! + 1 + context);
  const close = (): void => {
    const slice = lines.slice(start, end);
    const oldLines = slice.filter((l) => l.kind !== 'added').length;
    const newLines = slice.filter((l) => l.kind !== 'removed').length;
    hunks.push({ oldStart: oldLines === 0 ? oldAt[start]! : oldAt[start]! + 1, oldLines, newStart: newLines === 0 ? newAt[start]! : newAt[start]! + 1, newLines, lines: slice });
  };
  for (const i of changed.slice(1)) {
    if (i - context <= end) end = Math.min(lines.length, i + 1 + context);
    else {
      close();
      start = i - context;
      end = Math.min(lines.length, i + 1 + context);
    }
  }
  close();
  return hunks;
}

const range = (start: number, count: number): string => (count === 1 ? `${start}` : `${start},${count}`);

/**
 * A unified diff of two texts (`--- old`, `+++ new`, `@@` hunks), or '' when they are equal.
 * A missing side (a file added or removed) is passed as undefined and printed as /dev/null.
 */
export function unifiedDiff(oldText: string | undefined, newText: string | undefined, labels: { old: string; new: string }, context = 3): string {
  const hunks = diffHunks(oldText ?? '', newText ?? '', context);
  if (hunks.length === 0) return '';
  const out = [`--- ${oldText === undefined ? '/dev/null' : labels.old}`, `+++ ${newText === undefined ? '/dev/null' : labels.new}`];
  for (const h of hunks) {
    out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`);
    for (const l of h.lines) out.push(`${l.kind === 'context' ? ' ' : l.kind === 'removed' ? '-' : '+'}${l.text}`);
  }
  return `${out.join('\n')}\n`;
}
