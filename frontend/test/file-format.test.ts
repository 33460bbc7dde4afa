// The per-file format select beside the mapping editor: it shows how each
// file was read and how sure the reader was, offers the reader's candidates
// first for a file refused for an uncertain encoding, and saves a choice
// with PUT …/uploads/{fileId}/format.

import { afterEach, describe, expect, it } from 'vitest';
import { createFormatControls, describeFormat } from '../src/customer/file-format';
import type { Proposal } from '../src/lib/types';
import { fakeApi } from './fakes';

afterEach(() => document.body.replaceChildren());

const settle = () => new Promise((r) => setTimeout(r, 0));

const proposal: Proposal = {
  files: [
    {
      fileId: 'f1',
      fileName: 'kunden.csv',
      table: 'kunden',
      entity: 'contact',
      format: { kind: 'csv', encoding: 'windows-1252', confidence: 0.93, delimiter: ';', alternatives: [{ Encoding: 'windows-1250', Confidence: 0.05 }] },
      columns: [],
    },
  ],
  refused: [
    {
      fileId: 'f2',
      fileName: 'kontakty.csv',
      reason: 'kontakty.csv is not UTF-8, and its encoding cannot be told for sure.',
      format: { kind: 'csv', encoding: 'windows-1251', confidence: 0.2, delimiter: ',', alternatives: [{ Encoding: 'koi8-r', Confidence: 0.4 }] },
    },
  ],
  mapping: { version: 1, files: [] } as unknown as Proposal['mapping'],
  targets: {},
};

describe('file format controls', () => {
  it('shows each file as read, offers the candidates first, and saves a choice', async () => {
    const { api, calls } = fakeApi(() => ({ status: 200, body: { file: { id: 'f2' } } }));
    let saved = 0;
    const el = createFormatControls({ proposal, api, migrationId: 'm-1', onSaved: () => saved++ });
    document.body.append(el);
    const items = el.querySelectorAll('li');
    expect(items).toHaveLength(2);
    expect(items[0]!.textContent).toContain('kunden.csv read as windows-1252 (93% sure), delimiter ;');
    expect(items[1]!.classList.contains('uncertain')).toBe(true);
    expect(items[1]!.textContent).toContain('The encoding is a guess');

    const enc = el.querySelector<HTMLSelectElement>('select[aria-label="Encoding of kontakty.csv"]')!;
    const options = [...enc.options].map((o) => o.value);
    expect(options.slice(0, 3)).toEqual(['', 'windows-1251', 'koi8-r']);
    expect(options).toContain('shift_jis');
    expect(new Set(options).size).toBe(options.length);

    enc.value = 'koi8-r';
    const delim = el.querySelector<HTMLSelectElement>('select[aria-label="Delimiter of kontakty.csv"]')!;
    delim.value = 'tab';
    items[1]!.querySelector('button')!.click();
    await settle();
    expect(calls).toEqual([{ method: 'PUT', path: '/migrations/m-1/uploads/f2/format', body: { encoding: 'koi8-r', delimiter: 'tab' } }]);
    expect(saved).toBe(1);
  });

  it('shows the service\'s message when a choice is refused', async () => {
    const { api } = fakeApi(() => ({ status: 409, body: { error: { code: 'conflict', message: 'kunden.csv belongs to a round that was already submitted.' } } }));
    const el = createFormatControls({ proposal, api, migrationId: 'm-1', onSaved: () => {} });
    document.body.append(el);
    el.querySelector('li button')!.dispatchEvent(new Event('click'));
    await settle();
    expect(el.querySelector('li [role="status"]')!.textContent).toContain('already submitted');
  });

  it('says when the reader was certain or the customer chose', () => {
    expect(describeFormat({ kind: 'csv', encoding: 'utf-8', confidence: 1, delimiter: ',' })).toBe('utf-8 (certain), delimiter ,');
    expect(describeFormat({ kind: 'csv', encoding: 'big5', confidence: 1, encodingChosen: true })).toBe('big5 (as you chose)');
  });
});
