// The ops detail: failed chunks with their errors, and Retry while final_blocked.

import { afterEach, describe, expect, it } from 'vitest';
import { renderDetail } from '../src/ops/detail';
import { renderList } from '../src/ops/list';
import type { Migration, OpsDetail } from '../src/lib/types';

afterEach(() => document.body.replaceChildren());

const migration = (status: Migration['status']): Migration => ({
  id: 'm-1',
  tenantId: 'harbour',
  customerName: 'Harbour Lettings',
  status,
  round: 1,
  files: [],
  createdAt: '2026-11-25T10:00:00Z',
  updatedAt: '2026-11-25T10:05:00Z',
});

const detail = (status: Migration['status']): OpsDetail => ({
  migration: migration(status),
  audit: [{ at: '2026-11-25T10:04:00Z', actor: 'system', action: 'final.blocked', detail: 'chunk 1 failed' }],
  chunks: [
    { index: 0, fileName: 'contacts.csv', status: 'done', attempts: 1, counts: { read: 5, migrated: 5, rejected: 0, skipped: 0 } },
    { index: 1, fileName: 'contacts.csv', status: 'failed', attempts: 3, counts: null, error: 'the part could not be read' },
  ],
  execution: { name: 'm-1-r1', status: 'RUNNING', startDate: '2026-11-25T10:01:00Z', events: [{ timestamp: '2026-11-25T10:01:00Z', type: 'ExecutionStarted' }] },
});

describe('ops detail', () => {
  it('lists chunks with their errors and retries a blocked final migration', async () => {
    let retried = 0;
    const el = renderDetail(detail('final_blocked'), { onBack: () => {}, onRetry: async () => (retried++, 'Retry started.') });
    document.body.append(el);
    expect(el.textContent).toContain('the part could not be read');
    expect(el.textContent).toContain('1 chunk(s) of the final migration failed');
    expect(el.textContent).toContain('ExecutionStarted');
    const retry = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Retry the failed chunks') as HTMLButtonElement;
    retry.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(retried).toBe(1);
    expect(el.querySelector('[role=status]')?.textContent).toBe('Retry started.');
  });

  it('offers no Retry otherwise, and a refused retry is said in words', async () => {
    const live = renderDetail(detail('live'), { onBack: () => {}, onRetry: async () => '' });
    expect([...live.querySelectorAll('button')].some((b) => b.textContent === 'Retry the failed chunks')).toBe(false);

    const el = renderDetail(detail('final_blocked'), { onBack: () => {}, onRetry: async () => Promise.reject(new Error('Nothing waits for a retry.')) });
    const retry = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Retry the failed chunks') as HTMLButtonElement;
    retry.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(el.querySelector('[role=status]')?.textContent).toBe('Nothing waits for a retry.');
    expect(retry.disabled).toBe(false);
  });

  it('lists migrations with status, current step, age and failure', () => {
    const failed = { ...migration('failed'), failure: { step: 'TestMigrate', reason: 'disk full' } };
    const el = renderList([failed], new Date('2026-11-25T12:00:00Z'), () => {});
    const cells = [...el.querySelectorAll('tbody td')].map((td) => td.textContent);
    expect(cells).toEqual(['harbour', 'failed', 'Stopped', '2 h', 'TestMigrate: disk full']);
  });
});
