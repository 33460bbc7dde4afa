import { h } from './dom';
import { formatDateTime, formatDuration, formatTime } from './format';
import type { Phase, PhaseState } from './timeline';

const STATE_WORDS: Record<PhaseState, string> = {
  done: 'Done',
  current: 'In progress',
  waiting: 'Waiting',
  failed: 'Failed',
  blocked: 'Paused: being retried',
  pending: 'Not started',
};

const ACTOR_WAIT: Record<Phase['actor'], string> = {
  you: 'Waiting for you',
  coordinator: 'Waiting for your coordinator',
  service: 'In progress',
};

function stateWord(p: Phase, audience: 'customer' | 'ops'): string {
  if (p.state === 'waiting') return audience === 'customer' ? ACTOR_WAIT[p.actor] : `Waiting for the ${p.actor === 'you' ? 'customer' : p.actor}`;
  return STATE_WORDS[p.state];
}

/** The timeline as an ordered list: each phase with its state in words, start, duration and notes. */
export function renderTimeline(phases: Phase[], audience: 'customer' | 'ops' = 'customer'): HTMLElement {
  return h(
    'ol',
    { class: 'timeline' },
    phases.map((p) =>
      h(
        'li',
        { class: `phase phase-${p.state}`, 'aria-current': p.state === 'current' || p.state === 'waiting' ? 'step' : undefined },
        h('span', { class: 'phase-marker', 'aria-hidden': 'true' }),
        h(
          'div',
          { class: 'phase-body' },
          h('p', { class: 'phase-title' }, h('strong', { text: p.label }), ' ', h('span', { class: `phase-state state-${p.state}`, text: stateWord(p, audience) })),
          p.startedAt
            ? h(
                'p',
                { class: 'phase-times' },
                h('time', { datetime: p.startedAt, title: formatDateTime(p.startedAt), text: `Started ${formatTime(p.startedAt)}` }),
                p.durationMs !== undefined ? ` · ${p.state === 'done' ? 'took' : 'for'} ${formatDuration(p.durationMs)}` : '',
              )
            : null,
          p.notes.length
            ? h(
                'ul',
                { class: 'phase-notes' },
                p.notes.map((n) => h('li', { class: n.problem ? 'problem' : undefined }, n.problem ? h('span', { class: 'visually-hidden', text: 'Problem: ' }) : null, n.text)),
              )
            : null,
        ),
      ),
    ),
  );
}
