// What the engine knows beyond the counts, for the workbook view: the "!"
// warnings grouped by reason (each group marked on its own, as "warn:N")
// with the per-file review files, and the merges and possible duplicates
// with both source rows and the record that resulted. Kept apart from
// workbook-view.ts, which hooks these parts in.

import { h, table, type Child } from '../lib/dom';
import { safeHref } from '../lib/links';
import { entityLabel, fieldLabel, formatCount } from '../lib/format';
import type { DuplicateCounts, DuplicateGroup, RejectsFile, SourceRow, SpotCheck, WarningGroup } from '../lib/types';

const FLAG_WORDS: Record<string, string> = {
  warning: 'flagged “!”',
  merged: 'merged with another row',
  derived: 'holds values the engine derived',
};

/** Why a sampled row was drawn more often than the rest, in words; "" when it was not. */
export function flagText(s: SpotCheck): string {
  const words = (s.flags ?? []).map((f) => FLAG_WORDS[f] ?? f);
  return words.length ? `Drawn because it is ${words.join(', ')}` : '';
}

/** A spot check's warnings, as a short list. */
export function spotWarnings(s: SpotCheck): Child {
  const ws = s.warnings ?? [];
  if (!ws.length) return null;
  return h(
    'ul',
    { class: 'spot-warnings' },
    ws.map((w) => h('li', { text: `! ${w.field ? `${fieldLabel(w.field)}: ` : ''}${w.value ? `“${w.value}” ` : ''}${w.reason}` })),
  );
}

/** The warnings by reason, each group with its examples and a mark control. */
export function warningsPart(groups: WarningGroup[], reviewFiles: RejectsFile[], markFor: (section: string) => HTMLElement): Child {
  if (!groups.length && !reviewFiles.length) return null;
  return h(
    'div',
    { 'data-part': 'warnings' },
    h('h4', { text: 'Warnings (“!”), by reason' }),
    h('p', {
      class: 'hint',
      text: 'These rows migrated, with something to look at. Mark each group reviewed, or waive it with a note. The review file of each file lists every warning by line.',
    }),
    groups.map((g, i) =>
      h(
        'div',
        { class: 'warning-group', 'data-warn': String(i) },
        h('h5', { text: `${entityLabel(g.entity)}: ${g.reason} (${formatCount(g.count)})` }),
        table(
          `Examples: ${g.reason}`,
          ['File', 'Line', 'Field', 'Value', 'Reason'],
          (g.examples ?? []).map((e) => [e.file, String(e.line), fieldLabel(e.field), e.value, e.reason]),
          { numeric: [1] },
        ),
        markFor(`warn:${i}`),
      ),
    ),
    reviewFiles.length
      ? h(
          'ul',
          { class: 'downloads' },
          reviewFiles.map((f) => {
            const href = safeHref(f.url);
            return h('li', {}, href ? h('a', { href, download: '', text: `Download the rows of ${f.file} with warnings (CSV)` }) : `${f.file}: review file stored`);
          }),
        )
      : null,
  );
}

function rowCells(r: SourceRow): string {
  return (r.cells ?? []).map((c) => `${c.column}: ${c.value}`).join(' · ') || '(values not kept)';
}

/** Merges and possible duplicates: the totals, then each listed group with its rows. */
export function duplicatesPart(counts: DuplicateCounts | null | undefined, groups: DuplicateGroup[]): Child {
  const merged = counts?.merged ?? 0;
  const possible = counts?.possible ?? 0;
  if (!merged && !possible && !groups.length) return null;
  const listed = groups.length;
  return h(
    'div',
    { 'data-part': 'duplicate-groups' },
    h('h4', { text: 'Merges and possible duplicates' }),
    h('p', {
      text: `${formatCount(merged)} ${merged === 1 ? 'row' : 'rows'} merged into another record; ${formatCount(possible)} ${possible === 1 ? 'record' : 'records'} kept apart although another record with a different id shares their key.`,
    }),
    listed ? h('p', { class: 'hint', text: `Each is listed below with its rows from your export (the first ${formatCount(listed)}).` }) : null,
    groups.map((g) =>
      h(
        'div',
        { class: `dup-group dup-${g.kind}` },
        h('h5', {
          text: `${g.kind === 'merged' ? 'Merged' : 'Possible duplicates'}: ${entityLabel(g.entity)} sharing “${g.key}” (${formatCount(g.total)} rows)`,
        }),
        table(
          'Rows in your export',
          ['File', 'Line', 'Id in your old CRM', 'Values'],
          (g.rows ?? []).map((r) => [r.file || '(earlier file)', String(r.line), r.sourceId, rowCells(r)]),
          { numeric: [1] },
        ),
        g.kind === 'merged'
          ? table(
              'The record they became',
              ['Field', 'Value'],
              Object.entries(g.record ?? {}).map(([k, v]) => [fieldLabel(k), v]),
              { rowHeader: true },
            )
          : h('p', { class: 'hint', text: `Kept as ${formatCount((g.recordIds ?? []).length)} separate records. If they are one, turn on merging of different ids in the mapping, or merge them in your old CRM.` }),
      ),
    ),
  );
}
