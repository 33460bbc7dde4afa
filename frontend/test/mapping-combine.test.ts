// Several columns mapped to one field: the editor shows how they combine
// (every value, the first non-empty, or concatenated with a separator),
// saves the choice in the spec, and drops a choice left with nothing to
// combine.

import { afterEach, describe, expect, it } from 'vitest';
import { createMappingEditor } from '../src/customer/mapping-editor';
import { combineChoice, setColumnTarget, setCombine, sharedTargets } from '../src/customer/mapping-spec';
import type { MappingSpec } from '../src/lib/types';
import { fakeApi } from './fakes';
import { proposal } from './fixtures';

afterEach(() => {
  document.body.replaceChildren();
});

function mount() {
  const { api, calls } = fakeApi(() => ({ status: 200, body: {} }));
  const editor = createMappingEditor({ proposal: proposal(), api, migrationId: 'm-1', editable: true });
  document.body.append(editor.element);
  return { editor, calls };
}

function choose(column: string, target: string): void {
  const tr = [...document.querySelectorAll('section.mapping-file tbody tr')].find((r) => r.querySelector('th')?.textContent === column);
  const select = tr?.querySelector('select') as HTMLSelectElement;
  select.value = target;
  select.dispatchEvent(new Event('change'));
}

function choice(target: string): HTMLElement | null {
  return document.querySelector(`.combine-choice[data-target="${target}"]`);
}

describe('fields several columns fill', () => {
  it('shows a list fed by two columns as combined by default, and saves another choice', async () => {
    const { editor, calls } = mount();
    expect(choice('phones')).toBeNull();
    choose('Remarks', 'phones'); // Phone and Remarks both feed phones
    const box = choice('phones');
    expect(box?.textContent).toContain('“Phone” and “Remarks”');
    const select = box?.querySelector('select.combine-select') as HTMLSelectElement;
    expect(select.value).toBe('combine');
    expect([...select.options].map((o) => o.value)).toEqual(['combine', 'first']);
    expect(box?.textContent).toContain('Not chosen yet');

    select.value = 'first';
    select.dispatchEvent(new Event('change'));
    expect(editor.spec().files[0]?.combine).toEqual({ phones: { mode: 'first' } });
    expect(choice('phones')?.textContent).not.toContain('Not chosen yet');

    expect(await editor.save()).toBe(true);
    const sent = calls.at(-1)?.body as { mapping: MappingSpec };
    expect(sent.mapping.files[0]?.combine).toEqual({ phones: { mode: 'first' } });
  });

  it('concatenates text with the separator the customer sets', () => {
    const { editor } = mount();
    choose('Remarks', 'notes');
    choose('First Name', 'notes');
    const select = choice('notes')?.querySelector('select.combine-select') as HTMLSelectElement;
    expect(select.value).toBe('first');
    expect([...select.options].map((o) => o.value)).toEqual(['first', 'concat']);
    select.value = 'concat';
    select.dispatchEvent(new Event('change'));
    expect(editor.spec().files[0]?.combine).toEqual({ notes: { mode: 'concat' } });
    const sep = choice('notes')?.querySelector('input.combine-separator') as HTMLInputElement;
    expect(sep.value).toBe('; ');
    sep.value = ' / ';
    sep.dispatchEvent(new Event('change'));
    expect(editor.spec().files[0]?.combine).toEqual({ notes: { mode: 'concat', separator: ' / ' } });
  });

  it('forgets the choice once only one column is left', () => {
    const { editor } = mount();
    choose('Remarks', 'phones');
    const select = choice('phones')?.querySelector('select.combine-select') as HTMLSelectElement;
    select.value = 'first';
    select.dispatchEvent(new Event('change'));
    choose('Remarks', '');
    expect(editor.spec().files[0]?.combine).toBeUndefined();
    expect(choice('phones')).toBeNull();
  });
});

describe('combine spec edits', () => {
  const spec = (): MappingSpec => ({
    version: 1,
    files: [{ name: 'f', entity: 'contact', fields: [{ target: 'tags', column: 'Lifecycle Stage' }, { target: 'tags', column: 'Tags' }, { target: 'company', column: 'Company' }] }],
  });

  it('lists the fields several mappings fill', () => {
    expect(sharedTargets(spec().files[0]!)).toEqual([{ target: 'tags', columns: ['Lifecycle Stage', 'Tags'] }]);
  });

  it('reads the default, sets a rule and leaves its input alone', () => {
    const before = spec();
    expect(combineChoice(before.files[0]!, 'tags', 'list')).toEqual({ mode: 'combine', separator: '; ', explicit: false });
    const next = setCombine(before, 0, 'tags', 'first');
    expect(before.files[0]?.combine).toBeUndefined();
    expect(combineChoice(next.files[0]!, 'tags', 'list')).toEqual({ mode: 'first', separator: '; ', explicit: true });
    // A separator only with concat, and only when it is not the default.
    expect(setCombine(before, 0, 'tags', 'first', ' / ').files[0]?.combine).toEqual({ tags: { mode: 'first' } });
    expect(setCombine(before, 0, 'tags', 'concat', '; ').files[0]?.combine).toEqual({ tags: { mode: 'concat' } });
  });

  it('drops a rule when its field is left with one mapping', () => {
    const next = setColumnTarget(setCombine(spec(), 0, 'tags', 'first'), 0, 'Tags', '');
    expect(next.files[0]?.combine).toBeUndefined();
  });
});
