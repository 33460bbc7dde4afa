// The coordinator's page body: what is being approved, the decision form,
// and the end states (decided, used, expired or superseded, forged link).

import { ApiError, messageOf, type ApiRequest } from '../lib/api';
import { facts, focus, h, replace, say, table } from '../lib/dom';
import { entityLabel, formatCount, formatDateTime } from '../lib/format';
import { reconWord, sectionLabel } from '../lib/status';
import type { SignOffView } from '../lib/types';
import { renderDownloads, renderDuplicates, renderInference, renderMapping, renderSpotChecks } from './approved';
import { renderHeld } from './held';
import { renderIssues } from './issues';

export type Outcome = 'missing' | 'invalid' | 'decided' | 'gone' | 'error' | 'approved' | 'rejected' | 'golive-approved' | 'golive-rejected';

/** The page's end states: [heading, explanation]. */
export const OUTCOMES: Record<Outcome, [string, string]> = {
  missing: ['This page needs your sign-off link', 'Open the link from the sign-off email you received.'],
  invalid: ['This sign-off link is not valid', 'Check that you opened the whole link from the most recent sign-off email. Links cannot be typed in or edited.'],
  decided: ['This sign-off was already decided', 'Each sign-off link can be used once. Nothing more is needed from this link.'],
  gone: ['This sign-off link can no longer be used', 'It expired, or a newer email (a reminder, or a new round) replaced it. Use the link in the most recent email.'],
  error: ['The sign-off request could not be loaded', 'Reload the page to try again.'],
  approved: ['Approved', 'The customer can now schedule the final migration. You can close this page.'],
  rejected: ['Rejected', 'The customer sees your comment and will revise. You will get a new link for the next round.'],
  'golive-approved': ['Go-live approved', 'The final migration goes live at the scheduled time with the final extract as it is. You can close this page.'],
  'golive-rejected': ['Go-live refused', 'Nothing was written to the live system. The customer sees your comment and will upload a corrected final extract.'],
};

/** Which end state an API failure leads to. */
export function outcomeFor(err: unknown): Outcome {
  if (!(err instanceof ApiError)) return 'error';
  if (err.status === 404 || err.status === 401 || err.status === 403) return 'invalid';
  if (err.status === 409) return 'decided';
  if (err.status === 410) return 'gone';
  return 'error';
}

export interface Roots {
  loading: HTMLElement;
  content: HTMLElement;
}

export function showOutcome(roots: Roots, kind: Outcome, detail = ''): void {
  const [title, explanation] = OUTCOMES[kind];
  roots.loading.hidden = true;
  const heading = h('h2', { id: 'outcome-heading', text: title });
  replace(
    roots.content,
    h(
      'section',
      { class: `outcome outcome-${kind}`, 'aria-labelledby': 'outcome-heading', 'data-outcome': kind },
      heading,
      h('p', { text: explanation }),
      detail ? h('p', { class: 'outcome-detail', text: detail }) : null,
    ),
  );
  document.title = `${title} · cutover`;
  focus(heading);
}

export function renderSignOff(roots: Roots, api: ApiRequest, v: SignOffView): void {
  const end = (kind: Outcome, detail = '') => showOutcome(roots, kind, detail);
  roots.loading.hidden = true;
  if (v.state === 'approved' || v.state === 'rejected') {
    return end('decided', `It was ${v.state}${v.decidedAt ? ` on ${formatDateTime(v.decidedAt)}` : ''}.${v.comment ? ` Comment: “${v.comment}”` : ''}`);
  }
  if (v.state === 'expired' || v.state === 'superseded') return end('gone', `This link is ${v.state}.`);

  const held = v.kind === 'reapproval';
  const entities = v.workbook?.entities ?? [];
  const marks = Object.entries(v.review ?? {}).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const comment = h('textarea', { id: 'comment', rows: '4', maxlength: '2000', 'aria-describedby': 'comment-hint' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const status = h('p', { class: 'inline-status', role: 'status' });
  const approve = h('button', { type: 'button', class: 'primary', text: 'Approve' });
  const reject = h('button', { type: 'button', class: 'danger', text: 'Reject' });

  async function decide(decision: 'approve' | 'reject'): Promise<void> {
    const text = comment.value.trim();
    say(error, '', 'error');
    comment.removeAttribute('aria-invalid');
    if (decision === 'reject' && !text) {
      say(error, held ? 'Say in the comment what the customer must correct in the final extract.' : 'Say in the comment what needs to change, so the customer can revise.', 'error');
      comment.setAttribute('aria-invalid', 'true');
      comment.focus();
      return;
    }
    approve.disabled = reject.disabled = true;
    say(status, decision === 'approve' ? 'Approving…' : 'Rejecting…');
    try {
      const res = await api<SignOffView>('POST', '/signoff', { decision, comment: text });
      const rejected = res.state === 'rejected' || decision === 'reject';
      const state: Outcome = held ? (rejected ? 'golive-rejected' : 'golive-approved') : rejected ? 'rejected' : 'approved';
      const what = held ? `Go-live of ${v.migration.customerName}` : `Round ${v.round} of ${v.migration.customerName}`;
      end(state, `${what}${res.decidedAt ? `, ${formatDateTime(res.decidedAt)}` : ''}.${text ? ` Your comment: “${text}”` : ''}`);
    } catch (err) {
      say(status, '');
      const kind = outcomeFor(err);
      if (kind === 'error') {
        say(error, messageOf(err, 'The decision could not be sent. Try again.'), 'error');
        approve.disabled = reject.disabled = false;
      } else end(kind, messageOf(err));
    }
  }
  approve.addEventListener('click', () => void decide('approve'));
  reject.addEventListener('click', () => void decide('reject'));

  const missing = (v.missing ?? []).map((m) => h('p', { class: 'notice', text: m }));
  const form = h(
    'form',
    { class: 'decision', novalidate: true, on: { submit: (e: SubmitEvent) => e.preventDefault() } },
    h('h3', { text: 'Your decision' }),
    h('div', { class: 'field' }, h('label', { for: 'comment', text: 'Comment' }), comment, h('p', { id: 'comment-hint', class: 'hint', text: held ? 'Optional when approving. When rejecting, say what the customer must correct.' : 'Optional when approving. When rejecting, say what needs to change.' })),
    error,
    h('div', { class: 'actions' }, approve, reject),
    status,
  );
  if (held) {
    replace(
      roots.content,
      h(
        'section',
        { 'aria-labelledby': 'request-heading' },
        h('h2', { id: 'request-heading', text: 'Go-live is held' }),
        h('p', {
          text: 'Before writing anything to the live system, the final extract was run through the mapping you signed off and compared with the test migration. It differs past the limits set for this service. Approve to let it go live as it is; reject so the customer corrects the final extract. Nothing is written until you decide.',
        }),
        facts([
          ['Customer', v.migration.customerName || '—'],
          ['Tenant', v.migration.tenantId || '—'],
          ['Migration', v.migration.id],
          ['Signed-off round', String(v.round)],
          ['Link valid until', formatDateTime(v.expiresAt)],
        ]),
        missing,
        v.preflight ? renderHeld(v.preflight) : null,
        form,
      ),
    );
    const title = document.querySelector('main h1');
    if (title) title.textContent = 'Re-approve a held go-live';
    document.title = 'Go-live is held · cutover';
    return;
  }
  const s = v.summary;
  replace(
    roots.content,
    h(
      'section',
      { 'aria-labelledby': 'request-heading' },
      h('h2', { id: 'request-heading', text: 'What you are approving' }),
      h('p', {
        text: 'The customer’s records were migrated into a test environment and the customer reviewed the result. Approving lets them schedule the final migration into their live system; rejecting sends them back to revise, with your comment.',
      }),
      facts([
        ['Customer', v.migration.customerName || '—'],
        ['Tenant', v.migration.tenantId || '—'],
        ['Migration', v.migration.id],
        ['Round', String(v.round)],
        ['Mapping version', v.mappingVersion ? String(v.mappingVersion) : '—'],
        ['Link valid until', formatDateTime(v.expiresAt)],
      ]),
      h('h3', { text: 'Rows in the test migration' }),
      s
        ? table(
            'Every row read is migrated, merged, rejected or skipped',
            ['Read', 'Migrated', 'Merged', 'Rejected', 'Skipped'],
            [[formatCount(s.read), formatCount(s.migrated), formatCount(s.merged), formatCount(s.rejected), formatCount(s.skipped)]],
            { numeric: [0, 1, 2, 3, 4] },
          )
        : h('p', { class: 'muted', text: 'No counts were recorded.' }),
      h('h3', { text: 'Reconciliation against the customer’s own counts' }),
      entities.length
        ? table(
            'Per kind of record',
            ['Records', 'Their count', 'Rows in export', 'Migrated', 'Check'],
            entities.map((e) => [entityLabel(e.entity), e.checklist === null || e.checklist === undefined ? 'not given' : formatCount(e.checklist), formatCount(e.rows), formatCount(e.migrated), h('strong', { text: reconWord(e.status) })]),
            { rowHeader: true, numeric: [1, 2, 3] },
          )
        : h('p', { class: 'muted', text: 'No reconciliation was recorded.' }),
      missing,
      v.mapping?.length ? renderMapping(v.mapping) : null,
      v.inference?.length ? renderInference(v.inference) : null,
      v.issues ? renderIssues(v.issues) : null,
      v.downloads?.length ? renderDownloads(v.downloads) : null,
      v.duplicates ? renderDuplicates(v.duplicates) : null,
      v.spotChecks?.length ? renderSpotChecks(v.spotChecks) : null,
      h('h3', { text: 'What the customer reviewed' }),
      marks.length
        ? table(
            'The customer’s marks on the workbook',
            ['Part', 'Mark', 'Note'],
            marks.map(([k, m]) => [sectionLabel(k), m.state === 'waived' ? h('strong', { class: 'warn', text: 'Waived' }) : 'Reviewed', m.note ?? '']),
            { rowHeader: true },
          )
        : h('p', { class: 'muted', text: 'No marks were recorded.' }),
      form,
    ),
  );
}

