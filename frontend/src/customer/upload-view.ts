// The drop zone and the per-file progress list for an Uppy uploader: a
// labelled <progress> per file, Pause/Resume and Retry buttons, and one
// polite live region announcing what finished or failed.

import type { Meta, UppyFile } from '@uppy/core';
import { h, say, uid } from '../lib/dom';
import { formatBytes } from '../lib/format';
import { checkFile } from './file-check';
import { serverFileId, uploadErrorText, type CutoverUppy } from './uploader';

type File_ = UppyFile<Meta, Record<string, never>>;

export interface UploadView {
  element: HTMLElement;
  /** True while any file is uploading or paused. */
  busy(): boolean;
  setDisabled(disabled: boolean): void;
  /** The service's ids of the uploads this view is sending (or holds paused or failed), which have a row of their own. */
  activeFileIds(): Set<string>;
}

interface RowParts {
  li: HTMLLIElement;
  progress: HTMLProgressElement;
  percent: HTMLElement;
  state: HTMLElement;
  pause: HTMLButtonElement;
  retry: HTMLButtonElement;
  remove: HTMLButtonElement;
}

export interface UploadViewOptions {
  label: string;
  hint: string;
  /** Why a file cannot be uploaded, or null; checkFile (its name and first bytes) unless a test says otherwise. */
  check?: (file: File) => Promise<string | null>;
}

export function createUploadView(uppy: CutoverUppy, { label, hint, check = checkFile }: UploadViewOptions): UploadView {
  const inputId = uid('files');
  const hintId = uid('files-hint');
  const input = h('input', { type: 'file', id: inputId, multiple: true, 'aria-describedby': hintId, class: 'file-input' });
  const zone = h(
    'div',
    { class: 'dropzone' },
    h('label', { for: inputId, class: 'dropzone-label' }, h('span', { class: 'button-like', text: label })),
    input,
    h('p', { id: hintId, class: 'hint', text: hint }),
  );
  const list = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const problem = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const rows = new Map<string, RowParts>();
  // Files whose first bytes are being checked, by name and size: a second
  // copy chosen meanwhile is a duplicate too.
  const checking = new Set<string>();
  const sameFile = (f: { name: string; size: number | null }) => `${f.name}\u0000${f.size ?? 0}`;
  let disabled = false;

  const addChecked = (file: File): string | null => {
    try {
      uppy.addFile({ name: file.name, type: file.type, data: file, source: 'Local' });
      return null;
    } catch (err) {
      // Uppy refuses a file it already holds; say so rather than fail.
      return err instanceof Error && /duplicate/i.test(err.message) ? 'duplicate' : 'refused';
    }
  };

  const add = (files: File[]) => {
    if (disabled || files.length === 0) return;
    say(problem, '', 'error');
    const empty: string[] = [];
    const duplicate: string[] = [];
    for (const file of files) {
      if (file.size === 0) {
        empty.push(file.name);
        continue;
      }
      const key = sameFile(file);
      if (checking.has(key) || uppy.getFiles().some((f) => sameFile(f) === key)) {
        duplicate.push(file.name);
        continue;
      }
      // What the service would refuse is refused here, before a byte is
      // sent: its name's ending and first bytes (file-check.ts).
      checking.add(key);
      void check(file)
        .catch(() => null) // an unreadable slice is the service's to judge
        .then((reason) => {
          checking.delete(key);
          if (disabled) return;
          if (reason) refusedRow(file.name, reason);
          else if (addChecked(file) === 'refused') say(problem, `Not uploaded: ${file.name} could not be added. Try again, or remove it and add it again.`, 'error');
        });
    }
    const lines = [
      empty.length ? `Not uploaded (empty): ${empty.join(', ')}. Empty files cannot be migrated: export them again.` : '',
      duplicate.length ? `Not uploaded again: ${duplicate.join(', ')} ${duplicate.length === 1 ? 'is' : 'are'} already in the list.` : '',
    ].filter(Boolean);
    if (lines.length) say(problem, lines.join(' '), 'error');
  };

  /** A file refused before upload: its name, why, and a button to clear it from the list. */
  function refusedRow(name: string, reason: string): void {
    const dismiss = h('button', { type: 'button', class: 'link small', text: 'Remove' });
    dismiss.setAttribute('aria-label', `Remove ${name} from the list`);
    const li = h(
      'li',
      { class: 'upload failed refused', 'data-file-name': name },
      h('span', { class: 'upload-name' }, h('span', { class: 'file-name', text: name })),
      h('div', { class: 'upload-foot' }, h('span', { class: 'upload-state', text: `Not uploaded: ${reason}` }), h('span', { class: 'upload-actions' }, dismiss)),
    );
    dismiss.addEventListener('click', () => li.remove());
    list.append(li);
    say(live, `${name} not uploaded: ${reason}`);
  }

  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    add(files);
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (!disabled) zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    add([...(e.dataTransfer?.files ?? [])]);
  });

  function rowFor(file: File_): RowParts {
    const existing = rows.get(file.id);
    if (existing) return existing;
    const progressId = uid('progress');
    const progress = h('progress', { id: progressId, max: '100', value: '0' });
    const percent = h('span', { class: 'percent', 'aria-hidden': 'true', text: '0%' });
    const state = h('span', { class: 'upload-state', text: 'Waiting…' });
    const pause = h('button', { type: 'button', class: 'secondary small', text: 'Pause', 'aria-pressed': 'false' });
    const retry = h('button', { type: 'button', class: 'secondary small', text: 'Retry', hidden: true });
    const remove = h('button', { type: 'button', class: 'link small', text: 'Remove' });
    pause.setAttribute('aria-label', `Pause ${file.name}`);
    retry.setAttribute('aria-label', `Retry ${file.name}`);
    remove.setAttribute('aria-label', `Remove ${file.name}`);
    pause.addEventListener('click', () => {
      const paused = uppy.pauseResume(file.id);
      update(uppy.getFile(file.id));
      say(live, `${file.name} ${paused ? 'paused' : 'resumed'}.`);
    });
    retry.addEventListener('click', () => {
      say(live, `Retrying ${file.name}.`);
      void uppy.retryUpload(file.id);
    });
    remove.addEventListener('click', () => uppy.removeFile(file.id));
    const li = h(
      'li',
      { class: 'upload', 'data-file-name': file.name },
      h('label', { for: progressId, class: 'upload-name' }, h('span', { class: 'file-name', text: file.name }), ` ${formatBytes(file.size ?? 0)}`),
      h('div', { class: 'bar' }, progress, percent),
      h('div', { class: 'upload-foot' }, state, h('span', { class: 'upload-actions' }, pause, retry, remove)),
    );
    const parts = { li, progress, percent, state, pause, retry, remove };
    rows.set(file.id, parts);
    list.append(li);
    return parts;
  }

  function update(file: File_ | undefined): void {
    if (!file) return;
    const r = rowFor(file);
    const p = file.progress;
    const pct = Math.max(0, Math.min(100, Math.round(p.percentage ?? 0)));
    r.progress.value = pct;
    r.percent.textContent = `${pct}%`;
    const complete = Boolean(p.uploadComplete);
    const failed = Boolean(file.error) && !complete;
    const paused = Boolean(file.isPaused) && !complete && !failed;
    r.li.classList.toggle('done', complete);
    r.li.classList.toggle('failed', failed);
    r.li.classList.toggle('paused', paused);
    r.state.textContent = complete
      ? 'Uploaded'
      : failed
        ? `Failed: ${String(file.error)}`
        : paused
          ? `Paused at ${pct}%`
          : p.uploadStarted
            ? `Uploading… ${formatBytes(p.bytesUploaded || 0)} of ${formatBytes(file.size ?? 0)}`
            : 'Waiting…';
    r.pause.hidden = complete || failed;
    r.pause.textContent = paused ? 'Resume' : 'Pause';
    r.pause.setAttribute('aria-pressed', String(paused));
    r.pause.setAttribute('aria-label', `${paused ? 'Resume' : 'Pause'} ${file.name}`);
    r.retry.hidden = !failed;
    r.remove.hidden = complete;
  }

  uppy.on('file-added', (f) => {
    rowFor(f);
    update(f);
  });
  uppy.on('upload-progress', (f) => update(f ? uppy.getFile(f.id) : undefined));
  uppy.on('upload-pause', (f) => update(f ? uppy.getFile(f.id) : undefined));
  uppy.on('upload-retry', (f) => update(f ? uppy.getFile(f.id) : undefined));
  uppy.on('upload-success', (f) => {
    if (!f) return;
    update(uppy.getFile(f.id));
    say(live, `${f.name} uploaded.`);
  });
  uppy.on('upload-error', (f, err) => {
    if (!f) return;
    const text = uploadErrorText(err);
    uppy.setFileState(f.id, { error: text });
    update(uppy.getFile(f.id));
    say(live, `${f.name} failed: ${text}`);
  });
  uppy.on('file-removed', (f) => {
    rows.get(f.id)?.li.remove();
    rows.delete(f.id);
  });

  return {
    element: h('div', { class: 'uploader' }, zone, problem, list, live),
    busy: () => uppy.getFiles().some((f) => !f.progress.uploadComplete && !f.error),
    activeFileIds: () => new Set(uppy.getFiles().flatMap((f) => serverFileId(f) ?? [])),
    setDisabled(value: boolean) {
      disabled = value;
      input.disabled = value;
      zone.classList.toggle('disabled', value);
    },
  };
}
