/**
 * The broken link of the fault tests (test/support/tcp-proxy.ts) must be slow, never wrong: a
 * throttled or delayed stream arrives whole and in order, and its end comes after its last byte.
 */
import { createServer, connect, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A TCP server that keeps what each connection sent until its end. */
async function sink(): Promise<{ port: number; received: Promise<Buffer> }> {
  let done!: (b: Buffer) => void;
  const received = new Promise<Buffer>((r) => (done = r));
  const server: Server = createServer((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => done(Buffer.concat(chunks)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as { port: number }).port, received };
}

describe('the fault tests’ TCP proxy', () => {
  it('keeps a throttled, then delayed, stream whole and in order', { timeout: 30_000 }, async () => {
    for (const fault of ['throttle', 'delay'] as const) {
      const target = await sink();
      const proxy = await startTcpProxy({ port: target.port });
      cleanup.push(() => proxy.close());
      if (fault === 'throttle') proxy.throttle(16 * 1024 * 1024);
      else proxy.delay(5);
      const data = randomBytes(6 * 1024 * 1024);
      const client = connect({ host: '127.0.0.1', port: proxy.port });
      await new Promise<void>((r) => client.once('connect', () => r()));
      // Pieces of odd sizes, as an HTTP client's chunked body comes.
      for (let at = 0; at < data.length; at += 65_545) client.write(data.subarray(at, at + 65_545));
      client.end();
      const got = await target.received;
      expect(got.length, fault).toBe(data.length);
      expect(got.equals(data), fault).toBe(true);
    }
  });
});
