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
  /** Lower-cased subjects and counterparts, for the search box (made on the first search). */
  readonly haystack: string;
}

const when = (m: StoredMessage): string => m.receivedAt ?? m.sentAt ?? '';

const PREFIXES = /^(\s*(re|fwd?|tr|rv|res|ответ|回复|رد)\s*:\s*)+/i;

/** "Re: Fwd: Subject" and "subject" are one thread. */
export function subjectKey(subject: string): string {
  // Most subjects carry no prefix: the pattern runs only where a colon could end one.
  const bare = subject.includes(':') ? subject.replace(PREFIXES, '') : subject;
  return bare.trim().toLowerCase();
}

/**
 * Groups messages by request when they belong to one, else by subject; newest thread first.
 * Runs on every listing of up to 10,000 items (bench/web.ts): each item's time is read once, and
 * the common thread of one message takes no sorting or set.
 */
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
  const threads: { thread: Thread; at: string }[] = [];
  for (const [key, list] of byKey) {
    if (list.length > 1) {
      const at = new Map(list.map((m) => [m, when(m)]));
      list.sort((a, b) => {
        const x = at.get(a)!;
        const y = at.get(b)!;
        return x < y ? 1 : x > y ? -1 : 0;
      });
    }
    const latest = list[0]!;
    const oldest = list[list.length - 1]!;
    const counterparts =
      list.length === 1 ? counterpartOf(latest) : [...new Set(list.flatMap(counterpartOf))];
    let unread = 0;
    for (const m of list) if (m.direction === 'in' && !m.readAt) unread++;
    let haystack: string | undefined;
    threads.push({
      thread: {
        key,
        subject: oldest.subject || latest.subject || '',
        requestId: latest.requestId ?? null,
        messages: list,
        latest,
        unread,
        counterparts,
        get haystack() {
          const subjects = list.map((m) => m.subject ?? '').join('\n');
          return (haystack ??= `${subjects}\n${counterparts.join('\n')}`.toLowerCase());
        },
      },
      at: when(latest),
    });
  }
  threads.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return threads.map((t) => t.thread);
}

export const senderAuthority = (m: StoredMessage): string[] => (m.sender ? [authorityOf(m.sender)] : []);
export const recipientAuthorities = (m: StoredMessage): string[] => (m.recipients ?? []).map(authorityOf);
