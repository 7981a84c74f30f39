import type { Org } from '../org/org.ts';
import { formatDate, formatDatetime } from '../org/values.ts';
import { Random } from './random.ts';
import { Shape } from './shape.ts';
import type { SystemValues } from './shape.ts';

export const DAY_MS = 86_400_000;
/** How far back the seeded history reaches before the org's start time. */
export const HISTORY_DAYS = 730;

/** The users every profile has, by role; IDs do not depend on the seed (see base.ts). */
export interface SeedUsers {
  apiUserId: string;
  adminIds: string[];
  salesIds: string[];
  supportIds: string[];
  marketingIds: string[];
  /** Former employees: they own old records but can no longer be assigned new ones. */
  inactive: { id: string; deactivatedMs: number; team: 'sales' | 'support' }[];
  /** Every user, active or not. */
  allIds: string[];
}

/**
 * What the seeders share: the org, the seeded generator, the time frame and the users. Times are
 * epoch milliseconds relative to the org's start time (`nowMs`); with the same seed and start time
 * every timestamp comes out the same.
 *
 * `modified()` and `systemStamp()` leave their results in fields rather than returning objects:
 * the bench profile calls them a million times.
 */
export class SeedContext {
  readonly org: Org;
  readonly rng: Random;
  readonly nowMs: number;
  /** The seeded history runs from `startMs` to `endMs`, just before the org's start time. */
  readonly startMs: number;
  readonly endMs: number;
  users!: SeedUsers;
  /** Result of `modified()`: the last user edit, and whether a bulk update made it. */
  modMs = 0;
  modBulk = false;
  /** Moments at which a data load updated many records in the same millisecond. */
  readonly bulkMoments: number[];
  /** Moments at which a system process (sharing recalculation) touched SystemModstamp only. */
  readonly systemMoments: number[];
  /** Records loaded so far, base records included. */
  loaded = 0;
  private readonly shapes = new Map<string, Shape | null>();
  private readonly dates = new Map<number, string>();
  private readonly dayCodes = new Map<number, Uint16Array>();
  private readonly system: SystemValues = { created: '', createdById: '', modified: '', modifiedById: '', systemModstamp: '', ownerId: null };

  constructor(org: Org, seed: string | number, nowMs: number) {
    this.org = org;
    this.rng = new Random(seed);
    this.nowMs = nowMs;
    this.startMs = nowMs - HISTORY_DAYS * DAY_MS;
    this.endMs = nowMs - 10 * 60_000;
    const moments = (n: number): number[] => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(this.startMs + Math.floor(((i + 0.2 + 0.6 * this.rng.next()) / n) * (this.endMs - this.startMs)));
      return out;
    };
    this.bulkMoments = moments(36);
    this.systemMoments = moments(6);
  }

  /**
   * Canonical datetime text, as formatDatetime writes it but three times faster: the bench
   * profile formats millions of timestamps. The date part is cached per day.
   */
  formatMs(ms: number): string {
    const day = Math.floor(ms / DAY_MS);
    if (ms < 0 || day > 2_900_000) return formatDatetime(ms);
    let d = this.dayCodes.get(day);
    if (d === undefined) {
      d = Uint16Array.from(formatDate(ms), (c) => c.charCodeAt(0));
      this.dayCodes.set(day, d);
    }
    let rest = ms - day * DAY_MS;
    const milli = rest % 1000;
    rest = (rest - milli) / 1000;
    const s = rest % 60;
    rest = (rest - s) / 60;
    const m = rest % 60;
    const h = (rest - m) / 60;
    // One flat string from char codes: concatenation would leave a rope per timestamp.
    return String.fromCharCode(
      d[0]!, d[1]!, d[2]!, d[3]!, d[4]!, d[5]!, d[6]!, d[7]!, d[8]!, d[9]!, 84,
      48 + Math.floor(h / 10), 48 + (h % 10), 58, 48 + Math.floor(m / 10), 48 + (m % 10), 58,
      48 + Math.floor(s / 10), 48 + (s % 10), 46,
      48 + Math.floor(milli / 100), 48 + (Math.floor(milli / 10) % 10), 48 + (milli % 10), 43, 48, 48, 48, 48,
    );
  }

  /** Canonical date text; cached per day, since a million records share a few hundred days. */
  date(ms: number): string {
    const day = Math.floor(ms / DAY_MS);
    let text = this.dates.get(day);
    if (text === undefined) {
      text = formatDate(ms);
      this.dates.set(day, text);
    }
    return text;
  }

  /** The object's shape, or undefined when the catalog has no such object. */
  shape(objectName: string): Shape | undefined {
    let shape = this.shapes.get(objectName);
    if (shape === undefined) {
      const object = this.org.schema.object(objectName);
      shape = object ? new Shape(object) : null;
      this.shapes.set(objectName, shape);
    }
    return shape ?? undefined;
  }

  /**
   * The creation time of the record at `fraction` (0..1) of an object's history. Business grows:
   * the curve puts more records in recent months than in early ones.
   */
  timeAt(fraction: number): number {
    return this.startMs + Math.floor(Math.pow(fraction, 0.8) * (this.endMs - this.startMs));
  }

  /** Sets `modMs`/`modBulk`: when a record created at `createdMs` was last edited by a user. */
  modified(createdMs: number, editedShare = 0.6): void {
    const r = this.rng.next();
    this.modBulk = false;
    if (r >= editedShare) {
      this.modMs = createdMs;
      return;
    }
    if (r < 0.08) {
      const moment = this.momentAfter(this.bulkMoments, createdMs);
      if (moment !== undefined) {
        this.modMs = moment;
        this.modBulk = true;
        return;
      }
    }
    // Edits cluster soon after creation; some come much later.
    const u = this.rng.next();
    this.modMs = createdMs + Math.floor(u * u * u * (this.endMs - createdMs));
  }

  /** SystemModstamp for a record last edited at `modMs`: sometimes a later system touch. */
  systemStamp(modMs: number): number {
    if (this.rng.next() >= 0.06) return modMs;
    return this.momentAfter(this.systemMoments, modMs) ?? modMs;
  }

  /** A random moment of the list after `ms`, or undefined. */
  private momentAfter(moments: number[], ms: number): number | undefined {
    let first = 0;
    while (first < moments.length && moments[first]! <= ms) first++;
    if (first >= moments.length) return undefined;
    return moments[first + this.rng.int(moments.length - first)];
  }

  /** An owner among `ids`, or a former employee of the team for records from before they left. */
  owner(ids: string[], createdMs: number, team: 'sales' | 'support' = 'sales'): string {
    const former = this.users.inactive;
    if (former.length && this.rng.next() < 0.08) {
      const candidate = former[this.rng.int(former.length)]!;
      if (candidate.team === team && createdMs < candidate.deactivatedMs) return candidate.id;
    }
    return ids[this.rng.int(ids.length)]!;
  }

  /** Whether a user could still act at `ms` (inactive users could before they left). */
  activeAt(userId: string, ms: number): boolean {
    const former = this.users.inactive.find((u) => u.id === userId);
    return !former || ms < former.deactivatedMs;
  }

  /**
   * Loads one record with its history: created by `createdById` at `createdMs`, last edited at
   * `this.modMs` (call `modified()` first), SystemModstamp at `sysMs`.
   */
  load(
    shape: Shape,
    values: Record<string, unknown>,
    ownerId: string | null,
    createdById: string,
    createdMs: number,
    modifiedById: string,
    modMs: number,
    sysMs: number,
  ): string {
    const sys = this.system;
    sys.created = this.formatMs(createdMs);
    sys.modified = modMs === createdMs ? sys.created : this.formatMs(modMs);
    sys.systemModstamp = sysMs === modMs ? sys.modified : this.formatMs(sysMs);
    sys.createdById = createdById;
    sys.modifiedById = modifiedById;
    sys.ownerId = ownerId;
    const record = shape.make(values, sys);
    this.loaded++;
    return this.org.load(shape.name, record, { userId: createdById, stampMs: sysMs, createdMs }).Id;
  }
}
