// Issue 12: the customer confirms which signed-off file each final file
// replaces before go-live is scheduled, sees the pre-flight's preview, and
// can withdraw a held go-live to upload a corrected extract.

import { afterEach, describe, expect, it } from 'vitest';
import { createFinalView } from '../src/customer/final-view';
import { createPreflightView, renderPreflight } from '../src/customer/preflight-view';
import type { Migration } from '../src/lib/types';
import { fakeApi } from './fakes';

afterEach(() => document.body.replaceChildren());

const base: Migration = {
  id: 'm-1',
  tenantId: 'harbour',
  customerName: 'Harbour Lettings',
  status: 'awaiting_final',
  round: 1,
  files: [{ id: 'f-final', name: 'crm-export-final.csv', size: 10, purpose: 'final', round: 1, complete: true, startedAt: '2026-11-25T10:00:00Z' }],
  createdAt: '2026-11-25T10:00:00Z',
  updatedAt: '2026-11-25T10:05:00Z',
};

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('final files matched to the signed-off files', () => {
  it('asks for a choice when the match is not certain, and sends the confirmed matches', async () => {
    const { api, calls } = fakeApi((c) =>
      c.method === 'GET'
        ? {
            status: 200,
            body: {
              tables: [
                {
                  fileId: 'f-final',
                  fileName: 'crm-export-final.csv',
                  table: 'f-final',
                  entry: 'f-contacts',
                  entity: 'contact',
                  how: 'overlap',
                  note: 'Read with the signed-off mapping of contacts.csv, the closest. Missing: PC.',
                  candidates: [
                    { entry: 'f-contacts', fileName: 'contacts.csv', entity: 'contact', exact: false, overlap: 80, missing: ['PC'], fits: true },
                    { entry: 'f-companies', fileName: 'companies.csv', entity: 'company', exact: false, overlap: 30, missing: [], fits: true },
                  ],
                },
              ],
            },
          }
        : { status: 202, body: { status: 'scheduled' } },
    );
    let scheduled = 0;
    const view = createFinalView({
      api,
      migration: base,
      uploads: { element: document.createElement('div'), busy: () => false, setDisabled: () => {}, activeFileIds: () => new Set<string>() },
      onScheduled: () => scheduled++,
      now: () => new Date('2026-11-25T10:00:00Z'),
      timeZone: 'Europe/London',
    });
    document.body.append(view.element);
    view.element.querySelector<HTMLInputElement>('input[type=datetime-local]')!.value = '2030-01-02T09:30:00';
    (view.element as HTMLFormElement).requestSubmit();
    await tick();
    await tick();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    expect(view.element.textContent).toContain('Missing: PC');
    expect(view.element.textContent).toContain('Check which signed-off file each final file replaces');
    const select = view.element.querySelector<HTMLSelectElement>('select')!;
    expect(select.value).toBe('f-contacts');
    (view.element as HTMLFormElement).requestSubmit();
    await tick();
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toMatchObject({ fileIds: ['f-final'], matches: [{ fileId: 'f-final', table: 'f-final', entry: 'f-contacts' }] });
    expect(scheduled).toBe(1);
  });
});

describe('a held go-live', () => {
  it('shows what differs, the preview, and withdraws the extract', async () => {
    const { api, calls } = fakeApi((c) =>
      c.path.endsWith('/final/preflight')
        ? {
            status: 200,
            body: {
              phase: 'submitted',
              entities: [{ entity: 'contact', testRows: 3, rows: 3, migrated: 3, testRejectPct: 0, rejectPct: 0, testWarnPct: 0, warnPct: 0, status: 'match', added: 0, removed: 0, changed: 3 }],
              missing: [{ entry: 'contacts.csv', column: 'PC', field: 'postcode' }],
              fill: [{ entity: 'contact', field: 'postcode', testPct: 100, pct: 0, changed: 3 }],
              breaches: [],
            },
          }
        : { status: 202, body: { status: 'awaiting_final' } },
    );
    let withdrawn = 0;
    const held: Migration = {
      ...base,
      status: 'final_held',
      preflight: { phase: 'submitted', held: true, checkedAt: '2026-11-25T10:06:00Z', breaches: [{ rule: 'column_missing', detail: 'crm-export-final.csv has no column "PC".' }] },
    };
    const view = createPreflightView({ api, migration: held, onWithdrawn: () => withdrawn++ });
    document.body.append(view.element);
    await tick();
    expect(view.element.textContent).toContain('Go-live is on hold');
    expect(view.element.textContent).toContain('has no column "PC"');
    expect(view.element.textContent).toContain('This is what will go live');
    expect(view.element.textContent).toContain('postcode');
    const button = [...view.element.querySelectorAll('button')].find((b) => b.textContent?.startsWith('Withdraw'))!;
    button.click();
    await tick();
    expect(calls.some((c) => c.method === 'POST' && c.path === '/migrations/m-1/final/withdraw')).toBe(true);
    expect(withdrawn).toBe(1);
  });
});

describe('the preview of a large extract', () => {
  it('shows the rows rejected and warned, even a share that rounds to 0%', () => {
    const el = renderPreflight({
      phase: 'submitted',
      entities: [
        {
          entity: 'contact', testRows: 398042, rows: 398101, migrated: 398089,
          testRejectPct: 0, rejectPct: 0, testWarnPct: 3.1, warnPct: 0,
          testRejected: 9, rejected: 12, testWarned: 12339, warned: 0,
          status: 'explained', added: 59, removed: 0, changed: 4,
        },
      ],
      missing: [],
      fill: [],
      breaches: [],
    });
    const cells = el.querySelector('tbody tr')!.querySelectorAll('td');
    const text = [...cells].map((c) => c.textContent);
    expect(text).toContain('12 (<0.1%) · test 9 (<0.1%)');
    expect(text).toContain('0 · test 12,339 (3.1%)');
  });
});
