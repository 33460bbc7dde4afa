// The final report's follow-up list names the mapped columns the final
// extract lacked (gone live on the coordinator's re-approval): those
// fields are empty in LIVE, so "every column was migrated" would be false.

import { afterEach, describe, expect, it } from 'vitest';
import { renderFinalReport } from '../src/customer/report-view';
import type { FinalReport } from '../src/lib/types';

afterEach(() => document.body.replaceChildren());

function report(extra: Partial<FinalReport>): FinalReport {
  return {
    migrationId: 'm-1',
    counts: { read: 3, migrated: 3, merged: 0, rejected: 0, skipped: 0, orphans: 0 },
    chunks: 1,
    workbook: { round: 1, mappingVersion: 1, reconciliation: [], spotChecks: [], issues: null, fillRates: [], unmapped: [] },
    delta: { entities: [] },
    ...extra,
  } as FinalReport;
}

describe('final report', () => {
  it('lists the mapped columns the final extract lacked, and does not claim every column migrated', () => {
    document.body.append(renderFinalReport(report({ missing: [{ file: 'properties-final.csv', column: 'Bedrooms', field: 'bedrooms' }] })));
    const text = document.body.textContent ?? '';
    expect(document.querySelector('ul.missing li')?.textContent).toBe('properties-final.csv: Bedrooms (bedrooms)');
    expect(text).toContain('empty in your live account');
    expect(text).not.toContain('Every column was migrated.');
  });

  it('says every column migrated when nothing is missing or unmapped', () => {
    document.body.append(renderFinalReport(report({ missing: [] })));
    expect(document.body.textContent).toContain('Every column was migrated.');
    expect(document.querySelector('ul.missing')).toBeNull();
  });
});
