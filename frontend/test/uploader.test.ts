// The real Uppy wiring (createUploader) against a fake cutover API and a
// fake S3 part PUT: part numbering, retries, pause/resume, fresh URLs,
// progress, and errors in words.

import { afterEach, describe, expect, it } from 'vitest';
import { createUploader, partCountFor, partSizeFor, type CompletedUpload, type CutoverUppy } from '../src/customer/uploader';
import { fakeS3, fakeUploadApi, MiB } from './fakes';

afterEach(() => document.body.replaceChildren());

function file(name: string, size: number): File {
  return new File([new Uint8Array(size)], name, { type: 'text/csv' });
}

/** Resolves when every file in the batch has succeeded or failed. */
function settled(uppy: CutoverUppy): Promise<{ ok: string[]; failed: Array<{ id: string; message: string }> }> {
  return new Promise((resolve) => {
    const ok: string[] = [];
    const failed: Array<{ id: string; message: string }> = [];
    const check = () => {
      if (ok.length + failed.length === uppy.getFiles().length) resolve({ ok, failed });
    };
    uppy.on('upload-success', (f) => {
      if (f) ok.push(f.id);
      check();
    });
    uppy.on('upload-error', (f, err) => {
      if (f) failed.push({ id: f.id, message: err.message });
      check();
    });
  });
}

function setup(opts: Partial<Parameters<typeof fakeUploadApi>[0]> = {}) {
  const server = fakeUploadApi(opts);
  const s3 = fakeS3();
  const completed: CompletedUpload[] = [];
  const uppy = createUploader({
    api: server.api,
    migrationId: 'm-1',
    purpose: 'test',
    retryDelays: [0, 0, 0],
    uploadPartBytes: s3.upload,
    onCompleted: (d) => completed.push(d),
  });
  return { server, s3, uppy, completed };
}

describe('part size', () => {
  it('matches the server: max(8 MiB, ceil(size/10000))', () => {
    expect(partSizeFor(1)).toBe(8 * MiB);
    expect(partSizeFor(20 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(100_000 * MiB)).toBe(Math.ceil((100_000 * MiB) / 10_000));
    expect(partCountFor(20 * MiB)).toBe(3);
    expect(partCountFor(100)).toBe(1);
  });
});

describe('createUploader', () => {
  it('uploads several files, each in the server’s parts, and completes them with their ETags', async () => {
    const { server, s3, uppy, completed } = setup();
    const done = settled(uppy);
    uppy.addFiles([
      { name: 'contacts.csv', type: 'text/csv', data: file('contacts.csv', 20 * MiB) },
      { name: 'properties.csv', type: 'text/csv', data: file('properties.csv', 1000) },
    ]);
    const { ok, failed } = await done;
    expect(failed).toEqual([]);
    expect(ok).toHaveLength(2);

    const starts = server.calls.filter((c) => c.path === '/migrations/m-1/uploads');
    expect(starts.map((c) => c.body)).toEqual([
      { fileName: 'contacts.csv', size: 20 * MiB, contentType: 'text/csv', purpose: 'test' },
      { fileName: 'properties.csv', size: 1000, contentType: 'text/csv', purpose: 'test' },
    ]);
    const completes = server.calls.filter((c) => c.path.endsWith('/complete'));
    const big = completes.find((c) => c.path.includes('/f-1/'));
    expect(big?.body).toEqual({
      parts: [
        { partNumber: 1, etag: '"etag-1"' },
        { partNumber: 2, etag: '"etag-2"' },
        { partNumber: 3, etag: '"etag-3"' },
      ],
    });
    expect(completed.map((c) => c.file.name).sort()).toEqual(['contacts.csv', 'properties.csv']);
    // 3 parts + 1 part, each sent once; no fresh URLs were needed.
    expect(s3.attempts.filter((a) => a.ok)).toHaveLength(4);
    expect(server.calls.some((c) => c.path.endsWith('/parts'))).toBe(false);
    for (const f of uppy.getFiles()) expect(f.progress.percentage).toBe(100);
  });

  it('retries a part whose PUT fails, then completes', async () => {
    const { server, s3, uppy } = setup();
    s3.failNext(2, 2, 503);
    const done = settled(uppy);
    uppy.addFile({ name: 'big.csv', type: 'text/csv', data: file('big.csv', 20 * MiB) });
    const { ok, failed } = await done;
    expect(failed).toEqual([]);
    expect(ok).toHaveLength(1);
    expect(s3.attempts.filter((a) => a.part === 2)).toEqual([
      { part: 2, ok: false },
      { part: 2, ok: false },
      { part: 2, ok: true },
    ]);
    const complete = server.calls.find((c) => c.path.endsWith('/complete'));
    expect((complete?.body as { parts: unknown[] }).parts).toHaveLength(3);
  });

  it('fails in words once the retries are spent, and a retry then finishes the file', async () => {
    const { server, s3, uppy } = setup();
    s3.failNext(1, 10, 500);
    const first = settled(uppy);
    uppy.addFile({ name: 'small.csv', type: 'text/csv', data: file('small.csv', 10) });
    const { failed } = await first;
    expect(failed).toHaveLength(1);
    expect(uppy.getFiles()[0]?.error).toBeTruthy();
    expect(server.calls.some((c) => c.path.endsWith('/complete'))).toBe(false);

    s3.failNext(1, 0);
    const again = new Promise<void>((resolve) => uppy.once('upload-success', () => resolve()));
    await uppy.retryUpload(uppy.getFiles()[0]!.id);
    await again;
    expect(server.calls.filter((c) => c.path.endsWith('/complete'))).toHaveLength(1);
  });

  it('Retry after the retries run out resumes the same upload and sends only the missing part', async () => {
    const { createUploadView } = await import('../src/customer/upload-view');
    const { server, s3, uppy } = setup();
    const view = createUploadView(uppy, { label: 'Choose export files', hint: 'or drop them here' });
    document.body.append(view.element);
    s3.failNext(2, 100, 503);
    const failedOnce = new Promise<void>((resolve) => uppy.once('upload-error', () => resolve()));
    uppy.addFile({ name: 'big.csv', type: 'text/csv', data: file('big.csv', 20 * MiB) });
    await failedOnce;
    // Let Uppy's own clean-up after the failure (abortFileUpload) run.
    await new Promise((r) => setTimeout(r, 10));
    const failedPuts = s3.attempts.filter((a) => a.part === 2 && !a.ok).length;
    expect(failedPuts).toBe(4); // the first try and the three retries
    expect(s3.attempts.filter((a) => a.part === 1 && a.ok)).toHaveLength(1);
    expect(s3.attempts.filter((a) => a.part === 3 && a.ok)).toHaveLength(1);

    s3.failNext(2, 0);
    const row = document.querySelector('li.upload[data-file-name="big.csv"]') as HTMLElement;
    const retry = [...row.querySelectorAll('button')].find((b) => b.textContent === 'Retry') as HTMLButtonElement;
    expect(retry.hidden).toBe(false);
    const retried = new Promise<void>((resolve) => uppy.once('upload-success', () => resolve()));
    retry.click();
    await retried;

    // One upload, not a second one; parts 1 and 3 went once; part 2 went after the Retry.
    expect(server.calls.filter((c) => c.method === 'POST' && c.path === '/migrations/m-1/uploads')).toHaveLength(1);
    expect(s3.attempts.filter((a) => a.part === 1)).toEqual([{ part: 1, ok: true }]);
    expect(s3.attempts.filter((a) => a.part === 3)).toEqual([{ part: 3, ok: true }]);
    expect(s3.attempts.filter((a) => a.part === 2)).toEqual([...Array(failedPuts).fill({ part: 2, ok: false }), { part: 2, ok: true }]);
    const completes = server.calls.filter((c) => c.path.endsWith('/complete'));
    expect(completes.map((c) => c.path)).toEqual(['/migrations/m-1/uploads/f-1/complete']);
    expect(completes[0]?.body).toEqual({
      parts: [
        { partNumber: 1, etag: '"etag-1"' },
        { partNumber: 2, etag: '"etag-2"' },
        { partNumber: 3, etag: '"etag-3"' },
      ],
    });
    expect(row.querySelector('.upload-state')?.textContent).toBe('Uploaded');
    document.body.replaceChildren();
  });

  it('pauses and resumes: the finished part is not sent again', async () => {
    const { server, s3, uppy } = setup();
    s3.hold(2);
    const inFlight = s3.started(2);
    const done = settled(uppy);
    uppy.addFile({ name: 'big.csv', type: 'text/csv', data: file('big.csv', 20 * MiB) });
    await inFlight;
    const id = uppy.getFiles()[0]!.id;

    expect(uppy.pauseResume(id)).toBe(true);
    expect(uppy.getFile(id).isPaused).toBe(true);
    const before = uppy.getFile(id).progress.bytesUploaded;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(20 * MiB);
    expect(s3.aborted).toEqual([2]); // the pause cut off the part in flight

    s3.release(2);
    expect(uppy.pauseResume(id)).toBe(false);
    const { ok } = await done;
    expect(ok).toEqual([id]);
    // Part 1 went once; part 2 was cut off by the pause and sent again on resume.
    expect(s3.attempts.filter((a) => a.part === 1 && a.ok)).toHaveLength(1);
    expect(s3.attempts.filter((a) => a.part === 2 && a.ok)).toHaveLength(1);
    expect(server.calls.filter((c) => c.path.endsWith('/complete'))).toHaveLength(1);
    expect(uppy.getFile(id).progress.percentage).toBe(100);
  });

  it('asks the API for fresh part URLs when the plan lacks one', async () => {
    const { server, uppy } = setup({ omitFromPlan: [3] });
    const done = settled(uppy);
    uppy.addFile({ name: 'big.csv', type: 'text/csv', data: file('big.csv', 20 * MiB) });
    const { failed } = await done;
    expect(failed).toEqual([]);
    const fresh = server.calls.filter((c) => c.path === '/migrations/m-1/uploads/f-1/parts');
    expect(fresh.map((c) => c.body)).toEqual([{ partNumbers: [3] }]);
  });

  it('refuses to start when the server plans other parts than it cuts', async () => {
    const { uppy, s3 } = setup({ partSize: () => 5 * MiB });
    const done = settled(uppy);
    uppy.addFile({ name: 'big.csv', type: 'text/csv', data: file('big.csv', 20 * MiB) });
    const { failed } = await done;
    expect(failed[0]?.message).toMatch(/planned 4 part\(s\) of 5242880 bytes/);
    expect(s3.attempts).toEqual([]);
  });

  it('does not take an empty file', () => {
    const { uppy } = setup();
    expect(() => uppy.addFile({ name: 'empty.csv', type: 'text/csv', data: file('empty.csv', 0) })).toThrow();
    expect(uppy.getFiles()).toHaveLength(0);
  });
});

describe('upload view', () => {
  it('says why a file was not taken: empty, or already in the list', async () => {
    const { createUploadView } = await import('../src/customer/upload-view');
    const { s3, uppy } = setup();
    s3.hold(1);
    const view = createUploadView(uppy, { label: 'Choose export files', hint: 'or drop them here' });
    document.body.append(view.element);
    const input = view.element.querySelector('input[type=file]') as HTMLInputElement;
    const choose = (files: File[]) => {
      Object.defineProperty(input, 'files', { value: files, configurable: true });
      input.dispatchEvent(new Event('change'));
    };
    const alert = view.element.querySelector('[role=alert]') as HTMLElement;
    const a = file('a.csv', 10);
    choose([a]);
    choose([a]);
    expect(alert.textContent).toBe('Not uploaded again: a.csv is already in the list.');
    expect(alert.textContent).not.toContain('Empty');
    choose([file('empty.csv', 0)]);
    expect(alert.textContent).toBe('Not uploaded (empty): empty.csv. Empty files cannot be migrated: export them again.');
    uppy.cancelAll();
  });


  it('shows a progress bar per file, pauses and resumes from its button, and offers Retry in words on failure', async () => {
    const { createUploadView } = await import('../src/customer/upload-view');
    const { s3, uppy } = setup();
    const view = createUploadView(uppy, { label: 'Choose export files', hint: 'or drop them here' });
    document.body.append(view.element);
    s3.hold(2);
    const inFlight = s3.started(2);
    uppy.addFile({ name: 'big.csv', type: 'text/csv', data: file('big.csv', 20 * MiB) });
    await inFlight;

    const row = (name: string) => document.querySelector(`li.upload[data-file-name="${name}"]`) as HTMLElement;
    const big = row('big.csv');
    const progress = big.querySelector('progress') as HTMLProgressElement;
    // The bar is labelled by the file's name and shows how far it got.
    expect(document.querySelector(`label[for="${progress.id}"]`)?.textContent).toContain('big.csv');
    expect(progress.value).toBeGreaterThan(0);
    expect(progress.value).toBeLessThan(100);
    expect(view.busy()).toBe(true);

    const pause = big.querySelector('button[aria-pressed]') as HTMLButtonElement;
    pause.click();
    expect(pause.textContent).toBe('Resume');
    expect(pause.getAttribute('aria-pressed')).toBe('true');
    expect(big.querySelector('.upload-state')?.textContent).toMatch(/^Paused at \d+%$/);

    s3.release(2);
    const done = new Promise<void>((resolve) => uppy.on('upload-success', (f) => f?.name === 'big.csv' && resolve()));
    pause.click();
    await done;
    expect(progress.value).toBe(100);
    expect(big.querySelector('.upload-state')?.textContent).toBe('Uploaded');
    expect(pause.hidden).toBe(true);

    s3.failNext(1, 10, 500);
    const failedOnce = new Promise<void>((resolve) => uppy.once('upload-error', () => resolve()));
    uppy.addFile({ name: 'bad.csv', type: 'text/csv', data: file('bad.csv', 10) });
    await failedOnce;
    const bad = row('bad.csv');
    expect(bad.querySelector('.upload-state')?.textContent).toBe('Failed: Storage answered HTTP 500 (SlowDown). Retry in a moment.');
    const retry = [...bad.querySelectorAll('button')].find((b) => b.textContent === 'Retry') as HTMLButtonElement;
    expect(retry.hidden).toBe(false);
    expect(retry.getAttribute('aria-label')).toBe('Retry bad.csv');
    s3.failNext(1, 0);
    const retried = new Promise<void>((resolve) => uppy.on('upload-success', (f) => f?.name === 'bad.csv' && resolve()));
    retry.click();
    await retried;
    expect(bad.querySelector('.upload-state')?.textContent).toBe('Uploaded');
    expect(document.querySelector('[role=status]')?.textContent).toBe('bad.csv uploaded.');
    document.body.replaceChildren();
  });
});
