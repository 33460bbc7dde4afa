// The mapping editor: every column of every uploaded file with sample
// values, where it will go and how sure the suggestion is. Changing a
// target edits the mapping spec (mapping-spec.ts); Save sends it with
// PUT /migrations/{id}/mapping. A refused save (400) shows the server's
// message and the JSON path it names beside the editor, marks the row, and
// keeps every edit.

import { ApiError, jsonPathOf, messageOf, type ApiRequest } from '../lib/api';
import { h, replace, say, uid } from '../lib/dom';
import { entityLabel, fieldLabel, formatPercent, formatTime } from '../lib/format';
import type { CombineMode, MappingSpec, Proposal, ProposedColumn, ProposedFile, TargetField } from '../lib/types';
import {
  columnTarget,
  combineChoice,
  combineModes,
  locatePath,
  sameColumn,
  setColumnTarget,
  setCombine,
  setEntity,
  setSourceId,
  sharedTargets,
} from './mapping-spec';

export interface MappingEditorOptions {
  proposal: Proposal;
  api: ApiRequest;
  migrationId: string;
  /** False once the round is submitted: the mapping is shown, not changed. */
  editable: boolean;
  onSaved?: (spec: MappingSpec) => void;
}

export interface MappingEditor {
  element: HTMLElement;
  spec(): MappingSpec;
  /** Unsaved edits? */
  dirty(): boolean;
  save(): Promise<boolean>;
}

export function confidenceWord(c: number): string {
  if (c >= 0.85) return 'High';
  if (c >= 0.6) return 'Medium';
  if (c > 0) return 'Low';
  return 'None';
}

interface Row {
  fileIndex: number;
  column: string;
  tr: HTMLTableRowElement;
  select: HTMLSelectElement;
  idBox: HTMLInputElement;
  confidence: HTMLElement;
  proposed: ProposedColumn;
}

export function createMappingEditor(opts: MappingEditorOptions): MappingEditor {
  const { proposal, api, migrationId } = opts;
  const targets = proposal.targets ?? {};
  let spec: MappingSpec = structuredClone(proposal.mapping);
  let saved = JSON.stringify(spec);
  let saving = false;
  const original = structuredClone(proposal.mapping);
  const rows: Row[] = [];
  const entitySelects: HTMLSelectElement[] = [];
  /** Per file, where the choices for fields several columns fill go. */
  const combineBoxes: HTMLElement[] = [];

  const status = h('p', { class: 'editor-status', role: 'status', 'aria-live': 'polite' });
  const errorId = uid('mapping-error');
  const error = h('div', { id: errorId, class: 'notice notice-error', role: 'alert', hidden: true });
  const saveButton = h('button', { type: 'button', class: 'primary', text: 'Save mapping', on: { click: () => void save() } });
  const undoButton = h('button', { type: 'button', class: 'secondary', text: 'Undo unsaved changes', on: { click: () => undo() } });

  const typesOf = (entity: string): Record<string, string> => Object.fromEntries((targets[entity] ?? []).map((t) => [t.name, t.type]));

  const specIndexOf = (pf: ProposedFile, i: number): number => {
    const byName = spec.files.findIndex((f) => f.name === pf.table);
    return byName >= 0 ? byName : i;
  };

  const files = (proposal.files ?? []).map((pf, i) => renderFile(pf, specIndexOf(pf, i)));

  const element = h(
    'div',
    { class: 'mapping-editor' },
    files.length ? files : h('p', { class: 'muted', text: 'No columns to map yet: upload your test extract first.' }),
    error,
    opts.editable && files.length ? h('div', { class: 'actions' }, saveButton, undoButton) : null,
    status,
  );
  refresh();

  function renderFile(pf: ProposedFile, fileIndex: number): HTMLElement {
    const headingId = uid('map-file');
    const entitySelectId = uid('entity');
    const fileSpec = spec.files[fileIndex];
    const entity = fileSpec?.entity ?? pf.entity;
    const entitySelect = h(
      'select',
      { id: entitySelectId, disabled: !opts.editable, 'data-file': String(fileIndex), on: { change: () => changeEntity(fileIndex, entitySelect) } },
      Object.keys(targets)
        .sort()
        .map((e) => h('option', { value: e, selected: e === entity, text: entityLabel(e) })),
    );
    entitySelects[fileIndex] = entitySelect;
    const caption = `Columns of ${pf.fileName}`;
    const body = h('tbody');
    for (const col of pf.columns ?? []) body.append(renderRow(pf, fileIndex, col));
    const combineBox = h('div', { class: 'combine-choices', 'data-file': String(fileIndex) });
    combineBoxes[fileIndex] = combineBox;
    return h(
      'section',
      { class: 'mapping-file', 'aria-labelledby': headingId },
      h('h3', { id: headingId }, h('span', { class: 'file-name', text: pf.fileName })),
      h(
        'p',
        { class: 'field inline' },
        // The visible words, plus the file's name, so each file's select has its own name.
        h('label', { for: entitySelectId }, 'Its records are', h('span', { class: 'visually-hidden', text: ` (${pf.fileName})` }), ' '),
        entitySelect,
        pf.preset ? h('span', { class: 'hint', text: ` Recognised as the ${pf.preset} layout${pf.score ? ` (${formatPercent(pf.score)} match)` : ''}.` }) : null,
      ),
      h(
        'div',
        { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
        h(
          'table',
          { class: 'mapping-table' },
          h('caption', { class: 'visually-hidden', text: caption }),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Column', 'Sample values', 'Migrates to', 'Confidence', 'Record id'].map((t) => h('th', { scope: 'col', text: t })),
            ),
          ),
          body,
        ),
      ),
      combineBox,
    );
  }

  /**
   * Shows, for each field of the file that several columns fill, how their
   * values combine, and lets the customer choose: every value (lists),
   * the first non-empty, or concatenated with a separator (text). Without
   * a choice the default applies, and says so.
   */
  function renderCombine(fileIndex: number): void {
    const box = combineBoxes[fileIndex];
    const file = spec.files[fileIndex];
    if (!box || !file) return;
    const focused = document.activeElement instanceof HTMLElement && box.contains(document.activeElement) ? document.activeElement.dataset.key : undefined;
    const types = typesOf(file.entity);
    const shared = sharedTargets(file);
    if (shared.length === 0) {
      box.replaceChildren();
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const words: Record<CombineMode, string> = {
      combine: 'Keep every value (each once, in column order)',
      first: 'Take the first non-empty value (the others are not migrated; the workbook lists them)',
      concat: 'Concatenate the values with a separator',
    };
    replace(
      box,
      h('h4', { text: 'Fields several columns fill' }),
      shared.map((st) => {
        const type = types[st.target] ?? '';
        const choice = combineChoice(file, st.target, type);
        const selectId = uid('combine');
        const sepId = uid('separator');
        const modes = combineModes(type);
        if (!modes.includes(choice.mode)) modes.push(choice.mode);
        const select = h(
          'select',
          {
            id: selectId,
            class: 'combine-select',
            disabled: !opts.editable,
            'data-target': st.target,
            'data-key': `mode:${st.target}`,
            on: { change: () => edited(setCombine(spec, fileIndex, st.target, select.value as CombineMode, choice.separator)) },
          },
          modes.map((m) => h('option', { value: m, selected: m === choice.mode, text: words[m] })),
        );
        select.value = choice.mode;
        const separator = h('input', {
          type: 'text',
          id: sepId,
          class: 'combine-separator',
          maxlength: '20',
          value: choice.separator,
          disabled: !opts.editable,
          'data-target': st.target,
          'data-key': `sep:${st.target}`,
          on: { change: () => edited(setCombine(spec, fileIndex, st.target, 'concat', separator.value)) },
        });
        separator.value = choice.separator;
        return h(
          'div',
          { class: 'combine-choice', 'data-target': st.target },
          h('p', {}, h('strong', { text: fieldLabel(st.target) }), ` is filled from ${st.columns.map((c) => `“${c}”`).join(' and ')}.`),
          h('p', { class: 'field inline' }, h('label', { for: selectId, text: `How ${fieldLabel(st.target)} combines them ` }), select),
          choice.mode === 'concat' ? h('p', { class: 'field inline' }, h('label', { for: sepId, text: 'Separator ' }), separator) : null,
          choice.explicit ? null : h('p', { class: 'hint', text: 'Not chosen yet: this is what happens unless you choose.' }),
        );
      }),
    );
    if (focused) [...box.querySelectorAll<HTMLElement>('[data-key]')].find((el) => el.dataset.key === focused)?.focus();
  }

  function renderRow(pf: ProposedFile, fileIndex: number, col: ProposedColumn): HTMLTableRowElement {
    const selectId = uid('target');
    const colId = uid('col');
    const select = h('select', {
      id: selectId,
      class: 'target-select',
      disabled: !opts.editable,
      'aria-labelledby': `${colId} ${selectId}-label`,
      'data-column': col.column,
      on: { change: () => changeTarget(fileIndex, col.column, select.value) },
    });
    const idBox = h('input', {
      type: 'checkbox',
      id: uid('sourceid'),
      disabled: !opts.editable,
      on: { change: () => changeSourceId(fileIndex, col.column, idBox.checked) },
    });
    const confidence = h('td', { class: 'confidence' });
    const samples = col.samples ?? [];
    const tr = h(
      'tr',
      { 'data-file': String(fileIndex), 'data-column': col.column },
      h('th', { scope: 'row', id: colId, class: 'column-name', text: col.column }),
      h('td', { class: 'samples' }, samples.length ? h('ul', {}, samples.map((s) => h('li', { text: s }))) : h('span', { class: 'muted', text: 'empty in the sample' })),
      h('td', {}, h('span', { id: `${selectId}-label`, class: 'visually-hidden', text: `in ${pf.fileName} migrates to` }), select),
      confidence,
      h('td', { class: 'center' }, h('label', { for: idBox.id, class: 'visually-hidden', text: `${col.column} is the record id` }), idBox),
    );
    rows.push({ fileIndex, column: col.column, tr, select, idBox, confidence, proposed: col });
    return tr;
  }

  function fillOptions(select: HTMLSelectElement, fields: TargetField[], current: string): void {
    const list = [...fields];
    if (current && !list.some((f) => f.name === current)) list.push({ name: current, type: '' });
    replace(
      select,
      h('option', { value: '', text: '— Do not migrate —', selected: current === '' }),
      list.map((f) =>
        h('option', {
          value: f.name,
          selected: f.name === current,
          text: `${fieldLabel(f.name)}${f.required ? ' (required)' : ''}`,
        }),
      ),
    );
    select.value = current;
  }

  /** Brings every control in line with the spec. */
  function refresh(): void {
    for (const row of rows) {
      const file = spec.files[row.fileIndex];
      if (!file) continue;
      const target = columnTarget(file, row.column);
      fillOptions(row.select, targets[file.entity] ?? [], target);
      row.idBox.checked = (file.sourceId ?? []).some((c) => sameColumn(c, row.column));
      const before = original.files[row.fileIndex];
      const changed = !before || before.entity !== file.entity || columnTarget(before, row.column) !== target;
      row.tr.classList.toggle('changed', changed);
      if (changed) {
        row.confidence.replaceChildren(h('strong', { text: 'Your choice' }), h('span', { class: 'reason', text: target ? '' : ' This column will not migrate.' }));
      } else if (!target && row.idBox.checked) {
        replace(row.confidence, h('strong', { text: 'Record id' }), h('span', { class: 'reason', text: 'Identifies each record (and keeps re-runs from duplicating it); not a field of its own.' }));
      } else {
        const c = row.proposed.confidence;
        replace(
          row.confidence,
          h('span', { class: `confidence-${confidenceWord(c).toLowerCase()}` }, h('strong', { text: confidenceWord(c) }), c > 0 ? ` (${formatPercent(c)})` : ''),
          row.proposed.reason ? h('span', { class: 'reason', text: row.proposed.reason }) : null,
        );
      }
    }
    for (const [i, sel] of entitySelects.entries()) {
      const e = spec.files[i]?.entity;
      if (sel && e) sel.value = e;
    }
    for (const i of combineBoxes.keys()) renderCombine(i);
    const dirty = isDirty();
    saveButton.disabled = saving || !dirty;
    undoButton.disabled = saving || !dirty;
    if (opts.editable) say(status, saving ? 'Saving the mapping…' : dirty ? 'You have unsaved changes.' : status.dataset.saved ?? '');
  }

  function edited(next: MappingSpec): void {
    spec = next;
    clearError();
    refresh();
  }

  function changeTarget(fileIndex: number, column: string, target: string): void {
    const file = spec.files[fileIndex];
    if (!file) return;
    edited(setColumnTarget(spec, fileIndex, column, target, typesOf(file.entity)));
  }

  function changeSourceId(fileIndex: number, column: string, on: boolean): void {
    edited(setSourceId(spec, fileIndex, column, on));
  }

  function changeEntity(fileIndex: number, select: HTMLSelectElement): void {
    const entity = select.value;
    const { spec: next, dropped } = setEntity(spec, fileIndex, entity, (targets[entity] ?? []).map((t) => t.name));
    edited(next);
    if (dropped.length) {
      say(status, `${entityLabel(entity)} have no field for ${dropped.join(', ')}: choose where those columns go.`, 'warning');
    }
  }

  function undo(): void {
    spec = JSON.parse(saved) as MappingSpec;
    clearError();
    refresh();
  }

  function isDirty(): boolean {
    return JSON.stringify(spec) !== saved;
  }

  function clearError(): void {
    error.hidden = true;
    error.replaceChildren();
    for (const row of rows) {
      row.tr.classList.remove('has-error');
      row.select.removeAttribute('aria-invalid');
      row.select.removeAttribute('aria-describedby');
    }
  }

  function showError(err: unknown): void {
    const message = messageOf(err, 'The mapping could not be saved. Try again.');
    const path = err instanceof ApiError && err.status === 400 ? jsonPathOf(message) : null;
    const place = locatePath(spec, path);
    const file = place ? (proposal.files ?? []).find((_, i) => specIndexOf(_, i) === place.fileIndex) : undefined;
    const where = place
      ? `In ${file?.fileName ?? `file ${place.fileIndex + 1}`}${place.column ? `, column “${place.column}”` : ''} (${path}).`
      : path
        ? `At ${path}.`
        : '';
    replace(
      error,
      h('p', {}, h('strong', { text: 'The mapping was not saved. ' }), message.replace(/^mapping spec: /, '')),
      where ? h('p', { class: 'error-path', text: where }) : null,
      h('p', { text: 'Your changes are kept: correct them and save again.' }),
    );
    error.hidden = false;
    const row = place?.column ? rows.find((r) => r.fileIndex === place.fileIndex && sameColumn(r.column, place.column ?? '')) : undefined;
    if (row) {
      row.tr.classList.add('has-error');
      row.select.setAttribute('aria-invalid', 'true');
      row.select.setAttribute('aria-describedby', errorId);
      row.select.focus();
    }
  }

  async function save(): Promise<boolean> {
    if (saving || !opts.editable) return false;
    saving = true;
    clearError();
    refresh();
    const sent = JSON.stringify(spec);
    try {
      await api('PUT', `/migrations/${encodeURIComponent(migrationId)}/mapping`, { mapping: spec });
      saved = sent;
      status.dataset.saved = `Mapping saved at ${formatTime(new Date().toISOString())}. The test migration will use it.`;
      saving = false;
      refresh();
      opts.onSaved?.(JSON.parse(sent) as MappingSpec);
      return true;
    } catch (err) {
      saving = false;
      refresh();
      showError(err);
      return false;
    }
  }

  return { element, spec: () => structuredClone(spec), dirty: isDirty, save };
}
