// signoff.html: the coordinator's page. The emailed link is
// signoff.html#t=<linkToken>. Loading the page only reads (GET); the
// decision is a POST made by pressing Approve or Reject, so a mail scanner
// that opens the link decides nothing.

import { countsTable, createApi, definitionList, el, formatDateTime, parseFragment, showNotice } from './app.js';

const $ = (id) => document.getElementById(id);

// The page's end states: [heading, explanation]. The server's own message is shown beneath.
const OUTCOMES = {
  missing: ['This page needs your sign-off link', 'Open the link from the sign-off email you received.'],
  invalid: ['This sign-off link is not valid', 'Check that you opened the whole link from the most recent sign-off email.'],
  decided: ['This sign-off was already decided', 'Each sign-off link can be used once. Nothing more is needed from this link.'],
  gone: [
    'This sign-off link can no longer be used',
    'It expired, or the customer submitted a newer round, which comes with a new link. Use the most recent email.',
  ],
  error: ['The sign-off request could not be loaded', 'Reload the page to try again.'],
};

const STATUS_OUTCOME = { 401: 'invalid', 403: 'invalid', 404: 'invalid', 409: 'decided', 410: 'gone' };

const token = parseFragment(location.hash).t;
// Opening another link to this page in the same tab changes only the fragment: start afresh.
window.addEventListener('hashchange', () => location.reload());
let api;

if (!token) {
  showOutcome('missing');
} else {
  try {
    api = createApi({ token });
    load();
  } catch (err) {
    showOutcome('error', err.message);
  }
}

async function load() {
  try {
    render(await api('GET', '/signoff'));
  } catch (err) {
    showOutcome(STATUS_OUTCOME[err.status] || 'error', err.message);
  }
}

function render(req) {
  $('loading').hidden = true;
  const state = typeof req.state === 'string' ? req.state : '';
  if (state === 'approved' || state === 'rejected') {
    const when = req.decidedAt ? ` on ${formatDateTime(req.decidedAt)}` : '';
    const comment = req.comment ? ` Comment: ${req.comment}` : '';
    return showOutcome('decided', `It was ${state}${when}.${comment}`);
  }
  if (state === 'expired' || state === 'superseded') {
    return showOutcome('gone', `This link is ${state}.`);
  }
  const m = req.migration || {};
  $('request').hidden = false;
  $('request-facts').replaceChildren(
    definitionList([
      ['Customer', m.customerName || '—'],
      ['Tenant', m.tenantId || '—'],
      ['Migration', m.id || '—'],
      ['Round', req.round ? String(req.round) : '—'],
      ['Link valid until', formatDateTime(req.expiresAt)],
    ]),
  );
  $('summary-table').replaceChildren(
    countsTable('Test migration: rows per outcome', [['Test migration', req.summary]]),
    ...workbookParts(req),
  );
  $('approve').addEventListener('click', () => decide('approve'));
  $('reject').addEventListener('click', () => decide('reject'));
}

// workbookParts shows what the customer checked: each entity's
// reconciliation against their own counts, and each part of the workbook
// they reviewed or waived (with their note). All text, no markup.
function workbookParts(req) {
  const parts = [];
  const entities = (req.workbook && req.workbook.entities) || [];
  if (entities.length) {
    parts.push(
      el('h3', { text: 'Reconciliation against the customer’s own counts' }),
      definitionList(
        entities.map((e) => [
          e.entity,
          `${e.status}: ${e.migrated} migrated of ${e.rows} rows` + (e.checklist != null ? `; the old CRM shows ${e.checklist}` : '; no count given'),
        ]),
      ),
    );
  }
  const review = req.review || {};
  const marks = Object.keys(review).sort();
  if (marks.length) {
    parts.push(
      el('h3', { text: 'What the customer reviewed' }),
      definitionList(marks.map((k) => [k, review[k].state + (review[k].note ? ` — ${review[k].note}` : '')])),
    );
  }
  return parts;
}

async function decide(decision) {
  const comment = $('comment').value.trim();
  const error = $('decision-error');
  showNotice(error, '');
  $('comment').removeAttribute('aria-invalid');
  if (decision === 'reject' && comment === '') {
    showNotice(error, 'Say in the comment what needs to change, so the customer can revise their files.');
    $('comment').setAttribute('aria-invalid', 'true');
    $('comment').focus();
    return;
  }
  const buttons = [$('approve'), $('reject')];
  for (const b of buttons) b.disabled = true;
  $('decision-status').textContent = decision === 'approve' ? 'Approving…' : 'Rejecting…';
  try {
    const res = await api('POST', '/signoff', { decision, comment });
    const state = res.state || (decision === 'approve' ? 'approved' : 'rejected');
    const when = res.decidedAt ? ` on ${formatDateTime(res.decidedAt)}` : '';
    showOutcome(null, `The test migration was ${state}${when}. You can close this page.`, state === 'approved' ? 'Approved' : 'Rejected');
  } catch (err) {
    $('decision-status').textContent = '';
    const outcome = STATUS_OUTCOME[err.status];
    if (outcome) {
      showOutcome(outcome, err.message);
    } else {
      showNotice(error, err.message);
      for (const b of buttons) b.disabled = false;
    }
  }
}

/** Replaces the form with an end state; `heading` overrides the outcome's own. */
function showOutcome(kind, detail = '', heading) {
  const [title, explanation] = OUTCOMES[kind] || ['', ''];
  $('loading').hidden = true;
  $('request').hidden = true;
  $('outcome').hidden = false;
  $('outcome').dataset.kind = kind || 'done';
  const h = $('outcome-heading');
  h.textContent = heading || title;
  h.tabIndex = -1;
  $('outcome-text').replaceChildren(
    ...[explanation, detail].filter(Boolean).map((text) => el('span', { class: 'outcome-line', text })),
  );
  h.focus();
}
