import { facts, h, replace, say, table } from '../lib/dom';
import { formatCount, formatDateTime, formatDuration, between } from '../lib/format';
import { statusText, statusTone } from '../lib/status';
import { actionLabel, buildTimeline, currentStep } from '../lib/timeline';
import { renderTimeline } from '../lib/timeline-view';
import type { Chunk, Execution, MailItem, OpsDetail, ReissuedInvite } from '../lib/types';
import { renderEvents } from './events-view';

/** What Retry does: run a blocked final migration's failed chunks, or start a failed round again. */
export type RetryKind = 'chunks' | 'round';

export interface DetailActions {
  onBack(): void;
  /** Starts the retry; resolves to a message, rejects with one. */
  onRetry(kind: RetryKind): Promise<string>;
  /** Re-issues the customer's invite link (the old one stops working); rejects with a message. No Re-issue button without it. */
  onReissue?(): Promise<ReissuedInvite>;
}

export interface DetailView {
  element: HTMLElement;
  /** Shows `d`, redrawing only the sections that changed (focus and messages stay put). */
  update(d: OpsDetail): void;
  heading: HTMLElement;
}

function chunkCounts(c: Chunk): string {
  const n = c.counts;
  if (!n) return '—';
  if (c.merge) {
    // A merge partition reads no row: it merges rows the chunks counted migrated.
    const refused = n.rejected ? `; ${formatCount(n.rejected)} refused by the destination` : '';
    return `${formatCount(n.merged ?? 0)} of the chunks' rows merged into other records${refused}`;
  }
  return `read ${formatCount(n.read)}, migrated ${formatCount(n.migrated)}, rejected ${formatCount(n.rejected)}, skipped ${formatCount(n.skipped)}`;
}

function retryKind(d: OpsDetail): RetryKind | null {
  if (d.migration.status === 'final_blocked') return 'chunks';
  if (d.migration.status === 'failed') return 'round';
  return null;
}

function renderExecution(ex: Execution | null): HTMLElement {
  if (!ex) return h('p', { class: 'muted', text: 'No execution yet.' });
  const events = [...(ex.events ?? [])].sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp));
  return h(
    'div',
    {},
    facts([
      ['Execution', ex.name],
      ['Status', ex.status],
      ['Started', formatDateTime(ex.startDate)],
      ['Stopped', formatDateTime(ex.stopDate)],
      ['Duration', ex.startDate ? formatDuration(between(ex.startDate, ex.stopDate || new Date().toISOString())) : '—'],
    ]),
    events.length
      ? table(
          'Execution history, newest first',
          ['When', 'Event', 'State'],
          events.map((e) => [formatDateTime(e.timestamp), e.type, e.state ?? '']),
        )
      : h('p', { class: 'muted', text: 'No history events.' }),
  );
}

function renderMail(mail: MailItem[]): HTMLElement {
  if (!mail.length) return h('p', { class: 'muted', text: 'No mail yet.' });
  const state = (m: MailItem) =>
    m.status === 'pending' && m.nextAt ? `pending: next try ${formatDateTime(m.nextAt)}` : m.status === 'failed' ? 'failed: given up' : m.status;
  return table(
    'Mail to the customer, coordinator and ops, oldest first',
    ['Created', 'What', 'To', 'Status', 'Attempts', 'Sent', 'Last error'],
    mail.map((m) => [
      formatDateTime(m.createdAt),
      `${m.subject} (${m.purpose}, round ${m.round})`,
      m.to,
      h('span', { class: `mail-${m.status}`, text: state(m) }),
      String(m.attempts),
      formatDateTime(m.sentAt),
      m.lastError ?? '',
    ]),
    { numeric: [4] },
  );
}

/** Copies `text`, falling back to selecting it in `input` when the clipboard is not available. */
async function copyText(text: string, input: HTMLInputElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    input.select();
    return document.execCommand?.('copy') ?? false;
  }
}

/** The invite section: re-issue the link (revoking the old one), then show it with a Copy button. */
function createInviteBox(onReissue: () => Promise<ReissuedInvite>): HTMLElement {
  const reissue = h('button', { type: 'button', text: 'Re-issue invite link' });
  const status = h('p', { class: 'inline-status', role: 'status' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const result = h('div');
  reissue.addEventListener('click', async () => {
    reissue.disabled = true;
    say(error, '', 'error');
    say(status, 'Re-issuing the invite link…');
    try {
      const res = await onReissue();
      const link = h('input', { type: 'text', readonly: true, value: res.inviteUrl, id: 'reissued-invite-url', class: 'invite-url' });
      const copy = h('button', { type: 'button', text: 'Copy' });
      const copied = h('span', { class: 'inline-status', role: 'status' });
      copy.addEventListener('click', async () => {
        copied.textContent = (await copyText(res.inviteUrl, link)) ? 'Copied.' : 'Select the link and copy it.';
      });
      replace(
        result,
        h('label', { for: 'reissued-invite-url', text: 'New invite link (shown only once):' }),
        link,
        h('div', { class: 'actions' }, copy, copied),
      );
      say(
        status,
        res.inviteMailed
          ? 'A new invite link was mailed to the customer. The old link no longer opens the migration.'
          : 'A new invite link was made, but the mail could not be sent: copy the link and send it yourself. The old link no longer opens the migration.',
        res.inviteMailed ? 'success' : 'error',
      );
      link.select();
    } catch (err) {
      say(status, '');
      say(error, err instanceof Error ? err.message : 'The invite link could not be re-issued.', 'error');
    } finally {
      reissue.disabled = false;
    }
  });
  return h(
    'div',
    { class: 'invite' },
    h('p', {
      class: 'muted',
      text: 'The customer reaches their page only with the link from their invite mail. If they lost it, re-issue it: they get a new link by mail, and the old one stops working at once.',
    }),
    h('div', { class: 'actions' }, reissue),
    status,
    error,
    result,
  );
}

/**
 * One migration's detail. The back button, heading, Retry and its message
 * are made once; the sections below are redrawn only when their data changed.
 */
export function createDetailView(actions: DetailActions): DetailView {
  let current: OpsDetail | undefined;
  const heading = h('h2', { id: 'detail-heading', tabindex: '-1' });
  const back = h('button', { type: 'button', class: 'link', text: '← All migrations', on: { click: () => actions.onBack() } });

  const retryText = h('p');
  const retry = h('button', { type: 'button', class: 'primary' });
  const retryBox = h('div', { class: 'notice notice-warning', role: 'note', hidden: true }, retryText, h('div', { class: 'actions' }, retry));
  // Outside the box, so the outcome stays when the status (and the box) moves on.
  const retryStatus = h('p', { class: 'inline-status', role: 'status', tabindex: '-1' });
  const retryError = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  retry.addEventListener('click', async () => {
    const kind = current ? retryKind(current) : null;
    if (!kind) return;
    retry.disabled = true;
    say(retryError, '', 'error');
    say(retryStatus, kind === 'round' ? 'Starting the round again…' : 'Starting the retry…');
    try {
      const message = await actions.onRetry(kind);
      say(retryStatus, message, 'success');
      if (document.activeElement === retry || retryBox.hidden) retryStatus.focus();
    } catch (err) {
      say(retryStatus, '');
      say(retryError, err instanceof Error ? err.message : 'The retry could not be started.', 'error');
    } finally {
      retry.disabled = false;
    }
  });

  const sections = {
    summary: h('div'),
    timeline: h('div'),
    execution: h('div'),
    chunks: h('div'),
    mail: h('div'),
    events: h('div'),
    audit: h('div'),
  };
  const keys: Record<keyof typeof sections, string> = { summary: '', timeline: '', execution: '', chunks: '', mail: '', events: '', audit: '' };
  const draw = (name: keyof typeof sections, data: unknown, render: () => HTMLElement | HTMLElement[]) => {
    const key = JSON.stringify(data);
    if (key === keys[name]) return;
    keys[name] = key;
    replace(sections[name], render());
  };

  const element = h(
    'section',
    { class: 'ops-detail', 'aria-labelledby': 'detail-heading' },
    h('p', {}, back),
    heading,
    retryBox,
    retryStatus,
    retryError,
    sections.summary,
    h('h3', { text: 'Timeline' }),
    sections.timeline,
    h('h3', { text: 'State machine execution' }),
    sections.execution,
    h('h3', { text: 'Final migration chunks' }),
    sections.chunks,
    h('h3', { text: 'Mail' }),
    sections.mail,
    h('h3', { text: 'Lifecycle events' }),
    sections.events,
    ...(actions.onReissue ? [h('h3', { text: 'Customer’s invite' }), createInviteBox(actions.onReissue)] : []),
    h('h3', { text: 'Audit trail' }),
    sections.audit,
  );

  function update(d: OpsDetail): void {
    current = d;
    const m = d.migration;
    const audit = d.audit ?? [];
    const chunks = d.chunks ?? [];
    const headingKey = JSON.stringify([m.customerName, m.id, m.status]);
    if (heading.dataset.key !== headingKey) {
      heading.dataset.key = headingKey;
      replace(heading, m.customerName || m.id, ' ', h('span', { class: `badge tone-${statusTone(m.status)}`, text: m.status }));
    }

    const kind = retryKind(d);
    const failedChunks = chunks.filter((c) => c.status === 'failed').length;
    const text =
      kind === 'chunks'
        ? `${failedChunks} chunk(s) of the final migration failed and wait for a retry. Chunks that are done are not run again.`
        : kind === 'round'
          ? `Round ${m.round} failed${m.failure?.step ? ` in ${m.failure.step}` : ''}. Starting it again resumes it from the right step in a new execution: before sign-off the round runs again from its Map step (the TEST environment is reset and the workbook made again, so the customer reviews and the coordinator signs off again); after approval it waits again for the final extract or the go-live time, with no new sign-off; once its final migration began, the final migration resumes and runs only the parts that did not finish, so LIVE is never written twice.`
          : '';
    if (retryText.textContent !== text) retryText.textContent = text;
    const label = kind === 'round' ? `Start round ${m.round} again` : 'Retry the failed chunks';
    if (retry.textContent !== label) retry.textContent = label;
    retryBox.hidden = kind === null;

    draw('summary', [m], () => [
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
    ].filter((x): x is HTMLElement => x !== null));
    draw('timeline', [m, audit], () => renderTimeline(buildTimeline(m, audit), 'ops'));
    draw('execution', d.execution ?? null, () => renderExecution(d.execution ?? null));
    draw('chunks', chunks, () =>
      chunks.length
        ? table(
            'Chunks',
            ['#', 'File', 'Status', 'Attempts', 'Rows', 'Error'],
            chunks.map((c) => [String(c.index), c.fileName, h('span', { class: `chunk-${c.status}`, text: c.status }), String(c.attempts), chunkCounts(c), c.error ?? '']),
            { rowHeader: true, numeric: [3] },
          )
        : h('p', { class: 'muted', text: 'The final migration has not been planned yet.' }),
    );
    const mail = d.mail ?? [];
    draw('mail', mail, () => renderMail(mail));
    const events = d.events ?? [];
    draw('events', events, () => renderEvents(events));
    draw('audit', audit, () =>
      table(
        'Audit trail, newest first',
        ['When', 'Who', 'What', 'Detail'],
        // The action in words; its code (what the logs and the API say) on hover.
        [...audit].reverse().map((e) => [formatDateTime(e.at), e.actor, h('span', { title: e.action, text: actionLabel(e.action) }), e.detail ?? '']),
      ),
    );
  }

  return { element, update, heading };
}

/** The detail of `d`, drawn once. */
export function renderDetail(d: OpsDetail, actions: DetailActions): HTMLElement {
  const view = createDetailView(actions);
  view.update(d);
  return view.element;
}
