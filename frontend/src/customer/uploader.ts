// Uploads with Uppy (@uppy/core + @uppy/aws-s3, multipart), wired to the
// cutover API's presigned multipart flow:
//
//   createMultipartUpload → POST /migrations/{id}/uploads        (plan: a URL per part)
//   signPart              → the planned URL for the part, or fresh ones from
//                           POST /migrations/{id}/uploads/{fileId}/parts
//   (Uppy PUTs each part straight to S3 and reads its ETag)
//   listParts             → the parts S3 holds (for resume)
//   completeMultipartUpload → POST /migrations/{id}/uploads/{fileId}/complete
//
// The server cuts a file into parts of max(8 MiB, ceil(size/10000)) bytes;
// getChunkSize says the same, so Uppy's part numbers are the server's.
//
// Resume after a reload or a crash: each started upload is remembered in
// localStorage (migration, purpose, file name, size and lastModified →
// fileId, uploadId, partSize; never the key). When the same file is picked
// again, the page asks GET /migrations/{id}/uploads/{fileId}/parts which
// parts S3 already holds and hands Uppy the upload to restore, so only the
// missing parts are sent. The local record only says where to ask: what
// counts is the server's answer, and an upload it no longer has (complete,
// expired, of an earlier round) starts afresh.

import AwsS3, { type AwsS3Part, type AwsS3UploadParameters, type uploadPartBytes } from '@uppy/aws-s3';
import Uppy, { type Meta, type UppyFile } from '@uppy/core';
import { ApiError, type ApiRequest } from '../lib/api';
import type { MigrationFile, PartURL, Purpose, StoredPart, UploadPlan } from '../lib/types';

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
const SERVER_ID = 'cutoverFileId';

/** The service's file id of an Uppy file's upload, once the service planned it (or it resumes one). */
export function serverFileId(file: { meta?: Record<string, unknown> }): string | undefined {
  const id = file.meta?.[SERVER_ID];
  return typeof id === 'string' ? id : undefined;
}

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
  /** Where unfinished uploads are remembered across reloads; localStorage by default, none when it is unavailable. */
  storage?: ResumeStorage | null;
}

/** The slice of Web Storage the resume records use. */
export type ResumeStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** What the page remembers of an unfinished upload: where to ask, not what was sent. */
export interface ResumeRecord {
  fileId: string;
  uploadId: string;
  partSize: number;
  savedAt: number;
}

/** At most this many unfinished uploads are remembered per migration (the oldest go first). */
const MAX_RESUME_RECORDS = 50;

/** Which file a resume record is for: the same purpose, name, size and modification time. */
export function resumeFingerprint(purpose: Purpose, file: { name?: string; size?: number | null; lastModified?: number }): string {
  return [purpose, file.name ?? '', file.size ?? 0, file.lastModified ?? 0].join('|');
}

/** Resume records of one migration's unfinished uploads, in `storage` under one key. */
export class ResumeRecords {
  private readonly key: string;
  constructor(
    private readonly storage: ResumeStorage | null,
    migrationId: string,
  ) {
    this.key = `cutover:uploads:${migrationId}`;
  }

  private all(): Record<string, ResumeRecord> {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(this.key) ?? '{}');
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, ResumeRecord>) : {};
    } catch {
      return {};
    }
  }

  private save(records: Record<string, ResumeRecord>): void {
    try {
      const entries = Object.entries(records).sort((a, b) => b[1].savedAt - a[1].savedAt).slice(0, MAX_RESUME_RECORDS);
      if (entries.length) this.storage?.setItem(this.key, JSON.stringify(Object.fromEntries(entries)));
      else this.storage?.removeItem(this.key);
    } catch {
      // Storage full or disabled: the upload still works, it just cannot resume after a reload.
    }
  }

  get(fingerprint: string): ResumeRecord | undefined {
    const r = this.all()[fingerprint];
    return r && typeof r.fileId === 'string' && typeof r.uploadId === 'string' && typeof r.partSize === 'number' ? r : undefined;
  }

  set(fingerprint: string, record: ResumeRecord): void {
    this.save({ ...this.all(), [fingerprint]: record });
  }

  delete(fingerprint: string): void {
    const records = this.all();
    if (!(fingerprint in records)) return;
    delete records[fingerprint];
    this.save(records);
  }
}

function defaultStorage(): ResumeStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage blocked by the browser's settings
  }
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
  const records = new ResumeRecords(opts.storage === undefined ? defaultStorage() : opts.storage, migrationId);
  const fingerprintOf = (file: UppyFile<Meta, Body>) =>
    resumeFingerprint(purpose, { name: file.name, size: file.size, lastModified: (file.data as Partial<File> | undefined)?.lastModified });

  const uppy: CutoverUppy = new Uppy<Meta, Body>({
    id: opts.id ?? `cutover-${purpose}`,
    // Started by the files-added handler below, once it has asked the
    // server whether each file resumes an upload it already holds parts of.
    autoProceed: false,
    allowMultipleUploadBatches: true,
    // No empty file; and no file already in the list (Uppy's own duplicate
    // check runs only when this answers false).
    onBeforeFileAdded: (file, files) => (file.size ?? 0) > 0 && !Object.hasOwn(files, file.id),
  });

  // The server's id of a file's upload, kept in the Uppy file's meta
  // (serverFileId reads it): the page lists the uploads the service holds
  // unfinished, and leaves out those this uploader is sending right now.
  const markServerId = (uppyId: string, fileId: string) => {
    if (uppy.getFile(uppyId)) uppy.setFileMeta(uppyId, { [SERVER_ID]: fileId });
  };

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
    records.delete(fingerprintOf(file));
  });

  // A file picked again after a reload: if this page remembers starting
  // its upload and the server still holds it, restore it with the parts S3
  // already has; otherwise forget the record and start afresh.
  const restoreFromServer = async (file: UppyFile<Meta, Body>) => {
    const fingerprint = fingerprintOf(file);
    const record = records.get(fingerprint);
    if (!record) return;
    if (record.partSize !== partSizeFor(file.size ?? 0)) return records.delete(fingerprint);
    let stored: StoredPart[];
    try {
      const res = await api<{ parts: StoredPart[] | null }>('GET', `${base}/${encodeURIComponent(record.fileId)}/parts`);
      stored = res.parts ?? [];
    } catch (err) {
      // Gone, complete, of an earlier round: start afresh. Anything else
      // (offline, say) also starts afresh rather than hang.
      if (err instanceof ApiError && [404, 409, 410].includes(err.status)) records.delete(fingerprint);
      return;
    }
    const plan: Plan = { fileId: record.fileId, uploadId: record.uploadId, size: file.size ?? 0, urls: new Map(), done: new Map() };
    const count = partCountFor(plan.size);
    for (const p of stored) {
      if (Number.isInteger(p.partNumber) && p.partNumber >= 1 && p.partNumber <= count && p.etag) plan.done.set(p.partNumber, p.etag);
    }
    plans.set(record.fileId, plan);
    keys.set(file.id, record.fileId);
    markServerId(file.id, record.fileId);
    const current = uppy.getFile(file.id) as (UppyFile<Meta, Body> & { s3Multipart?: object }) | undefined;
    if (!current) return;
    uppy.setFileState(file.id, { s3Multipart: { ...current.s3Multipart, key: record.fileId, uploadId: record.uploadId } } as Partial<UppyFile<Meta, Body>>);
  };

  uppy.on('files-added', (files) => {
    void Promise.all(files.map((f) => restoreFromServer(f))).then(() =>
      uppy.upload().catch((err: { isRestriction?: boolean; message?: string }) => {
        if (!err?.isRestriction) uppy.log(err?.message ?? String(err));
      }),
    );
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
      markServerId(file.id, plan.fileId);
      records.set(fingerprintOf(file), { fileId: plan.fileId, uploadId: plan.uploadId, partSize: plan.partSize, savedAt: now() });
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
      records.delete(fingerprintOf(file));
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
