// After sign-off: the final extract (uploaded, or "the test extract is
// final") and the go-live time, POST /migrations/{id}/final. Like the
// test-extract panel, it lists the files received (each can be removed
// until the final migration is scheduled), the ones the service refused
// with why, and the uploads a reload left unfinished.

import { messageOf, type ApiRequest } from '../lib/api';
import { h, replace, say, uid } from '../lib/dom';
import { dateToLocalInput, formatBytes, formatDateTime, localInputToUtc } from '../lib/format';
import type { Migration, MigrationFile } from '../lib/types';
import { createUnfinishedList, removeFileButton, unfinishedUploads } from './received-files';
import type { UploadView } from './upload-view';
import { needsChoice, renderMatches, type MatchChoice, type MatchView } from './preflight-view';

export const CUTOFF_NOTICE =
  'Anything added or changed in your old CRM after you take the final extract is not migrated: re-enter it by hand in the new system after go-live. The final report lists what changed since the test migration.';

export interface FinalView {
  element: HTMLElement;
  update(m: Migration): void;
}

/** The browser's IANA time zone (e.g. Europe/London), or '' when it does not say. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    return '';
  }
}

/** The final-extract files the final migration would read: complete, this round. */
export function finalFiles(m: Migration) {
  return (m.files ?? []).filter((f) => f.purpose === 'final' && f.complete && f.round === m.round);
}

/** The final-extract files of this round the service refused (not a spreadsheet export), with why. */
export function refusedFinalFiles(m: Migration): MigrationFile[] {
  return (m.files ?? []).filter((f) => f.purpose === 'final' && f.refused && f.round === m.round);
}

export function createFinalView({
  api,
  migration,
  uploads,
  onScheduled,
  onRemoved = () => {},
  now = () => new Date(),
  timeZone = browserTimeZone(),
}: {
  api: ApiRequest;
  migration: Migration;
  uploads: UploadView;
  onScheduled: () => void;
  /** A file was removed: the page polls again. */
  onRemoved?: () => void;
  now?: () => Date;
  /** The customer's IANA zone, sent with the go-live time so the mails show it as they read it. */
  timeZone?: string;
}): FinalView {
  let m = migration;
  const testFinalId = uid('test-final');
  const goLiveId = uid('go-live');
  const testIsFinal = h('input', { type: 'checkbox', id: testFinalId });
  const goLive = h('input', {
    type: 'datetime-local',
    id: goLiveId,
    step: '1',
    min: dateToLocalInput(now()),
    required: true,
    'aria-describedby': `${goLiveId}-hint`,
  });
  const received = h('ul', { class: 'file-list', 'aria-label': 'Final extract files received' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const status = h('p', { class: 'inline-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Schedule the final migration' });
  const zone = h('div', { class: 'final-upload' }, uploads.element);
  const zoneName = timeZone || 'your local time';
  // Which signed-off file each final file replaces: shown before scheduling, confirmed with it.
  const matchBox = h('div', { class: 'match-box' });
  let matchForm: ReturnType<typeof renderMatches> | undefined;
  let matchKey = '';

  testIsFinal.addEventListener('change', () => {
    uploads.setDisabled(testIsFinal.checked);
    zone.classList.toggle('disabled', testIsFinal.checked);
    say(error, '', 'error');
  });

  const removal = {
    api,
    migrationId: m.id,
    onRemoved,
    onError: (message: string) => say(error, message, 'error'),
  };
  const unfinished = createUnfinishedList(removal);

  function renderFiles(): void {
    const files = finalFiles(m);
    const refused = refusedFinalFiles(m);
    replace(
      received,
      files.length || refused.length
        ? [
            ...files.map((f) => h('li', {}, h('span', { class: 'file-name', text: f.name }), ` ${formatBytes(f.size)} `, removeFileButton(f, removal))),
            ...refused.map((f) =>
              h('li', { class: 'refused' }, h('span', { class: 'file-name', text: f.name }), h('span', { class: 'notice-error', text: ` Not usable: ${f.refused} ` }), removeFileButton(f, removal)),
            ),
          ]
        : h('li', { class: 'muted', text: 'No final extract file received yet.' }),
    );
    unfinished.update(unfinishedUploads(m, 'final', m.round), uploads.activeFileIds());
  }

  async function schedule(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    say(error, '', 'error');
    goLive.removeAttribute('aria-invalid');
    const fail = (message: string, field?: HTMLElement) => {
      say(error, message, 'error');
      if (field) {
        field.setAttribute('aria-invalid', 'true');
        field.focus();
      }
    };
    const at = localInputToUtc(goLive.value);
    if (!at) return fail('Pick the go-live date and time.', goLive);
    if (Date.parse(at) <= now().getTime()) return fail('The go-live time has passed. Pick a later time.', goLive);
    if (uploads.busy() && !testIsFinal.checked) return fail('Wait for the final extract to finish uploading.');
    const fileIds = finalFiles(m).map((f) => f.id);
    if (!testIsFinal.checked && fileIds.length === 0) return fail('Upload the final extract, or tick “The test extract is final”.', testIsFinal);
    let matches: MatchChoice[] | undefined;
    if (!testIsFinal.checked) {
      const key = [...fileIds].sort().join(',');
      if (!matchForm || matchKey !== key) {
        submit.disabled = true;
        say(status, 'Matching the final files to the signed-off files…');
        try {
          const view = await api<MatchView>('GET', `/migrations/${encodeURIComponent(m.id)}/final/matches?fileIds=${encodeURIComponent(fileIds.join(','))}`);
          matchForm = renderMatches(view);
          matchKey = key;
          replace(matchBox, matchForm.element);
          say(status, '');
          submit.disabled = false;
          if ((view.tables ?? []).some(needsChoice)) return fail('Check which signed-off file each final file replaces, then schedule again.');
        } catch (err) {
          say(status, '');
          submit.disabled = false;
          return fail(messageOf(err, 'The final files could not be matched to the signed-off files. Try again.'));
        }
      }
      const chosen = matchForm.choices();
      if (typeof chosen === 'string') return fail(chosen);
      matches = chosen;
    }
    submit.disabled = true;
    say(status, 'Scheduling…');
    try {
      const zoneField = timeZone ? { timeZone } : {};
      await api('POST', `/migrations/${encodeURIComponent(m.id)}/final`, testIsFinal.checked ? { goLiveAt: at, ...zoneField } : { goLiveAt: at, fileIds, matches, ...zoneField });
      say(status, `Scheduled: the final migration runs at ${formatDateTime(at)}.`, 'success');
      onScheduled();
    } catch (err) {
      say(status, '');
      fail(messageOf(err, 'The final migration could not be scheduled. Try again.'));
      submit.disabled = false;
    }
  }

  const form = h(
    'form',
    { class: 'final-form', novalidate: true, on: { submit: (e: SubmitEvent) => void schedule(e) } },
    h('p', { class: 'notice notice-warning', role: 'note', text: CUTOFF_NOTICE }),
    h(
      'fieldset',
      {},
      h('legend', { text: 'Final extract' }),
      h('p', { class: 'hint', text: 'Export your records again, as close to go-live as you can, and upload the files here.' }),
      zone,
      h('h4', { text: 'Final extract received' }),
      received,
      unfinished.element,
      matchBox,
      h('p', { class: 'check' }, testIsFinal, h('label', { for: testFinalId, text: 'The test extract is final: there is no newer export' })),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: goLiveId, text: 'Go-live date and time' }),
      goLive,
      h('p', { id: `${goLiveId}-hint`, class: 'hint', text: `In ${zoneName}. The final migration runs once, at this time, with the signed-off mapping.` }),
    ),
    error,
    h('div', { class: 'actions' }, submit),
    status,
  );
  renderFiles();

  return {
    element: form,
    update(next) {
      m = next;
      renderFiles();
    },
  };
}
