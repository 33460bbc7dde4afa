// The ops detail: failed chunks with their errors, and Retry while final_blocked.

import { afterEach, describe, expect, it } from 'vitest';
import { createDetailView, renderDetail } from '../src/ops/detail';
import { renderList } from '../src/ops/list';
import type { Migration, OpsDetail } from '../src/lib/types';

afterEach(() => document.body.replaceChildren());

const migration = (status: Migration['status']): Migration => ({
  id: 'm-1',
  tenantId: 'harbour',
  customerName: 'Harbour Lettings',
  status,
  round: 1,
  files: [],
  createdAt: '2026-11-25T10:00:00Z',
  updatedAt: '2026-11-25T10:05:00Z',
});

const detail = (status: Migration['status']): OpsDetail => ({
  migration: migration(status),
  audit: [{ at: '2026-11-25T10:04:00Z', actor: 'system', action: 'final.blocked', detail: 'chunk 1 failed' }],
  chunks: [
    { index: 0, fileName: 'contacts.csv', status: 'done', attempts: 1, counts: { read: 5, migrated: 5, rejected: 0, skipped: 0 } },
    { index: 1, fileName: 'contacts.csv', status: 'failed', attempts: 3, counts: null, error: 'the part could not be read' },
    { index: 2, fileName: 'merging records, partition 1 of 1', merge: true, status: 'done', attempts: 1, counts: { read: 0, migrated: -2, merged: 2, rejected: 0, skipped: 0 } },
  ],
  execution: { name: 'm-1-r1', status: 'RUNNING', startDate: '2026-11-25T10:01:00Z', events: [
      { timestamp: '2026-11-25T10:01:00Z', type: 'ExecutionStarted' },
      { timestamp: '2026-11-25T10:02:00Z', type: 'TaskStateEntered', state: 'FinalMap' },
    ],
  },
});

describe('ops detail', () => {
  it('lists chunks with their errors and retries a blocked final migration', async () => {
    let retried = 0;
    const el = renderDetail(detail('final_blocked'), { onBack: () => {}, onRetry: async () => (retried++, 'Retry started.') });
    document.body.append(el);
    expect(el.textContent).toContain('the part could not be read');
    // A merge partition says what it merged, not a negative "migrated".
    expect(el.textContent).toContain("2 of the chunks' rows merged into other records");
    expect(el.textContent).not.toContain('migrated -2');
    expect(el.textContent).toContain('1 chunk(s) of the final migration failed');
    expect(el.textContent).toContain('ExecutionStarted');
    // History events name their state in `state`.
    const rows = [...el.querySelectorAll('table')].find((t) => t.caption?.textContent === 'Execution history, newest first')!.querySelectorAll('tbody tr');
    expect([...rows[0]!.querySelectorAll('td')].map((td) => td.textContent).slice(1)).toEqual(['TaskStateEntered', 'FinalMap']);
    // The audit trail names each action in words, its code on hover.
    const what = [...el.querySelectorAll('table')].find((t) => t.caption?.textContent === 'Audit trail, newest first')!.querySelector('tbody tr td:nth-child(3) span')!;
    expect([what.textContent, what.getAttribute('title')]).toEqual(['Final migration blocked', 'final.blocked']);
    const retry = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Retry the failed chunks') as HTMLButtonElement;
    retry.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(retried).toBe(1);
    expect(el.querySelector('[role=status]')?.textContent).toBe('Retry started.');
  });

  it('offers no Retry otherwise, and a refused retry is said in words', async () => {
    const live = renderDetail(detail('live'), { onBack: () => {}, onRetry: async () => '' });
    const visible = (b: HTMLElement) => !b.closest('[hidden]');
    expect([...live.querySelectorAll('button')].some((b) => /retry|again/i.test(b.textContent ?? '') && visible(b))).toBe(false);

    const el = renderDetail(detail('final_blocked'), { onBack: () => {}, onRetry: async () => Promise.reject(new Error('Nothing waits for a retry.')) });
    const retry = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Retry the failed chunks') as HTMLButtonElement;
    retry.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(el.querySelector('[role=alert]')?.textContent).toBe('Nothing waits for a retry.');
    expect(el.querySelector('[role=status]')?.textContent).toBe('');
    expect(retry.disabled).toBe(false);
  });

  it('starts a failed round again, in its own words, and keeps the message and focus across updates', async () => {
    const kinds: string[] = [];
    const view = createDetailView({ onBack: () => {}, onRetry: async (kind) => (kinds.push(kind), 'Round 1 started again.') });
    document.body.append(view.element);
    const failed = { ...detail('failed'), migration: { ...migration('failed'), failure: { step: 'TestMigrate', reason: 'disk full' } } };
    view.update(failed);
    const retry = [...view.element.querySelectorAll('button')].find((b) => b.textContent === 'Start round 1 again') as HTMLButtonElement;
    expect(retry).toBeTruthy();
    expect(view.element.textContent).toContain('Round 1 failed in TestMigrate');
    expect(view.element.textContent).not.toContain('Retry the failed chunks');
    retry.focus();
    // A poll with new data while the button is focused keeps it focused.
    view.update({ ...failed, audit: [...failed.audit!, { at: '2026-11-25T10:06:00Z', actor: 'system', action: 'x' }] });
    expect(document.activeElement).toBe(retry);
    retry.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(kinds).toEqual(['round']);
    const status = view.element.querySelector('[role=status]') as HTMLElement;
    expect(status.textContent).toBe('Round 1 started again.');
    // The next poll sees the round running: Retry goes, the message stays.
    view.update(detail('submitted'));
    expect(retry.closest('[role=note]')?.hasAttribute('hidden')).toBe(true);
    expect(status.textContent).toBe('Round 1 started again.');
  });

  it('goes back to the list from a button', () => {
    let back = 0;
    const el = renderDetail(detail('live'), { onBack: () => back++, onRetry: async () => '' });
    const button = [...el.querySelectorAll('button')].find((b) => b.textContent === '← All migrations') as HTMLButtonElement;
    button.click();
    expect(back).toBe(1);
  });

  it('lists migrations with status, current step, age and failure', () => {
    const failed = { ...migration('failed'), failure: { step: 'TestMigrate', reason: 'disk full' } };
    const el = renderList([failed], new Date('2026-11-25T12:00:00Z'), () => {});
    const cells = [...el.querySelectorAll('tbody td')].map((td) => td.textContent);
    expect(cells).toEqual(['harbour', 'failed', 'Stopped', '2 h', 'TestMigrate: disk full']);
  });
});

describe('ops detail: mail and invites', () => {
  const withMail = (): OpsDetail => ({
    ...detail('awaiting_review'),
    mail: [
      { purpose: 'invite', round: 1, to: 'i***@harbour.test', subject: 'Your data migration: your invite link', status: 'sent', attempts: 1, sentAt: '2026-11-25T10:00:01Z', createdAt: '2026-11-25T10:00:00Z' },
      {
        purpose: 'workbook-ready', round: 1, to: 'i***@harbour.test', subject: 'Your test migration workbook is ready', status: 'pending', attempts: 2,
        lastError: 'The email could not be sent (SES: Throttling).', nextAt: '2026-11-25T10:09:00Z', createdAt: '2026-11-25T10:05:00Z',
      },
    ],
  });

  it('lists each mail with its status, attempts and last error', () => {
    const el = renderDetail(withMail(), { onBack: () => {}, onRetry: async () => '' });
    const t = [...el.querySelectorAll('table')].find((x) => x.caption?.textContent?.startsWith('Mail to'))!;
    const rows = [...t.querySelectorAll('tbody tr')].map((r) => [...r.querySelectorAll('td,th')].map((c) => c.textContent));
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain('i***@harbour.test');
    expect(rows[1]!.join(' ')).toContain('pending: next try');
    expect(rows[1]).toContain('The email could not be sent (SES: Throttling).');
    expect(rows[1]).toContain('2');
  });

  it('re-issues the invite link and copies it', async () => {
    let calls = 0;
    const copied: string[] = [];
    Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText: async (s: string) => void copied.push(s) } });
    const el = renderDetail(withMail(), {
      onBack: () => {},
      onRetry: async () => '',
      onReissue: async () => (calls++, { inviteUrl: 'https://site/upload.html#m=m-1&k=new', inviteMailed: true }),
    });
    document.body.append(el);
    const button = [...el.querySelectorAll('button')].find((b) => b.textContent === 'Re-issue invite link')!;
    button.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toBe(1);
    const link = el.querySelector<HTMLInputElement>('#reissued-invite-url')!;
    expect(link.value).toBe('https://site/upload.html#m=m-1&k=new');
    expect(el.textContent).toContain('The old link no longer opens the migration.');
    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Copy')!.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(copied).toEqual(['https://site/upload.html#m=m-1&k=new']);
    expect(el.textContent).toContain('Copied.');
  });

  it('says when the re-issued invite could not be mailed, and when re-issuing failed', async () => {
    const el = renderDetail(withMail(), { onBack: () => {}, onRetry: async () => '', onReissue: async () => ({ inviteUrl: 'https://site/x', inviteMailed: false }) });
    [...el.querySelectorAll('button')].find((b) => b.textContent === 'Re-issue invite link')!.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(el.textContent).toContain('the mail could not be sent: copy the link and send it yourself');

    const bad = renderDetail(withMail(), { onBack: () => {}, onRetry: async () => '', onReissue: async () => Promise.reject(new Error('No migration m-1.')) });
    [...bad.querySelectorAll('button')].find((b) => b.textContent === 'Re-issue invite link')!.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(bad.querySelector('[role=alert]:not([hidden])')?.textContent).toBe('No migration m-1.');
  });
});
