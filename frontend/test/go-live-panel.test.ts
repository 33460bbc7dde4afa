// What the go-live panel and the pre-flight preview say, as the README's
// screenshots of a held go-live showed them: a held go-live must not read
// as started, and the preview speaks in words, not engine codes.

import { describe, expect, it } from 'vitest';
import { goLiveLine, goLiveTitle } from '../src/customer/go-live';
import { renderPreflight, type PreflightReport } from '../src/customer/preflight-view';

describe('the go-live panel by status', () => {
  const now = new Date('2026-12-03T10:00:00Z');
  const goLiveAt = '2026-12-03T10:05:00Z';

  it('a held go-live has not started and says what it waits for', () => {
    const m = { status: 'final_held' as const, goLiveAt };
    expect(goLiveTitle(m)).toBe('Go-live is on hold');
    const line = goLiveLine(m, now);
    expect(line).not.toMatch(/started/);
    expect(line).toMatch(/^Go-live was set for .*It waits until the differences below are approved or the extract is corrected\.$/);
  });

  it('a scheduled go-live counts down; a running one says when it started', () => {
    expect(goLiveTitle({ status: 'scheduled' })).toBe('Final migration scheduled');
    expect(goLiveLine({ status: 'scheduled', goLiveAt }, now)).toMatch(/^Go-live: .* \(in 5 min\)\.$/);
    expect(goLiveTitle({ status: 'final_migrating' })).toBe('The final migration is running');
    expect(goLiveLine({ status: 'final_migrating', goLiveAt }, now)).toMatch(/^Go-live started /);
  });
});

describe('the pre-flight preview', () => {
  const report: PreflightReport = {
    phase: 'submitted',
    entities: [
      { entity: 'contact', testRows: 3, rows: 4, migrated: 4, testRejectPct: 0, rejectPct: 0, testWarnPct: 0, warnPct: 0, status: 'unexplained', added: 1, removed: 0, changed: 1 },
      { entity: 'property', testRows: 2, rows: 2, migrated: 2, testRejectPct: 0, rejectPct: 0, testWarnPct: 0, warnPct: 0, status: 'match', added: 0, removed: 0, changed: 0 },
    ],
    missing: [{ entry: 'properties.csv', file: 'properties-final.csv', column: 'Address 1', field: 'address_line1' }],
    fill: [{ entity: 'property', field: 'address_line1', testPct: 100, pct: 0, changed: 2 }],
    breaches: null,
  };

  it('names the reconciliation and the fields in words', () => {
    const el = renderPreflight(report);
    const perEntity = el.querySelector('[aria-label^="Per kind of record"]');
    const rows = [...(perEntity?.querySelectorAll('tbody tr') ?? [])].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(rows[0]?.[5]).toBe('Unexplained');
    expect(rows[1]?.[5]).toBe('Match');
    const missing = el.querySelector('[aria-label="Mapped columns missing from the final extract"] tbody tr');
    expect([...(missing?.children ?? [])].map((c) => c.textContent)).toEqual(['Address 1', 'address line1', 'properties-final.csv', 'properties.csv']);
    const fill = el.querySelector('[aria-label="Fields whose fill rate changes"] tbody tr th');
    expect(fill?.textContent).toBe('Properties: address line1');
  });
});
