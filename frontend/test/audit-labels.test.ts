// Every audit action the Go code emits has a plain-language label, and the
// actions added by issue 10 (resume, retry, re-issued invite, removed and
// refused files, review marks, deferred retention, the reconcile sweep's
// failure) read as sentences in the timeline. The list of actions is the
// hand-written fixture test/data/audit-actions.txt (from a grep of the Go
// code; see its header), not read from timeline.ts, so a missing label fails.

import { describe, expect, it } from 'vitest';
import { actionLabel, buildTimeline, noteText } from '../src/lib/timeline';
import type { AuditEvent } from '../src/lib/types';
import ACTION_LIST from './data/audit-actions.txt?raw';

const ACTIONS = ACTION_LIST
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 9, 0, s)).toISOString();
const ev = (s: number, action: string, detail = ''): AuditEvent => ({ at: at(s), actor: 'system', action, detail });

describe('audit action labels', () => {
  it('reads the fixture', () => {
    expect(ACTIONS.length).toBeGreaterThan(30);
    expect(ACTIONS).toContain('migration.resumed');
  });

  it.each(ACTIONS)('%s has a plain-language label', (action) => {
    const label = actionLabel(action);
    expect(label).not.toBe(action);
    expect(label).toMatch(/^[A-Z][^._]*[a-z.]$/); // a phrase in words, not a code
  });

  it('words the new actions as timeline notes', () => {
    expect(noteText('migration.resumed', 'round 1 resumed at TestMigrate after: the table is gone')).toBe(
      'Resumed by our team: round 1 resumed at TestMigrate after: the table is gone.',
    );
    expect(noteText('round.retried', 'round 2 started again after: timeout')).toBe('Started again by our team: round 2 started again after: timeout.');
    expect(noteText('round.retry_failed', 'the state machine is unavailable')).toBe('Starting it again failed: the state machine is unavailable.');
    expect(noteText('invite.reissued', 'invite 2; the previous link no longer opens the migration')).toBe(
      'A new invite link was sent (invite 2; the previous link no longer opens the migration).',
    );
    expect(noteText('file.removed', 'contacts.csv (test, round 1)')).toBe('File removed: contacts.csv (test, round 1).');
    expect(noteText('file.refused', 'scan.pdf (round 1): a PDF is not an export')).toBe('File refused: scan.pdf (round 1): a PDF is not an export.');
    expect(noteText('workbook.marked', 'round 1, 2 marks: reconciliation reviewed')).toBe('Workbook marked: round 1, 2 marks: reconciliation reviewed.');
    expect(noteText('retention.deferred', 'the TEST records could not be given their go-live expiry')).toBe(
      'Test records kept longer: the TEST records could not be given their go-live expiry.',
    );
    expect(noteText('migration.failed', 'execution run-1 TIMED_OUT: the run stopped')).toBe('Stopped: execution run-1 TIMED_OUT: the run stopped');
    expect(noteText('no.such_action', 'x')).toBeUndefined();
  });

  it('shows a resumed migration and a refused file in the timeline', () => {
    const audit = [
      ev(0, 'migration.created'),
      ev(5, 'file.refused', 'scan.pdf (round 1): a PDF is not an export'),
      ev(6, 'file.removed', 'scan.pdf (test, round 1)'),
      ev(10, 'round.submitted', 'round 1'),
      ev(11, 'step.mapping'),
      ev(14, 'step.test_migrating'),
      ev(16, 'migration.failed', 'execution run-1 FAILED: boom'),
      ev(30, 'migration.resumed', 'round 1 resumed at TestMigrate after: boom'),
    ];
    const phases = buildTimeline({ status: 'test_migrating', createdAt: at(0) }, audit, new Date(at(40)));
    const prepare = phases.find((p) => p.key === 'prepare');
    expect(prepare?.notes.map((n) => [n.text, n.problem])).toEqual([
      ['File refused: scan.pdf (round 1): a PDF is not an export.', true],
      ['File removed: scan.pdf (test, round 1).', false],
    ]);
    const test = phases.find((p) => p.key === 'test');
    expect(test?.notes.map((n) => n.text)).toEqual(['Stopped: execution run-1 FAILED: boom', 'Resumed by our team: round 1 resumed at TestMigrate after: boom.']);
  });
});
