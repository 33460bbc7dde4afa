// "What we read from your files": the phone region and the date format of
// each column the engine inferred from the test extract, with how sure it
// is (internal/mapspec infer_region.go, infer_date.go). A date column two
// formats read differently (03/04/2024) is a guess the customer must
// settle: they choose day first or month first, and the choice is saved as
// the file's date format in the draft mapping (PUT /migrations/{id}/mapping)
// for the next round. The mapping can change until sign-off is requested,
// so the customer then runs the test migration again with it
// (revise-view.ts); after that the server refuses (409) and says why.

import { messageOf, type ApiRequest } from '../lib/api';
import { h, say, table, uid } from '../lib/dom';
import { entityLabel, formatCount, formatPercent } from '../lib/format';
import type { DateGuess, FileInference, MappingSpec, Proposal, RegionGuess } from '../lib/types';
import { setFileDateFormat } from './mapping-spec';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** The parts of a numeric format in order, e.g. "D/M/YYYY" → ["D", "M", "YYYY"]; null for formats with month names or ISO. */
function numericParts(format: string): string[] | null {
  if (/MMM/.test(format) || !/D/.test(format) || !/M/.test(format)) return null;
  const parts = format.split(/[^DMY]+/).filter(Boolean);
  return parts.length === 3 && parts.every((p) => /^(D{1,2}|M{1,2}|Y{2}|Y{4})$/.test(p)) ? parts : null;
}

/** "day" when the format puts the day before the month, "month" when after, "" when it has no numeric day and month. */
export function dayOrMonthFirst(format: string): 'day' | 'month' | '' {
  const parts = numericParts(format);
  if (!parts) return '';
  return parts.findIndex((p) => p.startsWith('D')) < parts.findIndex((p) => p.startsWith('M')) ? 'day' : 'month';
}

/**
 * How `value` reads in a numeric `format`, as people write dates
 * ("3 April 2024"); "" when the format has month names or the value does
 * not fit it (the warning then shows the format's name alone).
 */
export function readAs(value: string, format: string): string {
  const parts = numericParts(format);
  const numbers = value.match(/\d+/g);
  if (!parts || !numbers || numbers.length < 3) return '';
  let day = 0;
  let month = 0;
  let year = '';
  parts.forEach((p, i) => {
    const n = numbers[i] ?? '';
    if (p.startsWith('D')) day = Number(n);
    else if (p.startsWith('M')) month = Number(n);
    else year = n;
  });
  if (month < 1 || month > 12 || day < 1 || day > 31) return '';
  return `${day} ${MONTHS[month - 1]} ${year}`;
}

/** "United Kingdom (GB)", or the code alone where the runtime has no names. */
function regionName(code: string): string {
  try {
    const name = new Intl.DisplayNames(['en-GB'], { type: 'region' }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

function regionText(r: RegionGuess): string {
  if (!r.region || r.source === 'none') {
    return 'Nothing in the file says which country its phone numbers are from: numbers without a country code (+44…) follow your mapping’s region.';
  }
  const from: Record<string, string> = {
    numbers: 'read from the phone numbers in the file',
    'country column': 'read from the file’s country column',
    market:
      r.evidence > 0
        ? 'taken from your market, where most of the file’s numbers without a country code are valid'
        : 'taken from your market, as nothing in the file said otherwise',
    'national numbers': 'the one country where the file’s numbers without a country code are valid',
  };
  const evidence = r.evidence > 0 ? ` (from ${formatCount(r.evidence)} values)` : '';
  return `${regionName(r.region)}, ${from[r.source] ?? `from ${r.source}`}; how sure: ${formatPercent(r.confidence)}${evidence}.`;
}

/** Which proposal table a workbook file label ("name" or "name [Sheet]") is. */
export function tableOf(proposal: Proposal, inf: FileInference): string | undefined {
  const label = (table: string, fileName: string) => {
    const at = table.indexOf('#');
    return at < 0 ? fileName : `${fileName} [${table.slice(at + 1)}]`;
  };
  return (proposal.files ?? []).find((f) => f.entity === inf.entity && label(f.table, f.fileName) === inf.file)?.table;
}

export interface InferenceOptions {
  api: ApiRequest;
  migrationId: string;
  inference: FileInference[] | null | undefined;
}

/** The "What we read from your files" part of the workbook. */
export function createInferenceSection(opts: InferenceOptions): HTMLElement {
  const { api, migrationId } = opts;
  const base = `/migrations/${encodeURIComponent(migrationId)}`;
  const files = opts.inference ?? [];

  /** The customer's reading of an ambiguous column, saved into the draft mapping. */
  async function choose(inf: FileInference, chosen: string, other: string, word: string, buttons: HTMLButtonElement[], status: HTMLElement, error: HTMLElement): Promise<void> {
    for (const b of buttons) b.disabled = true;
    say(error, '', 'error');
    say(status, 'Saving…');
    try {
      // The draft mapping is the proposal's: what the next round would use.
      const proposal = await api<Proposal>('GET', `${base}/proposal`);
      const table = tableOf(proposal, inf);
      const index = proposal.mapping.files.findIndex((f) => f.name === table);
      if (table === undefined || index < 0) {
        say(status, '');
        say(error, `${inf.file} is not in the mapping for the next round (a new upload may have replaced it). Choose its date format in the mapping once it is uploaded again.`, 'error');
        return;
      }
      const spec: MappingSpec = setFileDateFormat(proposal.mapping, index, chosen, other);
      await api('PUT', `${base}/mapping`, { mapping: spec });
      say(status, `Saved: the next test migration reads the dates in ${inf.file} ${word} first (${chosen}). Run the test migration again with these changes to see them in a new workbook.`, 'success');
      for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.format === chosen));
    } catch (err) {
      say(status, '');
      say(error, messageOf(err, 'The date format could not be saved. Try again.'), 'error');
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  function ambiguous(inf: FileInference, d: DateGuess): HTMLElement {
    const formats = [d.dateFormat, d.alternative ?? ''].filter(Boolean);
    const status = h('p', { class: 'inline-status', role: 'status', hidden: true });
    const error = h('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    const buttons: HTMLButtonElement[] = formats.map((f) => {
      const order = dayOrMonthFirst(f);
      const word = order || f;
      const other = formats.find((x) => x !== f) ?? '';
      const b = h('button', {
        type: 'button',
        class: 'secondary',
        'data-format': f,
        text: order ? `${order === 'day' ? 'Day' : 'Month'} first (${f})` : `Read as ${f}`,
        on: { click: () => void choose(inf, f, other, word, buttons, status, error) },
      });
      return b;
    });
    const examples = (d.examples ?? []).map((v) => {
      const readings = formats.map((f) => {
        const r = readAs(v, f);
        return r ? `${r} (${f})` : f;
      });
      return h('li', {}, h('strong', { text: v }), `: ${readings.join(' or ')}`);
    });
    return h(
      'div',
      { class: 'notice notice-warning ambiguous', 'data-column': d.column },
      h('p', {}, h('strong', { text: `The dates in “${d.column}” can be read two ways.` }), ` We read them as ${d.dateFormat}${d.alternative ? `, but ${d.alternative} reads them too` : ''}. Which is right?`),
      examples.length ? h('ul', { class: 'examples' }, examples) : null,
      h('div', { class: 'actions' }, buttons),
      h('p', { class: 'hint', text: 'Your choice is saved in the mapping as this file’s date format, for the next test migration. The mapping can change until you request sign-off: run the test migration again with these changes to check them.' }),
      status,
      error,
    );
  }

  const body = files.length
    ? files.map((inf) => {
        const dates = inf.dates ?? [];
        return h(
          'div',
          { class: 'inferred-file', 'data-file': inf.file },
          h('h4', { text: `${inf.file} (${entityLabel(inf.entity)})` }),
          h('p', { class: 'region' }, h('strong', { text: 'Phone region: ' }), regionText(inf.region)),
          dates.length
            ? table(
                `Dates in ${inf.file}`,
                ['Column', 'Format read', 'How sure', 'Values read'],
                dates.map((d) => [
                  d.column,
                  d.ambiguous ? h('span', {}, d.dateFormat, h('strong', { class: 'warn', text: ' (or ' + (d.alternative ?? 'another format') + '?)' })) : d.dateFormat,
                  formatPercent(d.confidence),
                  `${formatCount(d.read)} of ${formatCount(d.values)}`,
                ]),
                { rowHeader: true, numeric: [2] },
              )
            : h('p', { class: 'muted', text: 'No date columns.' }),
          dates.filter((d) => d.ambiguous).map((d) => ambiguous(inf, d)),
        );
      })
    : h('p', { class: 'muted', text: 'This round has no record of what was read from the files.' });

  const headingId = uid('inference');
  return h(
    'section',
    { class: 'wb-section inference', 'data-part': 'inference', 'aria-labelledby': headingId },
    h('h3', { id: headingId, text: 'What we read from your files' }),
    h('p', { class: 'hint', text: 'Where your mapping does not say, the phone region and the date format of each column are read from your values. Check them: a wrong guess changes every record.' }),
    body,
  );
}
