/**
 * Storage faults are answered, not hung (DESIGN.md, "At the edge"; "Delivery guarantees"): while
 * another process holds the database's write lock, or the disk is full, a real relay process
 * answers every submission either `accepted` (and then it is committed and delivered, once) or 503
 * STORAGE_UNAVAILABLE with Retry-After (and then nothing was stored), its /healthz keeps answering
 * and says `degraded`, and it takes writes again once the fault is gone. Below them, the parts:
 * the durability read-back that refuses a connection, the mapping of SQLite's errors as
 * better-sqlite3 and Prisma throw them, and a Prisma transaction holding the lock across the event
 * loop while the group commit waits for it.
 */
import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDurability, DurableBetterSqlite3 } from '../../prisma/durability.ts';
import { openDatabase } from '../../prisma/database.ts';
import { GroupCommit, type CommitRetry } from '../../prisma/group-commit.ts';
import { storageFaultOf } from '../../prisma/storage-faults.ts';
import { toEntraideError } from '../../server/errors.ts';
import { createInvitation } from '../../server/domain/enrolment.ts';
import { RelayStore } from '../../server/storage/relay-store.ts';
import { PrismaClient } from '../../server/storage/generated/client.ts';
import { EntraideError, type ErrorBody } from '../../shared/errors.ts';
import type { Envelope, Health, SubmitResult } from '../../shared/protocol/schemas.ts';
import { startTestRelay, tempDir } from '../support/fixtures.ts';
import {
  enrolByHand,
  enrolmentFor,
  enrolOverHttp,
  postJson,
  seal,
  type HandNode,
} from '../support/hand-built-node.ts';
import { ROOT, spawnRelay, type RelayProcess } from '../support/processes.ts';
import { sleep, waitFor } from '../support/wait.ts';

const DOMAIN = 'relay.test';
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

// ---- a real relay process, and hand-built nodes that talk to it over HTTP ----------------------

async function startRelay(dataDir: string): Promise<RelayProcess> {
  const relay = await spawnRelay(dataDir, 0, DOMAIN, { ENTRAIDE_RELAY_LIMITS: 'test' });
  cleanup.push(() => relay.stop('SIGKILL'));
  return relay;
}

async function postTo(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

/** An invitation code, made through the relay's store as `relay invite` does. */
async function inviteCode(dataDir: string, authorityId: string): Promise<string> {
  const store = RelayStore.open(dataDir);
  return (await createInvitation(store, authorityId, new Date()).finally(() => store.close())).code;
}

/** Invites, enrols and logs in a node over HTTP. */
function enrolOver(relay: RelayProcess, dataDir: string, authorityId: string): Promise<HandNode> {
  return enrolOverHttp({ url: relay.url, dataDir, domain: DOMAIN }, authorityId);
}

interface Answer {
  id: string;
  status: number;
  body: SubmitResult | ErrorBody;
  retryAfterHeader: string | null;
}

async function submit(relay: RelayProcess, from: HandNode, env: Envelope): Promise<Answer> {
  const res = await postTo(`${relay.url}/v1/envelopes`, env, from.token);
  return {
    id: env.id,
    status: res.status,
    body: (await res.json()) as SubmitResult | ErrorBody,
    retryAfterHeader: res.headers.get('retry-after'),
  };
}

async function submitBySocket(socket: Socket, env: Envelope): Promise<Answer> {
  const body = (await socket.timeout(15_000).emitWithAck('envelope:submit', env)) as SubmitResult | ErrorBody;
  return { id: env.id, status: 'error' in body ? 503 : 200, body, retryAfterHeader: null };
}

function connect(relay: RelayProcess, node: HandNode): Promise<Socket> {
  const socket = io(relay.url, {
    auth: { token: node.token },
    transports: ['websocket'],
    reconnection: false,
  });
  cleanup.push(() => void socket.close());
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** Each answer is accepted, or 503 STORAGE_UNAVAILABLE with retryAfter (and Retry-After over HTTP). */
function expectAcceptedOrUnavailable(a: Answer, overHttp: boolean): void {
  if ('error' in a.body) {
    expect({ status: a.status, code: a.body.error.code }).toEqual({
      status: 503,
      code: 'STORAGE_UNAVAILABLE',
    });
    expect(a.body.error.retryAfter).toBeGreaterThan(0);
    expect(a.body.error.message).not.toMatch(/SQLITE|INSERT|relay\.db|\//i);
    if (overHttp) expect(Number(a.retryAfterHeader)).toBe(a.body.error.retryAfter);
  } else {
    expect({ status: a.status, id: a.body.id, result: a.body.status }).toEqual({
      status: 200,
      id: a.id,
      result: 'accepted',
    });
  }
}

async function health(relay: RelayProcess): Promise<{ status: number; body: Health }> {
  // A generous deadline: only a relay that hangs misses it.
  const res = await fetch(`${relay.url}/healthz`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: (await res.json()) as Health };
}

async function inboxIds(relay: RelayProcess, node: HandNode): Promise<string[]> {
  const res = await fetch(`${relay.url}/v1/inbox?limit=500`, {
    headers: { authorization: `Bearer ${node.token}` },
    signal: AbortSignal.timeout(15_000),
  });
  expect(res.status).toBe(200);
  const page = (await res.json()) as { envelopes: Envelope[]; more: boolean };
  expect(page.more).toBe(false);
  return page.envelopes.map((e) => e.id);
}

/** The ids of the envelopes the relay stored, read from its file. */
function storedIds(dataDir: string): Set<string> {
  const db = new Database(join(dataDir, 'relay.db'), { readonly: true });
  try {
    return new Set(
      db
        .prepare<[], { id: string }>('SELECT id FROM "Envelope"')
        .all()
        .map((r) => r.id),
    );
  } finally {
    db.close();
  }
}

/** Another process takes the write lock of `file` (BEGIN IMMEDIATE) and holds it for `ms`. */
async function holdWriteLock(file: string, ms: number): Promise<{ released: Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1], { timeout: 10000 });
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('ROLLBACK'); db.close(); process.stdout.write('released\\n'); }, Number(process.argv[2]));
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script, file, String(ms)], { cwd: ROOT });
  cleanup.push(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('locked'), 10_000, 'the other process to take the lock');
  const released = new Promise<void>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 && out.includes('released') ? resolve() : reject(new Error(`lock holder: ${out}`)),
    ),
  );
  return { released };
}

function envelopes(from: HandNode, to: HandNode, n: number, size = 64): Envelope[] {
  return Array.from({ length: n }, (_, i) =>
    seal(from, [to], {
      content: JSON.stringify({ type: 'message', subject: `s${i}`, body: 'x'.repeat(size) }),
    }),
  );
}

// ---- the tests -------------------------------------------------------------------------------------

describe('storage faults, against a relay process', () => {
  it('a write lock held 5 s by another process: each envelope is accepted and then delivered once, or refused 503 with Retry-After and not stored; /healthz answers throughout and says degraded', async () => {
    const dataDir = tempDir('entraide-lock-relay-');
    const relay = await startRelay(dataDir);
    const a = await enrolOver(relay, dataDir, 'sn.moj');
    const b = await enrolOver(relay, dataDir, 'ke.ag');
    const socket = await connect(relay, a);
    const c = enrolmentFor(DOMAIN, 'ml.moj', await inviteCode(dataDir, 'ml.moj'));

    const sealed = envelopes(a, b, 50);
    const lock = await holdWriteLock(join(dataDir, 'relay.db'), 5_000);
    let locked = true;
    const healths: { status: number; body: Health; ms: number; duringLock: boolean }[] = [];
    const polling = (async () => {
      while (locked) {
        const started = performance.now();
        const h = await health(relay);
        healths.push({ ...h, ms: performance.now() - started, duringLock: locked });
        await sleep(100);
      }
    })();

    // An enrolment (a Prisma transaction) meets the lock too, and is answered 503.
    const enrolling = postTo(`${relay.url}/v1/enrol`, c.request);
    // 50 envelopes over the lock's 5 s, in waves a second apart: the first ones outwait the retries
    // (503), the last ones see the lock released while they are retried (accepted).
    const answers: Promise<Answer>[] = [];
    for (let wave = 0; wave < 5; wave++) {
      sealed.slice(wave * 10, wave * 10 + 10).forEach((env, i) => {
        answers.push(i < 2 ? submitBySocket(socket, env) : submit(relay, a, env));
      });
      await sleep(wave === 4 ? 0 : 1_000);
    }
    const settled = await Promise.all(answers);
    const enrolled = await enrolling;
    await lock.released;
    locked = false;
    await polling;

    settled.forEach((ans, i) => expectAcceptedOrUnavailable(ans, i % 10 >= 2));
    const accepted = settled.filter((s) => !('error' in s.body)).map((s) => s.id);
    const refused = settled.filter((s) => 'error' in s.body).map((s) => s.id);
    expect(refused.length).toBeGreaterThan(0); // the first wave cannot outwait a 5 s lock
    expect({ status: enrolled.status, retryAfter: enrolled.headers.get('retry-after') }).toEqual({
      status: 503,
      retryAfter: '2',
    });
    expect(((await enrolled.json()) as ErrorBody).error.code).toBe('STORAGE_UNAVAILABLE');

    expect(healths.every((h) => h.status === 200)).toBe(true);
    expect(healths.filter((h) => h.duringLock).length).toBeGreaterThan(5);
    expect(
      healths.some((h) => h.duringLock && h.body.status === 'degraded' && h.body.storage === 'busy'),
    ).toBe(true);

    // Once the lock is gone the relay takes writes again: the invitation was not used up.
    expect((await postTo(`${relay.url}/v1/enrol`, c.request)).status).toBe(200);
    const after = await Promise.all(envelopes(a, b, 5).map((env) => submit(relay, a, env)));
    for (const ans of after) expect(ans.status).toBe(200);
    accepted.push(...after.map((s) => s.id));
    expect((await health(relay)).body.status).toBe('ok');

    // Every accepted envelope is waiting for the recipient, exactly once; no refused one was stored.
    const inbox = await inboxIds(relay, b);
    expect(inbox.length).toBe(new Set(inbox).size);
    expect(new Set(inbox)).toEqual(new Set(accepted));
    const stored = storedIds(dataDir);
    expect(refused.filter((id) => stored.has(id))).toEqual([]);
    expect(relay.child.exitCode).toBeNull();
  });

  it('a full disk: 503 STORAGE_UNAVAILABLE with Retry-After, no crash, /healthz says full, and the relay accepts again once space returns', async (ctx) => {
    // A real full disk: a small tmpfs of its own (mounting needs root; elsewhere the test is skipped).
    const mount = tempDir('entraide-full-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount], { stdio: 'pipe' });
    } catch {
      ctx.skip('cannot mount a tmpfs here (needs root): no way to fill a disk for real');
    }
    cleanup.push(() => {
      execFileSync('umount', ['-l', mount], { stdio: 'pipe' });
      rmSync(mount, { recursive: true, force: true });
    });
    const dataDir = join(mount, 'relay');
    mkdirSync(dataDir);
    const relay = await startRelay(dataDir);
    const a = await enrolOver(relay, dataDir, 'sn.moj');
    const b = await enrolOver(relay, dataDir, 'ke.ag');
    const accepted: string[] = [];
    for (const ans of await Promise.all(envelopes(a, b, 3).map((env) => submit(relay, a, env)))) {
      expect(ans.status).toBe(200);
      accepted.push(ans.id);
    }

    // Fill what is left of the disk.
    const filler = join(mount, 'filler');
    const fd = openSync(filler, 'w');
    for (const chunk of [1024 * 1024, 4096, 512]) {
      const bytes = Buffer.alloc(chunk, 1);
      try {
        for (;;) writeSync(fd, bytes);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
    }
    closeSync(fd);

    // Big envelopes until one is refused: the WAL may reuse its own space for the first few.
    const refused: string[] = [];
    for (const env of envelopes(a, b, 60, 200_000)) {
      const ans = await submit(relay, a, env);
      expectAcceptedOrUnavailable(ans, true);
      if ('error' in ans.body) {
        refused.push(ans.id);
        if (refused.length === 3) break;
      } else accepted.push(ans.id);
    }
    expect(refused.length).toBe(3);
    const during = await health(relay);
    expect(during).toEqual({ status: 200, body: { status: 'degraded', domain: DOMAIN, storage: 'full' } });
    expect(relay.child.exitCode).toBeNull();

    // Space returns: the relay takes writes again, without a restart.
    rmSync(filler);
    const again = await submit(relay, a, envelopes(a, b, 1)[0]!);
    expect(again.status).toBe(200);
    accepted.push(again.id);
    expect((await health(relay)).body.status).toBe('ok');

    const inbox = await inboxIds(relay, b);
    expect(inbox.length).toBe(new Set(inbox).size);
    expect(new Set(inbox)).toEqual(new Set(accepted));
    const stored = storedIds(dataDir);
    expect(refused.filter((id) => stored.has(id))).toEqual([]);
  });
});

describe('storage faults, the parts', () => {
  it('refuses a connection whose journal mode or synchronous level does not read back (STORAGE_NOT_DURABLE)', async () => {
    const refusal = (read: { journalMode: unknown; synchronous: unknown }): string | undefined => {
      try {
        checkDurability(read, 'database x');
        return undefined;
      } catch (err) {
        expect(err).toBeInstanceOf(EntraideError);
        expect((err as EntraideError).code).toBe('STORAGE_NOT_DURABLE');
        return (err as EntraideError).message;
      }
    };
    expect(refusal({ journalMode: 'wal', synchronous: 2 })).toBeUndefined();
    expect(refusal({ journalMode: 'WAL', synchronous: 2n })).toBeUndefined();
    expect(refusal({ journalMode: 'delete', synchronous: 2 })).toBe(
      'database x: journal_mode is delete, not wal',
    );
    expect(refusal({ journalMode: 'wal', synchronous: 1 })).toBe(
      'database x: synchronous is 1, not FULL (2)',
    );
    expect(refusal({ journalMode: 'memory', synchronous: 0 })).toBe(
      'database x: journal_mode is memory, not wal; synchronous is 0, not FULL (2)',
    );
    expect(refusal({ journalMode: undefined, synchronous: undefined })).toMatch(/journal_mode is undefined/);

    // Real connections that cannot be WAL (an in-memory database), on both connection kinds.
    expect(() => openDatabase(':memory:', 'relay')).toThrow(
      expect.objectContaining({ code: 'STORAGE_NOT_DURABLE' }),
    );
    const adapter = new DurableBetterSqlite3(':memory:', 25);
    const prisma = new PrismaClient({ adapter });
    await expect(prisma.$connect()).rejects.toThrow(/journal_mode is memory, not wal/);
    expect(adapter.refusal?.code).toBe('STORAGE_NOT_DURABLE');

    // A file database reads both back, on both connections.
    const store = RelayStore.open(tempDir('entraide-durable-'));
    cleanup.push(() => store.close());
    await store.connect();
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(await store.prisma.$queryRawUnsafe('PRAGMA synchronous')).toEqual([{ synchronous: 2n }]);
    expect(await store.prisma.$queryRawUnsafe('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
  });

  it('maps SQLite faults from better-sqlite3 and through Prisma to 503 STORAGE_UNAVAILABLE, anything else to INTERNAL', async () => {
    const dir = tempDir('entraide-faults-');
    const file = join(dir, 'x.db');
    const db = openDatabase(file, 'relay', { busyTimeoutMs: 0 });
    const other = new Database(file, { timeout: 0 });
    const prisma = new PrismaClient({ adapter: new DurableBetterSqlite3(file, 0) });
    cleanup.push(async () => {
      await prisma.$disconnect();
      other.close();
      db.close();
    });
    await prisma.$connect();
    const caught = async (fn: () => unknown): Promise<unknown> => {
      try {
        await fn();
      } catch (err) {
        return err;
      }
      throw new Error('did not throw');
    };

    other.exec('BEGIN IMMEDIATE');
    const busyHot = await caught(() => db.exec('BEGIN IMMEDIATE'));
    const busyPrisma = await caught(() =>
      prisma.auditor.create({ data: { name: 'x', publicKey: 'k', addedAt: new Date() } }),
    );
    other.exec('ROLLBACK');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const full = await caught(() =>
      db
        .prepare('INSERT INTO "Auditor" (name, publicKey, addedAt) VALUES (?, ?, ?)')
        .run('y', 'k'.repeat(100_000), 'now'),
    );
    const constraint = await caught(() => db.exec('INSERT INTO "Auditor" (name) VALUES (NULL)'));

    expect([busyHot, busyPrisma, full, constraint].map((e) => storageFaultOf(e))).toEqual([
      'busy',
      'busy',
      'full',
      undefined,
    ]);
    for (const [err, retryAfter] of [
      [busyHot, 2],
      [busyPrisma, 2],
      [full, 30],
    ] as const) {
      const e = toEntraideError(err);
      expect(e.toJSON()).toEqual({
        error: { code: 'STORAGE_UNAVAILABLE', message: expect.any(String), retryAfter },
      });
      expect(e.status).toBe(503);
      expect(e.message).not.toMatch(/SQLITE|INSERT|Auditor|\//);
    }
    expect(toEntraideError(constraint).code).toBe('INTERNAL');
    // The shapes that could not be produced here: extended and unknown codes, the adapter's own error.
    for (const [err, fault] of [
      [{ code: 'SQLITE_IOERR_WRITE' }, 'io'],
      [{ code: 'SQLITE_LOCKED_SHAREDCACHE' }, 'busy'],
      [{ code: 'UNKNOWN_SQLITE_ERROR_3850' }, 'io'],
      [{ name: 'DriverAdapterError', cause: { kind: 'SocketTimeout' } }, 'busy'],
      [{ name: 'DriverAdapterError', cause: { kind: 'sqlite', originalCode: 'SQLITE_FULL' } }, 'full'],
      [
        {
          code: 'P2039',
          meta: {
            driverAdapterError: { name: 'DriverAdapterError', cause: { originalCode: 'SQLITE_IOERR_FSYNC' } },
          },
        },
        'io',
      ],
      [{ code: 'SQLITE_CONSTRAINT_UNIQUE' }, undefined],
      [new Error('database is locked'), undefined],
    ] as const) {
      expect(storageFaultOf(err)).toBe(fault);
    }
  });

  it('the group commit writes a busy batch again later, with what came meanwhile, answers each caller once, and gives up after its budget', async () => {
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const retry = (budgetMs: number): CommitRetry => ({
      when: (err) => storageFaultOf(err) === 'busy',
      budgetMs,
      delayMs: () => 5,
    });

    let failures = 2;
    const written: number[][] = [];
    const commit = new GroupCommit<number, number>(
      (items) => {
        if (failures-- > 0) throw busy;
        written.push(items);
        return items.map((i) => i * 10);
      },
      { retry: retry(60_000) },
    );
    const first = [commit.submit(1), commit.submit(2)];
    await sleep(1); // the first attempt has failed; a retry waits on a timer
    const late = commit.submit(3);
    expect(await Promise.all([...first, late])).toEqual([10, 20, 30]);
    expect(written).toEqual([[1, 2, 3]]);

    // Busy for ever: every caller gets the error once its budget is spent, none is answered twice.
    const stuck = new GroupCommit<number, number>(
      () => {
        throw busy;
      },
      { retry: retry(50) },
    );
    const settled = await Promise.allSettled([stuck.submit(1), stuck.submit(2)]);
    expect(settled).toEqual([
      { status: 'rejected', reason: busy },
      { status: 'rejected', reason: busy },
    ]);

    // Any other failure is answered at once, without a retry.
    let calls = 0;
    const broken = new GroupCommit<number, number>(
      () => {
        calls++;
        throw new Error('a bug');
      },
      { retry: retry(60_000) },
    );
    await expect(broken.submit(1)).rejects.toThrow('a bug');
    expect(calls).toBe(1);

    // Closing answers what still waits for a retry.
    const closing = new GroupCommit<number, number>(
      () => {
        throw busy;
      },
      { retry: retry(60_000) },
    );
    const waiting = closing.submit(1);
    await sleep(1);
    closing.close();
    await expect(waiting).rejects.toBe(busy);
  });

  it('a Prisma transaction that holds the lock across the event loop delays the group commit, without blocking the loop or refusing', async () => {
    const relay = await startTestRelay();
    cleanup.push(() => relay.close());
    const a = await enrolByHand(relay, 'sn.moj');
    const b = await enrolByHand(relay, 'ke.ag');

    let longestGap = 0;
    let last = performance.now();
    const loop = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    cleanup.push(() => clearInterval(loop));

    let committed = false;
    const holding = relay.relay.store.prisma.$transaction(async (tx) => {
      await tx.auditor.create({ data: { name: 'holder', publicKey: 'k', addedAt: new Date() } });
      await sleep(400); // the write lock stays held across real turns of the event loop
      committed = true;
    });
    await sleep(20);
    const answers = await Promise.all(
      envelopes(a, b, 5).map((env) => postJson(relay, '/v1/envelopes', env, a.token)),
    );
    await holding;
    clearInterval(loop);

    expect(committed).toBe(true);
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    // A hang (a busy wait of seconds) would show here; the loop's longest gap is normally tens of ms.
    expect(longestGap).toBeLessThan(1_000);
  });
});
