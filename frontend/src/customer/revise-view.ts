// "Change something before sign-off": while the customer reviews a
// workbook (and after a sign-off request expired) they may revise the
// mapping (PUT /migrations/{id}/mapping) or upload a corrected test extract
// for the next round (and remove its files again), then run the test
// migration again (POST …/submit). The new round replaces the workbook
// under review, and the marks on it start afresh. Once sign-off is
// requested the review panel, and this part of it, is gone: the service
// refuses a revision then (409) until the coordinator rejects.

import { messageOf, type ApiRequest } from '../lib/api';
import { h, replace, say, uid } from '../lib/dom';
import { formatBytes } from '../lib/format';
import type { Migration, MigrationFile, Proposal } from '../lib/types';
import { createMappingEditor, type MappingEditor } from './mapping-editor';
import { removeFileButton } from './received-files';

/** The upload area for the next round's test files (main.ts builds it from the uploader and upload view). */
export interface ReviseUploads {
  element: HTMLElement;
  /** True while a file is uploading or paused. */
  busy(): boolean;
  /** The service's ids of the files the area shows a row for. */
  activeFileIds(): Set<string>;
  destroy(): void;
}

export interface ReviseOptions {
  api: ApiRequest;
  migration: Migration;
  /** Builds the upload area for a corrected extract; onCompleted is called as each file completes. */
  createUploads: (onCompleted: () => void) => ReviseUploads;
  /** The service changed (mapping saved, file added or removed, new round started): look again now. */
  onChanged: () => void;
}

export interface ReviseView {
  element: HTMLElement;
  update(m: Migration): void;
  /** Unsaved mapping edits, or files still uploading. */
  unsaved(): boolean;
  destroy(): void;
}

/** The service keeps the customer's revision as draftMapping until the next round uses it. */
type WithDraft = Migration & { draftMapping?: string };

/** The next round's corrected test files that are complete and usable. */
export function nextRoundFiles(m: Migration): MigrationFile[] {
  return (m.files ?? []).filter((f) => f.purpose === 'test' && f.complete && !f.refused && f.round === m.round + 1);
}

/** What the next round would run on that this round did not: a revised mapping, corrected files. */
export function whatIsNew(m: Migration): string[] {
  const out: string[] = [];
  if ((m as WithDraft).draftMapping) out.push('your revised mapping');
  const files = nextRoundFiles(m);
  if (files.length) out.push(`the corrected extract (${files.map((f) => f.name).join(', ')})`);
  return out;
}

export function createReviseView(opts: ReviseOptions): ReviseView {
  const { api, onChanged } = opts;
  const base = `/migrations/${encodeURIComponent(opts.migration.id)}`;
  let current = opts.migration;
  let editor: MappingEditor | undefined;
  let uploads: ReviseUploads | undefined;

  const mappingId = uid('revise-mapping');
  const uploadId = uid('revise-upload');
  const headingId = uid('revise');
  const mappingBox = h('div', { id: mappingId, class: 'mapping-box', hidden: true });
  const uploadBox = h('div', { id: uploadId, class: 'revise-upload', hidden: true });
  const received = h('ul', { class: 'file-list', 'aria-label': 'Corrected extract files for the next round' });
  const pending = h('p', { class: 'revise-pending', role: 'status' });
  const error = h('div', { class: 'notice notice-error', role: 'alert', hidden: true });
  const status = h('p', { class: 'inline-status', role: 'status' });

  const toggle = (button: HTMLButtonElement, box: HTMLElement, open: () => void) => {
    const opening = box.hidden;
    box.hidden = !opening;
    button.setAttribute('aria-expanded', String(opening));
    if (opening) open();
  };

  const changeMapping = h('button', { type: 'button', class: 'secondary', text: 'Change the mapping', 'aria-controls': mappingId, 'aria-expanded': 'false' });
  changeMapping.addEventListener('click', () =>
    toggle(changeMapping, mappingBox, () => {
      if (!editor) void loadEditor();
    }),
  );
  const uploadCorrected = h('button', { type: 'button', class: 'secondary', text: 'Upload a corrected extract', 'aria-controls': uploadId, 'aria-expanded': 'false' });
  uploadCorrected.addEventListener('click', () =>
    toggle(uploadCorrected, uploadBox, () => {
      if (!uploads) {
        uploads = opts.createUploads(onChanged);
        uploadBox.prepend(uploads.element);
      }
    }),
  );
  const rerun = h('button', { type: 'button', class: 'primary', text: 'Run the test migration again', hidden: true });

  async function loadEditor(): Promise<void> {
    replace(mappingBox, h('p', { class: 'muted', text: 'Loading the mapping…' }));
    try {
      // The proposal shows the saved revision when there is one: what the next round would use.
      const proposal = await api<Proposal>('GET', `${base}/proposal`);
      editor = createMappingEditor({ proposal, api, migrationId: current.id, editable: true, onSaved: () => onChanged() });
      replace(
        mappingBox,
        h('p', { text: 'Change where any column goes, then save. The mapping is used when you run the test migration again.' }),
        editor.element,
      );
    } catch (err) {
      replace(mappingBox, h('p', { class: 'notice notice-error', role: 'alert', text: messageOf(err, 'The mapping could not be loaded. Try again.') }));
    }
  }

  const removal = {
    api,
    migrationId: opts.migration.id,
    onRemoved: () => onChanged(),
    onError: (message: string) => say(error, message, 'error'),
  };

  function update(m: Migration): void {
    current = m;
    const files = nextRoundFiles(m).filter((f) => !uploads?.activeFileIds().has(f.id));
    replace(
      received,
      files.length
        ? files.map((f) => h('li', {}, h('span', { class: 'file-name', text: f.name }), ` ${formatBytes(f.size)} `, removeFileButton(f, removal)))
        : h('li', { class: 'muted', text: 'No corrected file yet: the next round reuses this round’s files.' }),
    );
    const fresh = whatIsNew(m);
    const dirty = Boolean(editor?.dirty());
    rerun.hidden = fresh.length === 0 && !dirty;
    pending.textContent = fresh.length
      ? `Ready for the next round: ${fresh.join(' and ')}. Run the test migration again with these changes; the new workbook replaces this one.`
      : dirty
        ? 'You have unsaved mapping changes: save them, or run the test migration again (they are saved first).'
        : '';
  }

  rerun.addEventListener('click', async () => {
    say(error, '', 'error');
    const fail = (message: string) => say(error, message, 'error');
    if (uploads?.busy()) return fail('Wait for every file to finish uploading (or remove the ones you do not need).');
    rerun.disabled = true;
    try {
      if (editor?.dirty() && !(await editor.save())) return fail('The mapping could not be saved: correct it (see the message in the mapping) and try again.');
      say(status, 'Starting the test migration again…');
      await api('POST', `${base}/submit`);
      say(status, 'Submitted. The test migration is running again; its workbook replaces this one.', 'success');
      onChanged();
    } catch (err) {
      say(status, '');
      fail(messageOf(err, 'The test migration could not be started again. Try again.'));
    } finally {
      rerun.disabled = false;
    }
  });

  uploadBox.append(h('h4', { text: 'Files for the next round' }), received);
  update(opts.migration);
  const element = h(
    'section',
    { class: 'revise', 'data-part': 'revise', 'aria-labelledby': headingId },
    h('h3', { id: headingId, text: 'Something to correct?' }),
    h('p', {
      text: 'Until you request sign-off, you can change the mapping or upload a corrected extract, and run the test migration again. The new round replaces this workbook, and your marks on it start afresh.',
    }),
    h('div', { class: 'actions' }, changeMapping, uploadCorrected),
    mappingBox,
    uploadBox,
    pending,
    error,
    h('div', { class: 'actions' }, rerun),
    status,
  );
  return {
    element,
    update,
    unsaved: () => Boolean(uploads?.busy()) || Boolean(editor?.dirty()),
    destroy: () => uploads?.destroy(),
  };
}
