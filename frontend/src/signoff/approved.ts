// What a round's sign-off approves beyond the counts: the mapping as it
// will run, what the engine inferred from each file, the downloads, the
// spot checks with the customer's marks, and merges and possible
// duplicates. Each part is shown only when the server sent it.

import { h, table } from '../lib/dom';
import { entityLabel, fieldLabel, formatCount, formatPercent } from '../lib/format';
import type { FileInference, MappedFile, SignOffDownload, SignOffDuplicates, SignOffSpotCheck } from '../lib/types';

/** The mapping: per file, each column → field, with the choices in words. */
export function renderMapping(files: MappedFile[]): HTMLElement {
  return h(
    'div',
    { class: 'approved-mapping', 'data-part': 'mapping' },
    h('h3', { text: 'The mapping you approve' }),
    h('p', { class: 'hint', text: 'The final migration runs exactly this mapping on the final extract.' }),
    files.map((f) =>
      table(
        `${f.file} → ${entityLabel(f.entity)}`,
        ['Column', 'Field', 'How'],
        (f.fields ?? []).map((m) => [m.columns?.length ? m.columns.join(' + ') : '(no column)', fieldLabel(m.field), (m.how ?? []).join('; ')]),
        { rowHeader: true },
      ),
    ),
  );
}

/** The date formats and phone regions read from each file's values. */
export function renderInference(files: FileInference[]): HTMLElement {
  const rows = files.flatMap((f) => [
    [f.file, 'Phone region', f.region?.region ? `${f.region.region} (from ${f.region.source}, ${formatPercent(f.region.confidence)} sure)` : 'none inferred'],
    ...(f.dates ?? []).map((d) => [
      f.file,
      `Dates in ${d.column}`,
      `${d.dateFormat} (${formatCount(d.read)} of ${formatCount(d.values)} values)${d.ambiguous ? `; ambiguous: ${d.alternative ?? 'another format'} reads some differently${d.examples?.length ? `, e.g. ${d.examples.join(', ')}` : ''}` : ''}`,
    ]),
  ]);
  return h(
    'div',
    { 'data-part': 'inference' },
    h('h3', { text: 'Formats and regions read from the files' }),
    table('What the engine inferred per file and column', ['File', 'What', 'Read as'], rows, { rowHeader: true }),
  );
}

/** The rejected rows and the rows migrated with a warning, per file. */
export function renderDownloads(downloads: SignOffDownload[]): HTMLElement {
  const what = (d: SignOffDownload) => (d.kind === 'rejects' ? 'Rejected rows' : d.kind === 'warnings' ? 'Rows with warnings' : d.kind);
  return h(
    'div',
    { 'data-part': 'downloads' },
    h('h3', { text: 'Downloads' }),
    h('ul', {}, downloads.map((d) => h('li', {}, h('a', { href: d.url, rel: 'noopener', text: `${what(d)}: ${d.file}` })))),
    h('p', { class: 'hint', text: 'The links work for 15 minutes; reload the page for fresh ones.' }),
  );
}

/** Each spot check: the source row beside the record, and the customer's mark. */
export function renderSpotChecks(checks: SignOffSpotCheck[]): HTMLElement {
  const record = (c: SignOffSpotCheck) =>
    c.found ? Object.entries(c.record ?? {}).map(([k, v]) => `${fieldLabel(k)}: ${v}`).join('; ') : 'not found in the migrated records';
  const source = (c: SignOffSpotCheck) => [c.file && c.line ? `${c.file} line ${c.line}: ` : '', (c.source ?? []).map((s) => `${s.column}: ${s.value}`).join('; ')].join('');
  const mark = (c: SignOffSpotCheck) =>
    !c.mark ? h('span', { class: 'muted', text: 'Not marked' }) : c.mark.state === 'waived' ? h('span', {}, h('strong', { class: 'warn', text: 'Waived' }), c.mark.note ? `: ${c.mark.note}` : '') : 'Reviewed';
  return h(
    'div',
    { 'data-part': 'spot-checks' },
    h('h3', { text: 'Spot checks' }),
    table(
      'Source rows beside the records they became, with the customer’s marks',
      ['Record', 'Why', 'Source row', 'Migrated record', 'Customer’s mark'],
      checks.map((c) => [`${entityLabel(c.entity, false)} ${c.sourceId}`, c.why, source(c), record(c), mark(c)]),
      { rowHeader: true },
    ),
  );
}

/** How many rows were merged and how many records may be duplicates, with the list. */
export function renderDuplicates(d: SignOffDuplicates): HTMLElement {
  const groups = d.groups ?? [];
  return h(
    'div',
    { 'data-part': 'duplicates' },
    h('h3', { text: 'Merges and possible duplicates' }),
    table('Rows merged and records kept apart', ['What', 'Records'], [
      ['Merged into another record', formatCount(d.merged)],
      ['Possible duplicates kept apart', formatCount(d.possible)],
    ], { rowHeader: true, numeric: [1] }),
    groups.length ? h('p', {}, h('a', { href: '#duplicate-list', text: `See the list of possible duplicates (${formatCount(groups.length)})` })) : null,
    groups.length
      ? h(
          'div',
          { id: 'duplicate-list' },
          table(
            'Possible duplicates: records that share a key but not a source id',
            ['Records', 'Shared key', 'Source ids', 'Lines'],
            groups.map((g) => [entityLabel(g.entity), g.key, (g.sourceIds ?? []).join(', '), (g.lines ?? []).join(', ')]),
            { rowHeader: true },
          ),
        )
      : null,
  );
}
