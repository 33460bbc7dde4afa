import { facts, h, say, table } from '../lib/dom';
import { formatCount, formatDateTime, formatDuration, between } from '../lib/format';
import { statusText, statusTone } from '../lib/status';
import { buildTimeline, currentStep } from '../lib/timeline';
import { renderTimeline } from '../lib/timeline-view';
import type { Chunk, OpsDetail } from '../lib/types';

export interface DetailActions {
  onBack(): void;
  /** Starts the retry; resolves to a message, rejects with one. */
  onRetry(): Promise<string>;
}

function chunkCounts(c: Chunk): string {
  const n = c.counts;
  if (!n) return '—';
  return `read ${formatCount(n.read)}, migrated ${formatCount(n.migrated)}, rejected ${formatCount(n.rejected)}, skipped ${formatCount(n.skipped)}`;
}

export function renderDetail(d: OpsDetail, actions: DetailActions): HTMLElement {
  const m = d.migration;
  const audit = d.audit ?? [];
  const chunks = d.chunks ?? [];
  const ex = d.execution;
  const retryStatus = h('p', { class: 'inline-status', role: 'status' });
  const retry = h('button', { type: 'button', class: 'primary', text: 'Retry the failed chunks' });
  retry.addEventListener('click', async () => {
    retry.disabled = true;
    say(retryStatus, 'Starting the retry…');
    try {
      say(retryStatus, await actions.onRetry(), 'success');
    } catch (err) {
      say(retryStatus, err instanceof Error ? err.message : 'The retry could not be started.', 'error');
      retry.disabled = false;
    }
  });
  const failedChunks = chunks.filter((c) => c.status === 'failed');

  return h(
    'section',
    { class: 'ops-detail', 'aria-labelledby': 'detail-heading' },
    h('p', {}, h('a', { href: '#', text: '← All migrations', on: { click: (e: MouseEvent) => (e.preventDefault(), actions.onBack()) } })),
    h('h2', { id: 'detail-heading', tabindex: '-1' }, m.customerName || m.id, ' ', h('span', { class: `badge tone-${statusTone(m.status)}`, text: m.status })),
    m.status === 'final_blocked'
      ? h(
          'div',
          { class: 'notice notice-warning', role: 'note' },
          h('p', { text: `${failedChunks.length} chunk(s) of the final migration failed and wait for a retry. Chunks that are done are not run again.` }),
          h('div', { class: 'actions' }, retry),
          retryStatus,
        )
      : null,
    m.failure ? h('p', { class: 'notice notice-error', text: `Failed in ${m.failure.step}: ${m.failure.reason} (${formatDateTime(m.failure.at)})` }) : null,
    facts([
      ['Migration', m.id],
      ['Tenant', m.tenantId],
      ['Customer', `${m.customerName}${m.customerEmail ? ` <${m.customerEmail}>` : ''}`],
      ['Coordinator', m.coordinatorEmail ?? '—'],
      ['Status', `${m.status}: ${statusText(m.status)}`],
      ['Current step', currentStep(m.status)],
      ['Round', String(m.round)],
      ['Created', formatDateTime(m.createdAt)],
      ['Last change', formatDateTime(m.updatedAt)],
      ['Go-live', formatDateTime(m.goLiveAt)],
      ['Went live', formatDateTime(m.wentLiveAt)],
    ]),
    h('h3', { text: 'Timeline' }),
    renderTimeline(buildTimeline(m, audit), 'ops'),
    h('h3', { text: 'State machine execution' }),
    ex
      ? h(
          'div',
          {},
          facts([
            ['Execution', ex.name],
            ['Status', ex.status],
            ['Started', formatDateTime(ex.startDate)],
            ['Stopped', formatDateTime(ex.stopDate)],
            ['Duration', ex.startDate ? formatDuration(between(ex.startDate, ex.stopDate || new Date().toISOString())) : '—'],
          ]),
          table(
            'Execution history, newest first',
            ['When', 'Event', 'State'],
            [...(ex.events ?? [])].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp)).map((e) => [formatDateTime(e.timestamp), e.type, e.name ?? '']),
          ),
        )
      : h('p', { class: 'muted', text: 'No execution yet.' }),
    h('h3', { text: 'Final migration chunks' }),
    chunks.length
      ? table(
          'Chunks',
          ['#', 'File', 'Status', 'Attempts', 'Rows', 'Error'],
          chunks.map((c) => [String(c.index), c.fileName, h('span', { class: `chunk-${c.status}`, text: c.status }), String(c.attempts), chunkCounts(c), c.error ?? '']),
          { rowHeader: true, numeric: [3] },
        )
      : h('p', { class: 'muted', text: 'The final migration has not been planned yet.' }),
    h('h3', { text: 'Audit trail' }),
    table(
      'Audit trail, newest first',
      ['When', 'Who', 'What', 'Detail'],
      [...audit].reverse().map((e) => [formatDateTime(e.at), e.actor, e.action, e.detail ?? '']),
    ),
  );
}
