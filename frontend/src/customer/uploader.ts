// Uploads with Uppy (@uppy/core + @uppy/aws-s3, multipart), wired to the
// cutover API's presigned multipart flow:
//
//   createMultipartUpload → POST /migrations/{id}/uploads        (plan: a URL per part)
//   signPart              → the planned URL for the part, or fresh ones from
//                           POST /migrations/{id}/uploads/{fileId}/parts
//   (Uppy PUTs each part straight to S3 and reads its ETag)
//   listParts             → the parts Uppy already finished (for resume)
//   completeMultipartUpload → POST /migrations/{id}/uploads/{fileId}/complete
//
// The server cuts a file into parts of max(8 MiB, ceil(size/10000)) bytes;
// getChunkSize says the same, so Uppy's part numbers are the server's.

import AwsS3, { type AwsS3Part, type AwsS3UploadParameters, type uploadPartBytes } from '@uppy/aws-s3';
import Uppy, { type Meta, type UppyFile } from '@uppy/core';
import type { ApiRequest } from '../lib/api';
import type { MigrationFile, PartURL, Purpose, UploadPlan } from '../lib/types';

export const MIN_PART_SIZE = 8 * 1024 * 1024;
export const MAX_PARTS = 10_000;
/** Presigned part URLs last 6 h; ask for fresh ones well before. */
export const URL_TTL_MS = 5 * 60 * 60 * 1000;
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000];

/** The server's part size for a file of `size` bytes. */
export function partSizeFor(size: number): number {
  return Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS));
}

export function partCountFor(size: number): number {
  return Math.max(1, Math.ceil(size / partSizeFor(size)));
}

/** An upload failure whose message is fit to show a person. */
export class UploadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UploadError';
  }
}

export interface CompletedUpload {
  uppyId: string;
  file: MigrationFile;
}

type Body = Record<string, never>;
export type CutoverUppy = Uppy<Meta, Body>;
export type UploadPartBytes = uploadPartBytes;

export interface UploaderOptions {
  api: ApiRequest;
  migrationId: string;
  purpose: Purpose;
  /** Uppy's own id, so two uploaders on one page keep apart. */
  id?: string;
  retryDelays?: number[];
  /** Requests at a time (parts and API calls), across files. */
  limit?: number;
  /** Replaces Uppy's XHR PUT of a part (tests fake S3 with it). */
  uploadPartBytes?: UploadPartBytes;
  onCompleted?: (done: CompletedUpload) => void;
  now?: () => number;
}

interface Plan {
  fileId: string;
  uploadId: string;
  size: number;
  urls: Map<number, { url: string; at: number }>;
  /** Parts stored in S3: part number → ETag. */
  done: Map<number, string>;
}

/** The reason a thrown value gives a person, for an upload. */
export function uploadErrorText(err: unknown): string {
  if (err instanceof Error && (err.name === 'ApiError' || err.name === 'UploadError')) return err.message;
  const source = (err as { source?: { status?: number; responseText?: string } } | null)?.source;
  if (source && typeof source.status === 'number') {
    if (source.status === 0) return 'The connection to storage failed. Check your connection, then retry.';
    if (source.status === 403) return 'Storage refused the upload (its link may have expired). Retry to get a fresh one.';
    const detail = storageErrorText(source.responseText);
    return `Storage answered HTTP ${source.status}${detail ? ` (${detail})` : ''}. Retry in a moment.`;
  }
  if (err instanceof Error && /ETag/i.test(err.message)) return 'Storage did not return the part’s ETag (check the bucket’s CORS rule).';
  return 'The upload failed. Retry in a moment.';
}

/** The text of an S3 XML error (`<Code>` and `<Message>`), if the body is one. */
export function storageErrorText(xml: string | undefined): string {
  if (typeof xml !== 'string') return '';
  const pick = (tag: string) => new RegExp(`<${tag}>([^<]{1,300})</${tag}>`).exec(xml)?.[1] ?? '';
  return [pick('Code'), pick('Message')].filter(Boolean).join(': ');
}

/** An Uppy that uploads straight away into the migration's `purpose` extract. */
export function createUploader(opts: UploaderOptions): CutoverUppy {
  const { api, migrationId, purpose } = opts;
  const now = opts.now ?? (() => Date.now());
  const base = `/migrations/${encodeURIComponent(migrationId)}/uploads`;
  const plans = new Map<string, Plan>(); // by server file id (Uppy's "key")
  // Uppy file id → server file id. Uppy clears `s3Multipart` when a file's
  // retries run out; this keeps the way back to its plan for a manual Retry.
  const keys = new Map<string, string>();

  const uppy: CutoverUppy = new Uppy<Meta, Body>({
    id: opts.id ?? `cutover-${purpose}`,
    autoProceed: true,
    allowMultipleUploadBatches: true,
    // No empty file; and no file already in the list (Uppy's own duplicate
    // check runs only when this answers false).
    onBeforeFileAdded: (file, files) => (file.size ?? 0) > 0 && !Object.hasOwn(files, file.id),
  });

  const planOf = (key: string): Plan => {
    const plan = plans.get(key);
    if (!plan) throw new UploadError('This upload was interrupted. Remove the file and add it again.');
    return plan;
  };

  const remember = (plan: Plan, parts: PartURL[] | null | undefined) => {
    const at = now();
    for (const p of parts ?? []) if (typeof p?.url === 'string' && p.url) plan.urls.set(p.partNumber, { url: p.url, at });
  };

  uppy.on('s3-multipart:part-uploaded', (file, part) => {
    const key = keys.get(file.id) ?? (uppy.getFile(file.id) as { s3Multipart?: { key?: string } } | undefined)?.s3Multipart?.key;
    const plan = key ? plans.get(key) : undefined;
    if (plan && part.ETag) plan.done.set(part.PartNumber, part.ETag);
  });

  // A manual Retry resumes the same multipart upload: give Uppy back the
  // upload it forgot, so it asks listParts and sends only the missing parts.
  const restore = (file: UppyFile<Meta, Body> | undefined) => {
    if (!file) return;
    const key = keys.get(file.id);
    const plan = key ? plans.get(key) : undefined;
    if (!key || !plan) return;
    const current = uppy.getFile(file.id) as (UppyFile<Meta, Body> & { s3Multipart?: { key?: string; uploadId?: string } }) | undefined;
    if (!current || (current.s3Multipart?.key === key && current.s3Multipart?.uploadId === plan.uploadId)) return;
    uppy.setFileState(file.id, { s3Multipart: { ...current.s3Multipart, key, uploadId: plan.uploadId } } as Partial<UppyFile<Meta, Body>>);
  };
  uppy.on('upload-retry', (file) => restore(file));
  uppy.on('retry-all', (files) => {
    for (const f of files ?? []) restore(f);
  });
  uppy.on('file-removed', (file) => {
    const key = keys.get(file.id);
    keys.delete(file.id);
    if (key) plans.delete(key);
  });

  uppy.use(AwsS3<Meta, Body>, {
    shouldUseMultipart: true,
    limit: opts.limit ?? 4,
    retryDelays: opts.retryDelays ?? RETRY_DELAYS,
    getChunkSize: (file: { size: number }) => partSizeFor(file.size),
    ...(opts.uploadPartBytes ? { uploadPartBytes: opts.uploadPartBytes } : {}),

    async createMultipartUpload(file: UppyFile<Meta, Body>) {
      const size = file.size ?? 0;
      const plan = await api<UploadPlan>('POST', base, {
        fileName: file.name,
        size,
        contentType: file.type || 'application/octet-stream',
        purpose,
      });
      const expected = partCountFor(size);
      if (plan.partSize !== partSizeFor(size) || (plan.parts?.length ?? 0) > expected) {
        throw new UploadError(
          `The service planned ${plan.parts?.length ?? 0} part(s) of ${plan.partSize} bytes for a file that this page cuts into ${expected} part(s) of ${partSizeFor(size)} bytes; the upload cannot start.`,
        );
      }
      const entry: Plan = { fileId: plan.fileId, uploadId: plan.uploadId, size, urls: new Map(), done: new Map() };
      remember(entry, plan.parts);
      plans.set(plan.fileId, entry);
      keys.set(file.id, plan.fileId);
      return { uploadId: plan.uploadId, key: plan.fileId };
    },

    async signPart(_file: UppyFile<Meta, Body>, { key, partNumber }: { key: string; partNumber: number }): Promise<AwsS3UploadParameters> {
      const plan = planOf(key);
      const known = plan.urls.get(partNumber);
      if (known && now() - known.at < URL_TTL_MS) return { method: 'PUT', url: known.url };
      // Fresh URLs for this part and the next ones still to send (one request, not one per part).
      const wanted: number[] = [];
      for (let n = partNumber; n <= partCountFor(plan.size) && wanted.length < 100; n++) {
        if (!plan.done.has(n)) wanted.push(n);
      }
      const res = await api<{ parts: PartURL[] }>('POST', `${base}/${encodeURIComponent(key)}/parts`, { partNumbers: wanted });
      remember(plan, res.parts);
      const url = plan.urls.get(partNumber)?.url;
      if (!url) throw new UploadError(`The service sent no upload address for part ${partNumber}.`);
      return { method: 'PUT', url };
    },

    async listParts(_file: UppyFile<Meta, Body>, { key }: { key: string }): Promise<AwsS3Part[]> {
      const plan = planOf(key);
      return [...plan.done].map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
    },

    async completeMultipartUpload(file: UppyFile<Meta, Body>, { key, parts }: { key: string; parts: AwsS3Part[] }) {
      const plan = planOf(key);
      const body = parts
        .map((p) => ({ partNumber: Number(p.PartNumber), etag: String(p.ETag ?? '') }))
        .sort((a, b) => a.partNumber - b.partNumber);
      const res = await api<{ file: MigrationFile }>('POST', `${base}/${encodeURIComponent(plan.fileId)}/complete`, { parts: body });
      plans.delete(key);
      keys.delete(file.id);
      opts.onCompleted?.({ uppyId: file.id, file: res.file });
      return { location: '' };
    },

    async abortMultipartUpload(file: UppyFile<Meta, Body>, { key }: { key: string }) {
      // The API has no abort: an unfinished upload is never read, and the
      // bucket's lifecycle rule clears its parts. Uppy also calls this when
      // a file's retries run out; the plan stays then, so Retry resumes it.
      if (uppy.getFile(file.id)) return;
      plans.delete(key);
      if (keys.get(file.id) === key) keys.delete(file.id);
    },
  });

  return uppy;
}
