// URL fragments: the customer's invite (#m=<id>&k=<key>), the coordinator's
// link (#t=<token>) and the ops token (#token=<jwt>). Fragments never reach
// a server log; what a page needs across reloads is kept in sessionStorage.

export function parseFragment(hash: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(hash.replace(/^#/, '')));
}

export interface Invite {
  migrationId: string;
  key: string;
}

type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const INVITE_KEY = 'cutover.invite';
const OPS_KEY = 'cutover.opsToken';

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback; // storage may be unavailable (private mode, disabled)
  }
}

/** The invite from a complete fragment (remembered for reloads), else the remembered one, else null. */
export function readInvite(hash: string, storage: StorageLike | undefined): Invite | null {
  const { m, k } = parseFragment(hash);
  if (m && k) {
    const invite = { migrationId: m, key: k };
    safe(() => storage?.setItem(INVITE_KEY, JSON.stringify(invite)), undefined);
    return invite;
  }
  const saved: unknown = safe(() => JSON.parse(storage?.getItem(INVITE_KEY) ?? 'null'), null);
  if (saved && typeof saved === 'object') {
    const { migrationId, key } = saved as Record<string, unknown>;
    if (typeof migrationId === 'string' && migrationId && typeof key === 'string' && key) return { migrationId, key };
  }
  return null;
}

/** The ops token from `#token=` (remembered, and removed from the address bar), else the remembered one. */
export function readOpsToken(hash: string, storage: StorageLike | undefined): string {
  const { token } = parseFragment(hash);
  if (token) {
    safe(() => storage?.setItem(OPS_KEY, token), undefined);
    return token;
  }
  return safe(() => storage?.getItem(OPS_KEY) ?? '', '');
}

export function rememberOpsToken(token: string, storage: StorageLike | undefined): void {
  safe(() => (token ? storage?.setItem(OPS_KEY, token) : storage?.removeItem(OPS_KEY)), undefined);
}

/**
 * A server-given URL fit for an `href`: `https:`; `http:` on this page's own
 * origin, or anywhere when the page itself is plain `http:` (the local
 * stack, whose storage is plain HTTP on another port). Anything else
 * (`javascript:`, `data:`, `http:` from an `https:` page, garbage) gives ''
 * so no link is made.
 */
export function safeHref(url: string | null | undefined, base: string = location.href): string {
  if (typeof url !== 'string' || !url.trim()) return '';
  let parsed: URL;
  let page: URL;
  try {
    parsed = new URL(url, base);
    page = new URL(base);
  } catch {
    return '';
  }
  if (parsed.protocol === 'https:') return parsed.href;
  if (parsed.protocol === 'http:' && (parsed.origin === page.origin || page.protocol === 'http:')) return parsed.href;
  return '';
}
