// The presigned multipart uploader.
//
// The API plans the upload (one presigned PUT URL per part); the browser
// sends each part straight to S3, at most PART_CONCURRENCY at a time,
// retrying a failed part up to PART_RETRIES times with exponential backoff,
// then asks the API to assemble the parts. The core (`partRanges`,
// `planParts`, `uploadParts`) takes the part sender as a parameter, so it
// runs under Node's test runner with a fake; `xhrPutPart` is the browser's.

export const PART_CONCURRENCY = 3;
export const PART_RETRIES = 3;
export const RETRY_BASE_MS = 500;

/** An upload failure; `message` is fit to show a person. */
export class UploadError extends Error {
  constructor(message, { retryable = true, cause } = {}) {
    super(message, { cause });
    this.name = 'UploadError';
    this.retryable = retryable;
  }
}

/**
 * The byte ranges of a file of `size` bytes cut into `partSize` parts:
 * part i covers [(i-1)*partSize, min(i*partSize, size)). An empty file is
 * one empty part.
 */
export function partRanges(size, partSize) {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new UploadError(`The file size ${size} is not a byte count.`, { retryable: false });
  }
  if (!Number.isSafeInteger(partSize) || partSize <= 0) {
    throw new UploadError(`The service planned parts of ${partSize} bytes, which cannot be uploaded.`, {
      retryable: false,
    });
  }
  const count = Math.max(1, Math.ceil(size / partSize));
  return Array.from({ length: count }, (_, i) => ({
    partNumber: i + 1,
    start: i * partSize,
    end: Math.min((i + 1) * partSize, size),
  }));
}

/**
 * Pairs the API's presigned part URLs with the byte ranges, checking that
 * the plan covers the file exactly: parts 1..n, one URL each.
 */
export function planParts(size, partSize, parts) {
  const ranges = partRanges(size, partSize);
  const list = Array.isArray(parts) ? parts : [];
  const urls = new Map(list.map((p) => [p?.partNumber, p?.url]));
  if (list.length !== ranges.length || urls.size !== ranges.length) {
    throw new UploadError(
      `The service planned ${list.length} part(s) for a file that needs ${ranges.length}; the upload cannot start.`,
      { retryable: false },
    );
  }
  return ranges.map((r) => {
    const url = urls.get(r.partNumber);
    if (typeof url !== 'string' || url === '') {
      throw new UploadError(`The service sent no upload address for part ${r.partNumber}.`, { retryable: false });
    }
    return { ...r, url };
  });
}

const defaultSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends every part of `plan` (from planParts) with
 * `putPart({url, body, partNumber, onProgress(bytesSent), signal}) → Promise<etag>`.
 *
 * A failed part is tried again after retryBaseMs, 2×, 4×, ... up to
 * `retries` times; an UploadError with `retryable: false` is not retried.
 * When a part fails for good, parts in flight are aborted (their signal
 * fires), no new part starts, and the promise rejects with an UploadError
 * naming the part. Otherwise it resolves to [{partNumber, etag}] in part
 * order.
 *
 * onProgress({loaded, total, percent}) reports bytes sent: a part's bytes
 * count as its request reports them (clamped to the part's length), drop
 * back to zero if that attempt fails, and count in full once the part is
 * stored. percent is a whole number, 100 only when every byte is sent.
 */
export async function uploadParts({
  blob,
  plan,
  putPart,
  onProgress = () => {},
  concurrency = PART_CONCURRENCY,
  retries = PART_RETRIES,
  retryBaseMs = RETRY_BASE_MS,
  sleep = defaultSleep,
}) {
  const total = plan.reduce((n, p) => n + (p.end - p.start), 0);
  const sent = new Map(plan.map((p) => [p.partNumber, 0]));
  const report = () => {
    let loaded = 0;
    for (const v of sent.values()) loaded += v;
    const percent = total === 0 ? 100 : Math.min(100, Math.floor((loaded * 100) / total));
    onProgress({ loaded, total, percent });
  };

  const abort = new AbortController();
  let failure = null;
  const results = [];

  async function sendPart(part) {
    const length = part.end - part.start;
    const body = blob.slice(part.start, part.end);
    for (let attempt = 1; ; attempt++) {
      if (abort.signal.aborted) throw failure;
      try {
        const etag = await putPart({
          url: part.url,
          body,
          partNumber: part.partNumber,
          signal: abort.signal,
          onProgress: (bytes) => {
            if (abort.signal.aborted || !Number.isFinite(bytes)) return;
            sent.set(part.partNumber, Math.max(0, Math.min(length, bytes)));
            report();
          },
        });
        if (typeof etag !== 'string' || etag === '') {
          throw new UploadError('storage did not return the part’s ETag', { retryable: false });
        }
        sent.set(part.partNumber, length);
        report();
        return { partNumber: part.partNumber, etag };
      } catch (err) {
        if (abort.signal.aborted) throw failure;
        sent.set(part.partNumber, 0);
        report();
        const retryable = !(err instanceof UploadError && err.retryable === false);
        if (!retryable || attempt > retries) {
          const tries = attempt === 1 ? '' : ` after ${attempt} attempts`;
          const reason = err && err.message ? err.message : String(err);
          throw new UploadError(`Part ${part.partNumber} of ${plan.length} could not be uploaded${tries}: ${reason}`, {
            retryable: false,
            cause: err,
          });
        }
        await sleep(retryBaseMs * 2 ** (attempt - 1));
      }
    }
  }

  let next = 0;
  async function worker() {
    while (next < plan.length) {
      const part = plan[next++];
      try {
        results.push(await sendPart(part));
      } catch (err) {
        if (!failure) {
          failure = err;
          abort.abort(err);
        }
        return;
      }
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, plan.length)) }, worker));
  if (failure) throw failure;
  return results.sort((a, b) => a.partNumber - b.partNumber);
}

/**
 * Uploads one file: plans it with the API, sends the parts to storage, then
 * completes it. `api(method, path, body)` is app.js's createApi() request.
 * `onPhase` hears 'starting', 'uploading' and 'completing'. Resolves to the
 * completed file record from the API.
 */
export async function uploadFile({ api, migrationId, file, purpose, putPart = xhrPutPart, onProgress, onPhase = () => {}, ...options }) {
  if (file.size === 0) {
    throw new UploadError(`${file.name} is empty (0 bytes). Export it again and upload the new file.`, { retryable: false });
  }
  const id = encodeURIComponent(migrationId);
  onPhase('starting');
  const started = await api('POST', `/migrations/${id}/uploads`, {
    fileName: file.name,
    size: file.size,
    contentType: file.type || 'application/octet-stream',
    purpose,
  });
  const plan = planParts(file.size, started.partSize, started.parts);
  onPhase('uploading');
  const parts = await uploadParts({ blob: file, plan, putPart, onProgress, ...options });
  onPhase('completing');
  const done = await api('POST', `/migrations/${id}/uploads/${encodeURIComponent(started.fileId)}/complete`, { parts });
  return done.file;
}

/** The text of an S3 XML error (`<Code>` and `<Message>`), if the body is one. */
export function storageErrorText(xml) {
  if (typeof xml !== 'string') return '';
  const pick = (tag) => (xml.match(new RegExp(`<${tag}>([^<]{1,300})</${tag}>`)) || [])[1] || '';
  const code = pick('Code');
  const message = pick('Message');
  return [code, message].filter(Boolean).join(': ');
}

/**
 * The browser's part sender: PUTs `body` to the presigned `url` with
 * XMLHttpRequest (for upload progress events) and resolves to the ETag
 * response header, which the bucket's CORS rule exposes.
 */
export function xhrPutPart({ url, body, onProgress, signal }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        const etag = xhr.getResponseHeader('ETag');
        if (etag) resolve(etag);
        else
          reject(
            new UploadError('storage accepted the part but did not expose its ETag header (check the bucket’s CORS rule)', {
              retryable: false,
            }),
          );
        return;
      }
      const detail = storageErrorText(xhr.responseText);
      reject(new UploadError(`storage answered HTTP ${xhr.status}${detail ? ` (${detail})` : ''}`));
    };
    xhr.onerror = () => reject(new UploadError('the connection to storage failed'));
    xhr.ontimeout = () => reject(new UploadError('storage took too long to answer'));
    xhr.onabort = () => reject(new UploadError('the upload was stopped', { retryable: false }));
    if (signal) {
      if (signal.aborted) {
        reject(new UploadError('the upload was stopped', { retryable: false }));
        return;
      }
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    xhr.send(body);
  });
}
