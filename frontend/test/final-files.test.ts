// The final-extract panel lists, like the test-extract panel, each file of
// the round with a Remove button, the files the service refused with why,
// and the uploads left unfinished.

import { afterEach, describe, expect, it } from 'vitest';
import { createFinalView } from '../src/customer/final-view';
import type { Migration, MigrationFile } from '../src/lib/types';
import { fakeApi, MiB } from './fakes';

afterEach(() => document.body.replaceChildren());

const settle = () => new Promise((r) => setTimeout(r, 0));

const file = (id: string, extra: Partial<MigrationFile> = {}): MigrationFile => ({
  id,
  name: `${id}.csv`,
  size: 2 * MiB,
  purpose: 'final',
  round: 1,
  complete: true,
  ...extra,
});

const migration = (files: MigrationFile[]): Migration => ({
  id: 'm-1',
  tenantId: 'harbour',
  customerName: 'Harbour Lettings',
  status: 'awaiting_final',
  round: 1,
  files,
  createdAt: '2026-11-25T10:00:00Z',
  updatedAt: '2026-11-25T10:05:00Z',
});

const uploads = (active: string[] = []) => ({
  element: document.createElement('div'),
  busy: () => false,
  setDisabled: () => {},
  activeFileIds: () => new Set(active),
});

describe('final extract files', () => {
  it('lists received and refused final files with Remove, and schedules only the received ones', async () => {
    const deleted: string[] = [];
    const { api, calls } = fakeApi((c) => {
      if (c.method === 'DELETE') {
        deleted.push(c.path);
        return { status: 204 };
      }
      if (c.path.endsWith('/parts')) return { status: 200, body: { parts: [{ partNumber: 1, size: 8 * MiB, etag: '"e1"' }] } };
      return { status: 202, body: { status: 'scheduled' } };
    });
    let polled = 0;
    const files = [
      file('contacts'),
      file('deals'),
      file('scan', { name: 'scan.pdf', complete: false, refused: 'a PDF is not a spreadsheet export' }),
      file('half', { size: 20 * MiB, complete: false }),
      file('test-one', { purpose: 'test' }),
      file('old', { round: 0 }),
    ];
    const view = createFinalView({ api, migration: migration(files), uploads: uploads(), onScheduled: () => {}, onRemoved: () => polled++, now: () => new Date('2026-11-25T10:00:00Z'), timeZone: 'Europe/London' });
    document.body.append(view.element);
    await settle();

    const received = view.element.querySelector('ul[aria-label="Final extract files received"]')!;
    const names = [...received.querySelectorAll('li')].map((li) => li.textContent ?? '');
    expect(names).toHaveLength(3);
    expect(names[0]).toContain('contacts.csv');
    expect(names[1]).toContain('deals.csv');
    expect(names[2]).toContain('scan.pdf');
    expect(names[2]).toContain('Not usable: a PDF is not a spreadsheet export');
    expect(received.textContent).not.toContain('test-one');
    expect(received.textContent).not.toContain('old.csv');
    for (const n of ['contacts.csv', 'deals.csv', 'scan.pdf']) expect(received.querySelector(`button[aria-label="Remove ${n}"]`)).not.toBeNull();

    const unfinished = view.element.querySelector('ul[aria-label="Unfinished uploads"]')!;
    expect(unfinished.textContent).toContain('half.csv — 1 of 3 parts uploaded: pick the same file again to resume it.');

    received.querySelector<HTMLButtonElement>('button[aria-label="Remove deals.csv"]')!.click();
    await settle();
    await settle();
    expect(deleted).toEqual(['/migrations/m-1/uploads/deals']);
    expect(polled).toBe(1); // the page polls again at once
    expect([...received.querySelectorAll('li')].map((li) => li.textContent)).not.toContain(expect.stringContaining('deals.csv'));

    // The next poll no longer lists it: schedule sends the files that remain.
    view.update(migration(files.filter((f) => f.id !== 'deals')));
    view.element.querySelector<HTMLInputElement>('input[type=datetime-local]')!.value = '2030-01-02T09:30:00';
    (view.element as HTMLFormElement).requestSubmit();
    await settle();
    const post = calls.find((c) => c.method === 'POST' && c.path === '/migrations/m-1/final');
    expect((post?.body as { fileIds?: string[] }).fileIds).toEqual(['contacts']);
  });

  it('says in words when a file cannot be removed', async () => {
    const { api } = fakeApi(() => ({ status: 409, body: { error: { code: 'conflict', message: 'The final migration is scheduled; its files can no longer be removed.' } } }));
    const view = createFinalView({ api, migration: migration([file('contacts')]), uploads: uploads(), onScheduled: () => {}, timeZone: '' });
    document.body.append(view.element);
    view.element.querySelector<HTMLButtonElement>('button[aria-label="Remove contacts.csv"]')!.click();
    await settle();
    await settle();
    expect(view.element.querySelector('[role=alert]')?.textContent).toBe('The final migration is scheduled; its files can no longer be removed.');
    expect(view.element.textContent).toContain('contacts.csv');
  });
});
