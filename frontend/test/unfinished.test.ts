// Unfinished uploads after a reload: the migration lists a file with
// complete: false; the page says how far it got (the parts route), tells
// the customer to pick the same file again, and offers Remove.

import { afterEach, describe, expect, it } from 'vitest';
import { createUnfinishedList, unfinishedUploads } from '../src/customer/received-files';
import { createUploadView } from '../src/customer/upload-view';
import { createUploader } from '../src/customer/uploader';
import type { Migration, MigrationFile } from '../src/lib/types';
import { fakeApi, fakeS3, fakeUploadApi, MiB } from './fakes';

afterEach(() => document.body.replaceChildren());

const settle = () => new Promise((r) => setTimeout(r, 0));

const file = (id: string, extra: Partial<MigrationFile> = {}): MigrationFile => ({
  id,
  name: `${id}.csv`,
  size: 30 * MiB, // 4 parts of 8 MiB
  purpose: 'test',
  round: 1,
  complete: false,
  ...extra,
});

const migration = (files: MigrationFile[]): Migration => ({
  id: 'm-1',
  tenantId: 'harbour',
  customerName: 'Harbour Lettings',
  status: 'created',
  round: 0,
  files,
  createdAt: '2026-11-25T10:00:00Z',
  updatedAt: '2026-11-25T10:05:00Z',
});

describe('unfinished uploads', () => {
  it('picks the unfinished files of the purpose and round, not complete, refused or other rounds', () => {
    const m = migration([
      file('contacts'),
      file('done', { complete: true }),
      file('pdf', { refused: 'a PDF is not an export' }),
      file('old', { round: 0 }),
      file('final', { purpose: 'final' }),
    ]);
    expect(unfinishedUploads(m, 'test', 1).map((f) => f.id)).toEqual(['contacts']);
    expect(unfinishedUploads(m, 'final', 1).map((f) => f.id)).toEqual(['final']);
  });

  it('says how many parts are uploaded, skips the ones uploading now, and removes one', async () => {
    let removed = false;
    const { api, calls } = fakeApi((c) => {
      if (c.method === 'GET' && c.path === '/migrations/m-1/uploads/contacts/parts')
        return { status: 200, body: { parts: [1, 2].map((n) => ({ partNumber: n, size: 8 * MiB, etag: `"e${n}"` })) } };
      if (c.method === 'GET' && c.path === '/migrations/m-1/uploads/deals/parts')
        return { status: 409, body: { error: { code: 'conflict', message: 'The upload of deals.csv is complete.' } } };
      if (c.method === 'DELETE' && c.path === '/migrations/m-1/uploads/contacts') {
        removed = true;
        return { status: 204 };
      }
      return { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
    });
    const gone: string[] = [];
    const errors: string[] = [];
    const list = createUnfinishedList({ api, migrationId: 'm-1', onRemoved: (f) => gone.push(f.id), onError: (m) => errors.push(m) });
    document.body.append(list.element);
    expect(list.element.hidden).toBe(true);

    const files = unfinishedUploads(migration([file('contacts'), file('deals', { size: 3 * MiB }), file('running')]), 'test', 1);
    list.update(files, new Set(['running']));
    await settle();
    await settle();

    const items = [...list.element.querySelectorAll('li')];
    expect(list.element.hidden).toBe(false);
    expect(items.map((li) => li.dataset.fileId)).toEqual(['contacts', 'deals']);
    expect(items[0]?.textContent).toContain('contacts.csv — 2 of 4 parts uploaded: pick the same file again to resume it.');
    // The count could not be had: the name and size alone.
    expect(items[1]?.textContent).toContain('deals.csv — 3.0 MB, not finished: pick the same file again to resume it.');
    expect(calls.filter((c) => c.path.endsWith('/parts')).length).toBe(2);
    expect(calls.some((c) => c.path.includes('running'))).toBe(false);

    // Polls do not ask again.
    list.update(files, new Set(['running']));
    await settle();
    expect(calls.filter((c) => c.path.endsWith('/parts')).length).toBe(2);

    list.element.querySelector<HTMLButtonElement>('button[aria-label="Remove contacts.csv"]')!.click();
    await settle();
    await settle();
    expect(removed).toBe(true);
    expect(gone).toEqual(['contacts']);
    expect(errors).toEqual([]);
    expect([...list.element.querySelectorAll('li')].map((li) => li.dataset.fileId)).toEqual(['deals']);
  });

  it('says in words when a file cannot be removed, and keeps it', async () => {
    const { api } = fakeApi((c) =>
      c.method === 'DELETE'
        ? { status: 409, body: { error: { code: 'conflict', message: 'The round was submitted; its files can no longer be removed.' } } }
        : { status: 200, body: { parts: [] } },
    );
    const errors: string[] = [];
    const list = createUnfinishedList({ api, migrationId: 'm-1', onRemoved: () => {}, onError: (m) => errors.push(m) });
    list.update([file('contacts')], new Set());
    await settle();
    expect(list.element.textContent).toContain('0 of 4 parts uploaded');
    const button = list.element.querySelector<HTMLButtonElement>('button')!;
    button.click();
    await settle();
    await settle();
    expect(errors).toEqual(['The round was submitted; its files can no longer be removed.']);
    expect(button.disabled).toBe(false);
    expect(list.element.querySelectorAll('li').length).toBe(1);
  });
});

describe('uploads in progress', () => {
  it('are known to the upload view by the service’s file id, so they are not listed as unfinished too', async () => {
    const s3 = fakeS3();
    const server = fakeUploadApi({ s3 });
    const uppy = createUploader({ api: server.api, migrationId: 'm-1', purpose: 'test', retryDelays: [0], uploadPartBytes: s3.upload, storage: null });
    const view = createUploadView(uppy, { label: 'Choose', hint: '', check: async () => null });
    expect(view.activeFileIds()).toEqual(new Set());
    s3.hold(2);
    const inFlight = s3.started(2);
    uppy.addFile({ name: 'contacts.csv', type: 'text/csv', data: new File([new Uint8Array(20 * MiB)], 'contacts.csv') });
    await inFlight;
    expect(view.activeFileIds()).toEqual(new Set(['f-1']));
    uppy.pauseAll();
    s3.release(2);
    uppy.destroy();
  });
});
