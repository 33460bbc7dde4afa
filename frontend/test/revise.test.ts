// Issue 12, item 4, site side: during the workbook's review the customer
// may change the mapping or upload a corrected extract, and run the test
// migration again; the button appears when there is something new.

import { afterEach, describe, expect, it } from 'vitest';
import { createReviseView, whatIsNew, type ReviseUploads } from '../src/customer/revise-view';
import type { Migration, MigrationFile } from '../src/lib/types';
import { actionLabel, noteText } from '../src/lib/timeline';
import { fakeApi, type Call } from './fakes';
import { proposal } from './fixtures';

afterEach(() => document.body.replaceChildren());

const settle = () => new Promise((r) => setTimeout(r, 0));

function migration(extra: Partial<Migration> & { draftMapping?: string } = {}): Migration {
  return {
    id: 'm-1', tenantId: 'acme', customerName: 'Acme', status: 'awaiting_review', round: 1,
    files: [{ id: 'f-1', name: 'contacts.csv', size: 100, purpose: 'test', round: 1, complete: true } as MigrationFile],
    createdAt: '2026-12-01T09:00:00Z', updatedAt: '2026-12-01T09:00:00Z',
    ...extra,
  };
}

const corrected = { id: 'f-9', name: 'contacts-fixed.csv', size: 120, purpose: 'test', round: 2, complete: true } as MigrationFile;

/** A server for the review: the proposal, saving the mapping, submitting, removing a file. */
function server(submit: { status: number; body?: unknown } = { status: 202, body: {} }) {
  return (c: Call) => {
    if (c.method === 'GET' && c.path === '/migrations/m-1/proposal') return { status: 200, body: proposal() };
    if (c.method === 'PUT' && c.path === '/migrations/m-1/mapping') return { status: 200, body: {} };
    if (c.method === 'POST' && c.path === '/migrations/m-1/submit') return submit;
    if (c.method === 'DELETE' && c.path === '/migrations/m-1/uploads/f-9') return { status: 200, body: {} };
    return { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
  };
}

function mount(m: Migration, route = server(), busy = false) {
  const { api, calls } = fakeApi(route);
  let changed = 0;
  let built = 0;
  const uploads: ReviseUploads = {
    element: document.createElement('div'),
    busy: () => busy,
    activeFileIds: () => new Set(),
    destroy: () => undefined,
  };
  const view = createReviseView({ api, migration: m, onChanged: () => changed++, createUploads: () => (built++, uploads) });
  document.body.append(view.element);
  return { view, calls, changed: () => changed, built: () => built };
}

const button = (text: string) => [...document.querySelectorAll('button')].find((b) => b.textContent === text) as HTMLButtonElement;

describe('revising during the review', () => {
  it('offers to change the mapping and to upload a corrected extract, and no rerun while nothing is new', () => {
    mount(migration());
    expect(button('Change the mapping')).toBeTruthy();
    expect(button('Upload a corrected extract')).toBeTruthy();
    expect(button('Run the test migration again').hidden).toBe(true);
    expect(document.querySelector('[data-part="revise"]')?.textContent).toContain('Until you request sign-off');
  });

  it('opens the mapping editor on the saved revision (the proposal)', async () => {
    const { calls } = mount(migration());
    const open = button('Change the mapping');
    open.click();
    await settle();
    await settle();
    expect(open.getAttribute('aria-expanded')).toBe('true');
    expect(calls.some((c) => c.method === 'GET' && c.path === '/migrations/m-1/proposal')).toBe(true);
    expect(document.querySelector('.mapping-editor')).toBeTruthy();
  });

  it('offers the rerun once a revised mapping is saved, and says what it runs with', () => {
    const { view } = mount(migration());
    view.update(migration({ draftMapping: '{"version":1}' }));
    expect(button('Run the test migration again').hidden).toBe(false);
    expect(document.querySelector('.revise-pending')?.textContent).toContain('your revised mapping');
    expect(document.querySelector('.revise-pending')?.textContent).toContain('Run the test migration again with these changes');
    expect(whatIsNew(migration())).toEqual([]);
  });

  it('lists a corrected extract for the next round, which can be removed, and offers the rerun', async () => {
    const { view, calls, changed, built } = mount(migration());
    button('Upload a corrected extract').click();
    button('Upload a corrected extract').click();
    button('Upload a corrected extract').click();
    expect(built()).toBe(1);
    view.update(migration({ files: [...(migration().files ?? []), corrected] }));
    expect(document.querySelector('.revise-pending')?.textContent).toContain('the corrected extract (contacts-fixed.csv)');
    expect(button('Run the test migration again').hidden).toBe(false);
    const remove = [...document.querySelectorAll('button')].find((b) => b.getAttribute('aria-label') === 'Remove contacts-fixed.csv') as HTMLButtonElement;
    // The round that ran keeps its file: only the next round's is listed.
    expect(document.querySelector('.file-list')?.textContent).not.toContain('contacts.csv ');
    remove.click();
    await settle();
    expect(calls.some((c) => c.method === 'DELETE' && c.path === '/migrations/m-1/uploads/f-9')).toBe(true);
    expect(changed()).toBe(1);
  });

  it('runs the test migration again, saving unsaved mapping edits first', async () => {
    const { view, calls, changed } = mount(migration());
    button('Change the mapping').click();
    await settle();
    await settle();
    const select = [...document.querySelectorAll('tbody tr')].find((r) => r.querySelector('th')?.textContent === 'Remarks')?.querySelector('select') as HTMLSelectElement;
    select.value = 'notes';
    select.dispatchEvent(new Event('change'));
    view.update(migration());
    const rerun = button('Run the test migration again');
    expect(rerun.hidden).toBe(false);
    rerun.click();
    await settle();
    await settle();
    await settle();
    const order = calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`);
    expect(order).toEqual(['PUT /migrations/m-1/mapping', 'POST /migrations/m-1/submit']);
    expect(document.querySelector('[data-part="revise"]')?.textContent).toContain('The test migration is running again');
    expect(changed()).toBeGreaterThan(0);
  });

  it('does not rerun while a corrected file is still uploading', async () => {
    const { calls } = mount(migration({ files: [...(migration().files ?? []), corrected] }), server(), true);
    button('Upload a corrected extract').click();
    button('Run the test migration again').click();
    await settle();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    expect(document.querySelector('[role=alert]')?.textContent).toContain('Wait for every file to finish uploading');
  });

  it('shows the server’s reason when the rerun is refused (sign-off was requested meanwhile)', async () => {
    const message = 'The test migration cannot change now: sign-off was requested for round 1, and the coordinator is asked about exactly that workbook.';
    mount(migration({ draftMapping: '{}' }), server({ status: 409, body: { error: { code: 'conflict', message } } }));
    const rerun = button('Run the test migration again');
    rerun.click();
    await settle();
    await settle();
    expect(document.querySelector('[role=alert]')?.textContent).toContain(message);
    expect(rerun.disabled).toBe(false);
  });
});

describe('the audit trail of a rerun', () => {
  it('words round.rerun as a note under the round it started', () => {
    expect(noteText('round.rerun', "round 2 replaces round 1's workbook: mapping revised")).toBe(
      "Run again: round 2 replaces round 1's workbook: mapping revised.",
    );
    expect(actionLabel('round.rerun')).toBe('Test migration run again');
  });
});
