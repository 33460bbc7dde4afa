// upload.html: the customer's page. The invite link is
// upload.html#m=<migrationId>&k=<customerKey>; the key travels only in the
// fragment and the Authorization header, never in a query string.

import {
  createApi,
  dateToLocalInput,
  definitionList,
  el,
  formatBytes,
  formatDateTime,
  inviteFragment,
  localInputToUtc,
  readInvite,
  showNotice,
  statusText,
  unwrapMigration,
} from './app.js';
import { uploadFile } from './upload.js';

const $ = (id) => document.getElementById(id);

const PHASE_TEXT = {
  starting: 'Preparing the upload…',
  uploading: 'Uploading…',
  completing: 'Finishing…',
};

// What the page says when the migration is not waiting for a file.
const STATE_NOTES = {
  submitted: 'Your files were submitted. The test migration is starting; follow it on the status page.',
  mapping: 'The test migration is running. Follow it on the status page.',
  test_migrating: 'The test migration is running. Follow it on the status page.',
  awaiting_review: 'The test migration finished. Review its workbook (GET /migrations/{id}/workbook), mark each part reviewed or waived, then request sign-off.',
  signoff_requested: 'Sign-off was requested; the coordinator is being emailed.',
  awaiting_signoff: 'The test migration finished and is waiting for your coordinator’s sign-off.',
  signoff_expired: 'Your coordinator did not decide in time, so the sign-off request expired. Request sign-off again when ready.',
  scheduled: 'The final migration is scheduled.',
  final_migrating: 'The final migration is running. Follow it on the status page.',
  final_blocked: 'Part of the final migration failed and our team is running it again. Nothing needs doing on your side.',
  live: 'The migration is live and locked. Nothing more to upload.',
  failed: 'The migration stopped with an error. Our team has been alerted; the status page shows the reason.',
};

const notice = $('notice');
const invite = readInvite(location.hash, sessionStorage);
// Opening another link to this page in the same tab changes only the fragment: start afresh.
window.addEventListener('hashchange', () => location.reload());
let api;
let migration = null;
let uploading = false;
const queue = [];
let rowCount = 0;

if (!invite) {
  showNotice(notice, 'This page needs the invite link from your email. Open that link to upload your files.');
} else {
  $('status-link').href = 'status.html' + inviteFragment(invite);
  try {
    api = createApi({ token: invite.key });
    setUp();
    refresh();
  } catch (err) {
    showNotice(notice, err.message);
  }
}

function setUp() {
  wireDropzone($('test-drop'), $('test-files'), (files) => enqueue(files, 'test', $('test-uploads')));
  wireDropzone($('final-drop'), $('final-files'), (files) => enqueue(files, 'final', $('final-uploads')));
  // A file dropped next to a drop zone must not make the browser leave the page.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
  // Leaving mid-upload abandons it: ask first.
  window.addEventListener('beforeunload', (e) => {
    if (uploading) e.preventDefault();
  });

  $('submit-test').addEventListener('click', submitTest);
  $('test-is-final').addEventListener('change', renderFinalChoice);
  $('final-form').addEventListener('submit', submitFinal);
  $('go-live').min = dateToLocalInput(new Date());
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) $('time-zone').textContent = zone;
}

function migrationPath(suffix = '') {
  return `/migrations/${encodeURIComponent(invite.migrationId)}${suffix}`;
}

async function refresh() {
  try {
    migration = unwrapMigration(await api('GET', migrationPath())).migration;
    render();
  } catch (err) {
    showNotice(notice, err.message);
    if ([401, 403, 404].includes(err.status)) {
      for (const id of ['summary', 'test-section', 'final-section']) $(id).hidden = true;
    }
  }
}

function render() {
  const m = migration;
  $('summary').hidden = false;
  $('summary-facts').replaceChildren(
    definitionList([
      ['Customer', m.customerName || '—'],
      ['Status', statusText(m.status)],
      ['Round', m.round ? String(m.round) : 'not submitted yet'],
      ['Details', el('a', { href: $('status-link').href, text: 'Migration status and history' })],
    ]),
  );

  const acceptsTest = m.status === 'created' || m.status === 'awaiting_revision';
  const acceptsFinal = m.status === 'awaiting_final';
  $('test-section').hidden = !acceptsTest;
  $('final-section').hidden = !acceptsFinal;

  let note = STATE_NOTES[m.status] || '';
  if (m.status === 'awaiting_revision') {
    note = 'Your coordinator rejected the last test migration. Upload corrected files, or submit again to reuse the files you sent before.';
  }
  if (m.status === 'scheduled' && m.goLiveAt) note = `The final migration is scheduled for ${formatDateTime(m.goLiveAt)}.`;
  if (m.status === 'failed' && m.failure?.reason) note = `${STATE_NOTES.failed} Reason: ${m.failure.reason}`;
  $('state-note').textContent = note;
  $('state-note').hidden = !note;

  const files = Array.isArray(m.files) ? m.files : [];
  const testFiles = files.filter((f) => f.purpose === 'test' && f.complete);
  renderFileList($('test-files-received'), testFiles, 'No files received yet.');
  renderFileList($('final-files-received'), finalFiles(), 'No final files received yet.');
  renderFinalChoice();
  updateButtons();
}

/** The completed final-extract files of the current round: the ones the final migration would read. */
function finalFiles() {
  const files = Array.isArray(migration?.files) ? migration.files : [];
  return files.filter((f) => f.purpose === 'final' && f.complete && f.round === migration.round);
}

function renderFileList(list, files, emptyText) {
  list.replaceChildren(
    ...(files.length
      ? files.map((f) =>
          el('li', {}, el('span', { class: 'file-name', text: f.name }), ` ${formatBytes(f.size)}`, f.round ? `, round ${f.round}` : ''),
        )
      : [el('li', { class: 'muted', text: emptyText })]),
  );
}

function renderFinalChoice() {
  // What the last attempt said is stale once the choice or the files change.
  showNotice($('final-error'), '');
  $('test-is-final').removeAttribute('aria-invalid');
  const testIsFinal = $('test-is-final').checked;
  $('final-files').disabled = testIsFinal;
  $('final-drop').classList.toggle('disabled', testIsFinal);
}

function updateButtons() {
  const hasTestFiles = (migration?.files || []).some((f) => f.purpose === 'test' && f.complete);
  $('submit-test').disabled = uploading || !hasTestFiles;
  $('submit-final').disabled = uploading;
}

// ------------------------------------------------------------- uploads

function wireDropzone(zone, input, onFiles) {
  input.addEventListener('change', () => {
    const files = [...input.files];
    input.value = '';
    if (files.length) onFiles(files);
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (!input.disabled) zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    const files = [...(e.dataTransfer?.files || [])];
    if (!input.disabled && files.length) onFiles(files);
  });
}

function enqueue(files, purpose, list) {
  for (const file of files) queue.push({ file, purpose, row: uploadRow(file, purpose, list) });
  pump();
}

async function pump() {
  if (uploading) return;
  uploading = true;
  updateButtons();
  while (queue.length) {
    const job = queue.shift();
    await runJob(job);
    await refresh();
  }
  uploading = false;
  updateButtons();
}

async function runJob({ file, purpose, row }) {
  try {
    await uploadFile({
      api,
      migrationId: invite.migrationId,
      file,
      purpose,
      onPhase: (phase) => row.setState(PHASE_TEXT[phase] || ''),
      onProgress: ({ percent }) => row.setProgress(percent),
    });
    row.finish();
  } catch (err) {
    // An empty file fails the same way every time; anything else may pass on another try.
    row.fail(err.message, file.size > 0 ? () => enqueue([file], purpose, row.list) : null);
  }
}

/** One file's line: name, a labelled <progress>, percent text and state. */
function uploadRow(file, purpose, list) {
  const id = `upload-${++rowCount}`;
  const progress = el('progress', { id, max: 100, value: 0 });
  const percent = el('span', { class: 'percent', 'aria-hidden': 'true', text: '0%' });
  const state = el('p', { class: 'upload-state', role: 'status', text: 'Waiting…' });
  const actions = el('div', { class: 'upload-actions' });
  const li = el(
    'li',
    { class: 'upload' },
    el('label', { for: id, class: 'upload-name' }, el('span', { class: 'file-name', text: file.name }), ` (${formatBytes(file.size)}, ${purpose} extract)`),
    el('div', { class: 'bar' }, progress, percent),
    state,
    actions,
  );
  list.append(li);
  return {
    list,
    setState(text) {
      state.textContent = text;
    },
    setProgress(p) {
      progress.value = p;
      percent.textContent = `${p}%`;
    },
    finish() {
      li.classList.add('done');
      state.textContent = 'Uploaded.';
    },
    fail(message, retry) {
      li.classList.add('failed');
      state.textContent = `Failed: ${message}`;
      if (!retry) return;
      const again = el('button', { type: 'button', class: 'secondary', text: `Try ${file.name} again` });
      again.addEventListener('click', () => {
        li.remove();
        retry();
      });
      actions.replaceChildren(again);
    },
  };
}

// -------------------------------------------------------------- actions

async function submitTest() {
  const status = $('submit-status');
  $('submit-test').disabled = true;
  status.textContent = 'Submitting…';
  try {
    await api('POST', migrationPath('/submit'));
    status.textContent = 'Submitted. The test migration is starting; the status page shows its progress.';
    await refresh();
  } catch (err) {
    status.textContent = '';
    showNotice(notice, err.message);
    updateButtons();
  }
}

async function submitFinal(event) {
  event.preventDefault();
  const error = $('final-error');
  const goLive = $('go-live');
  const testIsFinal = $('test-is-final').checked;
  const fail = (message, field) => {
    showNotice(error, message);
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  };
  showNotice(error, '');
  goLive.removeAttribute('aria-invalid');

  const goLiveAt = localInputToUtc(goLive.value);
  if (!goLiveAt) return fail('Pick the go-live date and time.', goLive);
  if (new Date(goLiveAt).getTime() < Date.now()) return fail('The go-live time is in the past. Pick a later time.', goLive);
  const fileIds = testIsFinal ? [] : finalFiles().map((f) => f.id);
  if (!testIsFinal && fileIds.length === 0) {
    return fail('Upload the final extract, or tick “The test extract is final”.', $('test-is-final'));
  }

  const status = $('final-status');
  $('submit-final').disabled = true;
  status.textContent = 'Scheduling…';
  try {
    // The API reads the final files as `fileIds`; none means the signed-off test extract is final.
    const body = testIsFinal ? { goLiveAt } : { goLiveAt, fileIds };
    await api('POST', migrationPath('/final'), body);
    status.textContent = `Scheduled. The final migration will run at ${formatDateTime(goLiveAt)}.`;
    await refresh();
  } catch (err) {
    status.textContent = '';
    fail(err.message);
  } finally {
    updateButtons();
  }
}
