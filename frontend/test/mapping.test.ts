// The mapping editor: rendering, spec edits (set, add, remove), saving, and
// a refused save's JSON path shown beside the editor with the edits kept.

import { afterEach, describe, expect, it } from 'vitest';
import { createMappingEditor, type MappingEditor } from '../src/customer/mapping-editor';
import { columnTarget, locatePath, setColumnTarget, setEntity, setSourceId } from '../src/customer/mapping-spec';
import type { MappingSpec } from '../src/lib/types';
import { fakeApi, type Route } from './fakes';
import { proposal, TARGETS } from './fixtures';

afterEach(() => {
  document.body.replaceChildren();
});

function mount(route: Route = () => ({ status: 200, body: {} }), editable = true) {
  const { api, calls } = fakeApi(route);
  const editor = createMappingEditor({ proposal: proposal(), api, migrationId: 'm-1', editable });
  document.body.append(editor.element);
  return { editor, calls };
}

function row(column: string, file = 'contacts.csv'): HTMLTableRowElement {
  const section = [...document.querySelectorAll('section.mapping-file')].find((s) => s.querySelector('h3')?.textContent === file);
  const tr = [...(section?.querySelectorAll('tbody tr') ?? [])].find((r) => r.querySelector('th')?.textContent === column);
  if (!tr) throw new Error(`no row for ${column} in ${file}`);
  return tr as HTMLTableRowElement;
}

function choose(column: string, target: string, file = 'contacts.csv'): void {
  const select = row(column, file).querySelector('select') as HTMLSelectElement;
  select.value = target;
  select.dispatchEvent(new Event('change'));
}

function fileSpec(editor: MappingEditor, i = 0) {
  const f = editor.spec().files[i];
  if (!f) throw new Error('no file');
  return f;
}

describe('mapping editor rendering', () => {
  it('shows each column with its samples, its target and the confidence', () => {
    mount();
    const email = row('Email');
    expect([...email.querySelectorAll('.samples li')].map((li) => li.textContent)).toEqual(['ada@example.com', 'alan@example.com']);
    expect((email.querySelector('select') as HTMLSelectElement).value).toBe('emails');
    expect(email.querySelector('.confidence')?.textContent).toContain('High (99%)');
    expect(email.querySelector('.confidence')?.textContent).toContain('look like email addresses');
    expect(row('Phone').querySelector('.confidence')?.textContent).toContain('Medium (62%)');

    const id = row('Id');
    expect((id.querySelector('select') as HTMLSelectElement).value).toBe('');
    expect((id.querySelector('input[type=checkbox]') as HTMLInputElement).checked).toBe(true);
    expect(row('Remarks').querySelector('.samples')?.textContent).toContain('empty in the sample');

    // The target choices are the file entity's fields, plus "do not migrate".
    const options = [...(email.querySelector('select') as HTMLSelectElement).options].map((o) => o.value);
    expect(options).toEqual(['', 'first_name', 'last_name', 'emails', 'phones', 'company', 'notes']);
    // Every select has an accessible name naming its column and file.
    const labelledBy = (email.querySelector('select') as HTMLSelectElement).getAttribute('aria-labelledby')?.split(' ') ?? [];
    const name = labelledBy.map((id) => document.getElementById(id)?.textContent).join(' ');
    expect(name).toBe('Email in contacts.csv migrates to');
    expect(row('Bedrooms', 'properties.csv')).toBeTruthy();
  });

  it('is read-only when the round is under way', () => {
    mount(undefined, false);
    expect((row('Email').querySelector('select') as HTMLSelectElement).disabled).toBe(true);
    expect(document.querySelector('button')).toBeNull();
  });
});

describe('mapping editor edits', () => {
  it('sets a mapped column’s target, dropping a conversion that no longer fits', () => {
    const { editor } = mount();
    choose('Email', 'notes');
    const email = fileSpec(editor).fields.find((f) => f.column === 'Email');
    expect(email).toEqual({ target: 'notes', column: 'Email', steps: [{ op: 'trim' }] });
    expect(row('Email').classList.contains('changed')).toBe(true);
    expect(row('Email').querySelector('.confidence')?.textContent).toContain('Your choice');
    expect(editor.dirty()).toBe(true);
  });

  it('adds a mapping for a column that had none', () => {
    const { editor } = mount();
    choose('Remarks', 'notes');
    expect(fileSpec(editor).fields.at(-1)).toEqual({ target: 'notes', column: 'Remarks' });
    expect(fileSpec(editor).fields).toHaveLength(4);
  });

  it('removes the mapping for “do not migrate”', () => {
    const { editor } = mount();
    choose('Phone', '');
    expect(fileSpec(editor).fields.map((f) => f.column)).toEqual(['First Name', 'Email']);
    expect(row('Phone').querySelector('.confidence')?.textContent).toContain('will not migrate');
  });

  it('marks and unmarks the record id column', () => {
    const { editor } = mount();
    const box = row('Id').querySelector('input[type=checkbox]') as HTMLInputElement;
    box.checked = false;
    box.dispatchEvent(new Event('change'));
    expect(fileSpec(editor).sourceId).toBeUndefined();
    const email = row('Email').querySelector('input[type=checkbox]') as HTMLInputElement;
    email.checked = true;
    email.dispatchEvent(new Event('change'));
    expect(fileSpec(editor).sourceId).toEqual(['Email']);
  });

  it('undoes unsaved changes back to the last saved mapping', () => {
    const { editor } = mount();
    choose('Phone', '');
    (document.querySelector('button.secondary') as HTMLButtonElement).click();
    expect(editor.dirty()).toBe(false);
    expect((row('Phone').querySelector('select') as HTMLSelectElement).value).toBe('phones');
  });
});

describe('mapping editor save', () => {
  it('sends the edited spec with PUT and says it is saved', async () => {
    const { editor, calls } = mount(() => ({ status: 200, body: { draftMapping: {} } }));
    choose('Remarks', 'notes');
    expect(await editor.save()).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe('PUT');
    expect(calls[0]?.path).toBe('/migrations/m-1/mapping');
    const sent = (calls[0]?.body as { mapping: MappingSpec }).mapping;
    expect(sent.files[0]?.fields.at(-1)).toEqual({ target: 'notes', column: 'Remarks' });
    expect(sent.defaults).toEqual({ region: 'GB' }); // the rest of the spec goes back untouched
    expect(editor.dirty()).toBe(false);
    expect(document.querySelector('.editor-status')?.textContent).toMatch(/Mapping saved at .*The test migration will use it/);
  });

  it('shows a 400’s JSON path next to the editor, marks the row, and keeps the edits', async () => {
    const message =
      'mapping spec: $.files[0].fields[1].steps[0].op: "email" cannot feed field "notes" of type text';
    let refuse = true;
    const { editor, calls } = mount(() =>
      refuse ? { status: 400, body: { error: { code: 'invalid', message } } } : { status: 200, body: {} },
    );
    choose('Email', 'notes');
    choose('Remarks', 'company');
    expect(await editor.save()).toBe(false);

    const alert = document.querySelector('.mapping-editor [role=alert]') as HTMLElement;
    expect(alert.hidden).toBe(false);
    expect(alert.textContent).toContain('The mapping was not saved.');
    expect(alert.textContent).toContain('"email" cannot feed field "notes" of type text');
    expect(alert.querySelector('.error-path')?.textContent).toBe(
      'In contacts.csv, column “Email” ($.files[0].fields[1].steps[0].op).',
    );
    const select = row('Email').querySelector('select') as HTMLSelectElement;
    expect(select.getAttribute('aria-invalid')).toBe('true');
    expect(select.getAttribute('aria-describedby')).toBe(alert.id);
    expect(document.activeElement).toBe(select);

    // Nothing lost: both edits are still there, on screen and in the spec.
    expect(editor.dirty()).toBe(true);
    expect(select.value).toBe('notes');
    expect((row('Remarks').querySelector('select') as HTMLSelectElement).value).toBe('company');
    expect(columnTarget(fileSpec(editor), 'Remarks')).toBe('company');

    // A corrected save goes through and clears the error.
    refuse = false;
    choose('Email', 'emails');
    expect(alert.hidden).toBe(true);
    expect(await editor.save()).toBe(true);
    expect(calls).toHaveLength(2);
    expect(select.hasAttribute('aria-invalid')).toBe(false);
  });

  it('shows a network failure in words and keeps the edits', async () => {
    const { api } = fakeApi(() => {
      throw new TypeError('Failed to fetch');
    });
    const editor = createMappingEditor({ proposal: proposal(), api, migrationId: 'm-1', editable: true });
    document.body.append(editor.element);
    choose('Phone', '');
    expect(await editor.save()).toBe(false);
    expect(document.querySelector('[role=alert]')?.textContent).toContain('Could not reach the cutover service');
    expect(document.querySelector('[role=alert]')?.textContent).not.toContain('TypeError');
    expect(editor.dirty()).toBe(true);
  });
});

describe('mapping spec edits', () => {
  const spec = (): MappingSpec => proposal().mapping;
  const types = Object.fromEntries((TARGETS.contact ?? []).map((t) => [t.name, t.type]));

  it('leaves its input alone', () => {
    const before = spec();
    const copy = structuredClone(before);
    setColumnTarget(before, 0, 'Email', 'notes', types);
    expect(before).toEqual(copy);
  });

  it('matches columns ignoring case and spaces, keeping a mapping’s other settings', () => {
    const s = setColumnTarget(spec(), 1, ' bedrooms ', 'price', {});
    expect(s.files[1]?.fields[1]).toEqual({ target: 'price', column: 'Bedrooms', optional: true });
  });

  it('takes a column out of a multi-column mapping before mapping it on its own', () => {
    const s = spec();
    s.files[0]!.fields = [{ target: 'phones', columns: ['Mobile', 'Home Phone'], optional: true }];
    const moved = setColumnTarget(s, 0, 'Home Phone', 'notes', types);
    expect(moved.files[0]?.fields).toEqual([
      { target: 'phones', columns: ['Mobile'], optional: true },
      { target: 'notes', column: 'Home Phone' },
    ]);
    const gone = setColumnTarget(setColumnTarget(s, 0, 'Mobile', '', types), 0, 'Home Phone', '', types);
    expect(gone.files[0]?.fields).toEqual([]);
  });

  it('changes the entity, dropping what the new one cannot hold', () => {
    const { spec: s, dropped } = setEntity(spec(), 0, 'property', (TARGETS.property ?? []).map((t) => t.name));
    expect(s.files[0]?.entity).toBe('property');
    expect(s.files[0]?.fields).toEqual([]);
    expect(s.files[0]?.dedupe).toBeUndefined();
    expect(dropped).toEqual(['First Name', 'Email', 'Phone']);
  });

  it('sets the source id columns', () => {
    expect(setSourceId(spec(), 0, 'Email', true).files[0]?.sourceId).toEqual(['Id', 'Email']);
    expect(setSourceId(spec(), 0, 'id', false).files[0]?.sourceId).toBeUndefined();
  });

  it('locates a JSON path', () => {
    expect(locatePath(spec(), '$.files[0].fields[2].target')).toEqual({ fileIndex: 0, column: 'Phone' });
    expect(locatePath(spec(), '$.files[1].sourceId[0]')).toEqual({ fileIndex: 1, column: 'Property ID' });
    expect(locatePath(spec(), '$.files[1].entity')).toEqual({ fileIndex: 1 });
    expect(locatePath(spec(), '$.defaults.region')).toBeNull();
    expect(locatePath(spec(), null)).toBeNull();
  });
});

describe('entity choice', () => {
  it('gives each file’s entity select its own accessible name, with the file’s name', () => {
    mount();
    const names = [...document.querySelectorAll<HTMLSelectElement>('section.mapping-file select[data-file]')].map((sel) =>
      [...(sel.labels ?? [])].map((l) => l.textContent).join(' ').trim(),
    );
    expect(names).toEqual(['Its records are (contacts.csv)', 'Its records are (properties.csv)']);
  });
});
