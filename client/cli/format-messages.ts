/**
 * How messages are printed by inbox, sent and read, whether the CLI opened the node itself or asked
 * its service: pure functions of the views (client/service/desk.ts), with nothing heavy to load.
 */
import type { DocumentView } from '../service/desk-documents.ts';
import { authorityOfNode } from '../../shared/addresses.ts';
import type { ReceiveOutcome } from '../node.ts';
import type { InboxView, ListedMessage } from '../service/desk.ts';
import type { StoredMessage } from '../store/node-store.ts';
import { marked } from './fast-confirm.ts';
import { out, shortTime } from './fast-io.ts';

/** How an item is titled in lists: plain messages by their subject, the rest by their kind too. */
function itemTitle(m: ListedMessage): string {
  const onRequest = m.requestId ? ` (request ${m.requestId.slice(0, 13)})` : '';
  if (m.kind === 'message') return `${m.subject}${onRequest}`;
  return `[${m.kind}] ${m.subject}${m.kind === 'request' ? '' : onRequest}`;
}

/** One item in a list; with `verified`, counterparts whose safety code was never verified are marked. */
export function listLine(m: ListedMessage, verified?: ReadonlySet<string>): string {
  const mark = (a: string) => (verified ? marked(a, verified) : a);
  const who = m.direction === 'in' ? mark(m.sender) : m.recipients.map(mark).join(', ');
  const flag = m.direction === 'in' ? (m.readAt ? ' ' : '*') : m.acceptedAt ? ' ' : '!';
  // Waiting in the node's outbox: the relay has not accepted it yet (it goes out by itself).
  const queued = m.direction === 'out' && !m.acceptedAt ? '  (queued)' : '';
  return `${flag} ${m.id}  ${shortTime(m.direction === 'in' ? (m.receivedAt ?? null) : m.sentAt)}  ${who}  ${itemTitle(m)}${queued}`;
}

export function outcomeLine(o: ReceiveOutcome): string {
  if (o.kind === 'message')
    return `${shortTime(o.message.receivedAt)}  ${o.message.id}  from ${o.message.sender}: ${itemTitle(o.message)}`;
  if (o.kind === 'receipts') return `${o.count} receipt(s) in ${o.envelopeId}`;
  return `REJECTED ${o.rejection.envelopeId} from ${o.rejection.sender}: ${o.rejection.reason} [${o.rejection.code}]`;
}

/** `entraide inbox`: rejections on stderr, then the count and one line per item. */
export function printInbox(v: InboxView): void {
  for (const rejection of v.rejected)
    process.stderr.write(outcomeLine({ kind: 'rejected', rejection }) + '\n');
  out(`${v.fetched} new; ${v.messages.length} in the inbox (* = unread)`);
  const unverified = new Set(v.unverified);
  const verified = new Set(
    v.messages.map((m) => authorityOfNode(m.sender)).filter((a) => !unverified.has(a)),
  );
  for (const m of v.messages) out(listLine(m, verified));
}

/** `entraide read`: the headers, a blank line, the text. */
export function printMessage(m: StoredMessage & { documents?: DocumentView[] }): void {
  out(`Id:       ${m.id}`);
  out(`From:     ${m.sender}`);
  out(`To:       ${m.recipients.join(', ')}`);
  out(`Sent:     ${shortTime(m.sentAt)}`);
  if (m.receivedAt) out(`Received: ${shortTime(m.receivedAt)}`);
  if (m.language) out(`Language: ${m.language}`);
  out(`Subject:  ${m.subject}`);
  out('');
  out(m.body);
  if (m.documents?.length) {
    out('');
    out('Documents:');
    for (const d of m.documents) {
      const lang = d.language ? ` ${d.language}` : '';
      out(`  ${d.name}  ${d.size} bytes  ${d.role}${lang}  ${d.state}${d.error ? ` (${d.error})` : ''}`);
      for (const by of d.downloadedBy ?? [])
        out(`    downloaded and verified by ${by.node}  ${shortTime(by.at)}`);
    }
    out(`  (entraide download ${m.id.slice(0, 8)} --out DIR writes them, verified)`);
  }
}
