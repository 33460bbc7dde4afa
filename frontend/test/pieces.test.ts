// The small pieces pages rely on: API errors in words, invite and token
// fragments, the checklist's reading, sign-off outcomes, time input.

import { describe, expect, it } from 'vitest';
import { DEFAULT_ENTITIES, readChecklist } from '../src/customer/checklist';
import { marketChoices } from '../src/customer/market';
import { ApiError, createApi, jsonPathOf, messageOf } from '../src/lib/api';
import { dateToLocalInput, entityLabel, localInputToUtc } from '../src/lib/format';
import { readInvite, readOpsToken, safeHref } from '../src/lib/links';
import { filterMigrations } from '../src/ops/list';
import { fakeApi } from './fakes';
import type { Migration } from '../src/lib/types';

function memoryStorage() {
  const data = new Map<string, string>();
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v), removeItem: (k: string) => void data.delete(k) };
}

describe('api', () => {
  it('turns the server’s error into ApiError with its message and status', async () => {
    const { api } = fakeApi(() => ({ status: 409, body: { error: { code: 'conflict', message: 'Already decided.' } } }));
    const err = await api('POST', '/signoff', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'conflict', message: 'Already decided.' });
  });

  it('words failures without a body, and never shows raw errors', async () => {
    const { api } = fakeApi(() => ({ status: 502 }));
    await expect(api('GET', '/x')).rejects.toThrow('The service had a problem (HTTP 502). Try again in a moment.');
    expect(messageOf(new TypeError('x is undefined'))).toBe('Something went wrong. Try again.');
  });

  it('sends the bearer key and JSON', async () => {
    let seen: RequestInit | undefined;
    const api = createApi({ token: 'key', base: '/api/', fetchImpl: async (_url, init) => ((seen = init), { ok: true, status: 200, text: async () => '{"a":1}' }) });
    expect(await api('PUT', '/m', { b: 2 })).toEqual({ a: 1 });
    expect((seen?.headers as Record<string, string>).Authorization).toBe('Bearer key');
    expect(seen?.body).toBe('{"b":2}');
  });

  it('finds the JSON path in a mapping error', () => {
    expect(jsonPathOf('mapping spec: $.files[0].fields[2].steps[0].pattern: not a valid RE2 expression')).toBe('$.files[0].fields[2].steps[0].pattern');
    expect(jsonPathOf('no path here')).toBeNull();
  });
});

describe('fragments', () => {
  it('takes the invite from the fragment and remembers it', () => {
    const s = memoryStorage();
    expect(readInvite('#m=m-1&k=key1', s)).toEqual({ migrationId: 'm-1', key: 'key1' });
    expect(readInvite('', s)).toEqual({ migrationId: 'm-1', key: 'key1' });
    expect(readInvite('#m=m-2', s)).toEqual({ migrationId: 'm-1', key: 'key1' });
    expect(readInvite('', memoryStorage())).toBeNull();
  });

  it('keeps the ops token for the tab', () => {
    const s = memoryStorage();
    expect(readOpsToken('#token=jwt.value', s)).toBe('jwt.value');
    expect(readOpsToken('', s)).toBe('jwt.value');
  });
});

describe('checklist', () => {
  it('reads counts and spot-check ids, leaving empty kinds out', () => {
    expect(
      readChecklist([
        { entity: 'contact', count: ' 3 ', ids: '1, 2;3' },
        { entity: 'property', count: '', ids: '' },
      ]),
    ).toEqual({ counts: { contact: 3 }, spotCheckIds: { contact: ['1', '2', '3'] } });
  });

  it('names a count that is not a whole number', () => {
    expect(readChecklist([{ entity: 'property', count: '2.5', ids: '' }]).error).toEqual({
      entity: 'property',
      message: 'Properties: enter a whole number of records (or leave it empty).',
    });
  });
});

describe('entities', () => {
  it('names every entity of the default schema in words, organisations included', () => {
    expect(entityLabel('company')).toBe('Companies');
    expect(entityLabel('company', false)).toBe('Company');
    expect(entityLabel('tenancy')).toBe('Tenancies');
    expect(entityLabel('contact')).toBe('Contacts');
  });

  it('offers a checklist count for companies, so account exports reconcile too', () => {
    expect(DEFAULT_ENTITIES).toContain('company');
  });
});

describe('market', () => {
  it('offers "not set" and the common markets, and keeps a current one that is not listed', () => {
    const list = marketChoices('');
    expect(list[0]).toEqual({ code: '', label: 'Not set: read from each file' });
    expect(list.map((c) => c.code)).toContain('US');
    expect(list.map((c) => c.code)).toContain('GB');
    const withCurrent = marketChoices('IS');
    expect(withCurrent.find((c) => c.code === 'IS')).toEqual({ code: 'IS', label: 'IS' });
    expect(marketChoices('FR').filter((c) => c.code === 'FR')).toHaveLength(1);
  });
});

describe('safeHref', () => {
  it('keeps https and same-origin links, and http ones only on an http page, drops the rest', () => {
    const page = 'http://site.test/upload.html';
    expect(safeHref('https://s3.test/b/r.csv?X-Amz=1', page)).toBe('https://s3.test/b/r.csv?X-Amz=1');
    expect(safeHref('http://site.test/files/r.csv', page)).toBe('http://site.test/files/r.csv');
    expect(safeHref('/files/r.csv', page)).toBe('http://site.test/files/r.csv');
    expect(safeHref('http://127.0.0.1:4566/b/r.csv', page)).toBe('http://127.0.0.1:4566/b/r.csv'); // the local stack's storage
    expect(safeHref('http://other.test/r.csv', 'https://site.test/upload.html')).toBe('');
    expect(safeHref('https://other.test/r.csv', 'https://site.test/upload.html')).toBe('https://other.test/r.csv');
    expect(safeHref('javascript:alert(1)', page)).toBe('');
    expect(safeHref(' JavaScript:alert(1)', page)).toBe('');
    expect(safeHref('data:text/html,<b>x</b>', page)).toBe('');
    expect(safeHref('', page)).toBe('');
    expect(safeHref(undefined, page)).toBe('');
  });
});

describe('times and ops filters', () => {
  it('turns a local datetime into RFC 3339 UTC', () => {
    // Whatever this machine's time zone (half-hour offsets, dates that
    // cross midnight): the UTC instant is the local wall-clock time's.
    const local = new Date(2030, 4, 1, 10, 20, 30); // 1 May 2030 10:20:30, local
    const utc = localInputToUtc('2030-05-01T10:20:30');
    expect(utc).toBe(local.toISOString().replace(/\.000Z$/, 'Z'));
    expect(utc).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(dateToLocalInput(new Date(utc!))).toBe('2030-05-01T10:20:30');
    expect(localInputToUtc('2030-05-01T10:20')).toBe(new Date(2030, 4, 1, 10, 20).toISOString().replace(/\.000Z$/, 'Z'));
    expect(localInputToUtc('')).toBeNull();
    expect(localInputToUtc('1 May 2030')).toBeNull();
  });

  it('filters migrations by every word and by status, newest first', () => {
    const m = (id: string, status: Migration['status'], createdAt: string, extra: Partial<Migration> = {}): Migration => ({
      id, tenantId: `t-${id}`, customerName: `Customer ${id}`, status, round: 1, files: [], createdAt, updatedAt: createdAt, ...extra,
    });
    const all = [
      m('a', 'live', '2026-01-01T00:00:00Z'),
      m('b', 'failed', '2026-01-02T00:00:00Z', { failure: { step: 'TestMigrate', reason: 'disk full' } }),
      m('c', 'live', '2026-01-03T00:00:00Z'),
    ];
    expect(filterMigrations(all, '', 'live').map((x) => x.id)).toEqual(['c', 'a']);
    expect(filterMigrations(all, 'disk FULL', '').map((x) => x.id)).toEqual(['b']);
    expect(filterMigrations(all, 'customer t-a', '').map((x) => x.id)).toEqual(['a']);
  });
});
