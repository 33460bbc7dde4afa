// The final extract before go-live (issue 12): which signed-off file each
// final file is read with (GET …/final/matches, confirmed with POST final),
// the pre-flight's preview "this is what will go live" (GET
// …/final/preflight), and a held go-live's notice with what differs and the
// customer's way out: withdraw the extract and upload a corrected one
// (POST …/final/withdraw).

import { messageOf, type ApiRequest } from '../lib/api';
import { h, replace, say, table } from '../lib/dom';
import { entityLabel, fieldLabel, formatShare } from '../lib/format';
import { reconWord } from '../lib/status';
import type { Migration } from '../lib/types';

export interface MatchCandidate {
  entry: string;
  fileName: string;
  entity: string;
  exact: boolean;
  overlap: number;
  coverage?: number;
  missing: string[] | null;
  fits: boolean;
}

export interface TableMatch {
  fileId: string;
  fileName: string;
  table: string;
  entry: string;
  entity?: string;
  how: 'same-file' | 'exact' | 'overlap' | 'none' | 'ambiguous' | 'confirmed';
  note: string;
  candidates: MatchCandidate[] | null;
}

export interface MatchView {
  tables: TableMatch[] | null;
}

export interface MatchChoice {
  fileId: string;
  table: string;
  entry: string;
}

export interface PreflightBreach {
  rule: string;
  entity?: string;
  field?: string;
  detail: string;
}

export interface PreflightReport {
  phase: string;
  entities: Array<{
    entity: string;
    testRows: number;
    rows: number;
    migrated: number;
    testRejectPct: number;
    rejectPct: number;
    testWarnPct: number;
    warnPct: number;
    testRejected?: number;
    rejected?: number;
    testWarned?: number;
    warned?: number;
    status: string;
    added: number;
    removed: number;
    changed: number;
  }> | null;
  missing: Array<{ entry: string; file?: string; column: string; field: string }> | null;
  fill: Array<{ entity: string; field: string; testPct: number; pct: number; changed: number }> | null;
  breaches: PreflightBreach[] | null;
}

/** A match that needs the customer's choice before the final migration can be scheduled. */
export function needsChoice(t: TableMatch): boolean {
  return t.how === 'overlap' || t.how === 'ambiguous' || t.how === 'none';
}

/**
 * The matches as a form: one select per final table, preset to its match,
 * listing every signed-off file it can be read with. choices() returns them
 * confirmed, or a message when a table has no file chosen.
 */
export function renderMatches(view: MatchView): { element: HTMLElement; choices(): MatchChoice[] | string } {
  const selects: Array<{ t: TableMatch; select: HTMLSelectElement }> = [];
  const rows = (view.tables ?? []).map((t) => {
    const select = h('select', { 'aria-label': `Signed-off file that ${t.fileName} replaces` });
    select.append(h('option', { value: '', text: 'Choose…' }));
    for (const c of t.candidates ?? []) {
      if (!c.fits) continue;
      const opt = h('option', { value: c.entry, text: `${c.fileName || c.entry} (${entityLabel(c.entity)})${c.exact ? ', same columns' : ''}` });
      if (c.entry === t.entry) opt.selected = true;
      select.append(opt);
    }
    selects.push({ t, select });
    return [h('span', { class: 'file-name', text: t.fileName }), select, h('span', { class: needsChoice(t) ? 'notice-warning' : 'muted', text: t.note })];
  });
  const element = h(
    'div',
    { class: 'final-matches' },
    h('p', { class: 'hint', text: 'Each final file is read with the signed-off mapping of the test file it replaces. Check each one; correct it if it is wrong.' }),
    table('Which signed-off file each final file replaces', ['Final file', 'Replaces', 'Why'], rows),
  );
  return {
    element,
    choices() {
      const out: MatchChoice[] = [];
      for (const { t, select } of selects) {
        if (!select.value) return `Choose which signed-off file ${t.fileName} replaces.`;
        out.push({ fileId: t.fileId, table: t.table, entry: select.value });
      }
      return out;
    },
  };
}

const pct = (n: number) => `${Math.round(n * 10) / 10}%`;

/** The pre-flight's preview: what the final migration would write, against the signed-off test. */
export function renderPreflight(r: PreflightReport): HTMLElement {
  const entities = r.entities ?? [];
  const fill = (r.fill ?? []).filter((f) => f.pct !== f.testPct || f.changed > 0);
  return h(
    'div',
    { class: 'preflight' },
    h('h3', { text: 'This is what will go live' }),
    table(
      'Per kind of record: the final extract against the signed-off test migration',
      ['Records', 'Rows (test)', 'Migrated', 'Rejected', 'Warnings', 'Reconciliation', 'Added', 'Removed', 'Changed'],
      entities.map((e) => [
        entityLabel(e.entity),
        `${e.rows} (${e.testRows})`,
        String(e.migrated),
        `${formatShare(e.rejected, e.rejectPct)} · test ${formatShare(e.testRejected, e.testRejectPct)}`,
        `${formatShare(e.warned, e.warnPct)} · test ${formatShare(e.testWarned, e.testWarnPct)}`,
        reconWord(e.status),
        String(e.added),
        String(e.removed),
        String(e.changed),
      ]),
      { rowHeader: true, numeric: [1, 2, 6, 7, 8] },
    ),
    (r.missing ?? []).length
      ? table(
          'Mapped columns missing from the final extract',
          ['Column', 'Field', 'Final file', 'Mapped for'],
          (r.missing ?? []).map((m) => [m.column, m.field ? fieldLabel(m.field) : '—', m.file || '—', m.entry]),
        )
      : h('p', { class: 'muted', text: 'Every mapped column is in the final extract.' }),
    fill.length
      ? table(
          'Fields whose fill rate changes',
          ['Field', 'Test', 'Final', 'Records whose value changes'],
          fill.map((f) => [`${entityLabel(f.entity)}: ${fieldLabel(f.field)}`, pct(f.testPct), pct(f.pct), String(f.changed)]),
          { rowHeader: true, numeric: [3] },
        )
      : h('p', { class: 'muted', text: 'Every field is filled as often as in the test migration.' }),
  );
}

/**
 * The go-live panel's pre-flight part: the preview once a pre-flight ran,
 * and when go-live is held, what differs and the withdraw action.
 */
export function createPreflightView({ api, migration, onWithdrawn }: { api: ApiRequest; migration: Migration; onWithdrawn: () => void }) {
  const base = `/migrations/${encodeURIComponent(migration.id)}`;
  const held = h('div', { class: 'notice notice-warning', role: 'alert', hidden: true });
  const preview = h('div', { class: 'preflight-box' });
  const status = h('p', { class: 'inline-status', role: 'status' });
  let loaded = '';

  async function withdraw(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    say(status, 'Withdrawing the final extract…');
    try {
      await api('POST', `${base}/final/withdraw`);
      say(status, 'Withdrawn: upload the corrected extract and schedule go-live again.', 'success');
      onWithdrawn();
    } catch (err) {
      say(status, messageOf(err, 'The final extract could not be withdrawn. Try again.'), 'error');
      button.disabled = false;
    }
  }

  async function load(m: Migration): Promise<void> {
    const p = m.preflight;
    const key = p ? `${p.checkedAt}|${p.held}|${m.status}` : '';
    if (key === loaded) return;
    loaded = key;
    held.hidden = !(m.status === 'final_held' && p?.held);
    if (!held.hidden && p) {
      const button = h('button', { type: 'button', class: 'primary', text: 'Withdraw and upload a corrected extract' });
      button.addEventListener('click', () => void withdraw(button));
      replace(
        held,
        h('h3', { text: 'Go-live is on hold' }),
        h('p', { text: 'The final extract differs from the signed-off test migration more than the limits allow, so nothing has been written to your live system. Your coordinator has been asked to approve these differences; or correct the extract yourself.' }),
        h('ul', {}, ...(p.breaches ?? []).map((b) => h('li', { text: b.detail }))),
        button,
      );
    }
    if (!p) {
      replace(preview, h('p', { class: 'muted', text: 'The final extract is being checked against the signed-off test migration…' }));
      return;
    }
    try {
      replace(preview, renderPreflight(await api<PreflightReport>('GET', `${base}/final/preflight`)));
    } catch (err) {
      replace(preview, h('p', { class: 'notice notice-error', role: 'alert', text: messageOf(err, 'The preview could not be loaded. Reload the page.') }));
    }
  }

  void load(migration);
  return { element: h('div', {}, held, status, preview), update: (m: Migration) => void load(m) };
}
