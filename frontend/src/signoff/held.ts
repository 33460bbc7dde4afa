// A held go-live's differences: why the pre-flight of the final extract
// stopped before anything was written to the live system.

import { facts, h, table } from '../lib/dom';
import { entityLabel, fieldLabel, formatCount, formatDateTime, formatShare } from '../lib/format';
import { reconWord } from '../lib/status';
import type { SignOffPreflight } from '../lib/types';

const points = (pct: number) => `${Math.round(pct * 10) / 10}%`;

export function renderHeld(p: SignOffPreflight): HTMLElement {
  const r = p.report;
  const entities = r?.entities ?? [];
  const missing = r?.missing ?? [];
  const fill = r?.fill ?? [];
  return h(
    'div',
    { class: 'held' },
    facts([
      ['Checked', p.phase === 'go-live' ? 'at the go-live time' : 'when the customer submitted the final extract'],
      ['At', formatDateTime(p.checkedAt)],
    ]),
    h('h3', { text: 'The differences past the limits' }),
    h('ul', { 'data-part': 'breaches' }, (p.breaches ?? []).map((b) => h('li', { text: b.detail }))),
    missing.length
      ? h('div', { 'data-part': 'missing-columns' }, table('Mapped columns missing from the final extract', ['Final file', 'Column', 'Field', 'Signed off as'], missing.map((m) => [m.file || m.entry, m.column, fieldLabel(m.field), m.entry]), { rowHeader: true }))
      : null,
    fill.length
      ? h(
          'div',
          { 'data-part': 'fill' },
          table('How often each field is filled', ['Records', 'Field', 'In the test', 'In the final extract', 'Records that change'], fill.map((f) => [entityLabel(f.entity), fieldLabel(f.field), points(f.testPct), points(f.pct), formatCount(f.changed)]), { numeric: [2, 3, 4] }),
        )
      : null,
    entities.length
      ? h(
          'div',
          { 'data-part': 'entities' },
          table(
            'Per kind of record, the final extract against the test',
            ['Records', 'Rows in the test', 'Rows now', 'Would migrate', 'Rejected (test → now)', 'Added', 'Removed', 'Changed', 'Check'],
            entities.map((e) => [entityLabel(e.entity), formatCount(e.testRows), formatCount(e.rows), formatCount(e.migrated), `${formatShare(e.testRejected, e.testRejectPct)} → ${formatShare(e.rejected, e.rejectPct)}`, formatCount(e.added), formatCount(e.removed), formatCount(e.changed), reconWord(e.status)]),
            { rowHeader: true, numeric: [1, 2, 3, 5, 6, 7] },
          ),
        )
      : null,
  );
}
