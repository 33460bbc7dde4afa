// ops.html: every migration with its status, current step, age and
// failure (filterable), and one migration's detail: timeline, Step
// Functions execution, audit trail, final chunks, and Retry while
// final_blocked (the failed chunks) or failed (the round, from its Map step). The ops JWT comes from the fragment (#token=…, as `make up`
// prints it) or is pasted in; it is kept in sessionStorage for this tab.
// Refreshes every 5 s.

import { ApiError, createApi, messageOf, type ApiRequest } from '../lib/api';
import { byId, h, replace, say, wireSkipLinks } from '../lib/dom';
import { formatTime } from '../lib/format';
import { parseFragment, readOpsToken, rememberOpsToken } from '../lib/links';
import { startPolling, type Poller } from '../lib/poll';
import { STATUS_TEXT } from '../lib/status';
import type { Migration, OpsDetail, ReissuedInvite } from '../lib/types';
import { createDetailView, type DetailView, type RetryKind } from './detail';
import { filterMigrations, renderList } from './list';

const POLL_MS = 5000;

class OpsPage {
  private api: ApiRequest | undefined;
  private poller: Poller | undefined;
  private migrations: Migration[] = [];
  private selected = '';
  private detailKey = '';
  private detailView: DetailView | undefined;
  private listKey = '';

  start(): void {
    const token = readOpsToken(location.hash, window.sessionStorage);
    this.selected = parseFragment(location.hash).migration ?? '';
    // The token is remembered; keep it out of the address bar.
    if (parseFragment(location.hash).token) history.replaceState(null, '', location.pathname + this.fragment());
    wireSkipLinks();
    window.addEventListener('hashchange', () => {
      const hash = location.hash.replace(/^#/, '');
      const { token: t, migration } = parseFragment(hash);
      if (t) {
        rememberOpsToken(t, window.sessionStorage);
        // Remembered; keep it out of the address bar and history.
        history.replaceState(null, '', location.pathname + this.fragment());
        this.signIn(t);
        if (migration !== undefined) this.select(migration);
        return;
      }
      // A migration selection, or no fragment at all (back to the list);
      // any other fragment (an in-page link) is not ours: ignore it.
      if (migration !== undefined) this.select(migration);
      else if (hash === '') this.select('');
    });

    byId<HTMLFormElement>('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = byId<HTMLTextAreaElement>('token').value.trim();
      if (!t) return say(byId('page-notice'), 'Paste an ops token first.', 'error');
      rememberOpsToken(t, window.sessionStorage);
      this.signIn(t);
    });
    byId('sign-out').addEventListener('click', () => {
      rememberOpsToken('', window.sessionStorage);
      this.signOut('Token forgotten. Paste one to sign in again.', 'info');
    });
    byId<HTMLFormElement>('create-form').addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.api) void this.create(this.api);
    });
    // The filters apply as typed; Enter must not submit (reload) the page.
    byId<HTMLFormElement>('filters').addEventListener('submit', (e) => e.preventDefault());
    byId('filter-text').addEventListener('input', () => this.renderList());
    byId('filter-status').addEventListener('change', () => this.renderList());
    const statusSelect = byId<HTMLSelectElement>('filter-status');
    for (const [value, text] of Object.entries(STATUS_TEXT)) statusSelect.append(h('option', { value, text: `${value} (${text})` }));

    if (token) this.signIn(token);
    else this.signOut('');
  }

  private fragment(): string {
    return this.selected ? `#migration=${encodeURIComponent(this.selected)}` : '';
  }

  private signIn(token: string): void {
    try {
      this.api = createApi({ token });
    } catch (err) {
      say(byId('page-notice'), messageOf(err), 'error');
      return;
    }
    byId('token-form').hidden = true;
    byId('ops').hidden = false;
    byId('sign-out').hidden = false;
    say(byId('page-notice'), '');
    this.poller?.stop();
    this.poller = startPolling(() => this.refresh(), POLL_MS);
  }

  private signOut(message: string, kind: 'error' | 'info' = 'error'): void {
    this.poller?.stop();
    this.api = undefined;
    this.detailView = undefined;
    this.detailKey = '';
    byId('ops').hidden = true;
    byId('sign-out').hidden = true;
    byId('token-form').hidden = false;
    say(byId('page-notice'), message, kind);
  }

  private select(id: string): void {
    if (id === this.selected) return;
    this.selected = id;
    this.detailKey = '';
    this.detailView = undefined;
    history.replaceState(null, '', location.pathname + this.fragment());
    this.poller?.now();
    if (!id) {
      replace(byId('detail'));
      byId('list-section').hidden = false;
    }
  }

  private async refresh(): Promise<boolean> {
    const api = this.api;
    if (!api) return false;
    try {
      const res = await api<{ migrations: Migration[] | null }>('GET', '/ops/migrations');
      this.migrations = res.migrations ?? [];
      this.renderList();
      if (this.selected) await this.refreshDetail(api);
      say(byId('page-notice'), '');
      byId('ops-updated').textContent = `Updated ${formatTime(new Date().toISOString())}; refreshes every ${POLL_MS / 1000} s.`;
      return true;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        rememberOpsToken('', window.sessionStorage);
        const why = err.code.startsWith('http_') ? `HTTP ${err.status}` : err.message;
        this.signOut(`The ops token was refused (${why}). It may have expired or be for another environment: paste a fresh one.`);
        return false;
      }
      say(byId('page-notice'), messageOf(err), 'error');
      return true;
    }
  }

  private async refreshDetail(api: ApiRequest): Promise<void> {
    const id = this.selected;
    let detail: OpsDetail;
    try {
      detail = await api<OpsDetail>('GET', `/ops/migrations/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        this.detailView = undefined;
        this.detailKey = '';
        replace(byId('detail'), h('p', { class: 'notice notice-error', role: 'alert', text: `No migration ${id}.` }));
        return;
      }
      throw err;
    }
    if (id !== this.selected) return;
    // Re-render only on a change, so focus and reading position stay put.
    const key = JSON.stringify(detail);
    if (key === this.detailKey) return;
    this.detailKey = key;
    byId('list-section').hidden = true;
    // The view is made once per selection; an update redraws only the
    // sections that changed, so focus and the Retry message stay put.
    let view = this.detailView;
    const first = !view;
    if (!view) {
      view = createDetailView({
        onBack: () => this.select(''),
        onRetry: (kind) => this.retry(api, id, kind),
        onReissue: () => this.reissue(api, id),
      });
      this.detailView = view;
      replace(byId('detail'), view.element);
    }
    view.update(detail);
    if (first) view.heading.focus();
  }

  private async retry(api: ApiRequest, id: string, kind: RetryKind): Promise<string> {
    try {
      // The API answers 202 with the migration's new {status, round}.
      const res = await api<{ status?: string; round?: number } | undefined>('POST', `/ops/migrations/${encodeURIComponent(id)}/retry`);
      this.poller?.now();
      if (kind === 'round') {
        const round = res?.round;
        const from: Record<string, string> = {
          awaiting_final: 'waiting again for the final extract',
          scheduled: 'waiting again for its go-live time',
          final_migrating: 'resuming its final migration',
        };
        const where = (res?.status && from[res.status]) || 'from its Map step';
        return `Round${round ? ` ${round}` : ''} started again ${where}, in a new execution.`;
      }
      return 'Retry started: the failed chunks run again.';
    } catch (err) {
      throw new Error(messageOf(err, kind === 'round' ? 'The round could not be started again.' : 'The retry could not be started.'));
    }
  }

  private async reissue(api: ApiRequest, id: string): Promise<ReissuedInvite> {
    try {
      const res = await api<ReissuedInvite>('POST', `/ops/migrations/${encodeURIComponent(id)}/invite`);
      this.poller?.now();
      return res;
    } catch (err) {
      throw new Error(messageOf(err, 'The invite link could not be re-issued.'));
    }
  }

  private async create(api: ApiRequest): Promise<void> {
    const input = (id: string) => byId<HTMLInputElement>(id);
    const body = {
      tenantId: input('new-tenant').value.trim(),
      customerName: input('new-name').value.trim(),
      customerEmail: input('new-email').value.trim(),
      coordinatorEmail: input('new-coordinator').value.trim(),
    };
    const error = byId('create-error');
    say(error, '', 'error');
    const missing = Object.entries(body).find(([, v]) => !v);
    if (missing) return say(error, 'Fill in every field.', 'error');
    try {
      const res = await api<{ migration: Migration; inviteUrl: string; inviteMailed?: boolean }>('POST', '/ops/migrations', body);
      const link = h('input', { type: 'text', readonly: true, value: res.inviteUrl, id: 'invite-url', class: 'invite-url' });
      const mailed = res.inviteMailed
        ? 'The invite link was mailed to the customer. Here it is once more, shown only this once:'
        : 'The invite mail could not be sent (the migration’s detail shows why): send the customer this invite link yourself; it is shown only once:';
      replace(
        byId('create-result'),
        h('p', { class: res.inviteMailed ? 'notice notice-success' : 'notice notice-warning' }, `Created ${res.migration.id} for ${res.migration.customerName}. ${mailed}`),
        h('label', { for: 'invite-url', class: 'visually-hidden', text: 'Invite link' }),
        link,
      );
      link.select();
      this.poller?.now();
    } catch (err) {
      say(error, messageOf(err, 'The migration could not be created.'), 'error');
    }
  }

  private renderList(): void {
    const text = byId<HTMLInputElement>('filter-text').value;
    const status = byId<HTMLSelectElement>('filter-status').value;
    const shown = filterMigrations(this.migrations, text, status);
    byId('list-count').textContent = `${shown.length} of ${this.migrations.length} migration${this.migrations.length === 1 ? '' : 's'} shown.`;
    // Redrawn only on a change (or each minute, for the ages), keeping the focused link focused.
    const key = JSON.stringify([shown.map((m) => [m.id, m.status, m.updatedAt]), Math.floor(Date.now() / 60000)]);
    if (key === this.listKey) return;
    this.listKey = key;
    const list = byId('list');
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('tr[data-migration]')?.dataset.migration;
    replace(list, renderList(shown, new Date(), (id) => this.select(id)));
    if (focused) list.querySelector<HTMLElement>(`tr[data-migration="${CSS.escape(focused)}"] a`)?.focus();
  }
}

new OpsPage().start();
