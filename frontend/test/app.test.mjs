// The shared helpers: API client, fragments, the remembered invite, times.
// Run with: node --test frontend/test/
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  ApiError,
  configuredApiBase,
  createApi,
  inviteFragment,
  localInputToUtc,
  parseFragment,
  readInvite,
  reconciles,
  statusText,
  unwrapMigration,
} from '../app.js';

function memoryStorage() {
  const data = new Map();
  return {
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => data.set(k, String(v)),
    data,
  };
}

/** A fetch that answers `status` with `body` and records what it was asked. */
function fakeFetch(status, body) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    return { ok: status >= 200 && status < 300, status, text: async () => (body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)) };
  };
  return { fetchImpl, calls };
}

describe('fragments and the invite', () => {
  it('parses a fragment', () => {
    assert.deepEqual(parseFragment('#m=m-1&k=abc_DEF-123'), { m: 'm-1', k: 'abc_DEF-123' });
    assert.deepEqual(parseFragment('#t=p.s'), { t: 'p.s' });
    assert.deepEqual(parseFragment(''), {});
  });

  it('takes the invite from the fragment and remembers it for reloads without one', () => {
    const storage = memoryStorage();
    assert.deepEqual(readInvite('#m=m-1&k=key1', storage), { migrationId: 'm-1', key: 'key1' });
    assert.deepEqual(readInvite('', storage), { migrationId: 'm-1', key: 'key1' });
    assert.deepEqual(readInvite('#m=m-2&k=key2', storage), { migrationId: 'm-2', key: 'key2' }, 'a new link wins');
    assert.deepEqual(readInvite('#m=m-3', storage), { migrationId: 'm-2', key: 'key2' }, 'a half link is ignored');
  });

  it('has no invite without a fragment or a remembered one, or with a corrupt one', () => {
    assert.equal(readInvite('', memoryStorage()), null);
    const storage = memoryStorage();
    storage.setItem('cutover.invite', '{not json');
    assert.equal(readInvite('', storage), null);
  });

  it('builds the fragment that links the customer pages', () => {
    assert.equal(inviteFragment({ migrationId: 'm-1', key: 'a&b' }), '#m=m-1&k=a%26b');
    assert.deepEqual(parseFragment(inviteFragment({ migrationId: 'm-1', key: 'a&b' })), { m: 'm-1', k: 'a&b' });
  });
});

describe('createApi', () => {
  it('sends the bearer key in a header and the body as JSON, never in the URL', async () => {
    const { fetchImpl, calls } = fakeFetch(201, { fileId: 'f-1' });
    const api = createApi({ token: 'secret-key', base: 'https://api.test/api/', fetchImpl });
    assert.deepEqual(await api('POST', '/migrations/m-1/uploads', { size: 1 }), { fileId: 'f-1' });
    const [{ url, init }] = calls;
    assert.equal(url, 'https://api.test/api/migrations/m-1/uploads');
    assert.ok(!url.includes('secret-key'));
    assert.equal(init.method, 'POST');
    assert.equal(init.headers.Authorization, 'Bearer secret-key');
    assert.equal(init.headers['Content-Type'], 'application/json');
    assert.equal(init.body, '{"size":1}');
  });

  it('turns an error answer into its message', async () => {
    const { fetchImpl } = fakeFetch(409, { error: { code: 'conflict', message: 'Upload the test extract before submitting.' } });
    const api = createApi({ token: 't', base: '/api', fetchImpl });
    await assert.rejects(api('POST', '/migrations/m-1/submit'), (err) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 409);
      assert.equal(err.code, 'conflict');
      assert.equal(err.message, 'Upload the test extract before submitting.');
      return true;
    });
  });

  it('explains an error answer that has no message', async () => {
    for (const [status, pattern] of [
      [410, /expired/],
      [502, /HTTP 502/],
      [418, /HTTP 418/],
    ]) {
      const { fetchImpl } = fakeFetch(status, '<html>gateway</html>');
      await assert.rejects(createApi({ base: '/api', fetchImpl })('GET', '/signoff'), pattern);
    }
  });

  it('reports an unreachable service as such', async () => {
    const api = createApi({
      base: '/api',
      fetchImpl: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    await assert.rejects(api('GET', '/x'), (err) => err.code === 'network' && /Could not reach/.test(err.message));
  });

  it('answers {} for an empty success', async () => {
    const { fetchImpl } = fakeFetch(202);
    assert.deepEqual(await createApi({ base: '/api', fetchImpl })('POST', '/migrations/m-1/submit'), {});
  });

  it('needs /config.js', () => {
    assert.throws(() => configuredApiBase(undefined), /config\.js/);
    assert.equal(configuredApiBase({ apiBase: '/api/' }), '/api');
  });
});

describe('data helpers', () => {
  it('converts a local go-live time to RFC 3339 UTC with whole seconds', () => {
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'Europe/Berlin';
      assert.equal(localInputToUtc('2026-07-01T10:30'), '2026-07-01T08:30:00Z'); // summer time, UTC+2
      assert.equal(localInputToUtc('2026-12-01T10:30'), '2026-12-01T09:30:00Z'); // UTC+1
      assert.equal(localInputToUtc(''), null);
      assert.equal(localInputToUtc('tomorrow'), null);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('checks that counts reconcile', () => {
    assert.equal(reconciles({ read: 10, migrated: 7, rejected: 2, skipped: 1 }), true);
    assert.equal(reconciles({ read: 10, migrated: 7, rejected: 2, skipped: 0 }), false);
    assert.equal(reconciles({ read: 10 }), false);
    assert.equal(reconciles(null), false);
  });

  it('reads the migration and its audit trail in either answer shape', () => {
    const audit = [{ at: '2026-01-01T00:00:00Z', actor: 'customer', action: 'file.uploaded' }];
    assert.deepEqual(unwrapMigration({ id: 'm-1', status: 'created', audit }), {
      migration: { id: 'm-1', status: 'created', audit },
      audit,
    });
    assert.deepEqual(unwrapMigration({ migration: { id: 'm-1' }, audit }), { migration: { id: 'm-1' }, audit });
    assert.deepEqual(unwrapMigration({ id: 'm-1' }).audit, []);
  });
});

it('statusText names every status in words, including a paused final migration', () => {
  assert.equal(statusText('final_blocked'), 'Final migration paused: part of it failed and our team is retrying it');
  assert.equal(statusText('live'), 'Live');
  assert.equal(statusText('some_new_state'), 'some new state');
  assert.equal(statusText(''), 'Unknown');
});
