// Shared helpers for every page: the API client, link fragments, the invite
// kept in sessionStorage, formatting, and DOM building that only ever sets
// text (server data never goes through innerHTML).
//
// Nothing here touches the DOM or `window` at import time, so Node's test
// runner can import it.

/** An API call that did not succeed; `message` is fit to show a person. */
export class ApiError extends Error {
  constructor(message, { status = 0, code = 'error', cause } = {}) {
    super(message, { cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const FALLBACK_MESSAGES = {
  400: 'The request was not accepted.',
  401: 'This link is missing its key. Open the link from your email again.',
  403: 'This link does not open this page. Open the link from your email again.',
  404: 'Not found. The link may be mistyped or no longer valid.',
  409: 'That is not possible in the current state. Reload and try again.',
  410: 'This link has expired or was replaced by a newer one.',
  413: 'The request was too large.',
  429: 'Too many requests. Wait a moment and try again.',
};

/** The ApiError for a non-2xx answer whose body (parsed JSON or null) may be `{"error":{"code","message"}}`. */
export function errorFromResponse(status, body) {
  const e = body && typeof body === 'object' ? body.error : null;
  const serverMessage = e && typeof e.message === 'string' ? e.message.trim() : '';
  const message =
    serverMessage ||
    FALLBACK_MESSAGES[status] ||
    (status >= 500
      ? `The service had a problem (HTTP ${status}). Try again in a moment.`
      : `The request failed (HTTP ${status}).`);
  const code = e && typeof e.code === 'string' && e.code ? e.code : `http_${status}`;
  return new ApiError(message, { status, code });
}

/** The API base URL from /config.js (`window.CUTOVER.apiBase`), without a trailing slash. */
export function configuredApiBase(config = globalThis.CUTOVER) {
  const base = config && config.apiBase;
  if (typeof base !== 'string' || base.trim() === '') {
    throw new ApiError('The site configuration (/config.js) did not load, so the service cannot be reached.', {
      code: 'config',
    });
  }
  return base.trim().replace(/\/+$/, '');
}

/**
 * Returns `request(method, path, body?)`, which calls `${base}${path}` with
 * `Authorization: Bearer <token>`, sends `body` as JSON, and resolves to the
 * parsed JSON answer (`{}` for an empty one). Failures reject with ApiError.
 */
export function createApi({ token, base = configuredApiBase(), fetchImpl = globalThis.fetch } = {}) {
  const root = base.replace(/\/+$/, '');
  return async function request(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    let text;
    try {
      res = await fetchImpl(root + path, init);
      text = await res.text();
    } catch (err) {
      throw new ApiError('Could not reach the cutover service. Check your connection and try again.', {
        code: 'network',
        cause: err,
      });
    }
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) throw errorFromResponse(res.status, data);
    if (text && data === null) {
      throw new ApiError('The service sent an answer this page cannot read.', { status: res.status, code: 'bad_response' });
    }
    return data ?? {};
  };
}

/** The parameters of a URL fragment such as `#m=abc&k=xyz`, as a plain object. */
export function parseFragment(hash) {
  const raw = typeof hash === 'string' ? hash.replace(/^#/, '') : '';
  return Object.fromEntries(new URLSearchParams(raw));
}

const INVITE_KEY = 'cutover.invite';

/**
 * The customer's invite `{migrationId, key}`. A complete fragment
 * (`#m=<id>&k=<key>`) wins and is remembered in `storage` (sessionStorage)
 * so reloads work; otherwise the remembered invite is used. Null when
 * neither has one.
 */
export function readInvite(hash, storage) {
  const { m, k } = parseFragment(hash);
  if (m && k) {
    const invite = { migrationId: m, key: k };
    try {
      storage?.setItem(INVITE_KEY, JSON.stringify(invite));
    } catch {
      // Storage can be unavailable (private mode, disabled); the fragment still works.
    }
    return invite;
  }
  try {
    const saved = JSON.parse(storage?.getItem(INVITE_KEY) ?? 'null');
    if (saved && typeof saved.migrationId === 'string' && saved.migrationId && typeof saved.key === 'string' && saved.key) {
      return { migrationId: saved.migrationId, key: saved.key };
    }
  } catch {
    // A corrupt entry is treated as no invite.
  }
  return null;
}

/** The fragment that carries an invite, for links between the customer's pages. */
export function inviteFragment({ migrationId, key }) {
  return '#' + new URLSearchParams({ m: migrationId, k: key }).toString();
}

/**
 * GET /migrations/{id} answers the migration, with its audit trail either
 * beside it (`{migration, audit}`) or inside it (`{..., audit}`).
 */
export function unwrapMigration(body) {
  const migration = body && typeof body.migration === 'object' && body.migration ? body.migration : body || {};
  const audit = Array.isArray(body?.audit) ? body.audit : Array.isArray(migration.audit) ? migration.audit : [];
  return { migration, audit };
}

/** Migration statuses (internal/cutover) as a customer reads them. */
export const STATUS_TEXT = {
  created: 'Waiting for your test extract',
  submitted: 'Submitted for the test migration',
  mapping: 'Mapping your files',
  test_migrating: 'Running the test migration',
  awaiting_review: 'Test migration done: review the workbook, then request sign-off',
  signoff_requested: 'Sign-off requested',
  awaiting_signoff: 'Waiting for sign-off',
  signoff_expired: 'The sign-off request expired without a decision: request it again',
  awaiting_revision: 'Sign-off rejected: waiting for your revision',
  awaiting_final: 'Signed off: waiting for the final extract',
  scheduled: 'Final migration scheduled',
  final_migrating: 'Running the final migration',
  final_blocked: 'Final migration paused: part of it failed and our team is retrying it',
  live: 'Live',
  failed: 'Failed',
};

export function statusText(status) {
  if (typeof status !== 'string' || status === '') return 'Unknown';
  return STATUS_TEXT[status] ?? status.replace(/_/g, ' ');
}

/** True when every row read is accounted for: read = migrated + rejected + skipped. */
export function reconciles(c) {
  return !!c && num(c.read) === num(c.migrated) + num(c.rejected) + num(c.skipped);
}

function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

export function formatBytes(n) {
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

export function formatCount(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString() : '—';
}

/** A timestamp in the reader's time zone, or '—' when absent or unreadable. */
export function formatDateTime(iso) {
  if (typeof iso !== 'string' || iso === '' || iso.startsWith('0001-01-01')) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * A `<input type="datetime-local">` value (the reader's local time) as an
 * RFC 3339 UTC time with whole seconds, e.g. 2026-12-01T08:00:00Z. Null when
 * the value is empty or not a time.
 */
export function localInputToUtc(value) {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return null;
  const d = new Date(value); // a date-time without an offset is local time
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A Date as a `datetime-local` value in the reader's time zone (minutes precision). */
export function dateToLocalInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// ------------------------------------------------------------------ DOM

/**
 * Creates an element. `props` sets attributes (`class`, `for`, `aria-*`, ...)
 * or, for `text`, the text content; children are nodes or strings (added as
 * text). Nothing is ever parsed as HTML.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Shows `message` in a notice element (kind: 'error' | 'info' | 'success'), or hides it for an empty message. */
export function showNotice(node, message, kind = 'error') {
  if (!node) return;
  // An unchanged message is left alone so an alert region does not repeat it.
  if (node.textContent === (message || '') && node.dataset.kind === kind) return;
  node.textContent = message || '';
  node.dataset.kind = kind;
  node.hidden = !message;
}

/** A `<dl>` of [term, value] pairs; values are text or nodes. */
export function definitionList(pairs, className = 'facts') {
  return el(
    'dl',
    { class: className },
    pairs.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', {}, value)]),
  );
}

/** A table of read / migrated / rejected / skipped for each [label, counts] row. */
export function countsTable(caption, rows) {
  const head = el(
    'tr',
    {},
    el('th', { scope: 'col', text: 'Run' }),
    ['Read', 'Migrated', 'Rejected', 'Skipped'].map((h) => el('th', { scope: 'col', class: 'num', text: h })),
    el('th', { scope: 'col', text: 'All rows accounted for' }),
  );
  const body = rows.map(([label, c]) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row', text: label }),
      ['read', 'migrated', 'rejected', 'skipped'].map((k) => el('td', { class: 'num', text: formatCount(c?.[k]) })),
      el('td', { text: c ? (reconciles(c) ? 'Yes' : 'No: the counts do not add up') : '—' }),
    ),
  );
  return el(
    'div',
    { class: 'table-wrap' },
    el('table', {}, el('caption', { text: caption }), el('thead', {}, head), el('tbody', {}, body)),
  );
}
