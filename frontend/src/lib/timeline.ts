// The migration's timeline, derived from its status and audit trail: the
// phases it passes through, when each started and ended, and what went
// wrong. Pure: the customer and ops pages render it.

import { between } from './format';
import type { AuditEvent, Migration, MigrationFile, Status } from './types';

export type PhaseState = 'done' | 'current' | 'waiting' | 'failed' | 'blocked' | 'pending';

export interface PhaseNote {
  at: string;
  action: string;
  text: string;
  problem: boolean;
}

export interface Phase {
  key: string;
  label: string;
  /** Who acts in this phase, for the customer: "you", "your coordinator", or the service. */
  actor: 'you' | 'coordinator' | 'service';
  state: PhaseState;
  startedAt?: string;
  endedAt?: string;
  /** Milliseconds from start to end (or to now while current). */
  durationMs?: number;
  notes: PhaseNote[];
}

interface PhaseDef {
  key: string;
  label: string;
  actor: Phase['actor'];
  starts: string[];
  statuses: Status[];
}

const PHASES: PhaseDef[] = [
  {
    key: 'prepare',
    label: 'Checklist, test extract and mapping',
    actor: 'you',
    starts: ['migration.created', 'signoff.rejected'],
    statuses: ['created', 'awaiting_revision'],
  },
  { key: 'mapping', label: 'Mapping the files', actor: 'service', starts: ['round.submitted'], statuses: ['submitted', 'mapping'] },
  { key: 'test', label: 'Test migration', actor: 'service', starts: ['step.test_migrating'], statuses: ['test_migrating'] },
  { key: 'review', label: 'Workbook review', actor: 'you', starts: ['await.review'], statuses: ['awaiting_review', 'signoff_expired'] },
  { key: 'signoff', label: 'Sign-off', actor: 'coordinator', starts: ['signoff.asked'], statuses: ['signoff_requested', 'awaiting_signoff'] },
  { key: 'final_extract', label: 'Final extract and go-live time', actor: 'you', starts: ['signoff.approved', 'await.final'], statuses: ['awaiting_final'] },
  { key: 'scheduled', label: 'Waiting for go-live', actor: 'service', starts: ['final.scheduled'], statuses: ['scheduled', 'final_held'] },
  { key: 'final', label: 'Final migration', actor: 'service', starts: ['step.final_migrating'], statuses: ['final_migrating', 'final_blocked'] },
  { key: 'live', label: 'Live', actor: 'service', starts: ['migration.live'], statuses: ['live'] },
];

/** Audit actions worth showing under the phase they happened in. */
const NOTE_TEXT: Record<string, (detail: string) => string> = {
  'round.submitted': (d) => `Submitted (${d}).`,
  'round.rerun': (d) => `Run again: ${d}.`,
  'mapping.built': (d) => `Mapping ${d}.`,
  'test.migrated': (d) => `Test migration: ${d}.`,
  'signoff.requested': () => 'Link emailed to the coordinator.',
  'signoff.reminded': (d) => `Coordinator reminded: ${d}.`,
  'await.expired': () => 'The coordinator did not decide in time; the request expired.',
  'signoff.approved': (d) => `Approved${commentOf(d) ? `: “${commentOf(d)}”` : '.'}`,
  'signoff.rejected': (d) => `Rejected${commentOf(d) ? `: “${commentOf(d)}”` : '.'}`,
  'final.scheduled': (d) => `Scheduled: ${d}.`,
  'final.planned': (d) => `Planned: ${d}.`,
  'final.blocked': (d) => `Part of the final migration failed: ${d}`,
  'final.retry': () => 'The failed parts were started again.',
  'final.migrated': (d) => `Final migration: ${d}.`,
  'final.matched': (d) => `Final files matched: ${d}.`,
  'preflight.passed': (d) => `Checked against the signed-off test: ${d}.`,
  'golive.held': (d) => `Go-live on hold: ${d}`,
  'golive.withdrawn': () => 'The final extract was withdrawn for a corrected one; nothing was written to live.',
  'golive.reapproved': (d) => `The coordinator approved the differences${d ? `: ${d.replace(/[.!?]+$/, '')}` : ''}.`,
  'golive.refused': (d) => `The coordinator refused the differences${d ? `: ${d}` : ''}; upload a corrected extract.`,
  'step.error': (d) => `A step failed: ${d}`,
  // Also written by the reconcile sweep, when the execution behind a
  // migration died: its detail names the execution and how it ended.
  'migration.failed': (d) => `Stopped: ${d}`,
  // Ops started a failed migration again: from a step (the detail says
  // which), or the whole round; and when starting it again failed.
  'migration.resumed': (d) => `Resumed by our team: ${d}.`,
  'round.retried': (d) => `Started again by our team: ${d}.`,
  'round.retry_failed': (d) => `Starting it again failed: ${d}.`,
  'handover.undone': (d) => `The test migration could not be started: ${d}.`,
  'invite.reissued': (d) => `A new invite link was sent (${d}).`,
  'file.removed': (d) => `File removed: ${d}.`,
  'file.refused': (d) => `File refused: ${d}.`,
  'workbook.marked': (d) => `Workbook marked: ${d}.`,
  'retention.deferred': (d) => `Test records kept longer: ${d}.`,
};

const PROBLEMS = new Set([
  'step.error',
  'migration.failed',
  'final.blocked',
  'golive.held',
  'golive.refused',
  'await.expired',
  'signoff.rejected',
  'round.retry_failed',
  'handover.undone',
  'file.refused',
  'retention.deferred',
]);

/** The timeline's sentence for an audit event, or undefined for an action the timeline does not show. */
export function noteText(action: string, detail: string): string | undefined {
  return NOTE_TEXT[action]?.(detail);
}

/**
 * A short label in words for every audit action, for the audit trail in
 * the ops console (which lists every event, not only the timeline's). An
 * action without one shows as itself: test/audit-labels.test.ts checks that
 * each action the Go code emits has one.
 */
const ACTION_LABELS: Record<string, string> = {
  'migration.created': 'Migration created',
  'checklist.updated': 'Record counts changed',
  'spotchecks.updated': 'Spot-check records named',
  'file.uploaded': 'File uploaded',
  'file.refused': 'File refused',
  'file.removed': 'File removed',
  'mapping.edited': 'Mapping edited',
  'round.submitted': 'Test migration submitted',
  'round.rerun': 'Test migration run again',
  'handover.undone': 'Submission undone',
  'step.mapping': 'Mapping the files',
  'mapping.built': 'Mapping built',
  'step.test_migrating': 'Test migration started',
  'test.migrated': 'Test migration done',
  'await.review': 'Waiting for the workbook review',
  'workbook.marked': 'Workbook marked',
  'signoff.asked': 'Sign-off asked for',
  'signoff.requested': 'Sign-off link emailed',
  'signoff.reminded': 'Coordinator reminded',
  'await.expired': 'Sign-off request expired',
  'signoff.approved': 'Signed off',
  'signoff.rejected': 'Sign-off rejected',
  'await.revision': 'Waiting for a revision',
  'await.final': 'Waiting for the final extract',
  'final.scheduled': 'Final migration scheduled',
  'step.final_migrating': 'Final migration started',
  'final.planned': 'Final migration planned',
  'final.blocked': 'Final migration blocked',
  'await.chunks': 'Waiting for a retry of failed parts',
  'final.retry': 'Failed parts started again',
  'final.migrated': 'Final migration done',
  'final.matched': 'Final files matched to the signed-off files',
  'preflight.passed': 'Pre-flight passed',
  'golive.held': 'Go-live held by the pre-flight',
  'golive.withdrawn': 'Final extract withdrawn',
  'golive.reapproved': 'Differences re-approved',
  'golive.refused': 'Differences refused',
  'await.reapproval': 'Waiting for the coordinator’s re-approval',
  'migration.live': 'Live',
  'retention.deferred': 'Test records kept longer',
  'step.error': 'A step failed',
  'migration.failed': 'Migration stopped',
  'migration.resumed': 'Resumed from a step',
  'round.retried': 'Round started again',
  'round.retry_failed': 'Starting again failed',
  'invite.reissued': 'Invite link re-issued',
};

/** The label in words for an audit action; the action itself when it has none. */
export function actionLabel(action: string): string {
  return ACTION_LABELS[action] ?? action;
}

/** The coordinator's comment in a sign-off audit detail ("round 1, mapping ... (seed 42): the comment"). */
export function commentOf(detail: string | undefined): string {
  if (!detail) return '';
  const m = /\)(?:, workbook of round \d+ \(seed \d+\))?: ([\s\S]+)$/.exec(detail);
  return m?.[1]?.trim() ?? '';
}

function phaseIndexOf(status: Status): number {
  return PHASES.findIndex((p) => p.statuses.includes(status));
}

/** The phase a status is in, with who it waits for: "Workbook review (waiting for the customer)". */
export function currentStep(status: Status): string {
  const p = PHASES[phaseIndexOf(status)];
  if (!p) return status === 'failed' ? 'Stopped' : status;
  if (status === 'live') return 'Live';
  if (status === 'final_blocked') return `${p.label} (failed chunks wait for a retry)`;
  if (status === 'final_held') return `${p.label} (held: waiting for the coordinator’s re-approval or a corrected extract)`;
  const who = p.actor === 'you' ? 'waiting for the customer' : p.actor === 'coordinator' ? 'waiting for the coordinator' : 'running';
  return `${p.label} (${status === 'scheduled' ? 'waiting for the go-live time' : who})`;
}

/**
 * The phases of a migration. A phase's start is the latest audit event
 * that starts it, provided it is not earlier than the phase before it
 * (an earlier one belongs to a previous round and is ignored).
 */
/**
 * The text with each of the migration's file ids (an audit detail names a
 * signed-off mapping entry by its test file's id) replaced by the file's
 * name, which is what the customer and ops know the file by.
 */
export function withFileNames(text: string, files: Array<Pick<MigrationFile, 'id' | 'name'>> | null | undefined): string {
  let out = text;
  for (const f of files ?? []) if (f.id && f.name) out = out.split(f.id).join(f.name);
  return out;
}

export function buildTimeline(m: Pick<Migration, 'status' | 'failure' | 'createdAt'> & Partial<Pick<Migration, 'files'>>, audit: AuditEvent[] | null, now: Date = new Date()): Phase[] {
  const events = [...(audit ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const lastOf = (actions: string[]): AuditEvent | undefined => {
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (e && actions.includes(e.action)) return e;
    }
    return undefined;
  };

  let current = phaseIndexOf(m.status);
  if (m.status === 'failed') current = -1;

  const starts: Array<string | undefined> = [];
  let floor = -Infinity;
  for (const [i, def] of PHASES.entries()) {
    const e = lastOf(def.starts);
    let at = e && Date.parse(e.at) >= floor ? e.at : undefined;
    if (i === 0 && !at) at = m.createdAt;
    starts.push(at);
    if (at) floor = Date.parse(at);
    else floor = Infinity; // later phases cannot have started in this round
  }

  if (m.status === 'failed') {
    // The phase that was running: the last one that started.
    for (let i = starts.length - 1; i >= 0; i--) {
      if (starts[i]) {
        current = i;
        break;
      }
    }
  }

  const nowIso = now.toISOString();
  return PHASES.map((def, i): Phase => {
    const startedAt = i <= current ? starts[i] : undefined;
    let state: PhaseState = 'pending';
    if (i < current) state = 'done';
    else if (i === current) {
      if (m.status === 'failed') state = 'failed';
      else if (m.status === 'final_blocked') state = 'blocked';
      else if (def.key === 'live') state = 'done';
      else state = def.actor === 'service' ? 'current' : 'waiting';
    }
    const next = starts.slice(i + 1, current + 1).find(Boolean);
    const endedAt = state === 'done' ? (def.key === 'live' ? startedAt : next) : undefined;
    const until = endedAt ?? (state === 'pending' ? undefined : m.status === 'failed' ? m.failure?.at || lastEventAt(events) : nowIso);
    const durationMs = startedAt && until && def.key !== 'live' ? between(startedAt, until) : undefined;
    const windowEnd = endedAt ? Date.parse(endedAt) : Infinity;
    const notes =
      startedAt === undefined
        ? []
        : events
            .filter((e) => NOTE_TEXT[e.action] && Date.parse(e.at) >= Date.parse(startedAt) && Date.parse(e.at) < windowEnd)
            .map((e) => ({
              at: e.at,
              action: e.action,
              text: withFileNames((NOTE_TEXT[e.action] ?? ((d: string) => d))(e.detail ?? ''), m.files),
              problem: PROBLEMS.has(e.action),
            }));
    if (state === 'failed' && m.failure?.reason && !notes.some((n) => n.action === 'migration.failed')) {
      notes.push({ at: m.failure.at ?? '', action: 'migration.failed', text: `Stopped: ${m.failure.reason}`, problem: true });
    }
    return {
      key: def.key,
      label: def.label,
      actor: def.actor,
      state,
      ...(startedAt ? { startedAt } : {}),
      ...(endedAt ? { endedAt } : {}),
      ...(durationMs !== undefined && Number.isFinite(durationMs) ? { durationMs } : {}),
      notes,
    };
  });
}

function lastEventAt(events: AuditEvent[]): string | undefined {
  return events[events.length - 1]?.at;
}
