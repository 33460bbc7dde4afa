import { facts, h, table } from '../lib/dom';
import { entityLabel, formatCount } from '../lib/format';
import type { Issues } from '../lib/types';

/** The workbook's issues: rejected rows by reason, warnings, orphans. */
export function renderIssues(issues: Issues): HTMLElement {
  const rejected = issues.rejected ?? [];
  return h(
    'div',
    { class: 'issues' },
    h('h3', { text: 'Issues' }),
    rejected.length
      ? table('Rejected rows by reason', ['File', 'Records', 'Reason', 'Rows'], rejected.map((r) => [r.file, entityLabel(r.entity), r.reason, formatCount(r.count)]), { numeric: [3] })
      : h('p', { text: 'No row was rejected.' }),
    facts([
      ['Rows migrated with a warning', formatCount(issues.warned)],
      ['References to records in none of the files', formatCount(issues.orphans)],
    ]),
  );
}
