/**
 * An org's schedule on the dashboard: a summary on the org's page (the rule, the next run, the
 * last run's outcome, the backup cycle and why the last baseline ran) and a form to change it,
 * for roles that may change settings. The scheduler in `orgvault serve` (or `orgvault scheduler`)
 * carries it out.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { UsageError } from '../../core/errors.ts';
import type { OrgRegistration } from '../../core/vault.ts';
import { clearSchedule, hostTimeZone, scheduleViews, setSchedule } from '../../schedule/index.ts';
import type { ScheduleInput, ScheduleView } from '../../schedule/index.ts';
import type { ServerApp } from '../app.ts';
import type { ServerDeps, ServerEnv } from '../context.ts';
import { badge, iso } from './layout.ts';
import type { Html } from './layout.ts';
import { csrfField, may, refuse, render } from './index.ts';
import type { PageContext } from './index.ts';

const KINDS = [
  ['none', 'No schedule (back up only when started)'],
  ['daily', 'Daily'],
  ['per-day', 'Several times a day'],
  ['continuous', 'Continuous (a scan at least hourly)'],
  ['cron', 'Cron expression'],
] as const;

/** The backup schedule of an org, for its tile and page; undefined without one. */
export async function backupScheduleOf(deps: ServerDeps, org: OrgRegistration): Promise<ScheduleView | undefined> {
  return (await scheduleViews(deps.store, org, (deps.now ?? Date.now)())).find((v) => v.job === 'backup');
}

/** The schedule panel of an org's page. */
export function scheduleSummary(org: OrgRegistration, view: ScheduleView | undefined, editable: boolean): Html {
  const link = html`<a href="/orgs/${encodeURIComponent(org.name)}/schedule">${editable ? 'Change the schedule' : 'Schedule'}</a>`;
  if (!view) return html`<p class="panel">Schedule: none, backups run only when started. ${link}</p>`;
  const last = view.lastRun;
  return html`<div class="panel" aria-label="Schedule">
    <p><b>Schedule:</b> ${view.description}${view.objects ? html` · objects ${view.objects.join(', ')}` : ''} · ${link}</p>
    <p><b>Next run:</b> ${iso(view.nextRun)} UTC · <b>Last scheduled run:</b> ${last ? html`${badge(last.status ?? 'Running')} ${iso(last.startedAt)}${last.runId ? html` (<a href="/runs/${last.runId}">log</a>)` : ''}` : 'none yet'}</p>
    ${view.cycle
      ? html`<p class="muted">Backup cycle: ${view.cycle.days} days${view.cycle.startedAt ? html`, next full baseline by ${iso(view.cycle.nextBaselineBy)}` : ''}.${view.cycle.lastBaseline ? html` Last baseline ${iso(view.cycle.lastBaseline.at)}: ${view.cycle.lastBaseline.reason}.` : ''}</p>`
      : ''}
  </div>`;
}

export function registerSchedulePages(app: ServerApp, { deps }: PageContext): void {
  app.get('/orgs/:name/schedule', async (c) => {
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    return render(c, `Schedule of ${org.name}`, schedulePage(c, org, await backupScheduleOf(deps, org), c.req.query('saved') === '1' ? 'Saved.' : undefined));
  });

  app.post('/orgs/:name/schedule', async (c) => {
    const refused = refuse(c, 'settings');
    if (refused) return refused;
    const org = await deps.store.getOrg(c.req.param('name'));
    if (!org) return render(c, 'Not found', html`<h1>No org named ${c.req.param('name')}</h1>`, 404);
    const form = await c.req.parseBody();
    const text = (k: string): string | undefined => (typeof form[k] === 'string' && (form[k] as string).trim() !== '' ? (form[k] as string).trim() : undefined);
    const number = (k: string): number | undefined => (text(k) === undefined ? undefined : Number(text(k)));
    const scheduleDeps = { store: deps.store, audit: deps.store, actor: c.get('caller')!.user.name, now: deps.now };
    try {
      const kind = text('kind') ?? 'none';
      if (kind === 'none') {
        await clearSchedule(scheduleDeps, org);
      } else {
        const input: ScheduleInput = {
          timeZone: text('timeZone'),
          cycleDays: number('cycleDays'),
          objects: text('objects')?.split(/[\s,]+/).filter(Boolean),
          ...(kind === 'daily' ? { daily: text('time') ?? '' } : {}),
          ...(kind === 'per-day' ? { perDay: number('perDay') ?? Number.NaN, start: text('time') } : {}),
          ...(kind === 'continuous' ? { continuous: true, every: number('every') } : {}),
          ...(kind === 'cron' ? { cron: text('cron') ?? '' } : {}),
        };
        if (!KINDS.some(([k]) => k === kind)) throw new UsageError(`"${kind}" is not a kind of schedule.`);
        await setSchedule(scheduleDeps, org, input);
      }
      return c.redirect(`/orgs/${encodeURIComponent(org.name)}/schedule?saved=1`, 303);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      return render(c, `Schedule of ${org.name}`, schedulePage(c, org, await backupScheduleOf(deps, org), undefined, error.message), 400);
    }
  });
}

function schedulePage(c: Context<ServerEnv>, org: OrgRegistration, view: ScheduleView | undefined, saved?: string, error?: string): Html {
  const editable = may(c, 'settings');
  const disabled = editable ? '' : 'disabled';
  const rule = view?.rule;
  const kind = rule?.kind ?? 'none';
  const time = rule?.kind === 'daily' ? rule.minute : rule?.kind === 'per-day' ? rule.startMinute : undefined;
  const hhmm = time === undefined ? '' : `${String(Math.floor(time / 60)).padStart(2, '0')}:${String(time % 60).padStart(2, '0')}`;
  return html`<h1>Schedule of ${org.name}</h1>
    ${saved ? html`<p class="banner good" role="status">${saved}</p>` : ''}
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    ${scheduleSummary(org, view, false)}
    ${editable ? '' : html`<p class="muted">Only administrators change the schedule.</p>`}
    <form method="post" action="/orgs/${encodeURIComponent(org.name)}/schedule" class="panel">
      ${csrfField(c)}
      <label for="kind">When backups run</label>
      <select id="kind" name="kind" ${disabled}>${KINDS.map(([k, label]) => html`<option value="${k}" ${k === kind ? 'selected' : ''}>${label}</option>`)}</select>
      <div class="grid2">
        <div><label for="time">Time of day (daily), or first job of the day (several a day), HH:MM</label><input id="time" name="time" value="${hhmm}" placeholder="02:00" ${disabled} /></div>
        <div><label for="perDay">Jobs a day (several a day), 1 to 48</label><input id="perDay" name="perDay" type="number" min="1" max="48" value="${rule?.kind === 'per-day' ? rule.times : ''}" ${disabled} /></div>
        <div><label for="every">Minutes between scans (continuous), 5 to 60</label><input id="every" name="every" type="number" min="5" max="60" value="${rule?.kind === 'continuous' ? rule.everyMinutes : ''}" placeholder="60" ${disabled} /></div>
        <div><label for="cron">Cron expression (minute hour day month weekday)</label><input id="cron" name="cron" value="${rule?.kind === 'cron' ? rule.expression : ''}" placeholder="0 2 * * 1-5" ${disabled} /></div>
        <div><label for="timeZone">Time zone (IANA name)</label><input id="timeZone" name="timeZone" value="${view?.timeZone ?? hostTimeZone()}" ${disabled} /></div>
        <div><label for="cycleDays">Backup cycle in days (a fresh full baseline after it)</label><input id="cycleDays" name="cycleDays" type="number" min="1" max="3650" value="${view?.cycle?.days ?? 365}" ${disabled} /></div>
      </div>
      <label for="objects">Only these objects (API names; empty: all)</label>
      <input id="objects" name="objects" value="${view?.objects?.join(', ') ?? ''}" placeholder="Account, Contact" ${disabled} />
      <p class="muted">A job due while the previous one still runs is skipped and logged as skipped. A job missed while orgvault was stopped runs once when it starts again.</p>
      ${editable ? html`<p><button type="submit">Save</button></p>` : ''}
    </form>`;
}
