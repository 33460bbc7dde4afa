// "How your records are identified": the workbook's notes per file
// (internal/workbook notes.go), e.g. that a file's records are identified
// by their content because no column identifies them. Those values must
// stay the same in the final extract, so the customer reads it here,
// before sign-off, not after go-live.

import { h } from '../lib/dom';
import { entityLabel } from '../lib/format';
import type { FileNotes } from '../lib/types';

/** The notes section, or null when no file has a note. */
export function createNotesSection(notes: FileNotes[] | null | undefined): HTMLElement | null {
  const files = (notes ?? []).filter((f) => (f.notes ?? []).length > 0);
  if (!files.length) return null;
  return h(
    'section',
    { class: 'notes', 'aria-labelledby': 'notes-heading' },
    h('h3', { id: 'notes-heading', text: 'How your records are identified' }),
    ...files.map((f) =>
      h(
        'div',
        { class: 'file-notes', 'data-file': f.file },
        h('h4', { text: `${f.file} (${entityLabel(f.entity)})` }),
        h('ul', {}, (f.notes ?? []).map((n) => h('li', { text: n }))),
      ),
    ),
  );
}
