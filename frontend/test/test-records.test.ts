// Browsing the TEST records from the workbook: pages, search, each record
// beside its source row, empty and error states, and the vendor's staging
// link when the records are not ours.

import { afterEach, describe, expect, it } from 'vitest';
import { createTestRecordsSection, valueText } from '../src/customer/test-records-view';
import type { TestRecord, TestRecordsPage } from '../src/lib/types';
import { fakeApi, type Call } from './fakes';

afterEach(() => document.body.replaceChildren());

function rec(n: number): TestRecord {
  const id = `C-${n}`;
  return {
    id: `r${n}`,
    entity: 'contact',
    sourceId: id,
    round: 2,
    fields: { first_name: `Person${n}`, emails: [`p${n}@example.test`], rent: { amount: '1250.00', currency: 'GBP' }, marketing_consent: true },
    invalid: n === 1 ? { phones: { value: 'not a phone', reason: 'not a phone number' } } : null,
    source: { file: 'contacts.csv', line: n + 1, columns: ['Contact ID', 'First Name', 'Email'], values: [id, `Person${n}`, `p${n}@example.test`] },
  };
}

/** A server of 23 records in pages; a search matches source ids and names. */
function server(calls?: (c: Call) => void) {
  const all = Array.from({ length: 23 }, (_, i) => rec(i + 1));
  return (c: Call) => {
    calls?.(c);
    const u = new URL(c.path, 'http://x');
    expect(u.pathname).toBe('/migrations/m-1/test-records');
    const q = (u.searchParams.get('q') ?? '').toLowerCase();
    const start = Number(u.searchParams.get('cursor') || 0);
    const limit = Number(u.searchParams.get('limit'));
    const hits = all.filter((r) => !q || r.sourceId.toLowerCase().includes(q) || String(r.fields.first_name).toLowerCase().includes(q));
    const page = hits.slice(start, start + limit);
    const body: TestRecordsPage = { round: 2, destination: 'builtin', records: page, examined: q ? 23 : page.length, ...(start + limit < hits.length ? { next: String(start + limit) } : {}) };
    return { status: 200, body };
  };
}

async function mount(route: Parameters<typeof fakeApi>[0]) {
  const { api, calls } = fakeApi(route);
  const s = createTestRecordsSection({ api, migrationId: 'm-1' });
  document.body.append(s.element);
  await s.ready;
  return { calls, el: s.element };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const ids = () => [...document.querySelectorAll('.test-record')].map((e) => e.getAttribute('data-source-id'));
const button = (text: string) => [...document.querySelectorAll('button')].find((b) => b.textContent === text) as HTMLButtonElement;

describe('TEST records in the workbook', () => {
  it('shows each record beside its source row', async () => {
    await mount(server());
    expect(ids()).toEqual(['C-1', 'C-2', 'C-3', 'C-4', 'C-5', 'C-6', 'C-7', 'C-8', 'C-9', 'C-10']);
    const first = document.querySelector('.test-record[data-source-id="C-1"]') as HTMLElement;
    expect(first.querySelector('.source-row h5')?.textContent).toBe('In your file: contacts.csv, line 2');
    const src = [...first.querySelectorAll('.source-row dd')].map((d) => d.textContent);
    expect(src).toEqual(['C-1', 'Person1', 'p1@example.test']);
    const typed = first.querySelector('.test-fields')?.textContent ?? '';
    expect(typed).toContain('p1@example.test');
    expect(typed).toContain('1250.00 GBP');
    expect(typed).toContain('yes');
    expect(first.querySelector('.left-out li')?.textContent).toContain('not a phone');
    expect(document.querySelector('.test-records-status')?.textContent).toContain('Records 1–10 of round 2');
  });

  it('pages forward and back with the server’s cursors', async () => {
    const seen: string[] = [];
    await mount(server((c) => seen.push(new URL(c.path, 'http://x').searchParams.get('cursor') ?? '')));
    expect(button('Previous page').disabled).toBe(true);
    button('Next page').click();
    await settle();
    expect(ids()[0]).toBe('C-11');
    button('Next page').click();
    await settle();
    expect(ids()).toEqual(['C-21', 'C-22', 'C-23']);
    expect(button('Next page').disabled).toBe(true);
    expect(document.querySelector('.test-records-status')?.textContent).toContain('Records 21–23 of round 2 (the last)');
    button('Previous page').click();
    await settle();
    expect(ids()[0]).toBe('C-11');
    expect(seen).toEqual(['', '10', '20', '10']);
  });

  it('searches, and says plainly when nothing matches', async () => {
    const { calls } = await mount(server());
    const input = document.querySelector('input[type=search]') as HTMLInputElement;
    input.value = ' c-17 ';
    (document.querySelector('form.test-search') as HTMLFormElement).dispatchEvent(new Event('submit', { cancelable: true }));
    await settle();
    expect(new URL(calls.at(-1)?.path ?? '', 'http://x').searchParams.get('q')).toBe('c-17');
    expect(ids()).toEqual(['C-17']);
    input.value = 'nobody';
    (document.querySelector('form.test-search') as HTMLFormElement).dispatchEvent(new Event('submit', { cancelable: true }));
    await settle();
    expect(ids()).toEqual([]);
    expect(document.querySelector('.test-records .empty')?.textContent).toContain('No record of round 2 matches “nobody”');
  });

  it('offers to search further when a bounded search stopped early', async () => {
    const { calls } = await mount((c) => {
      const q = new URL(c.path, 'http://x').searchParams;
      if (!q.get('q')) return { status: 200, body: { round: 1, destination: 'builtin', records: [], examined: 0 } };
      return { status: 200, body: { round: 1, destination: 'builtin', query: q.get('q'), records: [], examined: 1000, next: q.get('cursor') ? undefined : 'more' } };
    });
    expect(document.querySelector('.test-records .empty')?.textContent).toBe('The TEST environment holds no records for round 1.');
    (document.querySelector('input[type=search]') as HTMLInputElement).value = 'zz';
    (document.querySelector('form.test-search') as HTMLFormElement).dispatchEvent(new Event('submit', { cancelable: true }));
    await settle();
    expect(document.querySelector('.test-records .empty')?.textContent).toBe('No record matches “zz” among the 1,000 read so far.');
    const further = button('Search further');
    expect(further.disabled).toBe(false);
    further.click();
    await settle();
    expect(new URL(calls.at(-1)?.path ?? '', 'http://x').searchParams.get('cursor')).toBe('more');
    expect(document.querySelector('.test-records .empty')?.textContent).toBe('No record of round 1 matches “zz”. Search by name, e-mail address or the id in your old CRM.');
  });

  it('shows the server’s message when it fails', async () => {
    await mount(() => ({ status: 400, body: { error: { code: 'invalid', message: 'That page link is not one of this migration’s: start the listing again.' } } }));
    expect(document.querySelector('.test-records [role=alert]')?.textContent).toBe('That page link is not one of this migration’s: start the listing again.');
  });

  it('links to the vendor’s staging UI when the records are there', async () => {
    await mount(() => ({
      status: 200,
      body: { round: 1, destination: 'https', records: [], examined: 0, stagingUrl: 'https://staging.vendor.test/acme', message: 'The records of this test migration are in the vendor’s staging environment, not here: look at them there.' },
    }));
    expect(document.querySelector('.test-records [role=note]')?.textContent).toContain('vendor’s staging environment');
    expect((document.querySelector('a.staging-link') as HTMLAnchorElement).href).toBe('https://staging.vendor.test/acme');
    expect((document.querySelector('form.test-search') as HTMLElement).hidden).toBe(true);
  });

  it('makes no link of a staging URL that is not http(s)', async () => {
    await mount(() => ({ status: 200, body: { round: 1, destination: 's3', records: [], examined: 0, stagingUrl: 'javascript:alert(1)', message: 'elsewhere' } }));
    expect(document.querySelector('a.staging-link')).toBeNull();
  });

  it('writes typed values in words', () => {
    expect(valueText(['a', 'b'])).toBe('a, b');
    expect(valueText({ amount: '10.50', currency: 'EUR' })).toBe('10.50 EUR');
    expect(valueText(false)).toBe('no');
    expect(valueText(null)).toBe('');
  });
});
