// The API client every page uses: JSON in and out, a bearer credential, and
// failures as ApiError with a message fit to show a person (the server's
// own `{"error":{"code","message"}}` when it sent one).

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(message: string, { status = 0, code = 'error', cause }: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, { cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: 'The request was not accepted.',
  401: 'This link is missing its key. Open the link from your email again.',
  403: 'This link does not open this page. Open the link from your email again.',
  404: 'Not found. The link may be mistyped or no longer valid.',
  409: 'That is not possible in the current state. Reload and try again.',
  410: 'This link has expired or was replaced by a newer one.',
  413: 'The request was too large.',
  429: 'Too many requests. Wait a moment and try again.',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The ApiError for a non-2xx answer whose parsed body may be `{"error":{"code","message"}}`. */
export function errorFromResponse(status: number, body: unknown): ApiError {
  const e = isRecord(body) && isRecord(body.error) ? body.error : null;
  const serverMessage = e && typeof e.message === 'string' ? e.message.trim() : '';
  const message =
    serverMessage ||
    FALLBACK_MESSAGES[status] ||
    (status >= 500 ? `The service had a problem (HTTP ${status}). Try again in a moment.` : `The request failed (HTTP ${status}).`);
  const code = e && typeof e.code === 'string' && e.code ? e.code : `http_${status}`;
  return new ApiError(message, { status, code });
}

/** What a thrown value says to a person: an ApiError's message, or a generic sentence (never a stack). */
export function messageOf(err: unknown, fallback = 'Something went wrong. Try again.'): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.name === 'UploadError') return err.message;
  return fallback;
}

export interface CutoverConfig {
  apiBase?: unknown;
}

declare global {
  interface Window {
    CUTOVER?: CutoverConfig;
  }
}

/** The API base URL from /config.js (`window.CUTOVER.apiBase`), without a trailing slash. */
export function configuredApiBase(config: CutoverConfig | undefined = globalThis.window?.CUTOVER): string {
  const base = config?.apiBase;
  if (typeof base !== 'string' || base.trim() === '') {
    throw new ApiError('The site configuration (/config.js) did not load, so the service cannot be reached.', { code: 'config' });
  }
  return base.trim().replace(/\/+$/, '');
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Pick<Response, 'ok' | 'status' | 'text'>>;

/** `request(method, path, body?)` → the parsed JSON answer (`{}` for an empty one). */
export type ApiRequest = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;

export function createApi({
  token,
  base = configuredApiBase(),
  fetchImpl = (url, init) => globalThis.fetch(url, init),
}: {
  token?: string;
  base?: string;
  fetchImpl?: FetchLike;
}): ApiRequest {
  const root = base.replace(/\/+$/, '');
  return async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Awaited<ReturnType<FetchLike>>;
    let text: string;
    try {
      res = await fetchImpl(root + path, init);
      text = await res.text();
    } catch (err) {
      throw new ApiError('Could not reach the cutover service. Check your connection and try again.', { code: 'network', cause: err });
    }
    let data: unknown = null;
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
    return (data ?? {}) as T;
  };
}

/**
 * The JSON path a mapping error names, e.g. `$.files[0].fields[2].target`
 * from "mapping spec: $.files[0].fields[2].target: entity ... has no field".
 */
export function jsonPathOf(message: string): string | null {
  const m = /\$(?:\.[A-Za-z_][\w-]*|\[\d+\])+/.exec(message);
  return m ? m[0] : null;
}
