/** Meeting views for the service's routes (routes-meetings.ts). */
import type { MeetingView } from '../meeting-records.ts';
import type { AuthorityNode } from '../node.ts';

/**
 * The meetings this authority organizes or is invited to (`meeting list`): those not over yet and
 * not cancelled first, soonest first; then the rest, latest first.
 */
export function meetingsView(
  node: AuthorityNode,
  opts: { upcoming?: boolean | undefined; tz?: string | undefined },
  now = Date.now(),
): (MeetingView & { upcoming: boolean })[] {
  const all = node.meetings.list({ upcoming: opts.upcoming ?? false, ...(opts.tz ? { tz: opts.tz } : {}) });
  const marked = all.map((m) => ({ ...m, upcoming: !m.cancelled && Date.parse(m.endUtc) > now }));
  const ahead = marked.filter((m) => m.upcoming).sort((a, b) => a.startUtc.localeCompare(b.startUtc));
  const rest = marked.filter((m) => !m.upcoming).sort((a, b) => b.startUtc.localeCompare(a.startUtc));
  return [...ahead, ...rest];
}

/** A file name for a meeting's calendar file: its id only (no title text in a header). */
export function icsFileName(uid: string): string {
  return `meeting-${uid.replace(/[^A-Za-z0-9-]/g, '')}.ics`;
}
