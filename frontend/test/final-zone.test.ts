// The final-extract form sends the customer's IANA time zone with the
// go-live time, so the go-live mail can show their local time.

import { afterEach, describe, expect, it } from 'vitest';
import { createFinalView } from '../src/customer/final-view';
import type { Migration } from '../src/lib/types';
import { fakeApi } from './fakes';

afterEach(() => document.body.replaceChildren());

const migration: Migration = {
  id: 'm-1',
  tenantId: 'harbour',
  customerName: 'Harbour Lettings',
  status: 'awaiting_final',
  round: 1,
  files: [],
  createdAt: '2026-11-25T10:00:00Z',
  updatedAt: '2026-11-25T10:05:00Z',
};

describe('final extract form', () => {
  it('sends the browser’s time zone with the go-live time', async () => {
    const { api, calls } = fakeApi(() => ({ status: 202, body: { status: 'scheduled' } }));
    let scheduled = 0;
    const view = createFinalView({
      api,
      migration,
      uploads: { element: document.createElement('div'), busy: () => false, setDisabled: () => {}, activeFileIds: () => new Set<string>() },
      onScheduled: () => scheduled++,
      now: () => new Date('2026-11-25T10:00:00Z'),
      timeZone: 'Asia/Kolkata',
    });
    document.body.append(view.element);
    view.element.querySelector<HTMLInputElement>('input[type=checkbox]')!.click(); // the test extract is final
    view.element.querySelector<HTMLInputElement>('input[type=datetime-local]')!.value = '2030-01-02T09:30:00';
    (view.element as HTMLFormElement).requestSubmit();
    await new Promise((r) => setTimeout(r, 0));
    const post = calls.find((c) => c.path === '/migrations/m-1/final');
    expect(post?.body).toMatchObject({ timeZone: 'Asia/Kolkata' });
    expect(typeof (post?.body as { goLiveAt?: string }).goLiveAt).toBe('string');
    expect(scheduled).toBe(1);
    expect(view.element.textContent).toContain('Asia/Kolkata');
  });
});
