// The pre-test checklist: per entity, how many records the old CRM shows
// (the workbook reconciles against it) and, optionally, source ids to see
// side by side in the spot checks. PUT /migrations/{id}/checklist.

import { messageOf, type ApiRequest } from '../lib/api';
import { h, say, uid } from '../lib/dom';
import { entityLabel, formatTime } from '../lib/format';
import type { Migration } from '../lib/types';
import { marketChoices } from './market';

export const DEFAULT_ENTITIES = ['contact', 'property', 'tenancy', 'applicant', 'appointment', 'order', 'company'];

export interface ChecklistView {
  element: HTMLElement;
  /** Saves when there are unsaved changes; false when that failed. */
  saveIfChanged(): Promise<boolean>;
  /** Edits not saved yet. */
  dirty(): boolean;
}

/** The counts and ids as the API wants them, from the form's text; an error names the first bad field. */
export function readChecklist(values: Array<{ entity: string; count: string; ids: string }>): {
  counts: Record<string, number>;
  spotCheckIds: Record<string, string[]>;
  error?: { entity: string; message: string };
} {
  const counts: Record<string, number> = {};
  const spotCheckIds: Record<string, string[]> = {};
  for (const v of values) {
    const text = v.count.trim();
    if (text !== '') {
      if (!/^\d+$/.test(text)) {
        return { counts, spotCheckIds, error: { entity: v.entity, message: `${entityLabel(v.entity)}: enter a whole number of records (or leave it empty).` } };
      }
      counts[v.entity] = Number(text);
    }
    const ids = v.ids
      .split(/[,;\n]/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (ids.length > 20) return { counts, spotCheckIds, error: { entity: v.entity, message: `${entityLabel(v.entity)}: name at most 20 records to spot-check.` } };
    if (ids.length) spotCheckIds[v.entity] = ids;
  }
  return { counts, spotCheckIds };
}

export function createChecklist({
  api,
  migration,
  entities,
  editable,
}: {
  api: ApiRequest;
  migration: Migration;
  entities: string[];
  editable: boolean;
}): ChecklistView {
  const fields = entities.map((entity) => {
    const countId = uid(`count-${entity}`);
    const idsId = uid(`ids-${entity}`);
    const count = h('input', {
      id: countId,
      type: 'text',
      inputmode: 'numeric',
      pattern: '[0-9]*',
      autocomplete: 'off',
      value: migration.checklist?.[entity] !== undefined ? String(migration.checklist[entity]) : '',
      disabled: !editable,
      'data-entity': entity,
    });
    const ids = h('input', {
      id: idsId,
      type: 'text',
      autocomplete: 'off',
      value: (migration.spotCheckIds?.[entity] ?? []).join(', '),
      disabled: !editable,
    });
    const row = h(
      'div',
      { class: 'checklist-row' },
      h('div', { class: 'field' }, h('label', { for: countId, text: `${entityLabel(entity)} in your old CRM` }), count),
      h(
        'div',
        { class: 'field' },
        h('label', { for: idsId }, `${entityLabel(entity)} to spot-check `, h('span', { class: 'hint', text: '(optional: their ids, separated by commas)' })),
        ids,
      ),
    );
    return { entity, count, ids, row };
  });

  const marketId = uid('market');
  const market = h(
    'select',
    { id: marketId, disabled: !editable },
    marketChoices(migration.market ?? '').map((c) => h('option', { value: c.code, text: c.label, selected: c.code === (migration.market ?? '') })),
  );
  const marketRow = h(
    'div',
    { class: 'field' },
    h('label', { for: marketId }, 'Where your customers are ', h('span', { class: 'hint', text: '(phone numbers without a country code are read as this country’s; so are dates like 03/04 that read both ways)' })),
    market,
  );

  const status = h('p', { class: 'inline-status', role: 'status' });
  const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'secondary', text: 'Save counts', disabled: !editable });
  let saved = snapshot();

  function snapshot(): string {
    return JSON.stringify([market.value, fields.map((f) => [f.count.value.trim(), f.ids.value.trim()])]);
  }

  async function submit(): Promise<boolean> {
    say(error, '', 'error');
    for (const f of fields) f.count.removeAttribute('aria-invalid');
    const read = readChecklist(fields.map((f) => ({ entity: f.entity, count: f.count.value, ids: f.ids.value })));
    if (read.error) {
      say(error, read.error.message, 'error');
      const bad = fields.find((f) => f.entity === read.error?.entity);
      bad?.count.setAttribute('aria-invalid', 'true');
      bad?.count.focus();
      return false;
    }
    save.disabled = true;
    say(status, 'Saving your counts…');
    try {
      await api('PUT', `/migrations/${encodeURIComponent(migration.id)}/checklist`, { counts: read.counts, spotCheckIds: read.spotCheckIds, market: market.value });
      saved = snapshot();
      say(status, `Counts saved at ${formatTime(new Date().toISOString())}.`, 'success');
      return true;
    } catch (err) {
      say(status, '');
      say(error, messageOf(err, 'Your counts could not be saved. Try again.'), 'error');
      return false;
    } finally {
      save.disabled = !editable;
    }
  }

  const form = h(
    'form',
    { class: 'checklist', novalidate: true, on: { submit: (e: SubmitEvent) => (e.preventDefault(), void submit()) } },
    h(
      'fieldset',
      {},
      h('legend', { text: 'How many records of each kind does your old CRM show?' }),
      h('p', { class: 'hint', text: 'The test migration’s workbook checks what it migrated against these numbers. Leave a kind empty if you have none.' }),
      fields.map((f) => f.row),
      marketRow,
    ),
    error,
    editable ? h('div', { class: 'actions' }, save) : null,
    status,
  );

  return {
    element: form,
    saveIfChanged: async () => (snapshot() === saved ? true : submit()),
    dirty: () => snapshot() !== saved,
  };
}
