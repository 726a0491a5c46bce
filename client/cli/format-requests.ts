/**
 * How requests are printed in lists (`entraide request list`, reminders), whether the CLI opened
 * the node itself or asked its service: pure functions of the views, with nothing heavy to load.
 */
import type { RequestSummary } from '../requests.ts';
import { marked } from './fast-confirm.ts';
import { out } from './fast-io.ts';

const FLAG_TEXT: Record<string, string> = {
  overdue: 'OVERDUE',
  due_soon: 'due soon',
  undelivered: 'not delivered',
  unacknowledged: 'not acknowledged',
};

/** A request's flags in brackets after two spaces, or nothing when it has none. */
export function flagsText(flags: readonly string[]): string {
  return flags.length ? `  [${flags.map((f) => FLAG_TEXT[f]).join(', ')}]` : '';
}

/** One request in a list; with `verified`, a counterpart whose safety code was never verified is marked. */
export function requestLine(r: RequestSummary, verified?: ReadonlySet<string>): string {
  const who = verified ? marked(r.counterpart, verified) : r.counterpart;
  const arrow = r.direction === 'out' ? `→ ${who}` : `← ${who}`;
  const due = r.deadline ? `  due ${r.deadline}` : '';
  return `${r.id}  ${r.state.padEnd(25)} ${r.requestType.padEnd(28)} ${arrow}  ${r.references.requesting}  ${r.title}${due}${flagsText(r.flags)}`;
}

/** `entraide request list` without --json: one line per request, unverified counterparts marked. */
export function printRequestList(v: { requests: RequestSummary[]; unverified: string[] }): void {
  if (v.requests.length === 0) out('no requests');
  const unverified = new Set(v.unverified);
  const verified = new Set(v.requests.map((r) => r.counterpart).filter((a) => !unverified.has(a)));
  for (const r of v.requests) out(requestLine(r, verified));
}
