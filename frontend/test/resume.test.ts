// Resume after a reload: the real Uppy wiring (createUploader), a fake API
// that lists the parts the fake S3 holds, and a storage that outlives the
// "page" (the uploader is destroyed and made again, as a reload does).

import { afterEach, describe, expect, it } from 'vitest';
import {
  createUploader,
  ResumeRecords,
  resumeFingerprint,
  type CompletedUpload,
  type CutoverUppy,
  type ResumeStorage,
} from '../src/customer/uploader';
import { fakeS3, fakeUploadApi, MiB, type FakeS3 } from './fakes';

afterEach(() => document.body.replaceChildren());

/** An in-memory Storage that survives the uploader, like localStorage survives a reload. */
function memoryStorage(): ResumeStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

const lastModified = Date.UTC(2026, 10, 20, 9, 0);
const bigFile = () => new File([new Uint8Array(20 * MiB)], 'contacts.csv', { type: 'text/csv', lastModified });

function page(server: ReturnType<typeof fakeUploadApi>, s3: FakeS3, storage: ResumeStorage) {
  const completed: CompletedUpload[] = [];
  const uppy = createUploader({ api: server.api, migrationId: 'm-1', purpose: 'test', retryDelays: [0], uploadPartBytes: s3.upload, storage, onCompleted: (d) => completed.push(d) });
  return { uppy, completed };
}

function succeeded(uppy: CutoverUppy): Promise<void> {
  return new Promise((resolve, reject) => {
    uppy.on('upload-success', () => resolve());
    uppy.on('upload-error', (_f, err) => reject(err));
  });
}

/** Starts the big file on a first page and "reloads" once parts 1 and 2 are in S3 and part 3 is in flight. */
async function reloadMidUpload() {
  const s3 = fakeS3();
  const server = fakeUploadApi({ s3 });
  const storage = memoryStorage();
  const first = page(server, s3, storage);
  s3.hold(3);
  const inFlight = s3.started(3);
  first.uppy.addFile({ name: 'contacts.csv', type: 'text/csv', data: bigFile() });
  await inFlight;
  while (s3.stored.get('f-1')?.size !== 2) await new Promise((r) => setTimeout(r, 1));
  // The reload: the page stops mid-part and its memory is gone. (Not
  // destroy(): that removes the files, which a reload does not.)
  first.uppy.pauseAll();
  s3.release(3);
  return { s3, server, storage };
}

describe('resume after a reload', () => {
  it('sends only the parts S3 does not hold, into the same upload', async () => {
    const { s3, server, storage } = await reloadMidUpload();
    const callsBefore = server.calls.length;
    const putsBefore = s3.attempts.length;
    expect(storage.items.size).toBe(1);

    const second = page(server, s3, storage);
    const done = succeeded(second.uppy);
    second.uppy.addFile({ name: 'contacts.csv', type: 'text/csv', data: bigFile() });
    await done;

    const after = server.calls.slice(callsBefore);
    expect(after.filter((c) => c.method === 'POST' && c.path === '/migrations/m-1/uploads')).toHaveLength(0);
    expect(after.filter((c) => c.method === 'GET').map((c) => c.path)).toEqual(['/migrations/m-1/uploads/f-1/parts']);
    expect(s3.attempts.slice(putsBefore).map((a) => a.part)).toEqual([3]);
    expect(after.find((c) => c.path.endsWith('/complete'))?.body).toEqual({
      parts: [
        { partNumber: 1, etag: '"etag-1"' },
        { partNumber: 2, etag: '"etag-2"' },
        { partNumber: 3, etag: '"etag-3"' },
      ],
    });
    expect(second.completed.map((c) => c.file.id)).toEqual(['f-1']);
    expect(storage.items.size).toBe(0); // a finished upload is forgotten
  });

  it('asks the server, not its own record: a part S3 lost is sent again', async () => {
    const { s3, server, storage } = await reloadMidUpload();
    s3.stored.get('f-1')!.delete(2);
    const putsBefore = s3.attempts.length;
    const second = page(server, s3, storage);
    const done = succeeded(second.uppy);
    second.uppy.addFile({ name: 'contacts.csv', type: 'text/csv', data: bigFile() });
    await done;
    expect(s3.attempts.slice(putsBefore).map((a) => a.part).sort()).toEqual([2, 3]);
  });

  it('starts afresh when the server no longer has the upload, or for another file', async () => {
    const { s3, server, storage } = await reloadMidUpload();
    // The server answers 409 for the remembered upload (say it was completed elsewhere).
    await server.api('POST', '/migrations/m-1/uploads/f-1/complete', { parts: [] });
    const second = page(server, s3, storage);
    const done = succeeded(second.uppy);
    second.uppy.addFile({ name: 'contacts.csv', type: 'text/csv', data: bigFile() });
    await done;
    const starts = server.calls.filter((c) => c.method === 'POST' && c.path === '/migrations/m-1/uploads');
    expect(starts).toHaveLength(2); // the first page's, and a fresh one
    expect(second.completed.map((c) => c.file.id)).toEqual(['f-2']);

    // A file with another modification time is another file: no resume asked.
    const third = page(server, s3, storage);
    const calls = server.calls.length;
    const other = succeeded(third.uppy);
    third.uppy.addFile({ name: 'contacts.csv', type: 'text/csv', data: new File([new Uint8Array(10)], 'contacts.csv', { lastModified: lastModified + 1 }) });
    await other;
    expect(server.calls.slice(calls).some((c) => c.method === 'GET')).toBe(false);
  });
});

describe('ResumeRecords', () => {
  it('keeps one record per file, survives bad storage contents, and forgets', () => {
    const storage = memoryStorage();
    const records = new ResumeRecords(storage, 'm-1');
    const fp = resumeFingerprint('test', { name: 'a.csv', size: 5, lastModified: 1 });
    expect(fp).not.toBe(resumeFingerprint('final', { name: 'a.csv', size: 5, lastModified: 1 }));
    records.set(fp, { fileId: 'f-1', uploadId: 'u-1', partSize: 8 * MiB, savedAt: 1 });
    expect(new ResumeRecords(storage, 'm-1').get(fp)?.fileId).toBe('f-1');
    expect(new ResumeRecords(storage, 'm-2').get(fp)).toBeUndefined();
    expect(JSON.stringify([...storage.items])).not.toMatch(/key|k=/);
    records.delete(fp);
    expect(storage.items.size).toBe(0);

    storage.setItem('cutover:uploads:m-1', '{not json');
    expect(records.get(fp)).toBeUndefined();
    const throwing: ResumeStorage = { getItem: () => null, setItem: () => { throw new Error('QuotaExceeded'); }, removeItem: () => {} };
    expect(() => new ResumeRecords(throwing, 'm-1').set(fp, { fileId: 'f', uploadId: 'u', partSize: 1, savedAt: 1 })).not.toThrow();
    for (let i = 0; i < 60; i++) records.set(`fp-${i}`, { fileId: `f-${i}`, uploadId: 'u', partSize: 1, savedAt: i });
    expect(Object.keys(JSON.parse(storage.getItem('cutover:uploads:m-1')!))).toHaveLength(50);
    expect(records.get('fp-0')).toBeUndefined();
    expect(records.get('fp-59')?.fileId).toBe('f-59');
  });
});
