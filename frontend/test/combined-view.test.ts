// The workbook's spot check of fields several columns fill: how they
// combine, rows side by side, and every value that was not migrated.

import { afterEach, describe, expect, it } from 'vitest';
import { combineWords, createCombinedSection } from '../src/customer/combined-view';
import { createWorkbookView } from '../src/customer/workbook-view';
import type { FileCombined, Workbook } from '../src/lib/types';
import { fakeApi } from './fakes';

afterEach(() => document.body.replaceChildren());

const combined: FileCombined[] = [
  {
    file: 'contacts.csv',
    entity: 'contact',
    fields: [
      {
        field: 'tags',
        mode: 'combine',
        explicit: true,
        columns: ['Lifecycle Stage', 'Tags'],
        rows: 2,
        droppedRows: 0,
        droppedBy: {},
        examples: [{ field: 'tags', line: 2, sourceId: '1', sources: [{ column: 'Lifecycle Stage', value: 'Customer' }, { column: 'Tags', value: 'vip' }], result: 'Customer; vip' }],
        droppedExamples: [],
      },
      {
        field: 'company',
        mode: 'first',
        explicit: false,
        columns: ['Company', 'Employer'],
        rows: 1,
        droppedRows: 1,
        droppedBy: { Employer: 1 },
        examples: [],
        droppedExamples: [{ field: 'company', line: 3, sourceId: '2', sources: [{ column: 'Company', value: 'Acme' }, { column: 'Employer', value: 'Globex' }], result: 'Acme', dropped: ['Employer'] }],
      },
    ],
  },
];

describe('combined columns in the workbook', () => {
  it('shows each column’s value beside the result, and what was not migrated', () => {
    const section = createCombinedSection(combined);
    expect(section).not.toBeNull();
    document.body.append(section as HTMLElement);
    const tags = document.querySelector('.combined-field[data-field="tags"]');
    expect(tags?.textContent).toContain('“Lifecycle Stage” and “Tags”');
    expect(tags?.textContent).toContain('every value is kept, each once (your choice)');
    const cells = [...(tags?.querySelectorAll('tbody td, tbody th') ?? [])].map((c) => c.textContent);
    expect(cells).toEqual(['2', '1', 'Customer', 'vip', 'Customer; vip', '—']);
    const company = document.querySelector('.combined-field[data-field="company"]');
    expect(company?.querySelector('.combined-dropped')?.textContent).toContain('1 row lost a value: 1 from “Employer”');
    expect(company?.textContent).toContain('Globex');
    expect(company?.textContent).toContain('the default: choose in the mapping');
  });

  it('is left out when no field is filled from several columns', () => {
    expect(createCombinedSection(undefined)).toBeNull();
    expect(createCombinedSection([{ file: 'a.csv', entity: 'contact', fields: [] }])).toBeNull();
  });

  it('says concat’s separator', () => {
    expect(combineWords({ mode: 'concat', separator: ' / ', explicit: true })).toBe('the values are joined with “ / ” (your choice)');
  });

  it('is part of the customer’s workbook', () => {
    const wb: Workbook = { round: 1, mappingVersion: 1, reconciliation: [], spotChecks: [], issues: null, fillRates: [], unmapped: [], combined };
    const { api } = fakeApi(() => ({ status: 200, body: {} }));
    const view = createWorkbookView({ api, migrationId: 'm-1', workbook: wb, review: {}, editable: false, onRequested: () => undefined });
    document.body.append(view.element);
    expect(document.querySelector('.workbook section.combined h3')?.textContent).toBe('Fields several columns fill');
  });
});
