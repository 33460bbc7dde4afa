// signoff.html: the coordinator's page. The emailed link is
// signoff.html#t=<linkToken>. Loading only reads (GET /api/signoff); the
// decision is a POST made by pressing Approve or Reject, so a mail scanner
// that opens the link decides nothing.

import { createApi, messageOf, type ApiRequest } from '../lib/api';
import { byId, wireSkipLinks } from '../lib/dom';
import { parseFragment } from '../lib/links';
import type { SignOffView } from '../lib/types';
import { outcomeFor, renderSignOff, showOutcome, type Roots } from './view';

async function main(): Promise<void> {
  wireSkipLinks();
  // Another sign-off link opened in this tab: start afresh. Any other
  // fragment (an in-page link) is not a sign-off link: ignore it.
  window.addEventListener('hashchange', () => {
    if (parseFragment(location.hash).t) location.reload();
  });
  const roots: Roots = { loading: byId('loading'), content: byId('content') };
  const token = parseFragment(location.hash).t;
  if (!token) return showOutcome(roots, 'missing');
  let api: ApiRequest;
  try {
    api = createApi({ token });
  } catch (err) {
    return showOutcome(roots, 'error', messageOf(err));
  }
  try {
    renderSignOff(roots, api, await api<SignOffView>('GET', '/signoff'));
  } catch (err) {
    showOutcome(roots, outcomeFor(err), messageOf(err));
  }
}

void main();
