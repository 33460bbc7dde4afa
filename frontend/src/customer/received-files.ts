// What the service holds of a round's files, for the test-extract and the
// final-extract panels alike: the Remove button (DELETE …/uploads/{fileId}),
// and the uploads that were started but never finished. A reload or a crash
// forgets the upload rows Uppy showed, but the migration still lists such a
// file with complete: false; the customer is told, so they pick the same
// file again (uploader.ts then sends only the missing parts) or remove it.

import { messageOf, type ApiRequest } from '../lib/api';
import { h, replace } from '../lib/dom';
import { formatBytes } from '../lib/format';
import type { Migration, MigrationFile, Purpose } from '../lib/types';
import { partCountFor } from './uploader';

export interface RemoveOptions {
  api: ApiRequest;
  migrationId: string;
  /** Called once the service removed the file (the page polls again). */
  onRemoved: (f: MigrationFile) => void;
  /** Called with a message for people when the service refused or could not be reached. */
  onError: (message: string) => void;
}

/**
 * A Remove button for a file of the round. It removes its list item only
 * once the service confirmed; a refusal (the round was submitted meanwhile,
 * say) is passed to onError in words and the button can be pressed again.
 */
export function removeFileButton(f: MigrationFile, { api, migrationId, onRemoved, onError }: RemoveOptions): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'link small', text: 'Remove' });
  button.setAttribute('aria-label', `Remove ${f.name}`);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await api('DELETE', `/migrations/${encodeURIComponent(migrationId)}/uploads/${encodeURIComponent(f.id)}`);
      button.closest('li')?.remove();
      onRemoved(f);
    } catch (err) {
      button.disabled = false;
      onError(messageOf(err, `${f.name} could not be removed. Try again.`));
    }
  });
  return button;
}

/** Files of this purpose and round whose upload started and never finished (and was not refused). */
export function unfinishedUploads(m: Migration, purpose: Purpose, round: number): MigrationFile[] {
  return (m.files ?? []).filter((f) => f.purpose === purpose && f.round === round && !f.complete && !f.refused);
}

export interface UnfinishedList {
  /** A list, hidden while there is nothing unfinished. */
  element: HTMLElement;
  /**
   * Shows `files` except those this page is uploading right now (`active`,
   * server file ids): those have their own progress row.
   */
  update(files: MigrationFile[], active: ReadonlySet<string>): void;
}

/**
 * The unfinished uploads, each with how many of its parts S3 holds (one
 * GET …/uploads/{fileId}/parts per file, asked once) and a Remove button.
 * When the count cannot be had, the name and size are shown alone.
 */
export function createUnfinishedList(opts: RemoveOptions): UnfinishedList {
  const { api, migrationId } = opts;
  const list = h('ul', { class: 'file-list unfinished', 'aria-label': 'Unfinished uploads', hidden: true });
  const held = new Map<string, number | null>(); // file id → parts S3 holds; null when it could not be said
  const asking = new Set<string>();
  let shown: MigrationFile[] = [];

  const line = (f: MigrationFile): string => {
    const n = held.get(f.id);
    const progress = typeof n === 'number' ? `${n} of ${partCountFor(f.size)} parts uploaded` : `${formatBytes(f.size)}, not finished`;
    return ` — ${progress}: pick the same file again to resume it.`;
  };

  const render = () => {
    list.hidden = shown.length === 0;
    replace(
      list,
      shown.map((f) => h('li', { class: 'unfinished', 'data-file-id': f.id }, h('span', { class: 'file-name', text: f.name }), h('span', { text: line(f) }), ' ', removeFileButton(f, opts))),
    );
  };

  const ask = async (f: MigrationFile) => {
    asking.add(f.id);
    try {
      const res = await api<{ parts: Array<{ partNumber: number }> | null }>(
        'GET',
        `/migrations/${encodeURIComponent(migrationId)}/uploads/${encodeURIComponent(f.id)}/parts`,
      );
      held.set(f.id, (res.parts ?? []).length);
    } catch {
      held.set(f.id, null); // complete meanwhile, gone, or offline: name and size will do
    } finally {
      asking.delete(f.id);
    }
    if (shown.some((s) => s.id === f.id)) render();
  };

  return {
    element: list,
    update(files, active) {
      const next = files.filter((f) => !active.has(f.id));
      for (const f of next) if (!held.has(f.id) && !asking.has(f.id)) void ask(f);
      const key = (fs: MigrationFile[]) => fs.map((f) => f.id).join(',');
      if (key(next) === key(shown)) return; // unchanged: keep focus on a button across polls
      shown = next;
      render();
    },
  };
}
