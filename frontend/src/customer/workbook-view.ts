// The test migration's workbook, for the customer to review: the
// reconciliation against their counts, spot checks side by side (each
// ticked), what the engine read from the files (inference-view.ts), issues
// with the rejects files, values left out and possible duplicates, unmapped
// columns and fill rates.
// Each section is marked reviewed or waived with a note
// (PUT /migrations/{id}/review); once nothing is open, sign-off can be
// requested (POST /migrations/{id}/request-signoff; a 409 lists what is open).

import { messageOf, type ApiRequest } from '../lib/api';
import { facts, h, replace, say, table, uid, type Child } from '../lib/dom';
import { safeHref } from '../lib/links';
import { entityLabel, fieldLabel, formatCount, formatPercent } from '../lib/format';
import { reconWord, sectionLabel } from '../lib/status';
import type { PossibleDuplicate, ReviewAnswer, ReviewMark, ReviewState, SpotCheck, Workbook } from '../lib/types';
import { createCombinedSection } from './combined-view';
import { createNotesSection } from './notes-view';
import { createInferenceSection } from './inference-view';
import { duplicatesPart, flagText, spotWarnings, warningsPart } from './workbook-findings';

export const SECTIONS = ['reconciliation', 'spotChecks', 'issues', 'fillRates', 'unmapped'] as const;

/** What still needs a mark before sign-off can be requested (the server's rule): the sections, each spot check, each warning group. */
export function openItems(spotChecks: number, review: Record<string, ReviewMark> | null | undefined, warningGroups = 0): string[] {
  const marked = (s: string) => review?.[s]?.state === 'reviewed' || review?.[s]?.state === 'waived';
  const out: string[] = [];
  for (const s of SECTIONS) {
    if (s === 'spotChecks') {
      if (marked(s)) continue;
      for (let i = 0; i < spotChecks; i++) if (!marked(`spot:${i}`)) out.push(`spot:${i}`);
      continue;
    }
    if (!marked(s)) out.push(s);
  }
  for (let i = 0; i < warningGroups; i++) if (!marked(`warn:${i}`)) out.push(`warn:${i}`);
  return out;
}

/** "still open: spot:2, fillRates." in a 409 message, as labels. */
export function openFromMessage(message: string): string[] {
  const m = /still open: ([^.]+)/.exec(message);
  return m?.[1] ? m[1].split(',').map((s) => s.trim()).filter(Boolean) : [];
}

function skippedText(skipped: Record<string, number> | null): string {
  const rules = Object.entries(skipped ?? {});
  return rules.length ? ` Skipped by rule: ${rules.map(([r, n]) => `${r} ${formatCount(n)}`).join(', ')}.` : '';
}

/** Records a housekeeping rule changed on purpose; rules that changed none are left out. */
function housekeepingText(housekeeping: Record<string, number> | null | undefined): Child {
  const rules = Object.entries(housekeeping ?? {}).filter(([, n]) => n > 0);
  if (!rules.length) return null;
  return h(
    'span',
    { 'data-part': 'housekeeping' },
    ` Changed by housekeeping rules, so they differ from your export on purpose: ${rules.map(([r, n]) => `${r} ${formatCount(n)}`).join(', ')}.`,
  );
}

/** "1 (line 2), 6 (line 7)": each kept record's source id and first line. */
function duplicateRecords(d: PossibleDuplicate): string {
  const ids = d.sourceIds ?? [];
  const lines = d.lines ?? [];
  const n = Math.max(ids.length, lines.length);
  return Array.from({ length: n }, (_, i) => {
    const id = ids[i] || '(no id)';
    return lines[i] ? `${id} (line ${lines[i]})` : id;
  }).join(', ');
}

export interface WorkbookView {
  element: HTMLElement;
  /** New marks from a poll (ignored while a mark is being saved). */
  setReview(review: Record<string, ReviewMark> | null | undefined): void;
}

export interface WorkbookOptions {
  api: ApiRequest;
  migrationId: string;
  workbook: Workbook;
  review: Record<string, ReviewMark> | null | undefined;
  /** False: shown for reference, no marks (e.g. while sign-off is pending). */
  editable: boolean;
  /** Sign-off requested (202). */
  onRequested?: () => void;
}

interface MarkControl {
  section: string;
  render(mark: ReviewMark | undefined): void;
}

export function createWorkbookView(opts: WorkbookOptions): WorkbookView {
  const { api, migrationId, workbook: wb, editable } = opts;
  let review: Record<string, ReviewMark> = { ...(opts.review ?? {}) };
  let pending = 0; // marks being saved
  let busy = false;
  const controls: MarkControl[] = [];
  const spots = wb.spotChecks ?? [];
  const base = `/migrations/${encodeURIComponent(migrationId)}`;

  const openList = h('div', { class: 'open-list', role: 'status', 'aria-live': 'polite' });
  const requestError = h('div', { class: 'notice notice-error', role: 'alert', hidden: true });
  const requestButton = h('button', { type: 'button', class: 'primary', text: 'Request sign-off', on: { click: () => void requestSignOff() } });

  async function mark(items: Array<{ section: string; state: ReviewState; note: string }>, errorEl: HTMLElement): Promise<boolean> {
    pending += 1;
    busy = true;
    say(errorEl, '', 'error');
    try {
      const res = await api<ReviewAnswer>('PUT', `${base}/review`, { items });
      // Marks are only ever added within a round, so answers that cross merge safely.
      review = { ...review, ...(res.review ?? {}) };
      return true;
    } catch (err) {
      say(errorEl, messageOf(err, 'The mark could not be saved. Try again.'), 'error');
      return false;
    } finally {
      pending -= 1;
      busy = pending > 0;
      renderAll();
    }
  }

  /** The reviewed / waive-with-a-note control for a section. */
  function sectionMark(section: string, { canReview = true, label = sectionLabel(section).toLowerCase() } = {}): HTMLElement {
    const stateText = h('p', { class: 'mark-state' });
    const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const noteId = uid('note');
    const note = h('textarea', { id: noteId, rows: '2', maxlength: '2000' });
    const reviewed = h('button', {
      type: 'button',
      class: 'secondary',
      text: `Mark ${label} as reviewed`,
      on: { click: () => void mark([{ section, state: 'reviewed', note: '' }], error) },
    });
    const waive = h('button', {
      type: 'button',
      class: 'secondary',
      text: 'Waive',
      on: {
        click: () => {
          const text = note.value.trim();
          if (!text) {
            say(error, 'Say in the note why you waive this part: your coordinator reads it.', 'error');
            note.setAttribute('aria-invalid', 'true');
            note.focus();
            return;
          }
          note.removeAttribute('aria-invalid');
          void mark([{ section, state: 'waived', note: text }], error);
        },
      },
    });
    const waiver = h(
      'details',
      { class: 'waiver' },
      h('summary', { text: 'Waive with a note instead' }),
      h('div', { class: 'field' }, h('label', { for: noteId, text: `Why you waive ${label}` }), note),
      waive,
    );
    const box = h('div', { class: 'mark', 'data-section': section }, stateText, editable ? h('div', { class: 'actions' }, canReview ? reviewed : null, waiver) : null, error);
    controls.push({
      section,
      render(m) {
        stateText.replaceChildren();
        if (section === 'spotChecks' && m?.state !== 'waived') {
          const ticked = spots.filter((_, i) => review[`spot:${i}`]).length;
          if (spots.length && ticked === spots.length) stateText.append(h('strong', { class: 'ok', text: `✓ All ${spots.length} spot checks ticked` }));
          else stateText.append(h('span', { class: 'muted', text: `${ticked} of ${spots.length} spot checks ticked.` }));
        } else if (m?.state === 'reviewed') stateText.append(h('strong', { class: 'ok', text: '✓ Reviewed' }));
        else if (m?.state === 'waived') stateText.append(h('strong', { class: 'warn', text: 'Waived' }), `: ${m.note ?? ''}`);
        else stateText.append(h('span', { class: 'muted', text: 'Not reviewed yet.' }));
        reviewed.disabled = busy || m?.state === 'reviewed';
        waive.disabled = busy;
      },
    });
    return box;
  }

  function section(key: string, title: string, intro: string, body: Child, markOpts?: { canReview?: boolean }): HTMLElement {
    const id = uid('wb');
    return h(
      'section',
      { class: 'wb-section', 'aria-labelledby': id, 'data-section': key },
      h('h3', { id, text: title }),
      h('p', { class: 'hint', text: intro }),
      body,
      sectionMark(key, markOpts),
    );
  }

  // -------------------------------------------------------- sections

  const reconciliation = section(
    'reconciliation',
    'Reconciliation',
    'What your old CRM shows beside what the export held and what migrated. Every row is migrated, merged, rejected with a reason or skipped by a named rule.',
    table(
      'Reconciliation per kind of record',
      ['Records', 'Your count', 'Rows in export', 'Migrated', 'Merged', 'Rejected', 'Skipped', 'Check'],
      (wb.reconciliation ?? []).map((r) => [
        entityLabel(r.entity),
        r.checklist === null || r.checklist === undefined ? 'not given' : formatCount(r.checklist),
        formatCount(r.rows),
        formatCount(r.migrated),
        formatCount(r.merged),
        formatCount(r.rejected),
        formatCount(Object.values(r.skipped ?? {}).reduce((a, b) => a + b, 0)),
        h('strong', { class: `recon-${r.status}`, text: reconWord(r.status) }),
      ]),
      { rowHeader: true, numeric: [1, 2, 3, 4, 5, 6] },
    ),
  );
  reconciliation.querySelector('.mark')?.before(
    h(
      'ul',
      { class: 'explanations' },
      (wb.reconciliation ?? []).map((r) =>
        h('li', {}, h('strong', { text: `${entityLabel(r.entity)}: ${reconWord(r.status)}. ` }), r.explanation, skippedText(r.skipped), housekeepingText(r.housekeeping)),
      ),
    ),
  );

  const spotList = h(
    'ol',
    { class: 'spot-checks' },
    spots.map((s, i) => spotCheck(s, i)),
  );
  const spotSection = section(
    'spotChecks',
    'Spot checks',
    'Records from your export beside what they became. Tick each one that is right, or waive them all with a note.',
    spotList,
    { canReview: false },
  );

  const issues = wb.issues;
  const rejectsFiles = issues?.rejectsFiles ?? [];
  const warningGroups = issues?.warnings ?? [];
  const issuesSection = section(
    'issues',
    'Issues and rejected rows',
    'Rows that could not migrate, grouped by reason. Each file’s rejected rows (original values, line and reasons) can be downloaded; the links last 15 minutes, reload the page for fresh ones.',
    h(
      'div',
      {},
      (issues?.rejected ?? []).length
        ? table(
            'Rejected rows by reason',
            ['File', 'Records', 'Reason', 'Rows'],
            (issues?.rejected ?? []).map((r) => [r.file, entityLabel(r.entity), r.reason, formatCount(r.count)]),
            { numeric: [3] },
          )
        : h('p', { text: 'No row was rejected.' }),
      rejectsFiles.length
        ? h(
            'ul',
            { class: 'downloads' },
            rejectsFiles.map((f) => {
              const href = safeHref(f.url);
              return h('li', {}, href ? h('a', { href, download: '', text: `Download the rejected rows of ${f.file} (CSV)` }) : `${f.file}: rejected rows stored`);
            }),
          )
        : null,
      (issues?.leftOut ?? []).length
        ? h(
            'div',
            { 'data-part': 'left-out' },
            h('h4', { text: 'Values left out' }),
            h('p', { class: 'hint', text: 'These records migrated, but a value that could not be read was left out of the field and kept aside as invalid. Correct it in your export, or in the new system after the move.' }),
            table(
              'Values left out, by field',
              ['File', 'Records', 'Field', 'Values left out'],
              (issues?.leftOut ?? []).map((l) => [l.file, entityLabel(l.entity), fieldLabel(l.field), formatCount(l.count)]),
              { numeric: [3] },
            ),
          )
        : null,
      (issues?.refusedPeople ?? []).length
        ? h(
            'div',
            { 'data-part': 'refused-people' },
            h('h4', { text: 'People the new system refused' }),
            h('p', { class: 'hint', text: 'These rows migrated, but a person named on them (a tenant or an applicant, for example) was refused by the new system for the reason given, so the record does not link to them. Correct it in your export, or add the person after the move.' }),
            table(
              'People the new system refused, by file and reason',
              ['File', 'Reason', 'People'],
              (issues?.refusedPeople ?? []).map((r) => [r.file, r.reason, formatCount(r.count)]),
              { numeric: [2] },
            ),
          )
        : null,
      (issues?.possibleDuplicates ?? 0) > 0 || (issues?.duplicates ?? []).length
        ? h(
            'div',
            { 'data-part': 'duplicates' },
            h('h4', { text: 'Possible duplicates' }),
            h('p', {
              class: 'hint',
              text: `${formatCount(issues?.possibleDuplicates ?? 0)} records were kept apart although another record with a different id in your old CRM shares its dedupe key (below). If they are the same, merge them in your old CRM or after the move.`,
            }),
            (issues?.possibleGroups ?? 0) > (issues?.duplicates ?? []).length
              ? h('p', {
                  class: 'muted',
                  'data-part': 'duplicates-cut',
                  text: `The first ${formatCount((issues?.duplicates ?? []).length)} of ${formatCount(issues?.possibleGroups)} shared keys are listed.`,
                })
              : null,
            table(
              'Possible duplicates, by shared key',
              ['Records', 'Shared key', 'Ids in your old CRM (line)'],
              (issues?.duplicates ?? []).map((d) => [entityLabel(d.entity), d.key, duplicateRecords(d)]),
            ),
          )
        : null,
      warningsPart(warningGroups, issues?.reviewFiles ?? [], (sec) => sectionMark(sec, { label: `this group of warnings` })),
      duplicatesPart(issues?.duplicateCounts, issues?.duplicateGroups ?? []),
      facts([
        ['Rows migrated with a warning (flagged “!”)', formatCount(issues?.warned)],
        ['References to records in none of the files', formatCount(issues?.orphans)],
      ]),
    ),
  );

  const unmapped = (wb.unmapped ?? []).filter((u) => (u.columns ?? []).length > 0);
  const unmappedSection = section(
    'unmapped',
    'Columns that will not migrate',
    'Nothing maps these columns, so their values stay behind. Map them in a revision, or keep them for manual follow-up.',
    unmapped.length
      ? h('ul', { class: 'unmapped' }, unmapped.map((u) => h('li', {}, h('strong', { text: u.file }), `: ${(u.columns ?? []).join(', ')}`)))
      : h('p', { text: 'Every column of every file is mapped.' }),
  );

  const fillSection = section(
    'fillRates',
    'Fill rates',
    'How often each field got a value, per file. A field you expect to be full that is mostly empty points at a mapping to check.',
    h(
      'div',
      {},
      (wb.fillRates ?? []).map((f) =>
        table(
          `${f.file} (${entityLabel(f.entity)})`,
          ['Field', 'Filled', 'Rate'],
          (f.fields ?? [])
            .filter((x) => x.filled > 0)
            .map((x) => [fieldLabel(x.field), formatCount(x.filled), h('span', { class: 'rate' }, h('span', { class: 'rate-bar', style: `width:${Math.round(x.rate * 100)}%`, 'aria-hidden': 'true' }), formatPercent(x.rate))]),
          { rowHeader: true, numeric: [1, 2] },
        ),
      ),
      h('p', { class: 'hint', text: 'Fields that got no value at all are left out.' }),
    ),
  );

  function spotCheck(s: SpotCheck, i: number): HTMLElement {
    const key = `spot:${i}`;
    // No record to call right: the row was rejected, skipped or not found.
    const waiveOnly = s.waiveOnly === true || !s.found;
    const boxId = uid('spot');
    const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const box = h('input', {
      type: 'checkbox',
      id: boxId,
      disabled: !editable,
      'data-spot': String(i),
      on: {
        change: () => {
          if (!box.checked) {
            // A mark cannot be withdrawn: keep it, and say how to correct it.
            box.checked = review[key]?.state === 'reviewed';
            say(error, 'A tick cannot be taken back. If this record is wrong, waive the spot checks with a note saying what is wrong.', 'error');
            return;
          }
          void mark([{ section: key, state: 'reviewed', note: '' }], error);
        },
      },
    });
    const ticked = h('span', { class: 'ok ticked', text: '✓ Ticked', hidden: true });
    const title = `Spot check ${i + 1}: ${entityLabel(s.entity, false)} ${s.sourceId}`;
    const headingId = uid('spot-h');
    const where = s.file ? `${s.file}, line ${s.line ?? '?'}` : '';
    controls.push({
      section: key,
      render(m) {
        box.checked = m?.state === 'reviewed' || m?.state === 'waived';
        box.disabled = !editable;
        box.dataset.recorded = String(box.checked);
        ticked.hidden = !box.checked;
      },
    });
    return h(
      'li',
      { class: 'spot', 'aria-labelledby': headingId },
      h('h4', { id: headingId, text: title }),
      h('p', { class: 'hint', text: [s.why === 'sampled' ? 'Picked at random' : 'Named by you', where, flagText(s)].filter(Boolean).join(' · ') }),
      s.says && (s.outcome === 'merged' || !s.found) ? h('p', { class: s.found ? 'notice' : 'notice notice-warning', 'data-part': 'outcome', text: `What became of it: ${s.says}.` }) : null,
      spotWarnings(s),
      s.found
        ? h(
            'div',
            { class: 'side-by-side' },
            table(
              'In your export',
              ['Column', 'Value'],
              (s.source ?? []).map((c) => [c.column, c.value]),
              { rowHeader: true },
            ),
            table(
              'In the new system',
              ['Field', 'Value'],
              Object.entries(s.record ?? {}).map(([k, v]) => [fieldLabel(k), v]),
              { rowHeader: true },
            ),
          )
        : s.says
          ? (s.source ?? []).length
            ? table('In your export', ['Column', 'Value'], (s.source ?? []).map((c) => [c.column, c.value]), { rowHeader: true })
            : null
          : h('p', { class: 'notice notice-warning', text: `No migrated ${s.entity} has the id ${s.sourceId}: check that it is in the export, or whether it was rejected.` }),
      waiveOnly
        ? sectionMark(key, { canReview: false, label: `spot check ${i + 1}` })
        : editable || review[key]
          ? h('p', { class: 'check' }, box, h('label', { for: boxId, text: `I checked spot check ${i + 1}: it is right` }), ticked)
          : null,
      waiveOnly ? null : error,
    );
  }

  // -------------------------------------------------------- sign-off

  async function requestSignOff(): Promise<void> {
    say(requestError, '', 'error');
    requestButton.disabled = true;
    try {
      await api('POST', `${base}/request-signoff`);
      replace(openList, h('p', { class: 'notice notice-success', text: 'Sign-off requested. Your coordinator gets an email with a link to approve or reject.' }));
      opts.onRequested?.();
    } catch (err) {
      const message = messageOf(err, 'Sign-off could not be requested. Try again.');
      const open = openFromMessage(message);
      replace(
        requestError,
        h('p', { text: message }),
        open.length ? h('ul', {}, open.map((s) => h('li', { text: sectionLabel(s) }))) : null,
      );
      requestError.hidden = false;
      requestButton.disabled = false;
    }
  }

  let lastOpen = '';
  let openListText: string | undefined;
  function renderAll(): void {
    for (const c of controls) c.render(review[c.section]);
    const open = openItems(spots.length, review, warningGroups.length);
    if (!editable) return;
    if (open.join() !== lastOpen) {
      // What a refused request listed is stale once the marks change.
      if (lastOpen) say(requestError, '', 'error');
      lastOpen = open.join();
    }
    // A live region: redrawn only when what it says changes, not every poll.
    const openText = open.length ? `Still to review (${open.length}): ${open.map((s) => sectionLabel(s)).join('; ')}` : 'all done';
    if (openText === openListText) return;
    openListText = openText;
    replace(
      openList,
      open.length
        ? [h('p', { text: `Still to review (${open.length}):` }), h('ul', {}, open.map((s) => h('li', { text: sectionLabel(s) })))]
        : h('p', { class: 'ok', text: 'Every part is reviewed or waived: you can request sign-off.' }),
    );
  }

  const element = h(
    'div',
    { class: 'workbook' },
    h('p', { class: 'hint', text: `Round ${wb.round}, mapping version ${wb.mappingVersion}.` }),
    reconciliation,
    createInferenceSection({ api, migrationId, inference: wb.inference }),
    createNotesSection(wb.notes),
    createCombinedSection(wb.combined),
    spotSection,
    issuesSection,
    unmappedSection,
    fillSection,
    editable
      ? h(
          'section',
          { class: 'request', 'aria-labelledby': 'request-heading' },
          h('h3', { id: 'request-heading', text: 'Ask your coordinator to sign off' }),
          openList,
          requestError,
          h('div', { class: 'actions' }, requestButton),
        )
      : null,
  );
  renderAll();

  return {
    element,
    setReview(next) {
      if (busy) return;
      review = { ...(next ?? {}) };
      renderAll();
    },
  };
}
