// The workbook review: ticks and marks go to PUT /review, what is open is
// listed, and a refused sign-off request (409) shows what is still open.

import { afterEach, describe, expect, it } from 'vitest';
import { createWorkbookView, openFromMessage, openItems } from '../src/customer/workbook-view';
import type { ReviewMark, Workbook } from '../src/lib/types';
import { fakeApi, type Call } from './fakes';

afterEach(() => document.body.replaceChildren());

const workbook: Workbook = {
  round: 1,
  mappingVersion: 1,
  reconciliation: [
    { entity: 'contact', checklist: 3, rows: 3, migrated: 3, merged: 0, rejected: 0, skipped: {}, status: 'match', explanation: 'All 3 contact records were migrated.' },
  ],
  spotChecks: [
    { entity: 'contact', why: 'sampled', sourceId: '1', found: true, file: 'contacts.csv', line: 2, source: [{ column: 'Email', value: 'ada@example.com' }], record: { emails: 'ada@example.com' } },
    { entity: 'contact', why: 'named by you', sourceId: '9', found: false },
  ],
  issues: { rejected: [{ file: 'contacts.csv', entity: 'contact', reason: 'bad phone', count: 2 }], rejectsFiles: [{ file: 'contacts.csv', url: 'https://s3.test/rejects.csv' }], warned: 1, orphans: 0 },
  fillRates: [{ entity: 'contact', file: 'contacts.csv', fields: [{ field: 'emails', filled: 3, rate: 1 }] }],
  unmapped: [{ file: 'contacts.csv', columns: ['Remarks'] }],
};

function mount(route: (c: Call) => { status: number; body?: unknown }, review: Record<string, ReviewMark> = {}) {
  const { api, calls } = fakeApi(route);
  let requested = 0;
  const view = createWorkbookView({ api, migrationId: 'm-1', workbook, review, editable: true, onRequested: () => (requested += 1) });
  document.body.append(view.element);
  return { view, calls, requested: () => requested };
}

/** A fake PUT /review that keeps the marks like the server. */
function reviewServer() {
  const marks: Record<string, ReviewMark> = {};
  return (c: Call) => {
    if (c.method === 'PUT' && c.path === '/migrations/m-1/review') {
      for (const it of (c.body as { items: Array<{ section: string; state: 'reviewed' | 'waived'; note: string }> }).items) {
        marks[it.section] = { state: it.state, ...(it.note ? { note: it.note } : {}) };
      }
      return { status: 200, body: { review: { ...marks }, open: openItems(2, marks) } };
    }
    if (c.method === 'POST' && c.path === '/migrations/m-1/request-signoff') {
      const open = openItems(2, marks);
      return open.length
        ? { status: 409, body: { error: { code: 'conflict', message: `Review or waive every part of the workbook first; still open: ${open.join(', ')}.` } } }
        : { status: 202, body: { status: 'signoff_requested', round: 1 } };
    }
    return { status: 404 };
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('open items', () => {
  it('follows the server’s rule', () => {
    expect(openItems(2, {})).toEqual(['reconciliation', 'spot:0', 'spot:1', 'issues', 'fillRates', 'unmapped']);
    expect(openItems(2, { 'spot:0': { state: 'reviewed' }, spotChecks: { state: 'waived', note: 'x' } })).toEqual(['reconciliation', 'issues', 'fillRates', 'unmapped']);
    expect(openFromMessage('Review or waive every part of the workbook first; still open: spot:1, unmapped.')).toEqual(['spot:1', 'unmapped']);
  });
});

describe('workbook view', () => {
  it('shows each part: reconciliation, spot checks side by side, rejects download, unmapped columns', () => {
    mount(reviewServer());
    expect(document.body.textContent).toContain('All 3 contact records were migrated.');
    const spot = document.querySelector('.spot') as HTMLElement;
    expect(spot.textContent).toContain('In your export');
    expect(spot.textContent).toContain('In the new system');
    expect(document.querySelectorAll('.spot')[1]?.textContent).toContain('No migrated contact has the id 9');
    const link = document.querySelector('a[href="https://s3.test/rejects.csv"]');
    expect(link?.textContent).toBe('Download the rejected rows of contacts.csv (CSV)');
    expect(document.querySelector('.unmapped')?.textContent).toContain('Remarks');
    expect(document.querySelector('.open-list')?.textContent).toContain('Still to review (6)');
  });

  it('leaves the live list of open parts alone on a poll that changes nothing', () => {
    const { view } = mount(reviewServer());
    const list = document.querySelector('.open-list') as HTMLElement;
    const before = list.firstElementChild;
    view.setReview({});
    view.setReview({});
    expect(list.firstElementChild).toBe(before);
    view.setReview({ reconciliation: { state: 'reviewed' } as ReviewMark });
    expect(list.firstElementChild).not.toBe(before);
    expect(list.textContent).toContain('Still to review (5)');
  });

  it('makes no link of a javascript: or data: download URL', () => {
    for (const url of ['javascript:alert(1)', 'data:text/csv,x']) {
      const { api } = fakeApi(() => ({ status: 200 }));
      const wb = { ...workbook, issues: { ...workbook.issues!, rejectsFiles: [{ file: 'contacts.csv', url }] } } as Workbook;
      const view = createWorkbookView({ api, migrationId: 'm-1', workbook: wb, review: {}, editable: true, onRequested: () => {} });
      expect(view.element.querySelector('.downloads a')).toBeNull();
      expect(view.element.querySelector('.downloads')?.textContent).toContain('contacts.csv');
    }
  });

  it('ticks a spot check and marks a section reviewed through PUT /review', async () => {
    const { calls } = mount(reviewServer());
    const box = document.querySelector('input[data-spot="0"]') as HTMLInputElement;
    box.checked = true;
    box.dispatchEvent(new Event('change'));
    await settle();
    expect(calls.at(-1)?.body).toEqual({ items: [{ section: 'spot:0', state: 'reviewed', note: '' }] });
    expect(box.checked).toBe(true);
    expect(box.dataset.recorded).toBe('true');

    const buttons = [...document.querySelectorAll('button')];
    buttons.find((b) => b.textContent === 'Mark reconciliation as reviewed')?.click();
    await settle();
    expect(calls.at(-1)?.body).toEqual({ items: [{ section: 'reconciliation', state: 'reviewed', note: '' }] });
    expect(document.querySelector('[data-section="reconciliation"] .mark-state')?.textContent).toBe('✓ Reviewed');
    expect(document.querySelector('.open-list')?.textContent).toContain('Still to review (4)');
  });

  it('needs a note to waive, then sends it', async () => {
    const { calls } = mount(reviewServer());
    const mark = document.querySelector('.mark[data-section="unmapped"]') as HTMLElement;
    const waive = [...mark.querySelectorAll('button')].find((b) => b.textContent === 'Waive') as HTMLButtonElement;
    waive.click();
    await settle();
    expect(calls).toHaveLength(0);
    expect(mark.querySelector('[role=alert]')?.textContent).toContain('Say in the note why');
    (mark.querySelector('textarea') as HTMLTextAreaElement).value = 'Remarks stay in the old CRM';
    waive.click();
    await settle();
    expect(calls[0]?.body).toEqual({ items: [{ section: 'unmapped', state: 'waived', note: 'Remarks stay in the old CRM' }] });
    expect(mark.querySelector('.mark-state')?.textContent).toBe('Waived: Remarks stay in the old CRM');
  });

  it('shows what is still open when sign-off is refused (409), and requests it once nothing is', async () => {
    const { requested } = mount(reviewServer());
    const request = () => ([...document.querySelectorAll('button')].find((b) => b.textContent === 'Request sign-off') as HTMLButtonElement).click();
    request();
    await settle();
    const alert = document.querySelector('.request [role=alert]') as HTMLElement;
    expect(alert.hidden).toBe(false);
    expect(alert.textContent).toContain('still open');
    expect([...alert.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'Reconciliation',
      'Spot check 1',
      'Spot check 2',
      'Issues and rejected rows',
      'Fill rates',
      'Columns that will not migrate',
    ]);
    expect(requested()).toBe(0);

    for (const section of ['reconciliation', 'issues and rejected rows', 'fill rates', 'columns that will not migrate']) {
      ([...document.querySelectorAll('button')].find((b) => b.textContent === `Mark ${section} as reviewed`) as HTMLButtonElement).click();
      await settle();
    }
    const box = document.querySelector('input[data-spot="0"]') as HTMLInputElement;
    box.checked = true;
    box.dispatchEvent(new Event('change'));
    await settle();
    // Spot check 2 found no record: there is nothing to tick, only a waiver with a note.
    expect(document.querySelector('input[data-spot="1"]')).toBeNull();
    const mark = document.querySelector('.mark[data-section="spot:1"]') as HTMLElement;
    (mark.querySelector('textarea') as HTMLTextAreaElement).value = 'Contact 9 was closed before the export';
    ([...mark.querySelectorAll('button')].find((b) => b.textContent === 'Waive') as HTMLButtonElement).click();
    await settle();
    expect(alert.hidden).toBe(true); // the stale refusal is gone
    expect(document.querySelector('.open-list')?.textContent).toContain('Every part is reviewed or waived');
    request();
    await settle();
    expect(requested()).toBe(1);
  });
});
