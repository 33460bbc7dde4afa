// Formatting for people, and the time conversions the forms need.

export function formatBytes(n: number | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatCount(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-GB') : '—';
}

export function formatPercent(rate: number | undefined): string {
  return typeof rate === 'number' && Number.isFinite(rate) ? `${Math.round(rate * 100)}%` : '—';
}

/**
 * Rows and their share: "12 (<0.1%)", "1,204 (3.1%)", "0". pct is the
 * share in points, rounded to a tenth; a few rows of a large extract
 * round to 0.0, which alone would hide them. Without a count (a report
 * stored before counts were kept) the share alone.
 */
export function formatShare(n: number | undefined, pct: number): string {
  const points = `${Math.round(pct * 10) / 10}%`;
  if (typeof n !== 'number' || !Number.isFinite(n)) return points;
  if (n === 0) return '0';
  return `${formatCount(n)} (${Math.round(pct * 10) === 0 ? '<0.1%' : points})`;
}

function validDate(iso: string | undefined): Date | null {
  if (typeof iso !== 'string' || iso === '' || iso.startsWith('0001-01-01')) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A timestamp in the reader's time zone, or '—'. */
export function formatDateTime(iso: string | undefined): string {
  const d = validDate(iso);
  return d ? d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' }) : '—';
}

export function formatTime(iso: string | undefined): string {
  const d = validDate(iso);
  return d ? d.toLocaleTimeString('en-GB') : '—';
}

/** A duration in words: "4 s", "2 min 5 s", "3 h 10 min", "2 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
  const d = Math.floor(hrs / 24);
  return hrs % 24 ? `${d} d ${hrs % 24} h` : `${d} d`;
}

/** Milliseconds between two timestamps, or NaN. */
export function between(fromIso: string | undefined, toIso: string | undefined): number {
  const a = validDate(fromIso);
  const b = validDate(toIso);
  return a && b ? b.getTime() - a.getTime() : NaN;
}

/**
 * A `<input type="datetime-local">` value (the reader's local time) as an
 * RFC 3339 UTC time with whole seconds. Null when empty or not a time.
 */
export function localInputToUtc(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return null;
  const d = new Date(value); // no offset: local time
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A Date as a `datetime-local` value in the reader's time zone, to the second. */
export function dateToLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "contact" → "Contacts" style labels for entities. */
export function entityLabel(entity: string, plural = true): string {
  const irregular: Record<string, string> = { property: 'properties', tenancy: 'tenancies', company: 'companies' };
  const word = plural ? (irregular[entity] ?? `${entity}s`) : entity;
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** A target field name as words: "first_name" → "first name". */
export function fieldLabel(name: string): string {
  return name.replace(/_/g, ' ');
}
