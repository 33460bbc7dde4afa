// status.html: polls the migration every 3 s and shows where it stands.
// Same invite as upload.html (fragment, or the one remembered this session).

import {
  countsTable,
  createApi,
  definitionList,
  el,
  formatBytes,
  formatDateTime,
  inviteFragment,
  readInvite,
  showNotice,
  statusText,
  unwrapMigration,
} from './app.js';

const POLL_MS = 3000;
const $ = (id) => document.getElementById(id);
const notice = $('notice');
const invite = readInvite(location.hash, sessionStorage);
// Opening another link to this page in the same tab changes only the fragment: start afresh.
window.addEventListener('hashchange', () => location.reload());
let api;
let timer;
let generation = 0; // bumped to cancel the poll in flight
let lastBody = '';
let lastStatus = '';

if (!invite) {
  showNotice(notice, 'This page needs the invite link from your email. Open that link to see your migration.');
} else {
  $('upload-link').href = 'upload.html' + inviteFragment(invite);
  try {
    api = createApi({ token: invite.key });
    document.addEventListener('visibilitychange', () => (document.hidden ? stop() : poll()));
    poll();
  } catch (err) {
    showNotice(notice, err.message);
  }
}

function stop() {
  generation++;
  clearTimeout(timer);
}

async function poll() {
  stop();
  const mine = generation;
  let keepPolling = true;
  try {
    const body = await api('GET', `/migrations/${encodeURIComponent(invite.migrationId)}`);
    showNotice(notice, '');
    const text = JSON.stringify(body);
    if (text !== lastBody) {
      lastBody = text;
      render(unwrapMigration(body));
    }
    $('updated').hidden = false;
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}. This page refreshes every few seconds.`;
  } catch (err) {
    showNotice(notice, err.message);
    // A link that does not open this migration will not start to; other errors may pass.
    keepPolling = ![401, 403, 404].includes(err.status);
  }
  if (mine !== generation) return; // stopped, or a newer poll started, meanwhile
  if (keepPolling && !document.hidden) timer = setTimeout(poll, POLL_MS);
}

function render({ migration: m, audit }) {
  $('overview').hidden = false;
  const status = statusText(m.status);
  // Rewritten only on a change, so screen readers announce changes, not polls.
  if (m.status !== lastStatus) {
    lastStatus = m.status;
    $('status-line').textContent = `Status: ${status}`;
  }
  const facts = [
    ['Customer', m.customerName || '—'],
    ['Migration', m.id || invite.migrationId],
    ['Round', m.round ? String(m.round) : 'not submitted yet'],
    ['Go-live', formatDateTime(m.goLiveAt)],
  ];
  if (m.wentLiveAt) facts.push(['Went live', formatDateTime(m.wentLiveAt)]);
  if (m.failure) {
    const where = m.failure.step ? ` (in ${m.failure.step})` : '';
    facts.push(['Failure', `${m.failure.reason || 'No reason recorded.'}${where}`]);
  }
  $('overview-facts').replaceChildren(definitionList(facts));

  $('cutoff-notice').hidden = !FINAL_STATUSES.includes(m.status);
  const entities = Array.isArray(m.finalReport?.entities) ? m.finalReport.entities : [];
  $('final-report').hidden = entities.length === 0;
  $('final-report-table').replaceChildren(
    table(
      'What went live, and what changed since the test migration',
      ['Records', 'Old CRM count', 'Rows read', 'Live', 'Check', 'Added', 'Removed', 'Changed'],
      entities.map((e) => [
        e.entity,
        e.checklist ?? '—',
        String(e.rows),
        String(e.migrated),
        e.status,
        String(e.added),
        String(e.removed),
        String(e.changed),
      ]),
    ),
  );

  const hasCounts = m.test || m.final;
  $('counts').hidden = !hasCounts;
  if (hasCounts) {
    $('counts-table').replaceChildren(
      countsTable('Rows per run', [
        ['Test migration', m.test],
        ['Final migration', m.final],
      ]),
    );
  }

  const files = Array.isArray(m.files) ? m.files : [];
  $('files').hidden = files.length === 0;
  $('files-table').replaceChildren(
    table(
      'Uploaded files',
      ['Name', 'Purpose', 'Round', 'Size', 'State', 'Uploaded'],
      files.map((f) => [
        f.name || '—',
        f.purpose || '—',
        f.round ? String(f.round) : '—',
        formatBytes(f.size),
        f.complete ? 'Uploaded' : 'Incomplete',
        formatDateTime(f.completedAt),
      ]),
    ),
  );

  const time = (e) => Date.parse(e?.at) || 0;
  const events = [...audit].sort((a, b) => time(b) - time(a));
  $('audit').hidden = events.length === 0;
  $('audit-table').replaceChildren(
    table(
      'What happened, newest first',
      ['When', 'Who', 'What', 'Detail'],
      events.map((e) => [formatDateTime(e.at), e.actor || '—', e.action || '—', detailText(e.detail)]),
    ),
  );
}

/** The statuses after sign-off, when changes in the old CRM no longer migrate. */
const FINAL_STATUSES = ['awaiting_final', 'scheduled', 'final_migrating', 'final_blocked', 'live'];

function detailText(detail) {
  if (detail === undefined || detail === null || detail === '') return '';
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
}

function table(caption, headings, rows) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      {},
      el('caption', { text: caption }),
      el('thead', {}, el('tr', {}, headings.map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', { text: c }))))),
    ),
  );
}
