// The coordinator's page shows what is approved in full (the mapping, the
// inferred formats and regions, the downloads, the spot checks with the
// customer's marks and waivers, merges and possible duplicates), and a held
// go-live's re-approval shows the pre-flight's differences.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignOffView } from '../src/lib/types';
import { renderSignOff, type Roots } from '../src/signoff/view';
import { fakeApi, type Call } from './fakes';

let roots: Roots;
beforeEach(() => {
  roots = { loading: document.createElement('p'), content: document.createElement('div') };
  document.body.append(roots.loading, roots.content);
});
afterEach(() => document.body.replaceChildren());

const base: SignOffView = {
  kind: 'signoff',
  migration: { id: 'm-1', customerName: 'Harbour Lettings', tenantId: 'harbour' },
  round: 2,
  mappingVersion: 3,
  summary: { read: 10, migrated: 7, merged: 1, rejected: 1, skipped: 1 },
  workbook: { round: 2, spotChecks: 2, entities: [] },
  expiresAt: '2026-12-02T10:00:00Z',
  state: 'pending',
};

const full = (): SignOffView => ({
  ...base,
  mapping: [
    {
      file: 'contacts.csv',
      entity: 'contact',
      fields: [
        { columns: ['Mobile'], field: 'phones', how: ['phone numbers without a country code read as GB'] },
        { columns: ['Tags'], field: 'tags', how: ['combined with the other columns mapped to this field (every value kept)'] },
        { columns: [], field: 'country', how: ['always "GB"'] },
      ],
    },
  ],
  inference: [
    {
      file: 'contacts.csv',
      entity: 'contact',
      region: { region: 'GB', confidence: 0.9, source: 'numbers', evidence: 40 },
      dates: [{ column: 'Created', dateFormat: 'DD/MM/YYYY', confidence: 0.5, ambiguous: true, alternative: 'MM/DD/YYYY', values: 10, read: 10 }],
    },
  ],
  spotChecks: [
    { section: 'spot:0', entity: 'contact', why: 'sampled', sourceId: 'c-1', found: true, file: 'contacts.csv', line: 2, source: [{ column: 'Name', value: 'Ann Lee' }], recordId: 'r1', record: { full_name: 'Ann Lee' }, mark: { state: 'reviewed' } },
    { section: 'spot:1', entity: 'contact', why: 'named by you', sourceId: 'c-9', found: false, mark: { state: 'waived', note: 'Deleted in the old CRM last week' } },
  ],
  downloads: [
    { kind: 'rejects', file: 'contacts.csv', url: 'https://dl.example/rejects-contacts.csv?sig=1' },
    { kind: 'warnings', file: 'contacts.csv', url: 'https://dl.example/review-contacts.csv?sig=2' },
  ],
  duplicates: { merged: 1, possible: 2, groups: [{ entity: 'contact', key: 'ann@x.com', ids: ['r1', 'r2'], lines: [2, 5], sourceIds: ['c-1', 'c-4'] }] },
});

const text = () => roots.content.textContent ?? '';
const heading = () => roots.content.querySelector('h2')?.textContent;
const button = (name: string) => [...roots.content.querySelectorAll('button')].find((b) => b.textContent === name) as HTMLButtonElement;
const link = (name: RegExp) => [...roots.content.querySelectorAll('a')].find((a) => name.test(a.textContent ?? '')) as HTMLAnchorElement | undefined;
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('sign-off page: what is approved', () => {
  it('shows the mapping column by column with the choices in words', () => {
    renderSignOff(roots, fakeApi(() => ({ status: 200 })).api, full());
    const rows = [...roots.content.querySelectorAll('[data-part=mapping] tbody tr')].map((tr) => tr.textContent);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain('Mobile');
    expect(rows[0]).toContain('phones');
    expect(rows[0]).toContain('read as GB');
    expect(rows[1]).toContain('combined with the other columns');
    expect(rows[2]).toContain('always "GB"');
    expect(text()).toContain('contacts.csv');
  });

  it('shows the inferred date formats and phone region per file and column, flagging an ambiguous one', () => {
    renderSignOff(roots, fakeApi(() => ({ status: 200 })).api, full());
    const part = roots.content.querySelector('[data-part=inference]')?.textContent ?? '';
    expect(part).toContain('Created');
    expect(part).toContain('DD/MM/YYYY');
    expect(part).toContain('MM/DD/YYYY');
    expect(part).toContain('GB');
  });

  it('links the rejects and warnings downloads and the list of possible duplicates', () => {
    renderSignOff(roots, fakeApi(() => ({ status: 200 })).api, full());
    expect(link(/rejected rows.*contacts\.csv/i)?.href).toBe('https://dl.example/rejects-contacts.csv?sig=1');
    expect(link(/warnings.*contacts\.csv/i)?.href).toBe('https://dl.example/review-contacts.csv?sig=2');
    const dup = roots.content.querySelector('[data-part=duplicates]')?.textContent ?? '';
    expect(dup).toMatch(/Merged.*1/);
    expect(dup).toMatch(/Possible duplicates.*2/);
    expect(dup).toContain('c-4');
    expect(link(/list/i)?.getAttribute('href')).toBe('#duplicate-list');
    expect(document.getElementById('duplicate-list')?.textContent).toContain('c-4');
  });

  it('shows each spot check with the customer’s mark, a waiver with its note', () => {
    renderSignOff(roots, fakeApi(() => ({ status: 200 })).api, full());
    const checks = [...roots.content.querySelectorAll('[data-part=spot-checks] tbody tr')].map((tr) => tr.textContent ?? '');
    expect(checks).toHaveLength(2);
    expect(checks[0]).toContain('Ann Lee');
    expect(checks[0]).toContain('Reviewed');
    expect(checks[1]).toContain('not found');
    expect(checks[1]).toContain('Waived');
    expect(checks[1]).toContain('Deleted in the old CRM last week');
  });

  it('leaves out what the server did not send, and says what is missing', () => {
    renderSignOff(roots, fakeApi(() => ({ status: 200 })).api, { ...base, missing: ['The workbook of this round is no longer stored.'] });
    expect(heading()).toBe('What you are approving');
    expect(roots.content.querySelector('[data-part=spot-checks]')).toBeNull();
    expect(roots.content.querySelector('[data-part=duplicates]')).toBeNull();
    expect(text()).toContain('no longer stored');
    expect(button('Approve')).toBeTruthy();
  });
});

const held = (): SignOffView => ({
  ...base,
  kind: 'reapproval',
  preflight: {
    phase: 'submitted',
    checkedAt: '2026-12-01T09:00:00Z',
    breaches: [
      { rule: 'column_missing', entity: 'contact', field: 'postcode', detail: 'The mapped column Postcode is missing from the final extract.' },
      { rule: 'fill_drop', entity: 'contact', field: 'notes', detail: 'Notes are filled for 4% of contacts, down from 61%.' },
    ],
    report: {
      fingerprint: 'fp-1',
      phase: 'submitted',
      matches: [],
      entities: [{ entity: 'contact', testRows: 100, rows: 102, migrated: 101, testRejectPct: 1, rejectPct: 1, testWarnPct: 0, warnPct: 0, status: 'match', added: 2, removed: 0, changed: 57 }],
      missing: [{ entry: 'contacts.csv', column: 'Postcode', field: 'postcode' }],
      fill: [{ entity: 'contact', field: 'notes', testPct: 61, pct: 4, changed: 57 }],
      breaches: [],
      counts: { read: 102, migrated: 101, merged: 0, rejected: 1, skipped: 0 },
      at: '2026-12-01T09:00:00Z',
    },
  },
});

describe('sign-off page: a held go-live', () => {
  it('says go-live is held and shows the differences', () => {
    renderSignOff(roots, fakeApi(() => ({ status: 200 })).api, held());
    expect(heading()).toBe('Go-live is held');
    expect(text()).toContain('The mapped column Postcode is missing from the final extract.');
    expect(text()).toContain('Notes are filled for 4% of contacts, down from 61%.');
    const missing = roots.content.querySelector('[data-part=missing-columns]')?.textContent ?? '';
    expect(missing).toContain('Postcode');
    const fill = roots.content.querySelector('[data-part=fill]')?.textContent ?? '';
    expect(fill).toContain('61%');
    expect(fill).toContain('4%');
    const entities = roots.content.querySelector('[data-part=entities]')?.textContent ?? '';
    expect(entities).toContain('102');
    expect(roots.content.querySelector('[data-part=mapping]')).toBeNull();
  });

  it('approves and rejects the go-live', async () => {
    const { api, calls } = fakeApi(() => ({ status: 200, body: { kind: 'reapproval', state: 'approved', decidedAt: '2026-12-01T10:00:00Z' } }));
    renderSignOff(roots, api, held());
    button('Approve').click();
    await settle();
    expect(calls).toEqual<Call[]>([{ method: 'POST', path: '/signoff', body: { decision: 'approve', comment: '' } }]);
    expect(heading()).toBe('Go-live approved');
    expect(text()).toContain('goes live');

    const rejected = fakeApi(() => ({ status: 200, body: { kind: 'reapproval', state: 'rejected' } }));
    renderSignOff(roots, rejected.api, held());
    (roots.content.querySelector('#comment') as HTMLTextAreaElement).value = 'Send the extract with postcodes';
    button('Reject').click();
    await settle();
    expect(rejected.calls[0]?.body).toEqual({ decision: 'reject', comment: 'Send the extract with postcodes' });
    expect(heading()).toBe('Go-live refused');
    expect(text()).toContain('Nothing was written');
  });
});
