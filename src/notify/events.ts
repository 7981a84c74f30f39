/**
 * The events the backup and restore use cases raise, worded for the admin who reads them: what
 * happened, to which objects, with Salesforce's status code and its fix (src/core/status-codes.ts).
 * Pure: plain facts in, an event out. Messages are the run log's, which hold no field values.
 */
import type { NotificationEvent } from '../core/notifications.ts';
import { statusCodeHelp } from '../core/status-codes.ts';

interface About {
  orgName: string;
  orgId: string;
  runId: string;
  at: number;
}

export interface ObjectProblem {
  name: string;
  status: string;
  statusCode: string | null;
  message: string | null;
}

const MAX_LISTED = 25;
const short = (text: string | null, max = 300): string | null => (text === null ? null : text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export function jobFailedEvent(about: About, reason: string): NotificationEvent {
  return {
    kind: 'job-failed',
    ...about,
    title: `Backup job of ${about.orgName} failed`,
    summary: `The backup job ${about.runId} of ${about.orgName} failed: ${short(reason, 500)}\n\nNothing already stored was lost; the next job resumes where this one stopped. See \`orgvault logs ${about.runId}\` for the job log.`,
    details: { status: 'Failed', reason: short(reason, 500) },
  };
}

export function objectsInErrorEvent(about: About, objects: readonly ObjectProblem[]): NotificationEvent {
  const listed = objects.slice(0, MAX_LISTED).map((o) => {
    const help = o.statusCode ? statusCodeHelp(o.statusCode) : null;
    return { name: o.name, status: o.status, statusCode: o.statusCode, message: short(o.message), cause: help?.cause ?? null, fix: help?.fix ?? null };
  });
  const lines = listed.map((o) => `• ${o.name}: ${o.status}${o.statusCode ? ` ${o.statusCode}` : ''}${o.message ? `: ${o.message}` : ''}${o.fix ? `\n  Fix: ${o.fix}` : ''}`);
  const more = objects.length > listed.length ? [`…and ${objects.length - listed.length} more.`] : [];
  return {
    kind: 'objects-in-error',
    ...about,
    title: `${objects.length} object(s) of ${about.orgName} in error`,
    summary: [`The backup job ${about.runId} of ${about.orgName} completed with errors: ${objects.length} object(s) were not backed up.`, '', ...lines, ...more, '', `The other objects were backed up. Objects in error are tried again by the next job; see the "Objects with Errors" tab of \`orgvault logs ${about.runId}\`.`].join('\n'),
    details: { status: 'CompletedWithErrors', objectsInError: objects.length, objects: listed },
  };
}

export function orgBehindEvent(about: About, previous: string, objects: readonly ObjectProblem[], reason: string | null): NotificationEvent {
  const names = objects.map((o) => o.name);
  return {
    kind: 'org-behind',
    ...about,
    title: `${about.orgName} is Behind`,
    summary: [
      `${about.orgName} is now Behind (it was ${previous}): the backup job ${about.runId} could not bring ${names.length} object(s) up to date${reason ? `. ${short(reason, 500)}` : '.'}`,
      '',
      `Objects behind: ${names.slice(0, MAX_LISTED).join(', ')}${names.length > MAX_LISTED ? ` and ${names.length - MAX_LISTED} more` : ''}.`,
      '',
      'The next job continues where this one stopped. If the org stays behind, give orgvault a larger share of the daily API limit (`orgvault backup --api-budget`) or run jobs at quieter times.',
    ].join('\n'),
    details: { status: 'Behind', previous, objectsBehind: names.length, objects: names.slice(0, MAX_LISTED), reason: short(reason, 500) },
  };
}

export interface RestoreFacts {
  status: string;
  counts: Record<string, number>;
  /** The org written to, when it is not the backed-up one. */
  targetOrgName: string | null;
  /** Why a restore failed as a whole. */
  reason?: string;
}

export function restoreFinishedEvent(about: About, facts: RestoreFacts): NotificationEvent {
  const c = facts.counts;
  const n = (k: string): number => c[k] ?? 0;
  const into = facts.targetOrgName ? ` into ${facts.targetOrgName}` : '';
  const failed = facts.status === 'Failed';
  const title = failed ? `Restore of ${about.orgName}${into} failed` : `Restore of ${about.orgName}${into} finished${facts.status === 'CompletedWithErrors' ? ' with errors' : ''}`;
  const counts = `${n('Created')} created, ${n('Updated')} updated, ${n('Undeleted')} undeleted, ${n('Skipped')} skipped, ${n('Failed')} failed`;
  return {
    kind: 'restore-finished',
    ...about,
    title,
    summary: [
      failed ? `The restore job ${about.runId} of ${about.orgName}${into} stopped: ${short(facts.reason ?? 'unknown error', 500)}` : `The restore job ${about.runId} of ${about.orgName}${into} finished: ${facts.status}.`,
      '',
      `Records: ${counts}.`,
      '',
      failed ? `Resume it with \`orgvault restore --resume ${about.runId}\`: what it already wrote is not written twice.` : `See the records that failed and why in \`orgvault logs ${about.runId}\`.`,
    ].join('\n'),
    details: { status: facts.status, created: n('Created'), updated: n('Updated'), undeleted: n('Undeleted'), skipped: n('Skipped'), failed: n('Failed'), targetOrg: facts.targetOrgName, ...(failed ? { reason: short(facts.reason ?? null, 500) } : {}) },
  };
}
