// The lifecycle events section of the ops detail: what the product being
// joined was told through the event bus (issue 14), read from the events
// the service published, with any that wait for a retry.

import { h, table } from '../lib/dom';
import { formatDateTime } from '../lib/format';
import type { LifecycleEventItem } from '../lib/types';

/** Each event type in words, as the vendor's contract names it. */
const eventLabels: Record<string, string> = {
  'test.completed': 'Test migration completed',
  'signoff.requested': 'Sign-off requested',
  'signoff.approved': 'Sign-off approved',
  'signoff.rejected': 'Sign-off rejected',
  'final.scheduled': 'Final migration scheduled',
  'final.starting': 'Final migration starting (the freeze)',
  'migration.live': 'Live',
  'migration.failed': 'Failed',
};

function delivery(e: LifecycleEventItem): string {
  if (e.status === 'published') return `published ${formatDateTime(e.publishedAt)}`;
  if (e.status === 'pending') return e.nextAt ? `pending: next try ${formatDateTime(e.nextAt)}` : 'pending';
  return 'failed: given up';
}

/** The events, oldest first, with how their publishing went. */
export function renderEvents(events: LifecycleEventItem[]): HTMLElement {
  if (!events.length) return h('p', { class: 'muted', text: 'No lifecycle event yet.' });
  return table(
    'Lifecycle events published to the product, oldest first',
    ['Occurred', 'Event', 'Round', 'Delivery', 'Attempts', 'Event id', 'Last error'],
    events.map((e) => [
      formatDateTime(e.occurredAt),
      h('span', { title: e.type, text: eventLabels[e.type] ?? e.type }),
      String(e.round),
      h('span', { class: `event-${e.status}`, text: delivery(e) }),
      String(e.attempts),
      h('code', { text: e.id }),
      e.lastError ?? '',
    ]),
    { numeric: [2, 4] },
  );
}
