// "Fields several columns fill": the workbook's spot check of each field
// the mapping fills from more than one column (internal/workbook
// combined.go). For each, how the columns combine, a few rows with each
// column's value beside what the record got, and, where only the first
// non-empty value is kept, how many rows lost a value and from which
// columns, with examples. Nothing the customer mapped vanishes unshown.

import { h, table } from '../lib/dom';
import { entityLabel, fieldLabel, formatCount } from '../lib/format';
import type { CombinedField, CombinedValue, FileCombined } from '../lib/types';

/** The mode in words, with its separator for concat. */
export function combineWords(f: Pick<CombinedField, 'mode' | 'separator' | 'explicit'>): string {
  const how =
    f.mode === 'combine'
      ? 'every value is kept, each once'
      : f.mode === 'concat'
        ? `the values are joined with “${f.separator ?? '; '}”`
        : 'the first non-empty value is kept; the others are not migrated';
  return `${how}${f.explicit ? ' (your choice)' : ' (the default: choose in the mapping)'}`;
}

function exampleTable(caption: string, f: CombinedField, values: CombinedValue[]): HTMLElement {
  const columns = f.columns ?? [];
  return table(
    caption,
    ['Line', 'Source id', ...columns, `${fieldLabel(f.field)} in the record`, 'Not migrated'],
    values.map((v) => [
      String(v.line),
      v.sourceId ?? '',
      ...columns.map((c) => (v.sources ?? []).find((s) => s.column === c)?.value ?? ''),
      v.result || '—',
      (v.dropped ?? []).join(', ') || '—',
    ]),
  );
}

function fieldBlock(file: FileCombined, f: CombinedField): HTMLElement {
  const examples = f.examples ?? [];
  const dropped = f.droppedExamples ?? [];
  const by = Object.entries(f.droppedBy ?? {});
  return h(
    'div',
    { class: 'combined-field', 'data-file': file.file, 'data-field': f.field },
    h('h4', { text: `${fieldLabel(f.field)} of ${file.file} (${entityLabel(file.entity)})` }),
    h('p', {}, `Filled from ${(f.columns ?? []).map((c) => `“${c}”`).join(' and ')}: ${combineWords(f)}.`),
    h('p', { text: `${formatCount(f.rows)} migrated ${f.rows === 1 ? 'row' : 'rows'} had a value in more than one of these columns.` }),
    f.droppedRows > 0
      ? h(
          'p',
          { class: 'notice notice-warning combined-dropped' },
          h('strong', { text: `${formatCount(f.droppedRows)} ${f.droppedRows === 1 ? 'row' : 'rows'} lost a value: ` }),
          by.map(([c, n]) => `${formatCount(n)} from “${c}”`).join(', '),
          '. Choose how the columns combine in the mapping and run the test again to keep them.',
        )
      : null,
    examples.length ? exampleTable(`Rows of ${file.file} where several columns fill ${fieldLabel(f.field)}`, f, examples) : null,
    dropped.length ? exampleTable(`Rows of ${file.file} that lost a value of ${fieldLabel(f.field)}`, f, dropped) : null,
  );
}

/** The section, or null when no field of the round is filled from several columns. */
export function createCombinedSection(combined: FileCombined[] | null | undefined): HTMLElement | null {
  const files = (combined ?? []).filter((c) => (c.fields ?? []).length > 0);
  if (files.length === 0) return null;
  return h(
    'section',
    { class: 'wb-section combined', 'data-section': 'combined', 'aria-labelledby': 'combined-heading' },
    h('h3', { id: 'combined-heading', text: 'Fields several columns fill' }),
    h('p', { class: 'hint', text: 'Each field your mapping fills from more than one column: how the values combine, a few rows side by side, and every value that was not migrated.' }),
    files.flatMap((file) => (file.fields ?? []).map((f) => fieldBlock(file, f))),
  );
}
