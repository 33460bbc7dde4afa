// Per-file reading settings beside the mapping editor: each file's encoding
// (with how sure the reader was) and delimiter, and a small select for each
// so that a customer whose export was saved as Shift_JIS or with semicolons
// can say so (PUT …/uploads/{fileId}/format) instead of re-exporting it.
// A file refused because its encoding is uncertain is listed too, with the
// reader's candidates first.

import type { ApiRequest } from '../lib/api';
import { messageOf } from '../lib/api';
import { h } from '../lib/dom';
import type { FileFormat, Proposal } from '../lib/types';

/** The encodings the reader supports (tabular.SupportedEncodings). */
export const ENCODINGS = [
  'utf-8', 'utf-16le', 'utf-16be', 'windows-1252', 'windows-1250', 'windows-1251', 'iso-8859-15', 'iso-8859-2',
  'koi8-r', 'koi8-u', 'iso-8859-5', 'windows-1253', 'iso-8859-7', 'windows-1254', 'iso-8859-9', 'windows-1257',
  'iso-8859-13', 'windows-1255', 'windows-1256', 'big5', 'gb18030', 'shift_jis', 'euc-jp', 'euc-kr',
];

const DELIMITERS: [string, string][] = [['', 'Detect'], [',', 'Comma ,'], [';', 'Semicolon ;'], ['|', 'Bar |'], ['tab', 'Tab']];

export interface FormatControlsOptions {
  proposal: Proposal;
  api: ApiRequest;
  migrationId: string;
  /** Called after a setting is saved: the proposal should be loaded again. */
  onSaved: () => void;
}

/** What the reader found, in words: "big5 (97% sure), delimiter ,". */
export function describeFormat(f: FileFormat): string {
  const sure = f.encodingChosen ? 'as you chose' : f.confidence >= 1 ? 'certain' : `${Math.round(f.confidence * 100)}% sure`;
  return `${f.encoding} (${sure})${f.delimiter ? `, delimiter ${f.delimiter}` : ''}`;
}

export function createFormatControls(opts: FormatControlsOptions): HTMLElement {
  const { proposal, api, migrationId, onSaved } = opts;
  const rows: { fileId: string; fileName: string; format?: FileFormat; note?: string }[] = [
    ...(proposal.files ?? []).map((f) => ({ fileId: f.fileId, fileName: f.fileName, format: f.format })),
    ...(proposal.refused ?? []).filter((r) => r.format).map((r) => ({ fileId: r.fileId, fileName: r.fileName, format: r.format, note: r.reason })),
  ];
  const seen = new Set<string>();
  const list = h('ul', { class: 'file-formats' });
  for (const row of rows) {
    if (seen.has(row.fileId) || !row.format || row.format.kind === 'xlsx') continue;
    seen.add(row.fileId);
    const f = row.format;
    const likely = [f.encoding, ...(f.alternatives ?? []).map((a) => a.Encoding)];
    const encoding = h(
      'select',
      { 'aria-label': `Encoding of ${row.fileName}`, name: 'encoding' },
      h('option', { value: '', text: 'Detect' }),
      ...[...likely, ...ENCODINGS.filter((e) => !likely.includes(e))].map((e) => h('option', { value: e, text: e })),
    ) as HTMLSelectElement;
    encoding.value = f.encodingChosen ? f.encoding : '';
    const delimiter = h(
      'select',
      { 'aria-label': `Delimiter of ${row.fileName}`, name: 'delimiter' },
      ...DELIMITERS.map(([v, label]) => h('option', { value: v, text: label })),
    ) as HTMLSelectElement;
    delimiter.value = f.delimiterChosen && f.delimiter ? f.delimiter : '';
    const status = h('span', { class: 'inline-status', role: 'status' });
    const save = h('button', { type: 'button', text: 'Read it this way' });
    save.addEventListener('click', async () => {
      save.disabled = true;
      status.textContent = 'Saving…';
      try {
        await api('PUT', `/migrations/${encodeURIComponent(migrationId)}/uploads/${encodeURIComponent(row.fileId)}/format`, {
          encoding: encoding.value,
          delimiter: delimiter.value,
        });
        status.textContent = 'Saved.';
        onSaved();
      } catch (err) {
        status.textContent = messageOf(err, 'The setting could not be saved.');
      } finally {
        save.disabled = false;
      }
    });
    const uncertain = f.confidence < 0.5 && !f.encodingChosen;
    list.append(
      h(
        'li',
        { class: uncertain ? 'uncertain' : undefined },
        h('span', { class: 'file-name', text: row.fileName }),
        ` read as ${describeFormat(f)}. `,
        uncertain ? h('span', { class: 'notice-error', text: 'The encoding is a guess: choose the right one so that no text is garbled. ' }) : null,
        h('label', {}, 'Encoding ', encoding),
        ' ',
        h('label', {}, 'Delimiter ', delimiter),
        ' ',
        save,
        ' ',
        status,
      ),
    );
  }
  return h('div', { class: 'file-format-box' }, seen.size ? [h('h4', { text: 'How each file is read' }), list] : null);
}
