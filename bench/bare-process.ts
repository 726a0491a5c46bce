/**
 * The ceiling: a bare socket.io server with the relay's wire protocol and none of its work.
 * Each socket names its node in the handshake (`auth: { node }`); each `envelope:submit` is
 * forwarded as `envelope` (with an ack callback, as the relay pushes) to the sockets of the
 * nodes listed in its `recipients`, and the sender is acknowledged at once. No crypto, no
 * schema check, no storage. Prints `{ url, pid }` as one JSON line once ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { reply, serveCommands } from './child-protocol.ts';

interface WireEnvelope {
  id?: unknown;
  recipients?: { node?: unknown }[];
}

async function main(): Promise<void> {
  const http = createServer();
  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: 2 * 1024 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
  });
  const sockets = new Map<string, Set<Socket>>();
  let forwarded = 0;

  io.on('connection', (socket) => {
    const node = String((socket.handshake.auth as { node?: unknown }).node ?? '');
    let set = sockets.get(node);
    if (!set) sockets.set(node, (set = new Set()));
    set.add(socket);
    socket.on('disconnect', () => {
      set.delete(socket);
      if (set.size === 0) sockets.delete(node);
    });
    socket.on('envelope:submit', (env: WireEnvelope, ack: unknown) => {
      for (const r of env.recipients ?? []) {
        const targets = sockets.get(String(r.node));
        if (!targets) continue;
        for (const t of targets) t.emit('envelope', env, () => undefined);
      }
      forwarded++;
      if (typeof ack === 'function')
        ack({ id: env.id, status: 'accepted', acceptedAt: new Date().toISOString(), duplicate: false });
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  serveCommands({ counts: () => ({ forwarded }) }, async () => {
    io.disconnectSockets(true);
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });
  reply({ url: `http://127.0.0.1:${port}`, pid: process.pid });
}

main().catch((err: unknown) => {
  console.error('bare-process failed:', err);
  process.exit(1);
});
