import { authorityOf, type StoredMessage } from './api.ts';

export interface Thread {
  key: string;
  subject: string;
  requestId: string | null;
  /** Newest first. */
  messages: StoredMessage[];
  latest: StoredMessage;
  unread: number;
  counterparts: string[];
  /** Lower-cased subject and counterparts, for the search box. */
  haystack: string;
}

const when = (m: StoredMessage): string => m.receivedAt ?? m.sentAt ?? '';

/** "Re: Fwd: Subject" and "subject" are one thread. */
export function subjectKey(subject: string): string {
  return subject
    .replace(/^(\s*(re|fwd?|tr|rv|res|ответ|回复|رد)\s*:\s*)+/i, '')
    .trim()
    .toLowerCase();
}

/** Groups messages by request when they belong to one, else by subject; newest thread first. */
export function threadsOf(
  messages: readonly StoredMessage[],
  counterpartOf: (m: StoredMessage) => string[],
): Thread[] {
  const byKey = new Map<string, StoredMessage[]>();
  for (const m of messages) {
    const key = m.requestId ? `r:${m.requestId}` : `s:${subjectKey(m.subject ?? '')}`;
    const list = byKey.get(key);
    if (list) list.push(m);
    else byKey.set(key, [m]);
  }
  const threads: Thread[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => (when(a) < when(b) ? 1 : when(a) > when(b) ? -1 : 0));
    const latest = list[0]!;
    const counterparts = [...new Set(list.flatMap(counterpartOf))];
    const oldest = list[list.length - 1]!;
    threads.push({
      key,
      subject: oldest.subject || latest.subject || '',
      requestId: latest.requestId ?? null,
      messages: list,
      latest,
      unread: list.filter((m) => m.direction === 'in' && !m.readAt).length,
      counterparts,
      haystack: `${list.map((m) => m.subject).join('\n')}\n${counterparts.join('\n')}`.toLowerCase(),
    });
  }
  threads.sort((a, b) => (when(a.latest) < when(b.latest) ? 1 : when(a.latest) > when(b.latest) ? -1 : 0));
  return threads;
}

export const senderAuthority = (m: StoredMessage): string[] => (m.sender ? [authorityOf(m.sender)] : []);
export const recipientAuthorities = (m: StoredMessage): string[] => (m.recipients ?? []).map(authorityOf);
