// Small DOM helpers. Server data only ever becomes text: nothing here parses HTML.

export type Child = Node | string | number | null | undefined | false | Child[];

type Handler<K extends keyof HTMLElementEventMap> = (ev: HTMLElementEventMap[K]) => void;

export interface Props {
  text?: string | number;
  class?: string;
  on?: { [K in keyof HTMLElementEventMap]?: Handler<K> };
  /** Properties rather than attributes (form state). */
  value?: string;
  checked?: boolean;
  disabled?: boolean;
  hidden?: boolean;
  selected?: boolean;
  [attr: string]: unknown;
}

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'selected']);

/** Creates an element with attributes, properties, listeners and children (strings become text). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name === 'on') {
      for (const [type, fn] of Object.entries(value as Record<string, EventListener>)) node.addEventListener(type, fn);
    } else if (PROPERTIES.has(name)) (node as unknown as Record<string, unknown>)[name] = value;
    else if (value === false) continue;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(node: Element, ...children: Child[]): void {
  node.replaceChildren();
  append(node, children);
}

/** The element with that id, typed; throws (a page bug) when it is missing. */
export function byId<T extends HTMLElement = HTMLElement>(id: string, root: Document | ShadowRoot = document): T {
  const el = root.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

let counter = 0;
/** A page-unique id for label/aria wiring. */
export function uid(prefix = 'id'): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

export type NoticeKind = 'error' | 'info' | 'success' | 'warning';

/** A notice element: role=alert for errors, role=status otherwise. */
export function notice(message: string, kind: NoticeKind = 'info'): HTMLElement {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', text: message });
}

/**
 * Sets a persistent live region's text. An unchanged message is left alone
 * so screen readers do not repeat it on every poll.
 */
export function say(region: HTMLElement | null, message: string, kind: NoticeKind = 'info'): void {
  if (!region) return;
  if (region.textContent === message && region.dataset.kind === kind) return;
  region.textContent = message;
  region.dataset.kind = kind;
  region.hidden = message === '';
}

/** A scrollable table with a caption, column headings and rows of cells (the first may be a row header). */
export function table(caption: string, headings: string[], rows: Child[][], { rowHeader = false, numeric = [] as number[] } = {}): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h(
      'table',
      {},
      h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, headings.map((t, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : undefined, text: t })))),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((c, i) =>
              rowHeader && i === 0 ? h('th', { scope: 'row' }, c) : h('td', { class: numeric.includes(i) ? 'num' : undefined }, c),
            ),
          ),
        ),
      ),
    ),
  );
}

/** A `<dl>` of [term, value] pairs. */
export function facts(pairs: Array<[string, Child]>): HTMLElement {
  return h('dl', { class: 'facts' }, pairs.map(([t, v]) => [h('dt', { text: t }), h('dd', {}, v)]));
}

/** Moves focus to an element (making it focusable if it is not) without scrolling past it. */
export function focus(el: HTMLElement | null): void {
  if (!el) return;
  if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) el.tabIndex = -1;
  el.focus();
}

/**
 * Makes each skip link (`a.skip-link[href^="#"]`) move focus to its target
 * without touching the address bar: the pages read their fragment (invite,
 * sign-off link, ops token), so a `#main` there would be taken for one.
 */
export function wireSkipLinks(root: Document = document): void {
  for (const link of root.querySelectorAll<HTMLAnchorElement>('a.skip-link[href^="#"]')) {
    link.addEventListener('click', (e) => {
      const target = root.getElementById((link.getAttribute('href') ?? '').slice(1));
      if (!target) return;
      e.preventDefault();
      if (!target.hasAttribute('tabindex')) target.tabIndex = -1;
      target.focus();
      target.scrollIntoView?.();
    });
  }
}
