// "Your records in the TEST environment": the customer pages and searches
// (by name, e-mail or source id) the records the test migration wrote, each
// beside the row of the uploaded file it came from
// (GET /migrations/{id}/test-records?q=&cursor=&limit=). A search reads a
// bounded number of records per request: when it found fewer than a page,
// "Search further" continues where it stopped. With a TEST destination that
// is not this service's (the vendor's HTTPS endpoint or S3 drop), the
// records are in the vendor's staging environment: the section says so and
// links there when the deployment names its staging UI.

import { messageOf, type ApiRequest } from '../lib/api';
import { h, replace, uid } from '../lib/dom';
import { entityLabel, fieldLabel, formatCount } from '../lib/format';
import { safeHref } from '../lib/links';
import type { TestRecord, TestRecordsPage } from '../lib/types';

export const PAGE_SIZE = 10;

/** A typed field's value in words: lists joined, money as "1250.00 GBP", booleans yes/no. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(valueText).join(', ');
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('amount' in o && 'currency' in o) return `${String(o.amount)} ${String(o.currency)}`;
    return Object.entries(o)
      .map(([k, x]) => `${k}: ${valueText(x)}`)
      .join(', ');
  }
  return String(v);
}

function recordCard(r: TestRecord): HTMLElement {
  const src = r.source;
  const fields = Object.entries(r.fields ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const invalid = Object.entries(r.invalid ?? {});
  return h(
    'article',
    { class: 'test-record', 'data-source-id': r.sourceId, 'aria-label': `${entityLabel(r.entity, false)} ${r.sourceId}` },
    h('h4', { text: `${entityLabel(r.entity, false)} ${r.sourceId || '(no source id)'}` }),
    h(
      'div',
      { class: 'side-by-side' },
      h(
        'div',
        { class: 'source-row' },
        h('h5', { text: src ? `In your file: ${src.file}, line ${src.line}` : 'In your file' }),
        src
          ? h(
              'dl',
              { class: 'facts' },
              src.columns.map((c, i) => [h('dt', { text: c }), h('dd', { text: src.values[i] ?? '' })]),
            )
          : h('p', { class: 'muted', text: 'This record was not read from one row (for example a person a row names), so there is no row to show.' }),
      ),
      h(
        'div',
        { class: 'test-fields' },
        h('h5', { text: 'In the TEST environment' }),
        h(
          'dl',
          { class: 'facts' },
          fields.map(([k, v]) => [h('dt', { text: fieldLabel(k) }), h('dd', { text: valueText(v) })]),
        ),
        invalid.length
          ? h(
              'div',
              { class: 'left-out' },
              h('p', { text: 'Left out because they could not be read:' }),
              h('ul', {}, invalid.map(([k, iv]) => h('li', { text: `${fieldLabel(k)}: “${iv.value}” (${iv.reason})` }))),
            )
          : null,
      ),
    ),
  );
}

export interface TestRecordsSection {
  element: HTMLElement;
  /** Resolves once the first page is shown (or its error). */
  ready: Promise<void>;
}

/** The section, loading the first page at once. */
export function createTestRecordsSection({ api, migrationId }: { api: ApiRequest; migrationId: string }): TestRecordsSection {
  const base = `/migrations/${encodeURIComponent(migrationId)}/test-records`;
  const inputId = uid('test-search');
  const input = h('input', { id: inputId, type: 'search', name: 'q', maxlength: '200', placeholder: 'e.g. Ada Lovelace, ada@example.com or C-1042', autocomplete: 'off' });
  const results = h('div', { class: 'test-records-results', 'aria-live': 'polite' });
  const status = h('p', { class: 'muted test-records-status', role: 'status' });
  const prev = h('button', { type: 'button', class: 'secondary', text: 'Previous page', disabled: true });
  const next = h('button', { type: 'button', class: 'secondary', text: 'Next page', disabled: true });
  const pager = h('div', { class: 'actions pager' }, prev, next);

  // The cursors of the pages shown so far: cursors[i] opened page i.
  let cursors: string[] = [''];
  let query = '';
  let shown = 0; // records on the pages before this one

  async function load(cursor: string): Promise<void> {
    prev.disabled = next.disabled = true;
    replace(status, query ? `Searching for “${query}”…` : 'Loading the records…');
    let page: TestRecordsPage;
    try {
      const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (query) q.set('q', query);
      if (cursor) q.set('cursor', cursor);
      page = await api<TestRecordsPage>('GET', `${base}?${q.toString()}`);
    } catch (err) {
      replace(status);
      replace(results, h('p', { class: 'notice notice-error', role: 'alert', text: messageOf(err, 'The TEST records could not be loaded. Try again.') }));
      prev.disabled = cursors.length <= 1;
      return;
    }
    if (page.destination && page.destination !== 'builtin') {
      const href = safeHref(page.stagingUrl);
      form.hidden = true;
      pager.hidden = true;
      replace(status);
      replace(
        results,
        h('p', { class: 'notice notice-info', role: 'note', text: page.message || 'The records of this test migration are in the vendor’s staging environment.' }),
        href ? h('p', {}, h('a', { href, target: '_blank', rel: 'noopener noreferrer', class: 'staging-link', text: 'Open the staging environment' })) : null,
      );
      return;
    }
    const recs = page.records ?? [];
    const more = Boolean(page.next);
    if (recs.length === 0) {
      replace(
        results,
        h('p', {
          class: 'empty',
          text: query
            ? more
              ? `No record matches “${query}” among the ${formatCount(page.examined)} read so far.`
              : `No record of round ${page.round} matches “${query}”. Search by name, e-mail address or the id in your old CRM.`
            : cursors.length > 1
              ? 'No more records.'
              : `The TEST environment holds no records for round ${page.round}.`,
        }),
      );
    } else {
      replace(results, recs.map(recordCard));
    }
    const from = shown + 1;
    const to = shown + recs.length;
    replace(
      status,
      recs.length
        ? `${query ? `Records matching “${query}”` : 'Records'} ${formatCount(from)}–${formatCount(to)} of round ${page.round}${more ? '' : ' (the last)'}; ${formatCount(page.examined)} ${page.examined === 1 ? 'record' : 'records'} read to find them.`
        : '',
    );
    if (more) {
      cursors = cursors.slice(0, cursors.indexOf(cursor) + 1);
      cursors.push(page.next as string);
    }
    // A search that stopped at its read bound with less than a page goes on from where it stopped.
    next.textContent = more && query && recs.length < PAGE_SIZE ? 'Search further' : 'Next page';
    next.disabled = !more;
    prev.disabled = cursors.indexOf(cursor) <= 0;
    current = cursor;
    currentCount = recs.length;
  }

  let current = '';
  let currentCount = 0;
  next.addEventListener('click', () => {
    const i = cursors.indexOf(current);
    const c = cursors[i + 1];
    if (c === undefined) return;
    shown += currentCount;
    void load(c);
  });
  prev.addEventListener('click', () => {
    const i = cursors.indexOf(current);
    if (i <= 0) return;
    // The page before holds a full page (only the last can be short).
    shown = Math.max(0, shown - PAGE_SIZE);
    void load(cursors[i - 1] ?? '');
  });

  const form = h(
    'form',
    {
      class: 'test-search',
      role: 'search',
      on: {
        submit: (ev: SubmitEvent) => {
          ev.preventDefault();
          query = input.value.trim();
          cursors = [''];
          shown = 0;
          void load('');
        },
      },
    },
    h('label', { for: inputId, text: 'Search by name, e-mail or source id' }),
    h('div', { class: 'search-row' }, input, h('button', { type: 'submit', text: 'Search' })),
  );

  const element = h(
    'section',
    { class: 'test-records', 'aria-labelledby': 'test-records-heading' },
    h('h3', { id: 'test-records-heading', text: 'Your records in the TEST environment' }),
    h('p', { class: 'hint', text: 'What the test migration wrote, each record beside the row of your file it came from. Nothing here goes live: the final migration runs on your final extract.' }),
    form,
    status,
    results,
    pager,
  );
  return { element, ready: load('') };
}
