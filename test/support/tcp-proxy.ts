/**
 * A TCP proxy on 127.0.0.1 for fault tests: it stands between a relay and its peer (the relay's
 * peer URL points at the proxy) and breaks the link on demand.
 *
 * - pass (the default, and after `restore()`): bytes go through unchanged;
 * - `cut()`: every open connection is reset, new ones are reset as soon as they are accepted;
 * - `blackhole()`: connections are accepted, or stay open, but nothing goes through in either
 *   direction and nothing is answered: the client hangs until its own timeout;
 * - `delay(ms)`: every chunk, in both directions, is held `ms` before it goes on (order kept);
 * - `throttle(bytesPerSecond)`: each connection, in each direction, carries at most that much (a
 *   congested link: small requests pass, large ones take long).
 *
 * `restore()` lifts every fault. It resets the connections that were blackholed (bytes were
 * dropped, so they cannot be resumed: a client would otherwise read a corrupt stream).
 *
 * Known difference from a direct connection: when the target answers early and closes while the
 * client is still sending (an HTTP 413 for a body over the limit), Node destroys the proxy's
 * socket to the target on the failed write before reading that answer, so the client sees the
 * connection close instead of the answer.
 *
 * Bounded: at most `maxConnections` at once (more are reset), and a delayed direction stops reading
 * while more than `maxBufferedBytes` wait. `close()` resets everything and stops listening.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'cut' | 'blackhole';

export interface ProxyStats {
  /** Connections accepted since the start (including those reset or blackholed at once). */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Bytes forwarded, both directions. */
  forwarded: number;
  /** Bytes dropped by a blackhole. */
  dropped: number;
}

export interface TcpProxy {
  readonly url: string;
  readonly port: number;
  readonly mode: ProxyMode;
  readonly delayMs: number;
  stats(): ProxyStats;
  cut(): void;
  blackhole(): void;
  delay(ms: number): void;
  throttle(bytesPerSecond: number): void;
  restore(): void;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Port to listen on (0: any free port). */
  port?: number;
  maxConnections?: number;
  maxBufferedBytes?: number;
}

interface Connection {
  client: Socket;
  upstream: Socket | null;
  /** Set when the connection lived through a blackhole: it is never trusted again. */
  blackholed: boolean;
  /** When what is held for the client (delay, throttle) will have gone out. */
  clientDue: () => number;
}

/** Starts a proxy to `target` (host 127.0.0.1) and resolves once it listens. */
export async function startTcpProxy(target: { port: number }, opts: ProxyOptions = {}): Promise<TcpProxy> {
  const maxConnections = opts.maxConnections ?? 256;
  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535)
    throw new RangeError(`target port must be 1–65535, not ${target.port}`);
  if (!Number.isInteger(maxConnections) || maxConnections < 1)
    throw new RangeError('maxConnections must be a positive whole number');

  let mode: ProxyMode = 'pass';
  let delayMs = 0;
  let rate = 0; // bytes per second per connection and direction; 0: no limit
  let closed = false;
  const stats: ProxyStats = { accepted: 0, open: 0, forwarded: 0, dropped: 0 };
  const connections = new Set<Connection>();

  const reset = (s: Socket | null) => {
    if (s && !s.destroyed) s.resetAndDestroy();
  };
  const forget = (c: Connection) => {
    connections.delete(c);
    stats.open = connections.size;
  };
  /** Resets both sides: what a cut, a reset from either end, or the end of a blackhole does. */
  const drop = (c: Connection) => {
    forget(c);
    reset(c.client);
    reset(c.upstream);
  };
  /**
   * One side closed. An orderly close was passed on already as an end of stream (see `forward`).
   * A reset from the target is passed on once what it sent before has reached the client, as a
   * TCP reset would (a peer's "413, and goodbye" must arrive; the client then sees the connection
   * close). A reset from the client resets the target at once. A blackholed connection passes
   * nothing on; its client is reset when it goes away.
   */
  const sideClosed = (c: Connection, side: Socket, hadError: boolean) => {
    if (side === c.client) {
      if (hadError || c.blackholed || !c.upstream) return drop(c);
      if (c.upstream.destroyed) forget(c);
      else c.upstream.once('close', () => forget(c));
      return;
    }
    if (c.blackholed) return;
    if (!hadError) {
      if (c.client.destroyed) forget(c);
      else c.client.once('close', () => forget(c));
      return;
    }
    setTimeout(
      () => {
        if (!c.client.destroyed && !c.client.writableEnded) c.client.end();
        c.client.once('close', () => forget(c));
      },
      Math.max(0, c.clientDue() - Date.now()),
    );
  };

  /**
   * Moves bytes from `from` to `to`, obeying the proxy's mode at the moment each chunk arrives. Held
   * chunks (delay, throttle) wait in one queue per direction, drained in order by one timer: timers
   * of their own could fire out of order (they count from the event loop's cached clock, not from
   * the moment each was set), and a reordered stream is corrupt, not slow.
   */
  const forward = (c: Connection, from: Socket, to: Socket): (() => number) => {
    let waiting = 0; // bytes held in the queue
    let lastDue = 0; // so that a shorter delay never overtakes a longer one
    let free = 0; // when a throttled direction has sent what it holds
    let full = false; // `to` asked us to wait for 'drain'
    const queue: { chunk: Buffer | null; due: number }[] = []; // null: the end of the stream
    let timer: NodeJS.Timeout | undefined;
    const resumeIfFree = () => {
      if (!full && waiting <= maxBuffered && from.isPaused() && !from.destroyed) from.resume();
    };
    const write = (chunk: Buffer) => {
      if (to.destroyed || to.writableEnded || c.blackholed) return;
      stats.forwarded += chunk.length;
      if (!to.write(chunk) && !full) {
        full = true;
        from.pause();
        to.once('drain', () => {
          full = false;
          resumeIfFree();
        });
      }
    };
    const pump = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.due <= Date.now()) {
        const { chunk } = queue.shift()!;
        if (chunk === null) {
          if (!to.destroyed && !to.writableEnded) to.end();
          continue;
        }
        waiting -= chunk.length;
        write(chunk);
      }
      if (queue.length > 0) timer = setTimeout(pump, Math.max(1, queue[0]!.due - Date.now()));
      resumeIfFree();
    };
    const hold = (chunk: Buffer | null, due: number) => {
      queue.push({ chunk, due });
      if (!timer) timer = setTimeout(pump, Math.max(0, queue[0]!.due - Date.now()));
    };
    from.on('data', (chunk: Buffer) => {
      if (c.blackholed || mode === 'blackhole') {
        c.blackholed = true;
        stats.dropped += chunk.length;
        return;
      }
      if (delayMs === 0 && rate === 0 && queue.length === 0) return write(chunk);
      const now = Date.now();
      if (rate > 0) free = Math.max(now, free) + (chunk.length * 1000) / rate;
      const due = Math.max((rate > 0 ? free : now) + delayMs, lastDue);
      lastDue = due;
      waiting += chunk.length;
      if (waiting > maxBuffered) from.pause();
      hold(chunk, due);
    });
    from.on('end', () => {
      if (c.blackholed) return; // a blackhole answers nothing, not even a close
      const due = Math.max(Date.now() + delayMs, lastDue);
      if (queue.length === 0 && due <= Date.now()) {
        if (!to.destroyed && !to.writableEnded) to.end();
        return;
      }
      hold(null, due);
    });
    return () => lastDue;
  };

  const server: Server = createServer((client) => {
    stats.accepted++;
    client.on('error', () => undefined);
    if (closed || mode === 'cut' || connections.size >= maxConnections) return reset(client);
    const c: Connection = { client, upstream: null, blackholed: false, clientDue: () => 0 };
    connections.add(c);
    stats.open = connections.size;
    client.on('close', (hadError) => sideClosed(c, client, hadError));
    if (mode === 'blackhole') {
      c.blackholed = true;
      client.on('data', (chunk: Buffer) => (stats.dropped += chunk.length));
      return;
    }
    client.pause();
    const upstream = connect({ host: '127.0.0.1', port: target.port });
    c.upstream = upstream;
    upstream.on('error', () => undefined); // 'close' follows, with hadError
    upstream.on('close', (hadError) => sideClosed(c, upstream, hadError));
    upstream.once('connect', () => {
      forward(c, client, upstream);
      c.clientDue = forward(c, upstream, client);
      client.resume();
    });
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const port = address.port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get mode() {
      return mode;
    },
    get delayMs() {
      return delayMs;
    },
    stats: () => ({ ...stats }),
    cut() {
      mode = 'cut';
      for (const c of [...connections]) drop(c);
    },
    blackhole() {
      mode = 'blackhole';
      for (const c of connections) c.blackholed = true;
    },
    delay(ms: number) {
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000)
        throw new RangeError(`delay must be 0–60000 ms, not ${ms}`);
      delayMs = ms;
    },
    throttle(bytesPerSecond: number) {
      if (!Number.isInteger(bytesPerSecond) || bytesPerSecond < 1)
        throw new RangeError(
          `throttle must be a positive whole number of bytes per second, not ${bytesPerSecond}`,
        );
      rate = bytesPerSecond;
    },
    restore() {
      mode = 'pass';
      delayMs = 0;
      rate = 0;
      for (const c of [...connections]) if (c.blackholed) drop(c);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of [...connections]) drop(c);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
