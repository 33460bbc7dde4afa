// Issue 11, site side: the workbook shows what the engine inferred (phone
// region, date formats per column, how sure), lets the customer settle an
// ambiguous date column (saved into the draft mapping with PUT …/mapping),
// lists values left out and possible duplicates, and the housekeeping counts.

import { afterEach, describe, expect, it } from 'vitest';
import { createWorkbookView } from '../src/customer/workbook-view';
import { setFileDateFormat } from '../src/customer/mapping-spec';
import { tableOf } from '../src/customer/inference-view';
import type { MappingSpec, Workbook } from '../src/lib/types';
import { fakeApi, type Call } from './fakes';
import { proposal } from './fixtures';

afterEach(() => document.body.replaceChildren());

const workbook: Workbook = {
  round: 1,
  mappingVersion: 1,
  reconciliation: [
    {
      entity: 'contact', checklist: 3, rows: 3, migrated: 3, merged: 0, rejected: 0, skipped: {},
      housekeeping: { 'applicant-expiry': 2, 'tenancy-status': 0 }, status: 'match', explanation: 'All 3 contact records were migrated.',
    },
  ],
  spotChecks: [],
  issues: {
    rejected: [], rejectsFiles: [], warned: 0, orphans: 0,
    leftOut: [
      { file: 'contacts.csv', entity: 'contact', field: 'phones', count: 4 },
      { file: 'contacts.csv', entity: 'contact', field: 'emails', count: 1 },
    ],
    refusedPeople: [{ file: 'tenancies.csv', entity: 'tenancy', reason: 'the destination refused a person named in this row: no room', count: 2 }],
    possibleDuplicates: 2,
    duplicates: [{ entity: 'contact', key: 'email:ada@example.com', ids: ['c1', 'c2'], lines: [2, 7], sourceIds: ['1', '6'] }],
  },
  fillRates: [],
  unmapped: [],
  inference: [
    {
      file: 'contacts.csv', entity: 'contact',
      region: { region: 'GB', confidence: 0.92, source: 'numbers', evidence: 12 },
      dates: [
        { column: 'Created', dateFormat: 'D/M/YYYY', confidence: 0.5, ambiguous: true, alternative: 'M/D/YYYY', examples: ['03/04/2024', '05/06/2024'], values: 10, read: 10 },
        { column: 'Updated', dateFormat: 'ISO', confidence: 1, values: 10, read: 10 },
      ],
    },
    { file: 'properties.csv', entity: 'property', region: { confidence: 0, source: 'none', evidence: 0 }, dates: [] },
  ],
};

function mount(route: (c: Call) => { status: number; body?: unknown }) {
  const { api, calls } = fakeApi(route);
  const view = createWorkbookView({ api, migrationId: 'm-1', workbook, review: {}, editable: true });
  document.body.append(view.element);
  return { calls };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
const inferred = () => document.querySelector('[data-part="inference"]') as HTMLElement;
const button = (root: HTMLElement, text: string) => [...root.querySelectorAll('button')].find((b) => b.textContent === text) as HTMLButtonElement;

/** A fake server: GET …/proposal answers the fixture, PUT …/mapping answers `put`. */
function server(put: { status: number; body?: unknown }) {
  return (c: Call) => {
    if (c.method === 'GET' && c.path === '/migrations/m-1/proposal') return { status: 200, body: proposal() };
    if (c.method === 'PUT' && c.path === '/migrations/m-1/mapping') return put;
    return { status: 404 };
  };
}

describe('what we read from your files', () => {
  it('shows each file’s phone region with where it came from and how sure, and each date column’s format', () => {
    mount(server({ status: 200 }));
    const part = inferred();
    expect(part.querySelector('h3')?.textContent).toBe('What we read from your files');
    const files = [...part.querySelectorAll('.inferred-file')] as HTMLElement[];
    expect(files).toHaveLength(2);
    expect(files[0]?.textContent).toContain('contacts.csv');
    expect(files[0]?.querySelector('.region')?.textContent).toMatch(/GB.*read from the phone numbers.*92%/);
    expect(files[1]?.querySelector('.region')?.textContent).toContain('Nothing in the file says');
    const rows = [...(files[0]?.querySelectorAll('tbody tr') ?? [])].map((tr) => tr.textContent);
    expect(rows[0]).toContain('Created');
    expect(rows[0]).toContain('D/M/YYYY');
    expect(rows[0]).toContain('50%');
    expect(rows[1]).toContain('Updated');
    expect(rows[1]).toContain('ISO');
  });

  it('says whether the market was taken because the numbers fit it or because nothing else did', () => {
    const region = (source: string, evidence: number) => ({ region: 'GB', confidence: 0.6, source, evidence });
    const inference = [
      { file: 'fit.csv', entity: 'contact', region: region('market', 40), dates: [] },
      { file: 'fallback.csv', entity: 'contact', region: region('market', 0), dates: [] },
      { file: 'national.csv', entity: 'contact', region: region('national numbers', 40), dates: [] },
    ];
    const { api } = fakeApi(server({ status: 200 }));
    document.body.append(createWorkbookView({ api, migrationId: 'm-1', workbook: { ...workbook, inference }, review: {}, editable: true }).element);
    const texts = [...inferred().querySelectorAll('.inferred-file .region')].map((e) => e.textContent ?? '');
    expect(texts[0]).toContain('taken from your market, where most of the file’s numbers without a country code are valid');
    expect(texts[1]).toContain('taken from your market, as nothing in the file said otherwise');
    expect(texts[2]).toContain('the one country where the file’s numbers without a country code are valid');
  });

  it('warns about an ambiguous column with its examples read both ways', () => {
    mount(server({ status: 200 }));
    const warning = inferred().querySelector('.ambiguous') as HTMLElement;
    expect(warning.classList).toContain('notice-warning');
    expect(warning.textContent).toContain('Created');
    expect(warning.textContent).toContain('03/04/2024');
    expect(warning.textContent).toContain('3 April 2024');
    expect(warning.textContent).toContain('4 March 2024');
    expect(warning.textContent).toContain('6 May 2024');
    expect(button(warning, 'Day first (D/M/YYYY)')).toBeTruthy();
    expect(button(warning, 'Month first (M/D/YYYY)')).toBeTruthy();
  });

  it('saves the choice as the file’s date format in the draft mapping and says the next round uses it', async () => {
    const { calls } = mount(server({ status: 200, body: { draftMapping: {} } }));
    const warning = inferred().querySelector('.ambiguous') as HTMLElement;
    button(warning, 'Month first (M/D/YYYY)').click();
    await settle();
    await settle();
    const put = calls.find((c) => c.method === 'PUT');
    expect(put?.path).toBe('/migrations/m-1/mapping');
    const sent = (put?.body as { mapping: MappingSpec }).mapping;
    const contacts = sent.files.find((f) => f.name === 'f-1');
    expect(contacts?.defaults).toEqual({ dateFormats: ['M/D/YYYY'] });
    // Everything else in the spec is as the proposal had it.
    expect(sent.files.find((f) => f.name === 'f-2')).toEqual(proposal().mapping.files[1]);
    expect(contacts?.fields).toEqual(proposal().mapping.files[0]?.fields);
    expect(warning.querySelector('[role=status]')?.textContent).toContain('next test migration reads');
    expect(warning.querySelector('[role=status]')?.textContent).toContain('month first');
    // Saved during the review, it is used by running the test migration again.
    expect(warning.querySelector('[role=status]')?.textContent).toContain('Run the test migration again with these changes');
  });

  it('shows the server’s message when the mapping cannot be changed now (409)', async () => {
    const message = 'The mapping cannot change now: sign-off was requested for round 1, and the coordinator is asked about exactly that workbook.';
    mount(server({ status: 409, body: { error: { code: 'conflict', message } } }));
    const warning = inferred().querySelector('.ambiguous') as HTMLElement;
    button(warning, 'Day first (D/M/YYYY)').click();
    await settle();
    await settle();
    const alert = warning.querySelector('[role=alert]') as HTMLElement;
    expect(alert.hidden).toBe(false);
    expect(alert.textContent).toContain(message);
    expect(button(warning, 'Day first (D/M/YYYY)').disabled).toBe(false);
  });
});

describe('a file the next round does not have', () => {
  it('says so and saves nothing', async () => {
    const { api, calls } = fakeApi((c) => {
      if (c.method === 'GET') {
        const p = proposal();
        p.files = p.files!.filter((f) => f.fileName !== 'contacts.csv');
        return { status: 200, body: p };
      }
      return { status: 200 };
    });
    document.body.append(createWorkbookView({ api, migrationId: 'm-1', workbook, review: {}, editable: true }).element);
    const warning = inferred().querySelector('.ambiguous') as HTMLElement;
    button(warning, 'Day first (D/M/YYYY)').click();
    await settle();
    await settle();
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);
    expect(warning.querySelector('[role=alert]')?.textContent).toContain('contacts.csv is not in the mapping for the next round');
  });
});

describe('the file date format edit', () => {
  it('keeps the file’s other formats, drops the other reading and puts the choice first', () => {
    const spec = proposal().mapping;
    spec.files[0]!.defaults = { dateFormats: ['ISO', 'D/M/YYYY'], region: 'US' };
    const next = setFileDateFormat(spec, 0, 'M/D/YYYY', 'D/M/YYYY');
    expect(next.files[0]?.defaults).toEqual({ dateFormats: ['M/D/YYYY', 'ISO'], region: 'US' });
    expect(spec.files[0]?.defaults).toEqual({ dateFormats: ['ISO', 'D/M/YYYY'], region: 'US' }); // input left alone
  });

  it('starts from the spec-wide formats when the file has none of its own', () => {
    const spec = { ...proposal().mapping, defaults: { region: 'GB', dateFormats: ['DD/MM/YYYY', 'ISO'] } };
    const next = setFileDateFormat(spec, 1, 'MM/DD/YYYY', 'DD/MM/YYYY');
    expect(next.files[1]?.defaults).toEqual({ dateFormats: ['MM/DD/YYYY', 'ISO'] });
  });
});

describe('issues and reconciliation', () => {
  it('lists the values left out per field with counts', () => {
    mount(server({ status: 200 }));
    const left = document.querySelector('[data-part="left-out"]') as HTMLElement;
    const rows = [...left.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(rows).toEqual([
      ['contacts.csv', 'Contacts', 'phones', '4'],
      ['contacts.csv', 'Contacts', 'emails', '1'],
    ]);
  });

  it('lists the people named on rows that the destination refused, by file and reason', () => {
    mount(server({ status: 200 }));
    const part = document.querySelector('[data-part="refused-people"]') as HTMLElement;
    const rows = [...part.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(rows).toEqual([['tenancies.csv', 'the destination refused a person named in this row: no room', '2']]);
  });

  it('lists the possible duplicates: how many, and each group’s key, source ids and lines', () => {
    mount(server({ status: 200 }));
    const dups = document.querySelector('[data-part="duplicates"]') as HTMLElement;
    expect(dups.textContent).toContain('2 records');
    const row = [...(dups.querySelector('tbody tr')?.children ?? [])].map((c) => c.textContent);
    expect(row).toEqual(['Contacts', 'email:ada@example.com', '1 (line 2), 6 (line 7)']);
    expect(dups.querySelector('[data-part="duplicates-cut"]')).toBeNull();
  });

  it('says when the list of possible duplicates is cut, and of how many', () => {
    const { api } = fakeApi(server({ status: 200 }));
    const cut: Workbook = { ...workbook, issues: { ...workbook.issues!, possibleDuplicates: 24690, possibleGroups: 12345 } };
    document.body.append(createWorkbookView({ api, migrationId: 'm-1', workbook: cut, review: {}, editable: true }).element);
    const note = document.querySelector('[data-part="duplicates"] [data-part="duplicates-cut"]');
    expect(note?.textContent).toBe('The first 1 of 12,345 shared keys are listed.');
  });

  it('shows the housekeeping rule counts in the reconciliation', () => {
    mount(server({ status: 200 }));
    const hk = document.querySelector('[data-section="reconciliation"] [data-part="housekeeping"]') as HTMLElement;
    expect(hk.textContent).toContain('applicant-expiry');
    expect(hk.textContent).toContain('2');
    expect(hk.textContent).not.toContain('tenancy-status'); // a rule that changed nothing is not listed
  });
});

describe('which mapping entry a workbook file is', () => {
  it('finds a plain file by name and entity, and a sheet by its "[Sheet]" label', () => {
    const p = proposal();
    p.files!.push({ fileId: 'f-3', fileName: 'book.xlsx', table: 'f-3#Leads', entity: 'contact', columns: [] });
    const inf = (file: string, entity: string) => ({ file, entity, region: { confidence: 0, source: 'none', evidence: 0 }, dates: [] });
    expect(tableOf(p, inf('contacts.csv', 'contact'))).toBe('f-1');
    expect(tableOf(p, inf('book.xlsx [Leads]', 'contact'))).toBe('f-3#Leads');
    expect(tableOf(p, inf('book.xlsx', 'contact'))).toBeUndefined();
    expect(tableOf(p, inf('contacts.csv', 'property'))).toBeUndefined();
  });
});
