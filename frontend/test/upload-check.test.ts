// The upload view refuses, before Uppy starts, a file the service would
// refuse once uploaded, and says why next to the file.

import { afterEach, describe, expect, it } from 'vitest';
import { createUploadView } from '../src/customer/upload-view';
import { createUploader } from '../src/customer/uploader';
import { fakeS3, fakeUploadApi } from './fakes';

afterEach(() => document.body.replaceChildren());

const bytes = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => (cond() ? resolve() : Date.now() - started > 2000 ? reject(new Error('timed out')) : setTimeout(tick, 5));
    tick();
  });
}

describe('upload view, before the upload', () => {
  it('shows why a PDF or random bytes are not uploaded, next to the file, and sends nothing for them', async () => {
    const server = fakeUploadApi();
    const s3 = fakeS3();
    const uppy = createUploader({ api: server.api, migrationId: 'm-1', purpose: 'test', retryDelays: [0], uploadPartBytes: s3.upload });
    const view = createUploadView(uppy, { label: 'Choose export files', hint: 'or drop them here' });
    document.body.append(view.element);
    const input = view.element.querySelector('input[type=file]') as HTMLInputElement;
    Object.defineProperty(input, 'files', {
      value: [
        new File([bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')], 'contacts.csv'),
        new File([bytes('\x00\x13\x9f\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e\x0f\x10\x11\x12')], 'export.zip'),
        new File([bytes('Id,Name\n1,Ann\n')], 'good.csv', { type: 'text/csv' }),
      ],
      configurable: true,
    });
    input.dispatchEvent(new Event('change'));
    await until(() => view.element.querySelectorAll('li.upload').length === 3 && uppy.getFiles().length === 1);

    const row = (name: string) => view.element.querySelector(`li[data-file-name="${name}"]`) as HTMLElement;
    expect(row('contacts.csv').textContent).toContain('Not uploaded: contacts.csv: this is a PDF document, not a spreadsheet export.');
    expect(row('export.zip').textContent).toContain('export.zip: this is binary data, not text');
    expect(row('good.csv').classList.contains('refused')).toBe(false);
    expect(uppy.getFiles().map((f) => f.name)).toEqual(['good.csv']);
    await until(() => server.calls.length > 0);
    expect(server.calls.filter((c) => c.path === '/migrations/m-1/uploads').map((c) => (c.body as { fileName: string }).fileName)).toEqual(['good.csv']);

    (row('contacts.csv').querySelector('button') as HTMLButtonElement).click();
    expect(row('contacts.csv')).toBeNull();
    uppy.cancelAll();
  });
});
