/**
 * Server-sent events to the web app's open pages: the relay connection's state, and what changed
 * (so that a page refreshes what it shows without reloading). Events name kinds and ids only,
 * never content: a page asks the API for what it shows. A page's stream ends when its session
 * ends (lock or idle), with a `locked` event first.
 */
import type { ServerResponse } from 'node:http';
import type { ChangeKind } from './route-context.ts';

/** A comment line keeps proxies and the browser from timing the stream out. */
const KEEPALIVE_MS = 25_000;
/** Open pages per service: more than any office keeps open; past it the oldest stream ends. */
const MAX_STREAMS = 64;

interface Stream {
  session: string;
  out: ServerResponse;
}

export class LiveEvents {
  private readonly streams = new Set<Stream>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.write(':\n\n'), KEEPALIVE_MS);
    this.timer.unref();
  }

  /** Starts a stream on `out` for a page of `session`, with the connection state first. */
  open(session: string, out: ServerResponse, connected: boolean): void {
    if (this.streams.size >= MAX_STREAMS) {
      const oldest = this.streams.values().next().value;
      if (oldest) this.drop(oldest);
    }
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    const stream = { session, out };
    this.streams.add(stream);
    out.on('close', () => this.streams.delete(stream));
    out.write(`retry: 2000\nevent: connection\ndata: ${JSON.stringify({ connected })}\n\n`);
  }

  connection(connected: boolean): void {
    this.send('connection', { connected });
  }

  changed(what: ChangeKind, id?: string): void {
    this.send('changed', id === undefined ? { what } : { what, id });
  }

  /** Ends the streams of a session that ended, telling its pages to show the unlock page. */
  locked(session: string): void {
    for (const s of this.streams) {
      if (s.session !== session) continue;
      s.out.write('event: locked\ndata: {}\n\n');
      this.drop(s);
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.streams) this.drop(s);
  }

  get size(): number {
    return this.streams.size;
  }

  private send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    for (const s of this.streams) s.out.write(text);
  }

  private drop(s: Stream): void {
    this.streams.delete(s);
    s.out.end();
  }
}
