// The ops detail shows the lifecycle events published for the migration:
// what the product being joined heard, and any that wait for a retry.

import { afterEach, describe, expect, it } from 'vitest';
import { renderDetail } from '../src/ops/detail';
import type { OpsDetail } from '../src/lib/types';

afterEach(() => document.body.replaceChildren());

const detail: OpsDetail = {
  migration: { id: 'm-1', tenantId: 'harbour', customerName: 'Harbour Lettings', status: 'live', round: 1, files: [], createdAt: '2026-11-25T10:00:00Z', updatedAt: '2026-11-25T10:05:00Z' },
  audit: [],
  chunks: [],
  execution: null,
  events: [
    { id: 'm-1#final.starting#r1', type: 'final.starting', round: 1, occurredAt: '2026-11-25T10:01:00Z', status: 'published', attempts: 1, publishedAt: '2026-11-25T10:01:01Z', busEventId: 'eb-1', createdAt: '2026-11-25T10:01:00Z' },
    { id: 'm-1#migration.live#r1', type: 'migration.live', round: 1, occurredAt: '2026-11-25T10:03:00Z', status: 'pending', attempts: 2, lastError: 'The event could not be published (EventBridge: InternalFailure).', nextAt: '2026-11-25T10:05:00Z', createdAt: '2026-11-25T10:03:00Z' },
  ],
};

describe('ops detail: lifecycle events', () => {
  it('lists each event with its delivery, oldest first', () => {
    const el = renderDetail(detail, { onBack: () => {}, onRetry: async () => '' });
    document.body.append(el);
    const table = [...el.querySelectorAll('table')].find((t) => t.caption?.textContent === 'Lifecycle events published to the product, oldest first');
    expect(table).toBeTruthy();
    const rows = [...table!.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td,th')].map((c) => c.textContent));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('Final migration starting (the freeze)');
    expect(rows[0]!.join(' ')).toContain('published');
    expect(rows[1]!.join(' ')).toContain('pending: next try');
    expect(rows[1]!.join(' ')).toContain('InternalFailure');
  });

  it('says when nothing was published', () => {
    const el = renderDetail({ ...detail, events: [] }, { onBack: () => {}, onRetry: async () => '' });
    expect(el.textContent).toContain('No lifecycle event yet.');
  });
});
