import type { Status } from './types';

/** Migration statuses as a customer reads them. */
export const STATUS_TEXT: Record<Status, string> = {
  created: 'Waiting for your test extract',
  submitted: 'Submitted for the test migration',
  mapping: 'Mapping your files',
  test_migrating: 'Running the test migration',
  awaiting_review: 'Test migration done: review the workbook',
  signoff_requested: 'Sign-off requested',
  awaiting_signoff: 'Waiting for your coordinator’s sign-off',
  signoff_expired: 'The sign-off request expired: request it again',
  awaiting_revision: 'Sign-off rejected: revise and submit again',
  awaiting_final: 'Signed off: waiting for the final extract and go-live time',
  scheduled: 'Final migration scheduled',
  final_migrating: 'Running the final migration',
  final_blocked: 'Final migration paused: part of it is being retried',
  final_held: 'Go-live on hold: the final extract differs from what was signed off',
  live: 'Live',
  failed: 'Failed',
};

export function statusText(status: string | undefined): string {
  if (!status) return 'Unknown';
  return (STATUS_TEXT as Record<string, string>)[status] ?? status.replace(/_/g, ' ');
}

/** A short tone for badges: the word is always shown too, colour only adds to it. */
export function statusTone(status: string): 'ok' | 'busy' | 'wait' | 'bad' {
  if (status === 'live') return 'ok';
  if (status === 'failed' || status === 'final_blocked' || status === 'final_held') return 'bad';
  if (['submitted', 'mapping', 'test_migrating', 'final_migrating', 'scheduled', 'signoff_requested'].includes(status)) return 'busy';
  return 'wait';
}

/** Review sections as a person reads them ("spot:3" → "Spot check 4"). */
export function sectionLabel(section: string): string {
  const m = /^spot:(\d+)$/.exec(section);
  if (m) return `Spot check ${Number(m[1]) + 1}`;
  const w = /^warn:(\d+)$/.exec(section);
  if (w) return `Warnings, group ${Number(w[1]) + 1}`;
  const names: Record<string, string> = {
    reconciliation: 'Reconciliation',
    spotChecks: 'Spot checks',
    issues: 'Issues and rejected rows',
    fillRates: 'Fill rates',
    unmapped: 'Columns that will not migrate',
  };
  return names[section] ?? section;
}

/** A reconciliation status in words. */
export function reconWord(status: string): string {
  return status === 'match' ? 'Match' : status === 'explained' ? 'Explained' : status === 'unexplained' ? 'Unexplained' : status;
}
