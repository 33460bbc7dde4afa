// Small fakes for the tests: a fetch that routes to handlers, and a fake
// cutover upload API + S3 that records what it was asked.

import { createApi, type ApiRequest, type FetchLike } from '../src/lib/api';
import type { UploadPartBytes } from '../src/customer/uploader';

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

export type Route = (call: Call) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>;

/** An ApiRequest over a fetch that answers from `route` and records every call. */
export function fakeApi(route: Route): { api: ApiRequest; calls: Call[] } {
  const calls: Call[] = [];
  const fetchImpl: FetchLike = async (url, init) => {
    const call: Call = {
      method: init.method ?? 'GET',
      path: url.replace(/^\/api/, ''),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const res = await route(call);
    const text = res.body === undefined ? '' : JSON.stringify(res.body);
    return { ok: res.status >= 200 && res.status < 300, status: res.status, text: async () => text };
  };
  return { api: createApi({ token: 'k', base: '/api', fetchImpl }), calls };
}

export const MiB = 1024 * 1024;

export interface FakeS3 {
  upload: UploadPartBytes;
  /** Every PUT attempt that ended: part number and whether it succeeded. */
  attempts: Array<{ part: number; ok: boolean }>;
  /** Parts whose PUT was cut off by an abort (pause). */
  aborted: number[];
  /** Make the next `n` PUTs of `part` fail with HTTP `status`. */
  failNext(part: number, n: number, status?: number): void;
  /** Hold PUTs of `part` until released (they still honour abort). */
  hold(part: number): void;
  release(part: number): void;
  /** Resolves once a PUT of `part` is in flight. */
  started(part: number): Promise<void>;
  /** What the bucket holds: upload (the URL's last path segment) → part number → ETag. */
  stored: Map<string, Map<number, string>>;
}

/** A fake S3 part PUT: the URL's `partNumber` query names the part; the ETag is "etag-<part>". */
export function fakeS3(): FakeS3 {
  const attempts: FakeS3['attempts'] = [];
  const aborted: number[] = [];
  const failures = new Map<number, { n: number; status: number }>();
  const held = new Map<number, Array<() => void>>();
  const holding = new Set<number>();
  const waiters = new Map<number, Array<() => void>>();

  const stored = new Map<string, Map<number, string>>();
  const upload: UploadPartBytes = async ({ signature, body, onProgress, onComplete, signal }) => {
    const target = new URL(signature.url);
    const part = Number(target.searchParams.get('partNumber'));
    const uploadKey = target.pathname.split('/').pop() ?? '';
    for (const w of waiters.get(part) ?? []) w();
    waiters.delete(part);
    const size = (body as Blob).size;
    const abortError = () => Object.assign(new Error('aborted'), { name: 'AbortError' });
    if (signal?.aborted) throw abortError();
    onProgress({ loaded: Math.floor(size / 2), lengthComputable: true });
    if (holding.has(part)) {
      await new Promise<void>((resolve, reject) => {
        held.set(part, [...(held.get(part) ?? []), resolve]);
        signal?.addEventListener(
          'abort',
          () => {
            aborted.push(part);
            reject(abortError());
          },
          { once: true },
        );
      });
    }
    await Promise.resolve();
    if (signal?.aborted) throw abortError();
    const f = failures.get(part);
    if (f && f.n > 0) {
      f.n -= 1;
      attempts.push({ part, ok: false });
      throw Object.assign(new Error('Non 2xx'), { source: { status: f.status, responseText: '<Error><Code>SlowDown</Code></Error>' } });
    }
    attempts.push({ part, ok: true });
    onProgress({ loaded: size, lengthComputable: true });
    const etag = `"etag-${part}"`;
    stored.set(uploadKey, (stored.get(uploadKey) ?? new Map()).set(part, etag));
    onComplete(etag);
    return { ETag: etag };
  };

  return {
    upload,
    attempts,
    aborted,
    failNext: (part, n, status = 503) => failures.set(part, { n, status }),
    hold: (part) => holding.add(part),
    release: (part) => {
      holding.delete(part);
      for (const r of held.get(part) ?? []) r();
      held.delete(part);
    },
    started: (part) => new Promise<void>((resolve) => waiters.set(part, [...(waiters.get(part) ?? []), resolve])),
    stored,
  };
}

/**
 * The cutover upload routes for one migration: plans parts the way the
 * server does, hands out part URLs (optionally leaving some out of the
 * plan), and completes uploads.
 */
export function fakeUploadApi({
  omitFromPlan = [] as number[],
  partSize,
  s3,
}: { omitFromPlan?: number[]; partSize?: (size: number) => number; s3?: FakeS3 } = {}) {
  let next = 0;
  const files = new Map<string, { name: string; size: number; parts: number; complete?: boolean }>();
  const url = (fileId: string, n: number) => `https://s3.test/bucket/${fileId}?partNumber=${n}&uploadId=u-${fileId}`;
  const fake = fakeApi((call) => {
    const m = /^\/migrations\/m-1\/uploads(?:\/([^/]+)\/(parts|complete))?$/.exec(call.path);
    const listing = call.method === 'GET' && m?.[2] === 'parts';
    if (!m || (call.method !== 'POST' && !listing)) return { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
    const [, fileId, action] = m;
    const body = call.body as Record<string, unknown>;
    if (!fileId) {
      const size = Number(body.size);
      const ps = partSize ? partSize(size) : Math.max(8 * MiB, Math.ceil(size / 10000));
      const parts = Math.max(1, Math.ceil(size / ps));
      const id = `f-${++next}`;
      files.set(id, { name: String(body.fileName), size, parts });
      const list = [];
      for (let n = 1; n <= parts; n++) if (!omitFromPlan.includes(n)) list.push({ partNumber: n, url: url(id, n) });
      return { status: 201, body: { fileId: id, uploadId: `u-${id}`, partSize: ps, parts: list } };
    }
    const f = files.get(fileId);
    if (!f) return { status: 404, body: { error: { code: 'not_found', message: 'no such upload' } } };
    if (listing) {
      // What S3 holds for the upload, as the server lists it.
      if (f.complete) return { status: 409, body: { error: { code: 'conflict', message: `The upload of ${f.name} is complete.` } } };
      const held = [...(s3?.stored.get(fileId) ?? new Map<number, string>())].sort((a, b) => a[0] - b[0]);
      return { status: 200, body: { parts: held.map(([partNumber, etag]) => ({ partNumber, size: 0, etag })) } };
    }
    if (action === 'parts') {
      const numbers = (body.partNumbers as number[]) ?? [];
      return { status: 200, body: { parts: numbers.map((n) => ({ partNumber: n, url: url(fileId, n) })) } };
    }
    f.complete = true;
    return {
      status: 200,
      body: { file: { id: fileId, name: f.name, size: f.size, purpose: 'test', round: 1, complete: true } },
    };
  });
  return { ...fake, files };
}
