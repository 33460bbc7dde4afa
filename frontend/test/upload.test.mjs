// The uploader core: part splitting, retries, failure, progress, concurrency.
// Run with: node --test frontend/test/
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PART_RETRIES, UploadError, partRanges, planParts, storageErrorText, uploadFile, uploadParts } from '../upload.js';

const P = 8; // a small part size keeps the fixtures readable

function blobOf(size) {
  return new Blob([new Uint8Array(size)]);
}

function planFor(size, partSize = P) {
  const parts = partRanges(size, partSize).map((r) => ({ partNumber: r.partNumber, url: `https://s3.test/part/${r.partNumber}` }));
  return planParts(size, partSize, parts);
}

/** Records sleeps instead of waiting, so retries cost no time. */
function fakeSleep() {
  const calls = [];
  const sleep = async (ms) => {
    calls.push(ms);
  };
  return { sleep, calls };
}

describe('partRanges', () => {
  const cases = [
    // size, expected [start, end) per part
    [1, [[0, 1]]],
    [P - 1, [[0, P - 1]]],
    [P, [[0, P]]],
    [P + 1, [[0, P], [P, P + 1]]],
    [2 * P - 1, [[0, P], [P, 2 * P - 1]]],
    [2 * P, [[0, P], [P, 2 * P]]],
    [2 * P + 1, [[0, P], [P, 2 * P], [2 * P, 2 * P + 1]]],
  ];
  for (const [size, expected] of cases) {
    it(`splits ${size} bytes into ${expected.length} part(s) of at most ${P}`, () => {
      const ranges = partRanges(size, P);
      assert.deepEqual(
        ranges.map((r) => [r.start, r.end]),
        expected,
      );
      assert.deepEqual(
        ranges.map((r) => r.partNumber),
        expected.map((_, i) => i + 1),
      );
    });
  }

  it('covers a large file contiguously, every part but the last exactly partSize', () => {
    const size = 8 * 1024 * 1024 * 3 + 12345;
    const partSize = 8 * 1024 * 1024;
    const ranges = partRanges(size, partSize);
    assert.equal(ranges.length, 4);
    let at = 0;
    for (const [i, r] of ranges.entries()) {
      assert.equal(r.start, at);
      assert.equal(r.end - r.start, i < ranges.length - 1 ? partSize : 12345);
      at = r.end;
    }
    assert.equal(at, size);
  });

  it('gives an empty file one empty part', () => {
    assert.deepEqual(partRanges(0, P), [{ partNumber: 1, start: 0, end: 0 }]);
  });

  it('refuses a part size that cannot work', () => {
    assert.throws(() => partRanges(10, 0), UploadError);
    assert.throws(() => partRanges(10, -1), UploadError);
    assert.throws(() => partRanges(-1, P), UploadError);
  });
});

describe('planParts', () => {
  it('pairs each range with its URL whatever order the API lists them in', () => {
    const plan = planParts(P + 3, P, [
      { partNumber: 2, url: 'u2' },
      { partNumber: 1, url: 'u1' },
    ]);
    assert.deepEqual(plan, [
      { partNumber: 1, start: 0, end: P, url: 'u1' },
      { partNumber: 2, start: P, end: P + 3, url: 'u2' },
    ]);
  });

  it('refuses a plan with too few, too many or duplicate parts, or a missing URL', () => {
    assert.throws(() => planParts(P + 1, P, [{ partNumber: 1, url: 'u1' }]), /planned 1 part\(s\) for a file that needs 2/);
    assert.throws(() => planParts(P, P, [{ partNumber: 1, url: 'a' }, { partNumber: 2, url: 'b' }]), UploadError);
    assert.throws(() => planParts(P + 1, P, [{ partNumber: 1, url: 'a' }, { partNumber: 1, url: 'b' }]), UploadError);
    assert.throws(() => planParts(P + 1, P, [{ partNumber: 1, url: 'a' }, { partNumber: 2, url: '' }]), /no upload address for part 2/);
    assert.throws(() => planParts(P, P, undefined), UploadError);
  });
});

describe('uploadParts', () => {
  it('sends every part once with its own slice and returns the ETags in part order', async () => {
    const size = 2 * P + 5;
    const seen = [];
    const parts = await uploadParts({
      blob: blobOf(size),
      plan: planFor(size),
      putPart: async ({ url, body, partNumber }) => {
        seen.push([partNumber, url, body.size]);
        return `"etag-${partNumber}"`;
      },
    });
    assert.deepEqual(parts, [
      { partNumber: 1, etag: '"etag-1"' },
      { partNumber: 2, etag: '"etag-2"' },
      { partNumber: 3, etag: '"etag-3"' },
    ]);
    assert.deepEqual(
      seen.sort((a, b) => a[0] - b[0]),
      [
        [1, 'https://s3.test/part/1', P],
        [2, 'https://s3.test/part/2', P],
        [3, 'https://s3.test/part/3', 5],
      ],
    );
  });

  it('retries a part that fails twice, then completes the file', async () => {
    const attempts = new Map();
    const { sleep, calls } = fakeSleep();
    const parts = await uploadParts({
      blob: blobOf(3 * P),
      plan: planFor(3 * P),
      sleep,
      putPart: async ({ partNumber }) => {
        const n = (attempts.get(partNumber) ?? 0) + 1;
        attempts.set(partNumber, n);
        if (partNumber === 2 && n <= 2) throw new Error('connection reset');
        return `etag-${partNumber}`;
      },
    });
    assert.equal(attempts.get(2), 3, 'part 2: two failures and one success');
    assert.equal(attempts.get(1), 1);
    assert.equal(attempts.get(3), 1);
    assert.deepEqual(calls, [500, 1000], 'exponential backoff between attempts');
    assert.deepEqual(
      parts.map((p) => p.etag),
      ['etag-1', 'etag-2', 'etag-3'],
    );
  });

  it('marks the file failed when a part always fails, after the initial try and PART_RETRIES retries', async () => {
    let tries = 0;
    const { sleep, calls } = fakeSleep();
    await assert.rejects(
      uploadParts({
        blob: blobOf(2 * P),
        plan: planFor(2 * P),
        sleep,
        putPart: async ({ partNumber }) => {
          if (partNumber === 2) {
            tries++;
            throw new Error('storage answered HTTP 503');
          }
          return 'etag';
        },
      }),
      (err) => {
        assert.ok(err instanceof UploadError);
        assert.match(err.message, /^Part 2 of 2 could not be uploaded after 4 attempts: storage answered HTTP 503$/);
        return true;
      },
    );
    assert.equal(PART_RETRIES, 3);
    assert.equal(tries, 1 + PART_RETRIES);
    assert.deepEqual(calls, [500, 1000, 2000]);
  });

  it('does not retry an error marked not retryable', async () => {
    let tries = 0;
    await assert.rejects(
      uploadParts({
        blob: blobOf(P),
        plan: planFor(P),
        sleep: fakeSleep().sleep,
        putPart: async () => {
          tries++;
          throw new UploadError('no ETag header', { retryable: false });
        },
      }),
      /Part 1 of 1 could not be uploaded: no ETag header/,
    );
    assert.equal(tries, 1);
  });

  it('treats a part answered without an ETag as failed', async () => {
    await assert.rejects(
      uploadParts({ blob: blobOf(P), plan: planFor(P), sleep: fakeSleep().sleep, putPart: async () => '' }),
      /did not return the part’s ETag/,
    );
  });

  it('aborts the parts in flight and starts no new part once one fails for good', async () => {
    const started = [];
    let slowSignal;
    const failure = uploadParts({
      blob: blobOf(6 * P),
      plan: planFor(6 * P),
      sleep: fakeSleep().sleep,
      putPart: ({ partNumber, signal }) => {
        started.push(partNumber);
        if (partNumber === 1) return Promise.reject(new UploadError('expired URL', { retryable: false }));
        // Part 2 ignores the abort and succeeds later; its worker must not go on to part 4.
        if (partNumber === 2) return new Promise((resolve) => setTimeout(() => resolve('etag'), 5));
        // Part 3 hangs until it is aborted.
        slowSignal = signal;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      },
    });
    await assert.rejects(failure, /Part 1 of 6 could not be uploaded: expired URL/);
    await new Promise((r) => setTimeout(r, 20)); // let part 2 finish
    assert.equal(slowSignal.aborted, true);
    assert.deepEqual(
      started.sort((a, b) => a - b),
      [1, 2, 3],
      'only the first three parts ever started',
    );
  });

  it('keeps at most three parts in flight, and uses all three', async () => {
    let inFlight = 0;
    let most = 0;
    await uploadParts({
      blob: blobOf(7 * P),
      plan: planFor(7 * P),
      putPart: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return 'etag';
      },
    });
    assert.equal(most, 3);
  });

  it('reports progress that never exceeds 100% and reaches it, even across a retry', async () => {
    const size = 3 * P - 2;
    const reports = [];
    const attempts = new Map();
    await uploadParts({
      blob: blobOf(size),
      plan: planFor(size),
      sleep: fakeSleep().sleep,
      onProgress: (p) => reports.push(p),
      putPart: async ({ partNumber, body, onProgress }) => {
        const n = (attempts.get(partNumber) ?? 0) + 1;
        attempts.set(partNumber, n);
        onProgress(Math.floor(body.size / 2));
        if (partNumber === 3) return 'etag'; // its last progress events never come
        onProgress(body.size * 3); // a browser may over-report: must be clamped
        if (partNumber === 1 && n === 1) throw new Error('reset'); // bytes of a failed attempt are not stored
        onProgress(body.size);
        return 'etag';
      },
    });
    assert.ok(reports.length > 0);
    for (const r of reports) {
      assert.equal(r.total, size);
      assert.ok(r.loaded >= 0 && r.loaded <= size, `loaded ${r.loaded} of ${size}`);
      assert.ok(r.percent >= 0 && r.percent <= 100, `percent ${r.percent}`);
      assert.equal(r.percent === 100, r.loaded === size, '100% exactly when every byte is sent');
    }
    assert.ok(
      reports.some((r, i) => i > 0 && r.loaded === reports[i - 1].loaded - P),
      'the failed attempt of part 1 gives its bytes back',
    );
    assert.deepEqual(reports.at(-1), { loaded: size, total: size, percent: 100 });
  });
});

describe('uploadFile', () => {
  it('plans the upload, sends the parts and completes with the ETags', async () => {
    const calls = [];
    const api = async (method, path, body) => {
      calls.push([method, path, body]);
      if (path.endsWith('/uploads')) {
        return {
          fileId: 'f-1',
          uploadId: 'u-1',
          key: 'migrations/m-1/f-1/contacts.csv',
          partSize: P,
          parts: [
            { partNumber: 1, url: 'https://s3.test/1' },
            { partNumber: 2, url: 'https://s3.test/2' },
          ],
        };
      }
      return { file: { id: 'f-1', name: 'contacts.csv', complete: true } };
    };
    const phases = [];
    const file = new File([new Uint8Array(P + 2)], 'contacts.csv', { type: 'text/csv' });
    const done = await uploadFile({
      api,
      migrationId: 'm 1',
      file,
      purpose: 'test',
      onPhase: (p) => phases.push(p),
      putPart: async ({ partNumber }) => `"e${partNumber}"`,
    });
    assert.deepEqual(done, { id: 'f-1', name: 'contacts.csv', complete: true });
    assert.deepEqual(phases, ['starting', 'uploading', 'completing']);
    assert.deepEqual(calls, [
      ['POST', '/migrations/m%201/uploads', { fileName: 'contacts.csv', size: P + 2, contentType: 'text/csv', purpose: 'test' }],
      [
        'POST',
        '/migrations/m%201/uploads/f-1/complete',
        {
          parts: [
            { partNumber: 1, etag: '"e1"' },
            { partNumber: 2, etag: '"e2"' },
          ],
        },
      ],
    ]);
  });

  it('refuses an empty file before calling the API', async () => {
    let called = false;
    await assert.rejects(
      uploadFile({
        api: async () => {
          called = true;
        },
        migrationId: 'm-1',
        file: new File([], 'empty.csv'),
        purpose: 'test',
      }),
      /empty\.csv is empty \(0 bytes\)/,
    );
    assert.equal(called, false);
  });

  it('does not complete a file whose part failed', async () => {
    const paths = [];
    const api = async (method, path) => {
      paths.push(path);
      return { fileId: 'f-1', partSize: P, parts: [{ partNumber: 1, url: 'https://s3.test/1' }] };
    };
    await assert.rejects(
      uploadFile({
        api,
        migrationId: 'm-1',
        file: new File([new Uint8Array(3)], 'a.csv'),
        purpose: 'final',
        sleep: fakeSleep().sleep,
        putPart: async () => {
          throw new Error('offline');
        },
      }),
      /after 4 attempts: offline/,
    );
    assert.deepEqual(paths, ['/migrations/m-1/uploads']);
  });
});

describe('storageErrorText', () => {
  it('reads the code and message of an S3 error body', () => {
    const xml = '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>';
    assert.equal(storageErrorText(xml), 'AccessDenied: Request has expired');
    assert.equal(storageErrorText(''), '');
    assert.equal(storageErrorText(undefined), '');
  });
});
