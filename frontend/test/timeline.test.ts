// The timeline derived from status and audit trail.

import { describe, expect, it } from 'vitest';
import { buildTimeline, commentOf, currentStep } from '../src/lib/timeline';
import type { AuditEvent, Migration } from '../src/lib/types';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 9, 0, s)).toISOString();
const ev = (s: number, action: string, detail = ''): AuditEvent => ({ at: at(s), actor: 'system', action, detail });
const base = (status: Migration['status'], extra: Partial<Migration> = {}) => ({ status, createdAt: at(0), ...extra });

const ROUND1 = [
  ev(0, 'migration.created'),
  ev(10, 'round.submitted', 'round 1'),
  ev(11, 'step.mapping'),
  ev(12, 'mapping.built', 'version 1 from the preset'),
  ev(14, 'step.test_migrating'),
  ev(20, 'test.migrated', 'read 5, migrated 5'),
  ev(21, 'await.review'),
];

describe('buildTimeline', () => {
  it('marks phases done, current and pending with start times and durations', () => {
    const phases = buildTimeline(base('awaiting_review'), ROUND1, new Date(at(51)));
    expect(phases.map((p) => [p.key, p.state])).toEqual([
      ['prepare', 'done'],
      ['mapping', 'done'],
      ['test', 'done'],
      ['review', 'waiting'],
      ['signoff', 'pending'],
      ['final_extract', 'pending'],
      ['scheduled', 'pending'],
      ['final', 'pending'],
      ['live', 'pending'],
    ]);
    const [prepare, mapping, test, review] = phases;
    expect(prepare?.durationMs).toBe(10_000);
    expect(mapping?.durationMs).toBe(4_000); // submitted at 10 s, test migration from 14 s
    expect(test?.notes.map((n) => n.text)).toEqual(['Test migration: read 5, migrated 5.']);
    expect(review?.durationMs).toBe(30_000); // waiting since 21 s, now 51 s
  });

  it('starts over after a rejection: the earlier round’s later phases are pending again', () => {
    const audit = [
      ...ROUND1,
      ev(30, 'signoff.asked'),
      ev(40, 'signoff.rejected', 'round 1, mapping version 1 (sha256:abc), workbook of round 1 (seed 7): Phone numbers are wrong'),
      ev(41, 'await.revision'),
    ];
    const phases = buildTimeline(base('awaiting_revision'), audit, new Date(at(60)));
    expect(phases[0]).toMatchObject({ key: 'prepare', state: 'waiting', startedAt: at(40), durationMs: 20_000 });
    expect(phases[0]?.notes.map((n) => n.text)).toEqual(['Rejected: “Phone numbers are wrong”']);
    expect(phases.slice(1).every((p) => p.state === 'pending' && !p.startedAt)).toBe(true);
  });

  it('shows where a failed migration stopped, and why', () => {
    const audit = [...ROUND1.slice(0, 5), ev(16, 'step.error', 'TestMigrate: the table is gone'), ev(17, 'migration.failed', 'TestMigrate: the table is gone')];
    const phases = buildTimeline(base('failed', { failure: { step: 'TestMigrate', reason: 'the table is gone', at: at(17) } }), audit);
    const test = phases.find((p) => p.key === 'test');
    expect(test?.state).toBe('failed');
    expect(test?.durationMs).toBe(3_000);
    expect(test?.notes.filter((n) => n.problem).map((n) => n.text)).toEqual(['A step failed: TestMigrate: the table is gone', 'Stopped: TestMigrate: the table is gone']);
    expect(phases.find((p) => p.key === 'review')?.state).toBe('pending');
  });

  it('names the signed-off files a final file was matched to by their names, not their ids', () => {
    const files = [
      { id: 'f-321479823e4f551c634a', name: 'contacts.csv', size: 1, purpose: 'test' as const, round: 1, complete: true, startedAt: at(1) },
      { id: 'f-c0d22b4b1ebb145cb058', name: 'properties.csv', size: 1, purpose: 'test' as const, round: 1, complete: true, startedAt: at(1) },
    ];
    const phases = buildTimeline(base('final_held', { files }), [
      ...ROUND1,
      ev(50, 'final.scheduled', 'go-live 2026-01-01T10:00:00Z; 2 final file(s)'),
      ev(50, 'final.matched', 'contacts-final.csv -> f-321479823e4f551c634a (contact, confirmed); properties-final.csv -> f-c0d22b4b1ebb145cb058 (property, confirmed)'),
    ], new Date(at(55)));
    const notes = phases.flatMap((p) => p.notes.map((n) => n.text)).filter((t) => t.startsWith('Final files matched'));
    expect(notes).toEqual(['Final files matched: contacts-final.csv -> contacts.csv (contact, confirmed); properties-final.csv -> properties.csv (property, confirmed).']);
  });

  it('ends the re-approval note with one full stop when the comment has its own', () => {
    const phases = buildTimeline(base('scheduled'), [...ROUND1, ev(50, 'final.scheduled', 'go-live'), ev(52, 'golive.reapproved', 'round 1, 2 differences: Approved.')], new Date(at(55)));
    const notes = phases.flatMap((p) => p.notes.map((n) => n.text)).filter((t) => t.startsWith('The coordinator approved'));
    expect(notes).toEqual(['The coordinator approved the differences: round 1, 2 differences: Approved.']);
  });

  it('marks a blocked final migration and a live one', () => {
    const blocked = buildTimeline(base('final_blocked'), [...ROUND1, ev(60, 'step.final_migrating'), ev(70, 'final.blocked', 'chunk 2 failed')]);
    expect(blocked.find((p) => p.key === 'final')?.state).toBe('blocked');
    const live = buildTimeline(base('live'), [...ROUND1, ev(60, 'step.final_migrating'), ev(70, 'migration.live')]);
    expect(live.every((p) => p.state === 'done')).toBe(true);
  });

  it('reads the coordinator’s comment and names the current step', () => {
    expect(commentOf('round 2, mapping version 3 (sha256:0123456789abcdef012), workbook of round 2 (seed 42): Looks good: go')).toBe('Looks good: go');
    expect(commentOf('round 2, mapping version 3 (sha256:0123)')).toBe('');
    expect(currentStep('awaiting_review')).toBe('Workbook review (waiting for the customer)');
    expect(currentStep('final_blocked')).toBe('Final migration (failed chunks wait for a retry)');
  });
});
