// The workbook's notes per file: how records are identified when no
// column identifies them.

import { afterEach, describe, expect, it } from 'vitest';
import { createNotesSection } from '../src/customer/notes-view';
import { createWorkbookView } from '../src/customer/workbook-view';
import type { Workbook } from '../src/lib/types';
import { fakeApi } from './fakes';

afterEach(() => document.body.replaceChildren());

const note = 'No column identifies the records, so each record’s id is derived from its e-mail; keep those values the same in the final extract.';

describe('notes in the workbook', () => {
  it('lists each file’s notes under its name', () => {
    const section = createNotesSection([
      { file: 'subscribers.csv', entity: 'contact', notes: [note] },
      { file: 'empty.csv', entity: 'contact', notes: [] },
    ]);
    expect(section).not.toBeNull();
    document.body.append(section as HTMLElement);
    expect(document.querySelectorAll('.file-notes')).toHaveLength(1);
    const file = document.querySelector('.file-notes[data-file="subscribers.csv"]');
    expect(file?.querySelector('h4')?.textContent).toContain('subscribers.csv');
    expect(file?.querySelector('li')?.textContent).toBe(note);
  });

  it('is left out when no file has a note', () => {
    expect(createNotesSection(undefined)).toBeNull();
    expect(createNotesSection([{ file: 'a.csv', entity: 'contact', notes: null }])).toBeNull();
  });

  it('is part of the customer’s workbook', () => {
    const wb: Workbook = { round: 1, mappingVersion: 1, reconciliation: [], spotChecks: [], issues: null, fillRates: [], unmapped: [], notes: [{ file: 'subscribers.csv', entity: 'contact', notes: [note] }] };
    const { api } = fakeApi(() => ({ status: 200, body: {} }));
    const view = createWorkbookView({ api, migrationId: 'm-1', workbook: wb, review: {}, editable: false, onRequested: () => undefined });
    document.body.append(view.element);
    expect(document.querySelector('.workbook section.notes h3')?.textContent).toBe('How your records are identified');
    expect(document.querySelector('.workbook section.notes li')?.textContent).toBe(note);
  });
});
