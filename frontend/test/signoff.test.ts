// The coordinator's page: what is approved, the decision, and the pages
// for a used (409), expired or superseded (410) and forged (404) link.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api';
import type { SignOffView } from '../src/lib/types';
import { outcomeFor, renderSignOff, showOutcome, type Roots } from '../src/signoff/view';
import { fakeApi, type Call } from './fakes';

let roots: Roots;
beforeEach(() => {
  roots = { loading: document.createElement('p'), content: document.createElement('div') };
  document.body.append(roots.loading, roots.content);
});
afterEach(() => document.body.replaceChildren());

const view = (extra: Partial<SignOffView> = {}): SignOffView => ({
  migration: { id: 'm-1', customerName: 'Harbour Lettings', tenantId: 'harbour' },
  round: 2,
  mappingVersion: 3,
  summary: { read: 10, migrated: 8, merged: 0, rejected: 1, skipped: 1 },
  workbook: { round: 2, spotChecks: 1, entities: [{ entity: 'contact', checklist: 9, rows: 10, migrated: 8, status: 'explained' }] },
  review: { reconciliation: { state: 'reviewed' }, unmapped: { state: 'waived', note: 'Remarks stay behind' } },
  issues: { rejected: [{ file: 'contacts.csv', entity: 'contact', reason: 'bad phone', count: 1 }], rejectsFiles: [], warned: 2, orphans: 0 },
  expiresAt: '2026-12-02T10:00:00Z',
  state: 'pending',
  ...extra,
});

const heading = () => roots.content.querySelector('h2')?.textContent;
const button = (name: string) => [...roots.content.querySelectorAll('button')].find((b) => b.textContent === name) as HTMLButtonElement;
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('sign-off page', () => {
  it('shows the counts, each entity’s reconciliation, the issues and the customer’s marks with notes', () => {
    renderSignOff(roots, fakeApi(() => ({ status: 200 })).api, view());
    const text = roots.content.textContent ?? '';
    expect(heading()).toBe('What you are approving');
    expect(text).toContain('Harbour Lettings');
    expect(text).toContain('Explained');
    expect(text).toContain('bad phone');
    expect(text).toContain('Columns that will not migrate');
    expect(text).toContain('Remarks stay behind');
    expect(roots.loading.hidden).toBe(true);
  });

  it('approves with the comment', async () => {
    const { api, calls } = fakeApi(() => ({ status: 200, body: { state: 'approved', decidedAt: '2026-11-25T10:00:00Z' } }));
    renderSignOff(roots, api, view());
    (roots.content.querySelector('#comment') as HTMLTextAreaElement).value = ' Looks right. ';
    button('Approve').click();
    await settle();
    expect(calls).toEqual<Call[]>([{ method: 'POST', path: '/signoff', body: { decision: 'approve', comment: 'Looks right.' } }]);
    expect(heading()).toBe('Approved');
    expect(document.activeElement).toBe(roots.content.querySelector('h2'));
  });

  it('needs a comment to reject', async () => {
    const { api, calls } = fakeApi(() => ({ status: 200, body: { state: 'rejected' } }));
    renderSignOff(roots, api, view());
    button('Reject').click();
    await settle();
    expect(calls).toHaveLength(0);
    expect(roots.content.querySelector('[role=alert]')?.textContent).toContain('Say in the comment what needs to change');
    expect(roots.content.querySelector('#comment')?.getAttribute('aria-invalid')).toBe('true');
    (roots.content.querySelector('#comment') as HTMLTextAreaElement).value = 'Phones are wrong';
    button('Reject').click();
    await settle();
    expect(calls[0]?.body).toEqual({ decision: 'reject', comment: 'Phones are wrong' });
    expect(heading()).toBe('Rejected');
  });

  it('shows the used-link page when someone decided meanwhile (409), and keeps the form on other errors', async () => {
    let status = 500;
    const { api } = fakeApi(() => ({ status, body: { error: { code: 'x', message: status === 409 ? 'This sign-off was already approved.' : 'Try again later.' } } }));
    renderSignOff(roots, api, view());
    button('Approve').click();
    await settle();
    expect(heading()).toBe('What you are approving');
    expect(roots.content.querySelector('[role=alert]')?.textContent).toBe('Try again later.');
    expect(button('Approve').disabled).toBe(false);
    status = 409;
    button('Approve').click();
    await settle();
    expect(heading()).toBe('This sign-off was already decided');
    expect(roots.content.textContent).toContain('This sign-off was already approved.');
  });

  it('has a page for each kind of dead link', () => {
    expect(outcomeFor(new ApiError('x', { status: 404 }))).toBe('invalid');
    expect(outcomeFor(new ApiError('x', { status: 409 }))).toBe('decided');
    expect(outcomeFor(new ApiError('x', { status: 410 }))).toBe('gone');
    expect(outcomeFor(new ApiError('x', { status: 503 }))).toBe('error');
    showOutcome(roots, 'gone', 'This link was superseded by a reminder.');
    expect(heading()).toBe('This sign-off link can no longer be used');
    expect(roots.content.textContent).toContain('superseded by a reminder');
    renderSignOff(roots, fakeApi(() => ({ status: 200 })).api, view({ state: 'approved', comment: 'ok' }));
    expect(heading()).toBe('This sign-off was already decided');
  });
});
