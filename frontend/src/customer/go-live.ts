// The go-live panel's title and time line, by status. A held go-live has
// not started: saying "Go-live started" (with a time still ahead) would tell
// the customer something was written to live when nothing was.

import { formatDateTime, formatDuration } from '../lib/format';
import type { Migration } from '../lib/types';

/** The go-live panel's heading for the migration's status. */
export function goLiveTitle(m: Pick<Migration, 'status'>): string {
  if (m.status === 'scheduled') return 'Final migration scheduled';
  if (m.status === 'final_held') return 'Go-live is on hold';
  return 'The final migration is running';
}

/** The go-live panel's line about when: ahead, on hold, or started. */
export function goLiveLine(m: Pick<Migration, 'status' | 'goLiveAt'>, now: Date = new Date()): string {
  const left = m.goLiveAt ? Date.parse(m.goLiveAt) - now.getTime() : NaN;
  if (m.status === 'scheduled') return `Go-live: ${formatDateTime(m.goLiveAt)}${left > 0 ? ` (in ${formatDuration(left)})` : ' (starting now)'}.`;
  if (m.status === 'final_held') return `Go-live was set for ${formatDateTime(m.goLiveAt)}. It waits until the differences below are approved or the extract is corrected.`;
  return `Go-live started ${formatDateTime(m.goLiveAt)}.`;
}
