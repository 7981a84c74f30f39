/**
 * Backup progress on stderr: a bar per running object on a terminal, redrawn in place; plain
 * lines (one when an object starts and one when it ends) when stderr is a file or a pipe, so logs
 * stay readable.
 */
import type { BackupEvent } from '../backup/index.ts';

const BAR = 24;
const REDRAW_MS = 150;

interface Active {
  name: string;
  api: string;
  records: number;
  expected: number | null;
}

export interface ProgressView {
  onEvent(event: BackupEvent): void;
  /** Clears the bars; lines already written stay. */
  close(): void;
}

export function backupProgress(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  return stream.isTTY ? new Bars(stream) : new Lines(stream);
}

const count = (n: number): string => n.toLocaleString('en-US');

class Lines implements ProgressView {
  /** Objects read this run; quiet ones (nothing new) finish without a line. */
  private readonly started = new Set<string>();
  constructor(private readonly stream: NodeJS.WritableStream) {}
  onEvent(event: BackupEvent): void {
    switch (event.type) {
      case 'run-started':
        this.stream.write(`Backup ${event.runId}: ${event.objects} object(s) to check\n`);
        return;
      case 'object-started':
        this.started.add(event.name);
        this.stream.write(`  ${event.name}: ${event.backfill ? 'backfilling' : 'capturing changes'} through ${event.api === 'bulk' ? 'Bulk API 2.0' : 'REST'}${event.expected !== null ? ` (${count(event.expected)} records in the org)` : ''}\n`);
        return;
      case 'object-finished':
        if (!this.started.has(event.name) && event.status === 'Waiting') return;
        this.stream.write(`  ${event.name}: ${event.status}, ${count(event.records)} records read, ${count(event.versions)} new versions${event.message ? ` (${event.message})` : ''}\n`);
        return;
      case 'notice':
        this.stream.write(`  ${event.message}\n`);
        return;
      default:
    }
  }
  close(): void {}
}

class Bars implements ProgressView {
  private readonly active = new Map<string, Active>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  onEvent(event: BackupEvent): void {
    switch (event.type) {
      case 'object-started':
        this.active.set(event.name, { name: event.name, api: event.api, records: 0, expected: event.expected });
        break;
      case 'object-progress': {
        const entry = this.active.get(event.name);
        if (entry) entry.records = event.records;
        break;
      }
      case 'object-finished':
        this.active.delete(event.name);
        if (event.records > 0 || event.status !== 'Waiting') this.print(`  ${event.name.padEnd(28)} ${event.status.padEnd(12)} ${count(event.records).padStart(10)} records ${count(event.versions).padStart(10)} new versions`);
        break;
      case 'run-started':
        this.print(`Backup ${event.runId}: ${event.objects} object(s) to check`);
        break;
      case 'notice':
        this.print(`  ${event.message}`);
        break;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.redraw();
    }, REDRAW_MS);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  /** A permanent line above the bars. */
  private print(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
    this.redraw();
  }

  private clear(): void {
    if (this.drawn === 0) return;
    this.stream.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    const width = this.stream.columns || 100;
    const lines = [...this.active.values()].map((a) => {
      const share = a.expected ? Math.min(1, a.records / a.expected) : null;
      const filled = share === null ? 0 : Math.round(share * BAR);
      const bar = share === null ? '·'.repeat(BAR) : `${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}`;
      const total = a.expected === null ? '' : ` / ${count(a.expected)}`;
      return `  ${a.name.padEnd(28)} ${bar} ${count(a.records)}${total} (${a.api})`.slice(0, width - 1);
    });
    if (lines.length) this.stream.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
