// The final report once live (GET /migrations/{id}/final-report): counts,
// reconciliation, what changed since the test migration, and the
// post-activation list (rejected rows, columns that did not migrate, and
// mapped columns the final extract lacked, gone live on re-approval).

import { facts, h, table } from '../lib/dom';
import { safeHref } from '../lib/links';
import { entityLabel, fieldLabel, formatCount } from '../lib/format';
import { reconWord } from '../lib/status';
import type { Change, FinalReport } from '../lib/types';

function changeText(c: Change): string {
  const kind = c.kind.toLowerCase();
  if (kind === 'changed' && c.fields?.length) {
    return c.fields.map((f) => `${fieldLabel(f.field)}: “${f.before || '(empty)'}” → “${f.after || '(empty)'}”`).join('; ');
  }
  if (kind === 'added') return 'New since the test migration';
  if (kind === 'removed') return 'Not in the final extract';
  return kind === 'changed' ? 'Changed' : c.kind;
}

export function renderFinalReport(r: FinalReport): HTMLElement {
  const wb = r.workbook;
  const deltas = r.delta?.entities ?? [];
  const rejected = wb?.issues?.rejected ?? [];
  const rejectsFiles = wb?.issues?.rejectsFiles ?? [];
  const unmapped = (wb?.unmapped ?? []).filter((u) => (u.columns ?? []).length);
  const missing = r.missing ?? [];
  return h(
    'div',
    { class: 'final-report' },
    h('h3', { text: 'Rows' }),
    facts([
      ['Read', formatCount(r.counts.read)],
      ['Migrated', formatCount(r.counts.migrated)],
      ['Merged into another record', formatCount(r.counts.merged)],
      ['Rejected', formatCount(r.counts.rejected)],
      ['Skipped by a rule', formatCount(r.counts.skipped)],
      ['Chunks', formatCount(r.chunks)],
    ]),
    h('h3', { text: 'Reconciliation against your counts' }),
    table(
      'Final reconciliation',
      ['Records', 'Your count', 'Rows in extract', 'Migrated', 'Rejected', 'Check'],
      (wb?.reconciliation ?? []).map((x) => [
        entityLabel(x.entity),
        x.checklist === null || x.checklist === undefined ? 'not given' : formatCount(x.checklist),
        formatCount(x.rows),
        formatCount(x.migrated),
        formatCount(x.rejected),
        h('strong', { class: `recon-${x.status}`, text: reconWord(x.status) }),
      ]),
      { rowHeader: true, numeric: [1, 2, 3, 4] },
    ),
    h(
      'ul',
      { class: 'explanations' },
      (wb?.reconciliation ?? []).map((x) => h('li', {}, h('strong', { text: `${entityLabel(x.entity)}: ${reconWord(x.status)}. ` }), x.explanation)),
    ),
    h('h3', { text: 'What changed since the test migration' }),
    r.noBaseline
      ? h('p', { class: 'hint', text: 'The signed-off test migration kept no snapshot, so there is nothing to compare with.' })
      : table(
          'Changes per kind of record',
          ['Records', 'In the test', 'Live', 'Added', 'Removed', 'Changed', 'Unchanged'],
          deltas.map((d) => [entityLabel(d.entity), formatCount(d.before), formatCount(d.after), formatCount(d.added), formatCount(d.removed), formatCount(d.changed), formatCount(d.unchanged)]),
          { rowHeader: true, numeric: [1, 2, 3, 4, 5, 6] },
        ),
    deltas
      .filter((d) => (d.examples ?? []).length)
      .map((d) =>
        table(
          `Examples: ${entityLabel(d.entity)}`,
          ['Id in your old CRM', 'Change'],
          (d.examples ?? []).map((c) => [c.sourceId, changeText(c)]),
          { rowHeader: true },
        ),
      ),
    safeHref(r.deltaUrl) ? h('p', {}, h('a', { href: safeHref(r.deltaUrl), download: '', text: 'Download every change (CSV: entity, change, id, field, before, after)' })) : null,
    h('h3', { text: 'Your follow-up list' }),
    h('p', { class: 'notice notice-warning', role: 'note', text: 'Anything changed in your old CRM after the final extract was taken is not migrated: re-enter it by hand.' }),
    rejected.length
      ? table('Rejected rows', ['File', 'Records', 'Reason', 'Rows'], rejected.map((x) => [x.file, entityLabel(x.entity), x.reason, formatCount(x.count)]), { numeric: [3] })
      : h('p', { text: 'No row was rejected.' }),
    rejectsFiles.length
      ? h('ul', { class: 'downloads' }, rejectsFiles.map((f) => {
          const href = safeHref(f.url);
          return h('li', {}, href ? h('a', { href, download: '', text: `Download the rejected rows of ${f.file} (CSV)` }) : f.file);
        }))
      : null,
    missing.length
      ? [
          h('p', { text: 'These mapped columns were not in the final extract, so their fields are empty in your live account (your coordinator approved going live without them):' }),
          h('ul', { class: 'missing' }, missing.map((c) => h('li', {}, h('strong', { text: c.file }), `: ${c.column}${c.field ? ` (${fieldLabel(c.field)})` : ''}`))),
        ]
      : null,
    unmapped.length
      ? [h('p', { text: 'These columns did not migrate:' }), h('ul', { class: 'unmapped' }, unmapped.map((u) => h('li', {}, h('strong', { text: u.file }), `: ${(u.columns ?? []).join(', ')}`)))]
      : missing.length
        ? null
        : h('p', { text: 'Every column was migrated.' }),
  );
}
