import { h } from '../lib/dom';
import { formatDateTime, formatDuration } from '../lib/format';
import { statusTone } from '../lib/status';
import { currentStep } from '../lib/timeline';
import type { Migration } from '../lib/types';

export function ageText(createdAt: string, now: Date): string {
  const ms = now.getTime() - Date.parse(createdAt);
  return Number.isFinite(ms) ? formatDuration(Math.max(0, ms)) : '—';
}

/** Migrations whose text matches every word of `text` and whose status is `status` (any when ""), newest first. */
export function filterMigrations(all: Migration[], text: string, status: string): Migration[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  return all
    .filter((m) => !status || m.status === status)
    .filter((m) => {
      if (!words.length) return true;
      const hay = [m.id, m.tenantId, m.customerName, m.customerEmail, m.coordinatorEmail, m.status, m.failure?.reason, m.failure?.step]
        .filter(Boolean)
        .join(' ')
        .toLowerCase();
      return words.every((w) => hay.includes(w));
    })
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

export function renderList(ms: Migration[], now: Date, onOpen: (id: string) => void): HTMLElement {
  if (!ms.length) return h('p', { class: 'muted', text: 'No migration matches.' });
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Migrations' },
    h(
      'table',
      { class: 'ops-list' },
      h('caption', { class: 'visually-hidden', text: 'Migrations, newest first' }),
      h('thead', {}, h('tr', {}, ['Customer', 'Tenant', 'Status', 'Current step', 'Age', 'Failure'].map((t) => h('th', { scope: 'col', text: t })))),
      h(
        'tbody',
        {},
        ms.map((m) =>
          h(
            'tr',
            { 'data-migration': m.id, 'data-status': m.status },
            h(
              'th',
              { scope: 'row' },
              h('a', {
                href: `#migration=${encodeURIComponent(m.id)}`,
                text: m.customerName || m.id,
                on: {
                  click: (e: MouseEvent) => {
                    e.preventDefault();
                    onOpen(m.id);
                  },
                },
              }),
              h('span', { class: 'sub', text: m.id }),
            ),
            h('td', { text: m.tenantId }),
            h('td', {}, h('span', { class: `badge tone-${statusTone(m.status)}`, text: m.status })),
            h('td', { text: currentStep(m.status) }),
            h('td', {}, h('time', { datetime: m.createdAt, title: formatDateTime(m.createdAt), text: ageText(m.createdAt, now) })),
            h('td', { class: m.failure ? 'problem' : 'muted', text: m.failure ? `${m.failure.step}: ${m.failure.reason}` : '—' }),
          ),
        ),
      ),
    ),
  );
}
