// What the engine knows, in the workbook: a named row that was rejected
// says so (and can only be waived), the warnings are grouped by reason
// (each group marked), the review files can be downloaded, and merges and
// possible duplicates are listed with their source rows.

import { afterEach, describe, expect, it } from 'vitest';
import { createWorkbookView, openItems } from '../src/customer/workbook-view';
import type { Workbook } from '../src/lib/types';
import { fakeApi } from './fakes';

afterEach(() => document.body.replaceChildren());

const workbook: Workbook = {
  round: 1,
  mappingVersion: 1,
  reconciliation: [],
  spotChecks: [
    { entity: 'contact', why: 'sampled', sourceId: '1', found: true, file: 'a.csv', line: 2, source: [{ column: 'Email', value: 'a@x.com' }], record: { emails: 'a@x.com' }, flags: ['warning'], warnings: [{ field: 'phones', value: 'abc', reason: 'left out of the record: not a phone number' }] },
    { entity: 'contact', why: 'named by you', sourceId: '2', found: false, file: 'a.csv', line: 3, outcome: 'rejected', says: 'rejected at line 3 of a.csv: the row has none of emails, phones', waiveOnly: true, source: [{ column: 'Email', value: '' }] },
    { entity: 'contact', why: 'named by you', sourceId: '4', found: true, file: 'a.csv', line: 5, outcome: 'merged', says: 'merged at line 5 of a.csv into the record of source id 1 (line 2)', mergedInto: 'r1', record: { emails: 'a@x.com' } },
  ],
  issues: {
    rejected: [],
    rejectsFiles: [],
    warned: 3,
    orphans: 0,
    warnings: [
      { entity: 'contact', reason: 'phones: left out of the record: not a phone number', count: 3, examples: [{ file: 'a.csv', line: 2, sourceId: '1', field: 'phones', value: 'abc', reason: 'left out of the record: not a phone number' }] },
    ],
    reviewFiles: [{ file: 'a.csv', url: 'https://s3.test/review-a.csv' }],
    duplicateCounts: { merged: 1, possible: 2 },
    duplicateGroups: [
      {
        kind: 'merged', entity: 'contact', key: 'a@x.com', total: 2, recordIds: ['r1'], record: { emails: 'a@x.com', first_name: 'Ann' },
        rows: [
          { file: 'a.csv', line: 2, sourceId: '1', recordId: 'r1', cells: [{ column: 'Name', value: 'Ann' }] },
          { file: 'a.csv', line: 5, sourceId: '4', recordId: 'r4', cells: [{ column: 'Name', value: 'Annie' }] },
        ],
      },
      {
        kind: 'possible', entity: 'contact', key: 'office@x.com', total: 2, recordIds: ['r7', 'r8'],
        rows: [
          { file: 'a.csv', line: 8, sourceId: '7', recordId: 'r7', cells: [{ column: 'Name', value: 'Gil' }] },
          { file: 'b.csv', line: 2, sourceId: '8', recordId: 'r8', cells: [{ column: 'Name', value: 'Hal' }] },
        ],
      },
    ],
  },
  fillRates: [],
  unmapped: [],
};

function mount() {
  const { api, calls } = fakeApi((c) => ({ status: 200, body: { review: Object.fromEntries((c.body as { items: Array<{ section: string; state: string; note: string }> }).items.map((i) => [i.section, { state: i.state, note: i.note }])), open: [] } }));
  const view = createWorkbookView({ api, migrationId: 'm-1', workbook, review: {}, editable: true });
  document.body.append(view.element);
  return { view, calls };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('the workbook shows what the engine knows', () => {
  it('says a named row was rejected, where and why, and offers only a waiver with a note', async () => {
    const { calls } = mount();
    const spot = document.querySelectorAll('.spot')[1] as HTMLElement;
    expect(spot.textContent).toContain('rejected at line 3 of a.csv: the row has none of emails, phones');
    expect(spot.querySelector('input[type=checkbox]')).toBeNull();
    expect(spot.textContent).not.toContain('it is right');
    const mark = spot.querySelector('.mark[data-section="spot:1"]') as HTMLElement;
    const waive = [...mark.querySelectorAll('button')].find((b) => b.textContent === 'Waive') as HTMLButtonElement;
    expect([...mark.querySelectorAll('button')].some((b) => /reviewed/.test(b.textContent ?? ''))).toBe(false);
    (mark.querySelector('textarea') as HTMLTextAreaElement).value = 'Ada has no e-mail; we add it after the move';
    waive.click();
    await settle();
    expect(calls.at(-1)?.body).toEqual({ items: [{ section: 'spot:1', state: 'waived', note: 'Ada has no e-mail; we add it after the move' }] });
  });

  it('says into which record a named row was merged, and why a sampled row was drawn', () => {
    mount();
    const spots = document.querySelectorAll('.spot');
    expect(spots[2]?.textContent).toContain('into the record of source id 1');
    expect(spots[0]?.textContent).toContain('flagged “!”');
    expect(spots[0]?.textContent).toContain('not a phone number');
  });

  it('groups the warnings by reason with examples, each group marked, and links the review file', () => {
    mount();
    const part = document.querySelector('[data-part="warnings"]') as HTMLElement;
    expect(part.textContent).toContain('phones: left out of the record: not a phone number');
    expect(part.textContent).toContain('a.csv');
    expect(part.textContent).toContain('abc');
    expect(part.querySelector('.mark[data-section="warn:0"]')).not.toBeNull();
    expect(document.querySelector('a[href="https://s3.test/review-a.csv"]')?.textContent).toContain('a.csv');
    expect(openItems(0, {}, 1)).toContain('warn:0');
    expect(document.querySelector('.open-list')?.textContent).toContain('Warnings, group 1');
  });

  it('lists merges and possible duplicates with both source rows and the record that resulted', () => {
    mount();
    const part = document.querySelector('[data-part="duplicate-groups"]') as HTMLElement;
    expect(part.textContent).toContain('1 row merged into another record');
    expect(part.textContent).toContain('2 records kept apart');
    expect(part.textContent).toContain('Annie');
    expect(part.textContent).toContain('Ann');
    expect(part.textContent).toContain('b.csv');
    expect(part.textContent).toContain('Hal');
  });
});
