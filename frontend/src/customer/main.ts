// upload.html: the customer's page, one journey from the invite link to
// go-live. The invite is upload.html#m=<migrationId>&k=<customerKey>; the
// key travels only in the fragment and the Authorization header.
//
// The page polls GET /migrations/{id} every 2 s and shows the panel for
// where the migration stands; a panel is rebuilt only when the status or
// round changes, so nothing typed is lost to a poll.

import { ApiError, createApi, messageOf, type ApiRequest } from '../lib/api';
import { byId, facts, focus, h, replace, say, table, wireSkipLinks } from '../lib/dom';
import { entityLabel, formatBytes, formatDateTime, formatTime } from '../lib/format';
import { parseFragment, readInvite, type Invite } from '../lib/links';
import { startPolling, type Poller } from '../lib/poll';
import { reconWord, sectionLabel, statusText, statusTone } from '../lib/status';
import { buildTimeline, commentOf } from '../lib/timeline';
import { renderTimeline } from '../lib/timeline-view';
import { createFormatControls } from './file-format';
import type { AuditEvent, FinalReport, Migration, MigrationFile, MigrationView, Proposal, Status, Workbook } from '../lib/types';
import { createChecklist, DEFAULT_ENTITIES } from './checklist';
import { createFinalView, CUTOFF_NOTICE } from './final-view';
import { createMappingEditor, type MappingEditor } from './mapping-editor';
import { createUnfinishedList, removeFileButton, unfinishedUploads } from './received-files';
import { renderFinalReport } from './report-view';
import { createReviseView } from './revise-view';
import { createPreflightView } from './preflight-view';
import { goLiveLine, goLiveTitle } from './go-live';
import { createUploadView, type UploadView } from './upload-view';
import { createUploader, type CutoverUppy } from './uploader';
import { createWorkbookView } from './workbook-view';
import { createTestRecordsSection } from './test-records-view';

const POLL_MS = 2000;

interface Panel {
  element: HTMLElement;
  update?(m: Migration, audit: AuditEvent[]): void;
  /** Something would be lost by leaving (uploads running, unsaved edits). */
  unsaved?(): boolean;
  /** Nothing more will change: the page can stop polling. */
  settled?(): boolean;
  destroy?(): void;
}

const STEPS: Array<{ label: string; statuses: Status[] }> = [
  { label: 'Prepare and upload', statuses: ['created', 'awaiting_revision'] },
  { label: 'Test migration', statuses: ['submitted', 'mapping', 'test_migrating'] },
  { label: 'Review the workbook', statuses: ['awaiting_review', 'signoff_expired'] },
  { label: 'Sign-off', statuses: ['signoff_requested', 'awaiting_signoff'] },
  { label: 'Final extract', statuses: ['awaiting_final'] },
  { label: 'Go-live', statuses: ['scheduled', 'final_held', 'final_migrating', 'final_blocked'] },
  { label: 'Live', statuses: ['live'] },
];

function panelKey(m: Migration): string {
  const step = STEPS.findIndex((s) => s.statuses.includes(m.status));
  return `${step < 0 ? m.status : step}:${m.round}:${m.status === 'signoff_expired' ? 'expired' : ''}`;
}

class CustomerPage {
  private readonly api: ApiRequest;
  private readonly base: string;
  private poller: Poller | undefined;
  private panel: Panel | undefined;
  private key = '';
  private lastStatus = '';
  private timelineKey = '';
  private migration: Migration | undefined;

  constructor(private readonly invite: Invite) {
    this.api = createApi({ token: invite.key });
    this.base = `/migrations/${encodeURIComponent(invite.migrationId)}`;
  }

  start(): void {
    window.addEventListener('beforeunload', (e) => {
      if (this.panel?.unsaved?.()) e.preventDefault();
    });
    // A file dropped beside a drop zone must not navigate away from the page.
    for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
    this.poller = startPolling(() => this.refresh(), POLL_MS);
  }

  private async refresh(): Promise<boolean> {
    let view: MigrationView;
    try {
      view = await this.api<MigrationView>('GET', this.base);
    } catch (err) {
      say(byId('page-notice'), messageOf(err), 'error');
      // A link that does not open this migration will not start to.
      if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
        byId('journey').hidden = true;
        return false;
      }
      return true;
    }
    say(byId('page-notice'), '');
    this.render(view.migration, view.audit ?? []);
    if (this.panel?.settled?.()) {
      // Live with its report shown: nothing moves any more.
      byId('updated').textContent = `Updated ${formatTime(new Date().toISOString())}. Your migration is live; this page no longer refreshes.`;
      return false;
    }
    return true;
  }

  private render(m: Migration, audit: AuditEvent[]): void {
    this.migration = m;
    byId('journey').hidden = false;
    byId('customer-name').textContent = m.customerName || 'Your migration';
    if (m.status !== this.lastStatus) {
      this.lastStatus = m.status;
      const badge = byId('status-line');
      badge.dataset.tone = statusTone(m.status);
      replace(badge, 'Status: ', h('strong', { text: statusText(m.status) }));
    }
    byId('updated').textContent = `Updated ${formatTime(new Date().toISOString())}; this page refreshes by itself.`;
    this.renderSteps(m);
    // Re-drawn when something happened (and every 15 s for the running
    // durations), not on every poll, so a screen reader reading it is not
    // thrown back to its start.
    const timelineKey = `${m.status}:${m.updatedAt}:${audit.length}:${Math.floor(Date.now() / 15000)}`;
    if (timelineKey !== this.timelineKey) {
      this.timelineKey = timelineKey;
      replace(byId('timeline'), renderTimeline(buildTimeline(m, audit)));
    }

    const key = panelKey(m);
    if (key !== this.key) {
      const switched = this.key !== '';
      this.panel?.destroy?.();
      this.key = key;
      this.panel = this.buildPanel(m, audit);
      replace(byId('panel'), this.panel.element);
      // The old panel (and whatever had focus in it) is gone: take focus to
      // the new one's heading, so keyboard and screen reader users follow.
      if (switched) focus(this.panel.element.querySelector<HTMLElement>('h2, h3'));
    } else {
      this.panel?.update?.(m, audit);
    }
  }

  private renderSteps(m: Migration): void {
    let current = STEPS.findIndex((s) => s.statuses.includes(m.status));
    if (m.status === 'failed') current = -1;
    replace(
      byId('steps'),
      STEPS.map((s, i) =>
        h(
          'li',
          { class: i < current || m.status === 'live' ? 'done' : i === current ? 'current' : 'todo', 'aria-current': i === current ? 'step' : undefined },
          h('span', { class: 'step-number', 'aria-hidden': 'true', text: String(i + 1) }),
          h('span', { class: 'step-label', text: s.label }),
          h('span', { class: 'visually-hidden', text: i < current || m.status === 'live' ? ' (done)' : i === current ? ' (current step)' : '' }),
        ),
      ),
    );
  }

  private buildPanel(m: Migration, audit: AuditEvent[]): Panel {
    switch (m.status) {
      case 'created':
      case 'awaiting_revision':
        return this.preparePanel(m, audit);
      case 'submitted':
      case 'mapping':
      case 'test_migrating':
        return simple(
          'The test migration is running',
          h('p', { text: 'Your files are being mapped and loaded into a test environment, where every row is accounted for. This takes a few minutes; the timeline below follows it.' }),
        );
      case 'awaiting_review':
      case 'signoff_expired':
        return this.reviewPanel(m);
      case 'signoff_requested':
      case 'awaiting_signoff':
        return this.signoffPanel(m);
      case 'awaiting_final':
        return this.finalPanel(m);
      case 'scheduled':
      case 'final_held':
      case 'final_migrating':
      case 'final_blocked':
        return this.goLivePanel(m);
      case 'live':
        return this.livePanel(m);
      case 'failed':
        return simple(
          'The migration stopped',
          h('p', { class: 'notice notice-error', text: `It failed${m.failure?.step ? ` in ${m.failure.step}` : ''}: ${m.failure?.reason ?? 'no reason was recorded.'}` }),
          h('p', { text: 'Our team has been alerted and will contact you. Nothing was written to your live system by a step that failed.' }),
        );
      default:
        return simple(statusText(m.status), h('p', { text: 'This page will update when the migration moves on.' }));
    }
  }

  // ------------------------------------------------------------ prepare

  private preparePanel(m: Migration, audit: AuditEvent[]): Panel {
    const round = m.round + 1;
    const revising = m.status === 'awaiting_revision';
    const rejection = [...audit].reverse().find((e) => e.action === 'signoff.rejected');

    const checklist = createChecklist({ api: this.api, migration: m, entities: DEFAULT_ENTITIES, editable: true });
    const uppy = createUploader({ api: this.api, migrationId: m.id, purpose: 'test', onCompleted: () => this.poller?.now() });
    const uploads = createUploadView(uppy, {
      label: 'Choose export files',
      hint: 'Or drag and drop several files here: CSV (any delimiter), XLSX or Rightmove BLM, one per kind of record. Each file starts uploading at once.',
    });
    const received = h('ul', { class: 'file-list', 'aria-label': 'Test extract files received' });
    const mappingBox = h('div', { class: 'mapping-box' }, h('p', { class: 'muted', text: 'The suggested mapping appears here once a file is uploaded.' }));
    const mappingNote = h('p', { class: 'notice notice-info', role: 'status', hidden: true });
    const submitError = h('div', { class: 'notice notice-error', role: 'alert', hidden: true });
    const submitStatus = h('p', { class: 'inline-status', role: 'status' });
    const submit = h('button', { type: 'button', class: 'primary', text: revising ? 'Start the next test migration' : 'Start the test migration' });
    let editor: MappingEditor | undefined;
    let fileSet = '';
    let current = m;

    const roundFiles = (mm: Migration) => (mm.files ?? []).filter((f) => f.purpose === 'test' && f.complete && f.round === round);
    const earlierFiles = (mm: Migration) => (mm.files ?? []).filter((f) => f.purpose === 'test' && f.complete && f.round < round);

    const loadProposal = async () => {
      try {
        const proposal = await this.api<Proposal>('GET', `${this.base}/proposal`);
        editor = createMappingEditor({ proposal, api: this.api, migrationId: m.id, editable: true });
        // How each file is read (encoding, delimiter), editable per file.
        const formats = createFormatControls({ proposal, api: this.api, migrationId: m.id, onSaved: () => void loadProposal() });
        replace(mappingBox, formats, editor.element);
        const left = proposal.refused ?? [];
        say(mappingNote, left.length ? `Left out of the test migration: ${left.map((r) => r.reason).join(' ')}` : '');
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return; // no test file yet
        replace(mappingBox, h('p', { class: 'notice notice-error', role: 'alert', text: messageOf(err, 'The suggested mapping could not be loaded.') }));
      }
    };

    // A file of this round can be removed until the round is submitted
    // (DELETE …/uploads/{fileId}); a refused one is listed with why; an
    // upload a reload or crash left unfinished is offered for resume.
    const removal = {
      api: this.api,
      migrationId: m.id,
      onRemoved: () => this.poller?.now(),
      onError: (message: string) => say(submitError, message, 'error'),
    };
    const removeButton = (f: MigrationFile) => removeFileButton(f, removal);
    const unfinished = createUnfinishedList(removal);
    const refusedFiles = (mm: Migration) => (mm.files ?? []).filter((f) => f.purpose === 'test' && f.refused && f.round === round);

    const update = (mm: Migration) => {
      current = mm;
      unfinished.update(unfinishedUploads(mm, 'test', round), uploads.activeFileIds());
      const files = roundFiles(mm);
      const refused = refusedFiles(mm);
      const earlier = revising && files.length === 0 ? earlierFiles(mm) : [];
      replace(
        received,
        files.length || refused.length
          ? [
              ...files.map((f) => h('li', {}, h('span', { class: 'file-name', text: f.name }), ` ${formatBytes(f.size)} `, removeButton(f))),
              ...refused.map((f) =>
                h('li', { class: 'refused' }, h('span', { class: 'file-name', text: f.name }), h('span', { class: 'notice-error', text: ` Not usable: ${f.refused} ` }), removeButton(f)),
              ),
            ]
          : earlier.length
            ? h('li', { class: 'muted', text: `Nothing new yet: the next round reuses ${earlier.map((f) => f.name).join(', ')}.` })
            : h('li', { class: 'muted', text: 'No file received yet.' }),
      );
      const set = [...files, ...earlier].map((f) => f.id).sort().join(',');
      if (set !== fileSet) {
        fileSet = set;
        if (!set) return;
        if (editor?.dirty()) {
          replace(
            mappingNote,
            'New files arrived. ',
            h('button', {
              type: 'button',
              class: 'link',
              text: 'Show suggestions for them (unsaved mapping changes are dropped)',
              on: { click: () => void loadProposal() },
            }),
          );
          mappingNote.hidden = false;
        } else void loadProposal();
      }
    };

    submit.addEventListener('click', async () => {
      say(submitError, '', 'error');
      const fail = (message: string) => say(submitError, message, 'error');
      if (uploads.busy()) return fail('Wait for every file to finish uploading (or remove the ones you do not need).');
      if (roundFiles(current).length === 0 && earlierFiles(current).length === 0) return fail('Upload your test extract first.');
      submit.disabled = true;
      try {
        if (!(await checklist.saveIfChanged())) return fail('Your counts could not be saved: see the message above them.');
        if (editor?.dirty() && !(await editor.save())) return fail('The mapping could not be saved: correct it (see the message in the mapping) and try again.');
        say(submitStatus, 'Starting the test migration…');
        await this.api('POST', `${this.base}/submit`);
        say(submitStatus, 'Submitted. The test migration is starting.', 'success');
        this.poller?.now();
      } catch (err) {
        say(submitStatus, '');
        fail(messageOf(err, 'The test migration could not be started. Try again.'));
      } finally {
        submit.disabled = false;
      }
    });

    update(m);
    const element = h(
      'div',
      { class: 'panel' },
      revising
        ? h(
            'div',
            { class: 'notice notice-warning', role: 'note' },
            h('p', {}, h('strong', { text: `Your coordinator rejected round ${m.round}.` }), commentOf(rejection?.detail) ? ` Their comment: “${commentOf(rejection?.detail)}”` : ''),
            h('p', { text: 'Revise the mapping or upload corrected files, then start the next test migration. Without new files, the next round reuses the last ones.' }),
          )
        : null,
      stepSection('1', 'Your record counts', checklist.element),
      stepSection('2', 'Upload your test extract', [
        h('p', { text: 'Export your records from your current CRM, one file per kind of record (contacts, properties, …). They go straight to secure storage.' }),
        uploads.element,
        h('h4', { text: 'Files received' }),
        received,
        unfinished.element,
      ]),
      stepSection('3', 'Check the mapping', [
        h('p', { text: 'For each column: a few of its values, the field it goes to in the new system, and how sure the suggestion is. Change any that are wrong, then save.' }),
        mappingNote,
        mappingBox,
      ]),
      stepSection('4', 'Start the test migration', [
        h('p', { text: 'Your records are migrated into a test environment only. You review the result before anything goes live.' }),
        submitError,
        h('div', { class: 'actions' }, submit),
        submitStatus,
      ]),
    );
    return {
      element,
      update: (mm) => update(mm),
      unsaved: () => uploads.busy() || Boolean(editor?.dirty()) || checklist.dirty(),
      destroy: () => destroyUppy(uppy),
    };
  }

  // ------------------------------------------------------------ review

  private reviewPanel(m: Migration): Panel {
    const box = h('div', {}, h('p', { class: 'muted', text: 'Loading the workbook…' }));
    // Until sign-off is requested: change the mapping or the extract, and run the test migration again.
    const revise = createReviseView({ api: this.api, migration: m, onChanged: () => this.poller?.now(), createUploads: (onCompleted) => this.correctedExtractUploads(m, onCompleted) });
    const panel: Panel = { element: h('div', { class: 'panel' }, h('h2', { text: 'Review the test migration' }), box, revise.element), update: (mm) => revise.update(mm), unsaved: () => revise.unsaved(), destroy: () => revise.destroy() };
    const expired = m.status === 'signoff_expired';
    void (async () => {
      try {
        const wb = await this.api<Workbook>('GET', `${this.base}/workbook`);
        const view = createWorkbookView({ api: this.api, migrationId: m.id, workbook: wb, review: this.migration?.review ?? m.review, editable: true, onRequested: () => this.poller?.now() });
        replace(
          box,
          expired
            ? h('p', { class: 'notice notice-warning', role: 'note', text: 'Your coordinator did not decide in time, so the last sign-off request expired. Request sign-off again.' })
            : h('p', { text: 'Check each part of the workbook below. Mark it reviewed, or waive it with a note for your coordinator. Then request sign-off.' }),
          view.element,
          createTestRecordsSection({ api: this.api, migrationId: m.id }).element,
        );
        panel.update = (mm) => {
          view.setReview(mm.review);
          revise.update(mm);
        };
      } catch (err) {
        replace(box, h('p', { class: 'notice notice-error', role: 'alert', text: messageOf(err, 'The workbook could not be loaded. Reload the page.') }));
      }
    })();
    return panel;
  }

  /** The upload area for a corrected test extract during review: the next round's files. */
  private correctedExtractUploads(m: Migration, onCompleted: () => void) {
    const uppy = createUploader({ api: this.api, migrationId: m.id, purpose: 'test', onCompleted });
    const view = createUploadView(uppy, { label: 'Choose corrected export files', hint: 'Or drag and drop them here: they replace this round’s files in the next test migration.' });
    return { element: view.element, busy: () => view.busy(), activeFileIds: () => view.activeFileIds(), destroy: () => destroyUppy(uppy) };
  }

  private signoffPanel(m: Migration): Panel {
    const entities = m.workbook?.entities ?? [];
    const marks = Object.entries(m.review ?? {}).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
    return simple(
      'Waiting for sign-off',
      h('p', {
        text: `Your coordinator${m.coordinatorEmail ? ` (${m.coordinatorEmail})` : ''} has an email with a link to approve or reject round ${m.round}. This page moves on when they decide.`,
      }),
      entities.length
        ? table(
            'What they are asked to approve',
            ['Records', 'Your count', 'Rows', 'Migrated', 'Check'],
            entities.map((e) => [entityLabel(e.entity), e.checklist ?? 'not given', e.rows, e.migrated, reconWord(e.status)]),
            { rowHeader: true, numeric: [1, 2, 3] },
          )
        : null,
      marks.length
        ? h('details', {}, h('summary', { text: 'Your review marks' }), h('ul', {}, marks.map(([k, v]) => h('li', { text: `${sectionLabel(k)}: ${v.state}${v.note ? ` (“${v.note}”)` : ''}` }))))
        : null,
    );
  }

  // ------------------------------------------------------------ final

  private finalPanel(m: Migration): Panel {
    const uppy = createUploader({ api: this.api, migrationId: m.id, purpose: 'final', onCompleted: () => this.poller?.now() });
    const uploads = createUploadView(uppy, {
      label: 'Choose final extract files',
      hint: 'Or drag and drop them here: the same kinds of files as the test extract, exported again.',
    });
    const view = createFinalView({ api: this.api, migration: m, uploads, onScheduled: () => this.poller?.now(), onRemoved: () => this.poller?.now() });
    return {
      element: h(
        'div',
        { class: 'panel' },
        h('h2', { text: 'Final extract and go-live' }),
        h('p', { class: 'notice notice-success', role: 'note', text: `Round ${m.round} was signed off${m.signOff?.comment ? `: “${m.signOff.comment}”` : '.'}` }),
        view.element,
      ),
      update: (mm) => view.update(mm),
      unsaved: () => uploads.busy(),
      destroy: () => destroyUppy(uppy),
    };
  }

  private goLivePanel(m: Migration): Panel {
    const title = h('h2');
    const when = h('p', { class: 'go-live-time' });
    const blocked = h('p', {
      class: 'notice notice-warning',
      role: 'note',
      text: 'Part of the final migration failed and our team is running it again. Nothing needs doing on your side; records already migrated stay as they are.',
    });
    const update = (mm: Migration) => {
      title.textContent = goLiveTitle(mm);
      when.textContent = goLiveLine(mm);
      blocked.hidden = mm.status !== 'final_blocked';
      preflight.update(mm);
    };
    const preflight = createPreflightView({ api: this.api, migration: m, onWithdrawn: () => this.poller?.now() });
    update(m);
    return {
      element: h('div', { class: 'panel' }, title, when, blocked, preflight.element, h('p', { class: 'notice notice-warning', role: 'note', text: CUTOFF_NOTICE })),
      update,
    };
  }

  private livePanel(m: Migration): Panel {
    const box = h('div', { class: 'report-box' }, h('p', { class: 'muted', text: 'Loading the final report…' }));
    const load = async () => {
      try {
        const report = await this.api<FinalReport>('GET', `${this.base}/final-report`);
        replace(box, renderFinalReport(report));
        return true;
      } catch (err) {
        replace(box, h('p', { class: 'notice notice-error', role: 'alert', text: messageOf(err, 'The final report could not be loaded. Reload the page.') }));
        return false;
      }
    };
    let loaded = false;
    void load().then((ok) => (loaded = ok));
    return {
      element: h(
        'div',
        { class: 'panel' },
        h('h2', { text: 'Your migration is live' }),
        facts([
          ['Went live', formatDateTime(m.wentLiveAt)],
          ['Rows migrated', String(m.final?.migrated ?? '—')],
        ]),
        h('h3', { text: 'Final report' }),
        box,
      ),
      update: () => {
        if (!loaded) void load().then((ok) => (loaded = ok));
      },
      settled: () => loaded && m.status === 'live',
    };
  }
}

function stepSection(n: string, title: string, body: HTMLElement | HTMLElement[]): HTMLElement {
  const id = `step-${n}-heading`;
  return h('section', { class: 'step', 'aria-labelledby': id }, h('h3', { id }, h('span', { class: 'step-badge', 'aria-hidden': 'true', text: n }), title), body);
}

function simple(title: string, ...body: Array<HTMLElement | null>): Panel {
  return { element: h('div', { class: 'panel' }, h('h2', { text: title }), body) };
}

function destroyUppy(uppy: CutoverUppy): void {
  try {
    uppy.destroy();
  } catch {
    // already gone
  }
}

function hasInvite(hash: string): boolean {
  const { m, k } = parseFragment(hash);
  return Boolean(m && k);
}

function main(): void {
  wireSkipLinks();
  const invite = readInvite(location.hash, window.sessionStorage);
  // The key is kept in sessionStorage: keep it out of the address bar and history.
  if (hasInvite(location.hash)) history.replaceState(null, '', location.pathname + location.search);
  // Opening another invite link in this tab changes only the fragment: start
  // afresh. Any other fragment (an in-page link) is not an invite: ignore it.
  window.addEventListener('hashchange', () => {
    if (hasInvite(location.hash)) location.reload();
  });
  if (!invite) {
    say(byId('page-notice'), 'This page needs the invite link from your email. Open that link to start.', 'error');
    return;
  }
  try {
    new CustomerPage(invite).start();
  } catch (err) {
    say(byId('page-notice'), messageOf(err), 'error');
  }
}

main();
