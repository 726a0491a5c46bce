/**
 * Fuzzing the socket.io gateway of a real relay listening on loopback: handshakes with no token
 * and with anything else as the token; on a valid node's socket, every event the relay listens to
 * ('envelope:submit', shared/protocol/events.ts) and events it does not know, with arbitrary
 * payloads (JSON, text, binary attachments), with and without an acknowledgement; then raw
 * engine.io frames through `ws` (garbage text and binary, socket.io packets of every type, broken
 * attachments, forbidden keys), before and after the socket.io handshake.
 *
 * Every refusal, in a connect_error or an acknowledgement, is the registry's error body; a socket
 * is closed only for a frame the relay's parser refuses (strict JSON, server/realtime/strict-parser.ts)
 * or engine.io's size limit, never for a frame it can read; afterwards no table but the audit log
 * changed, the audit log grew by one entry per refused submission and only by counts for refused
 * handshakes, nothing reached Object.prototype, nothing was thrown unhandled, and the relay still
 * serves (over HTTP and over socket.io). Under the `default` limits, a handshake past the address's
 * budget and a submission past the node's get RATE_LIMITED.
 */
import fc from 'fast-check';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayLimits } from '../../server/limits.ts';
import { ERROR_CODES, isErrorCode, type ErrorBody } from '../../shared/errors.ts';
import { LIMITS } from '../../shared/limits.ts';
import { MAX_JSON_DEPTH } from '../../shared/protocol/strict-json.ts';
import { tableRows } from '../support/fuzz-http.ts';
import {
  expectNoPollution,
  expectStillServes,
  startFuzzedRelay,
  watchProcess,
  type FuzzedRelay,
} from '../support/fuzz-relay.ts';
import { seal } from '../support/hand-built-node.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const TIMEOUT = 30_000 + RUNS * 2_000;
const MiB = 1024 * 1024;

/** Names the socket.io client will not emit (the raw frames send them). */
const RESERVED = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

let f: FuzzedRelay;
const watch = watchProcess();
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype);
let rowsBefore: Record<string, number>;
const started = Date.now();
const tally = {
  /** Submissions refused to the valid node (one audit entry each, at most). */
  knownRefusals: 0,
  /** Frames with an acknowledgement id sent on authenticated raw sockets (each may be one such refusal). */
  rawAcked: 0,
  /** Codes of refused handshakes (one entry per code and interval). */
  anonymousCodes: new Set<string>(),
};

/** A problem with a wire error body, or undefined when it is the registry's. */
function notRegistryBody(body: unknown): string | undefined {
  const e = (body as Partial<ErrorBody> | null)?.error;
  if (
    typeof body !== 'object' ||
    body === null ||
    Object.keys(body).join() !== 'error' ||
    typeof e !== 'object' ||
    e === null
  )
    return `not {error:{code,message}}: ${JSON.stringify(body)?.slice(0, 200)}`;
  if (!isErrorCode(e.code)) return `code ${JSON.stringify(e.code)} is not in the registry`;
  if (typeof e.message !== 'string') return 'no message';
  const extra = Object.keys(e).filter((k) => !['code', 'message', 'retryAfter'].includes(k));
  return extra.length > 0 ? `extra fields ${extra.join(', ')}` : undefined;
}

function connect(auth: Record<string, unknown> | undefined, relay = f): Socket {
  return io(relay.relay.url, {
    transports: ['websocket'],
    auth,
    reconnection: false,
    forceNew: true,
    timeout: 5_000,
  });
}

/** Resolves with the connected socket, or with the connect_error's data. */
function handshake(socket: Socket): Promise<{ ok: true } | { ok: false; data: unknown; message: string }> {
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ ok: true }));
    socket.once('connect_error', (err: Error & { data?: unknown }) =>
      resolve({ ok: false, data: err.data, message: err.message }),
    );
  });
}

/** JSON text holding a key the relay's strict parser refuses (it then closes the connection). */
function hasForbiddenKey(v: unknown): boolean {
  return /"(__proto__|constructor)":/.test(JSON.stringify(v) ?? '');
}

/** Binary parts of a frame: socket.io-parser refuses more than 10 (maxAttachments) and drops the connection. */
function attachments(v: unknown): number {
  if (v instanceof Uint8Array || v instanceof ArrayBuffer) return 1;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + attachments(x), 0);
  if (typeof v === 'object' && v !== null)
    return Object.values(v).reduce((n: number, x) => n + attachments(x), 0);
  return 0;
}

const payload = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)) },
  {
    weight: 2,
    arbitrary: fc.dictionary(
      fc.constantFrom(
        'v',
        'id',
        'from',
        'to',
        'sentAt',
        'ttl',
        'recipients',
        'keyCommitment',
        'nonce',
        'ciphertext',
        'sig',
      ),
      fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.uint8Array({ maxLength: 32 }).map((b) => Buffer.from(b)),
      ),
    ),
  },
);

const eventName = fc.oneof(
  { weight: 4, arbitrary: fc.constant('envelope:submit') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'envelope',
      'inbox:drained',
      'session:closing',
      'envelope:submit ',
      'Envelope:Submit',
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'toString',
      'error',
      'message',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 24 }).filter((e) => !RESERVED.has(e)) },
);

beforeAll(async () => {
  f = await startFuzzedRelay();
  f.relay.relay.audit.flushRefusals();
  f.relay.relay.store.flush();
  rowsBefore = tableRows(f.relay.relay.store.db);
});

afterAll(async () => {
  watch.stop();
  await f?.relay.close();
  console.log(
    `fuzz-socket: ${Date.now() - started} ms, ${tally.knownRefusals} refused submissions acknowledged`,
  );
});

describe('fuzzing the socket.io gateway', () => {
  it(
    'refuses a handshake without a valid session token in the registry’s words',
    async () => {
      const wrong = [f.auditorToken, `${f.sn.token}x`, f.sn.token.split('.').reverse().join('.')];
      const auth = fc.oneof(
        fc.constant(undefined),
        fc.constant({}),
        fc.record({ token: fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom(...wrong)) }),
        fc.record({ token: fc.jsonValue({ maxDepth: 2 }) }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
      );
      await fc.assert(
        fc.asyncProperty(
          auth.filter((a) => !hasForbiddenKey(a)),
          async (a) => {
            const socket = connect(a);
            try {
              const r = await handshake(socket);
              if (r.ok) throw new Error(`connected with auth ${JSON.stringify(a)}`);
              const problem = notRegistryBody(r.data);
              if (problem)
                throw new Error(`connect_error for ${JSON.stringify(a)}: ${problem} (${r.message})`);
              const code = (r.data as ErrorBody).error.code;
              expect(['AUTH_REQUIRED', 'TOKEN_INVALID', 'TOKEN_EXPIRED']).toContain(code);
              tally.anonymousCodes.add(code);
            } finally {
              socket.close();
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'answers envelope:submit with any payload by a registry refusal, ignores other events, and keeps the socket',
    async () => {
      let socket = connect({ token: f.sn.token });
      expect(await handshake(socket)).toEqual({ ok: true });
      try {
        await fc.assert(
          fc.asyncProperty(
            eventName,
            fc.array(payload, { maxLength: 3 }),
            fc.boolean(),
            async (event, args, withAck) => {
              if (!socket.connected) {
                socket = connect({ token: f.sn.token });
                expect(await handshake(socket)).toEqual({ ok: true });
              }
              // One payload before the acknowledgement; other counts are a case of their own, at the end.
              const sent = event === 'envelope:submit' && withAck ? [args[0] ?? null] : args;
              // Frames the parser refuses outright (the relay's JSON rules, or more than 10 binary
              // parts) end the connection: the fuzzer connects again.
              const forbidden = hasForbiddenKey(sent) || attachments(sent) > 10;
              if (withAck) {
                const answer: unknown = await socket
                  .timeout(event === 'envelope:submit' && !forbidden ? 5_000 : 150)
                  .emitWithAck(event, ...sent)
                  .catch((err: Error) => err);
                if (event === 'envelope:submit' && !forbidden) {
                  if (answer instanceof Error)
                    throw new Error(`no acknowledgement for ${JSON.stringify(sent).slice(0, 200)}`);
                  const problem = notRegistryBody(answer);
                  if (problem)
                    throw new Error(`acknowledged ${JSON.stringify(sent).slice(0, 200)} with ${problem}`);
                  tally.knownRefusals++;
                } else if (!(answer instanceof Error)) {
                  throw new Error(
                    `the relay acknowledged ${event}, which it does not serve: ${JSON.stringify(answer)}`,
                  );
                }
              } else {
                socket.emit(event, ...sent);
              }
              // Frames on one socket are read in order: an answered submission after this one shows the
              // relay read it and kept the socket (unless the frame was one its parser refuses).
              const after: unknown = await socket
                .timeout(5_000)
                .emitWithAck('envelope:submit', {})
                .catch((err: Error) => err);
              if (forbidden) return;
              if (after instanceof Error || !socket.connected)
                throw new Error(
                  `the socket was dropped after ${event} ${JSON.stringify(sent).slice(0, 200)}`,
                );
              tally.knownRefusals++;
              expect((after as ErrorBody).error.code).toBe('SCHEMA_INVALID');
            },
          ),
          { numRuns: RUNS * 2 },
        );
      } finally {
        socket.close();
      }
    },
    TIMEOUT,
  );

  it(
    'refuses a submission over the envelope limit with PAYLOAD_TOO_LARGE, and drops a frame past engine.io’s',
    async () => {
      const socket = connect({ token: f.sn.token });
      expect(await handshake(socket)).toEqual({ ok: true });
      try {
        const big = await socket
          .timeout(10_000)
          .emitWithAck('envelope:submit', { x: 'x'.repeat(LIMITS.maxRequestBytes + 1) });
        tally.knownRefusals++;
        expect(notRegistryBody(big)).toBeUndefined();
        expect((big as ErrorBody).error.code).toBe('PAYLOAD_TOO_LARGE');
        const binary = await socket.timeout(10_000).emitWithAck('envelope:submit', Buffer.alloc(MiB));
        tally.knownRefusals++;
        expect(['PAYLOAD_TOO_LARGE', 'SCHEMA_INVALID']).toContain((binary as ErrorBody).error.code);
        const closed = new Promise<string>((resolve) =>
          socket.once('disconnect', (reason) => resolve(reason)),
        );
        socket.emit('envelope:submit', 'x'.repeat(3 * MiB));
        expect(await closed).toMatch(/transport (close|error)/);
      } finally {
        socket.close();
      }
    },
    TIMEOUT,
  );
});

// ---- raw engine.io frames --------------------------------------------------------------------

const deep = '['.repeat(MAX_JSON_DEPTH + 10) + ']'.repeat(MAX_JSON_DEPTH + 10);
const CRAFTED = [
  '',
  '0',
  '1',
  '2',
  '2probe',
  '3',
  '5',
  '6',
  '9',
  '4',
  '40',
  '40{}',
  '40[]',
  '40"x"',
  '40{"token":123}',
  '40{"token":null}',
  '41',
  '42',
  '42[]',
  '42[1]',
  '42{}',
  '42["envelope:submit"]',
  '421["envelope:submit"]',
  '421["envelope:submit",{}]',
  '42["disconnect"]',
  '42["connect"]',
  '42["connect_error",{}]',
  '42["newListener","x"]',
  '42["__proto__"]',
  '42["constructor",1]',
  '421["constructor"]',
  '42["envelope:submit",{"a":1,"a":2}]',
  '42["envelope:submit",{"__proto__":{"polluted":1}}]',
  '42["envelope:submit",{"constructor":{"prototype":{"polluted":1}}}]',
  `42["envelope:submit",${deep}]`,
  '42[',
  '42["envelope:submit",]',
  '43',
  '431[]',
  '4399999999999999999999["x"]',
  '44',
  '44{}',
  '45-',
  '451-["envelope:submit",{"_placeholder":true,"num":0}]',
  '451-["envelope:submit",{"_placeholder":true,"num":7}]',
  '4599999999-["x"]',
  '452-["x",{"_placeholder":true,"num":0}]',
  '46',
  '461-[]',
  '47',
  '4/admin,',
  '40/admin,{}',
  '42/admin,["x"]',
  '4/,["x"]',
  '42-1["envelope:submit",{}]',
  '421e3["envelope:submit",{}]',
  '42 ["envelope:submit"]',
  '4\u0000',
];

const frame = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CRAFTED) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.option(fc.nat({ max: 9999 }), { nil: undefined }),
        eventName,
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 2 }),
      )
      .map(([id, event, args]) => `42${id ?? ''}${JSON.stringify([event, ...args])}`),
  },
);

/** Sends `frames` on a raw engine.io socket (after the socket.io handshake when `token`); returns what came back. */
async function rawSession(
  frames: (string | Buffer)[],
  token?: string,
): Promise<{ received: string[]; closed: boolean }> {
  const ws = new WebSocket(`${f.relay.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const received: string[] = [];
  let closed = false;
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const text = isBinary ? `<binary ${data.length}>` : data.toString();
      received.push(text);
      if (text.startsWith('0{')) {
        if (token) ws.send(`40${JSON.stringify({ token })}`);
        else resolve();
      }
      if (text.startsWith('40{')) resolve();
      if (text.startsWith('44')) resolve(); // refused: the frames go to a refused socket
    });
    ws.once('error', reject);
  });
  const gone = new Promise<void>((resolve) =>
    ws.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  await Promise.race([opened, gone]);
  for (const frame of frames) if (!closed) ws.send(frame);
  await Promise.race([gone, new Promise((r) => setTimeout(r, 150))]);
  ws.terminate();
  return { received, closed };
}

/** Problems in what the relay sent: every connect error and acknowledgement is the registry's. */
function problemsIn(received: string[]): string[] {
  const problems: string[] = [];
  for (const r of received) {
    // type 3 (ack) or 4 (connect error), an optional namespace, an optional ack id, the JSON
    const m = /^4([34])(?:(\/[^,]*),)?(\d*)(.*)$/s.exec(r);
    if (!m) continue;
    let body: unknown;
    try {
      body = JSON.parse(m[4]!);
    } catch {
      problems.push(`unreadable packet ${r.slice(0, 200)}`);
      continue;
    }
    // socket.io itself refuses a namespace the relay does not serve, before any of its code runs,
    // with {"message":"Invalid namespace"} and no code: noted in the report, accepted here.
    if (
      m[2] !== undefined &&
      m[2] !== '/' &&
      m[1] === '4' &&
      JSON.stringify(body) === '{"message":"Invalid namespace"}'
    )
      continue;
    if (m[1] === '4') {
      const data = (body as { data?: unknown }).data;
      const p = notRegistryBody(data);
      if (p) problems.push(`connect error ${r.slice(0, 200)}: ${p}`);
      else tally.anonymousCodes.add((data as ErrorBody).error.code);
    } else {
      const answer = Array.isArray(body) ? body[0] : undefined;
      const p = notRegistryBody(answer);
      if (p) problems.push(`acknowledgement ${r.slice(0, 200)}: ${p}`);
    }
  }
  return problems;
}

describe('raw engine.io frames', () => {
  it(
    'answers garbage text and binary frames, before and after the handshake, without crashing and in the registry’s words',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(frame, { minLength: 1, maxLength: 6 }),
          fc.boolean(),
          async (frames, authenticated) => {
            if (authenticated)
              tally.rawAcked += frames.filter((x) => typeof x === 'string' && /^4[25]\d/.test(x)).length;
            const { received } = await rawSession(frames, authenticated ? f.sn.token : undefined);
            const problems = problemsIn(received);
            if (problems.length > 0) throw new Error(problems.join('\n'));
          },
        ),
        { numRuns: RUNS * 2 },
      );
    },
    TIMEOUT,
  );

  it(
    'closes a connection whose frame is over engine.io’s limit, and serves the next one',
    async () => {
      const { closed } = await rawSession([`42["envelope:submit","${'x'.repeat(3 * MiB)}"]`], f.sn.token);
      expect(closed).toBe(true);
      const { received } = await rawSession(['421["envelope:submit",{}]'], f.sn.token);
      tally.rawAcked++;
      expect(received.some((r) => r.startsWith('431[{"error":{"code":"SCHEMA_INVALID"'))).toBe(true);
    },
    TIMEOUT,
  );
});

// ---- afterwards ------------------------------------------------------------------------------

describe('after the fuzzing', () => {
  it('changed no table but the audit log, which grew by the refused submissions and counts of refused handshakes', () => {
    f.relay.relay.audit.flushRefusals();
    f.relay.relay.store.flush();
    const after = tableRows(f.relay.relay.store.db);
    const audit = ['AuditEntry', 'AuditNode', 'AuditHead'];
    const strict = (rows: Record<string, number>) =>
      Object.fromEntries(Object.entries(rows).filter(([t]) => !audit.includes(t)));
    expect(strict(after)).toEqual(strict(rowsBefore));
    const interval = f.relay.relay.ctx.limits.refusalIntervalSeconds * 1000;
    const anonymous = tally.anonymousCodes.size * (2 + Math.floor((Date.now() - started) / interval));
    expect(after.AuditEntry! - rowsBefore.AuditEntry!).toBeLessThanOrEqual(
      tally.knownRefusals + tally.rawAcked + anonymous,
    );
  });

  it('still serves over HTTP and socket.io, and nothing reached Object.prototype', async () => {
    expectNoPollution(prototypeBefore);
    await expectStillServes(f);
    const socket = connect({ token: f.sn.token });
    try {
      expect(await handshake(socket)).toEqual({ ok: true });
      const env = seal(f.sn, [f.ke]);
      expect(await socket.timeout(5_000).emitWithAck('envelope:submit', env)).toMatchObject({
        id: env.id,
        status: 'accepted',
      });
    } finally {
      socket.close();
    }
  });
});

// ---- the default limits: RATE_LIMITED on handshakes and submissions ------------------------------

describe('under the default limits', () => {
  let d: FuzzedRelay;
  beforeAll(async () => {
    // The default profile, but a node's socket events budget of 20 rather than 3,000 a minute: the
    // same check, met in 21 submissions.
    const limits = relayLimits('default');
    limits.rate.socketEvents = { max: 20, windowSeconds: 60 };
    d = await startFuzzedRelay({ limits });
  });
  afterAll(async () => {
    await d?.relay.close();
  });

  it(
    'refuses handshakes past the address’s budget and submissions past the node’s with RATE_LIMITED',
    async () => {
      const codes: string[] = [];
      for (let i = 0; i <= d.relay.relay.ctx.limits.rate.anonymous.max; i++) {
        const socket = connect(undefined, d);
        const r = await handshake(socket);
        socket.close();
        if (r.ok) throw new Error('connected without a token');
        expect(notRegistryBody(r.data)).toBeUndefined();
        codes.push((r.data as ErrorBody).error.code);
      }
      expect(codes.at(-1)).toBe('RATE_LIMITED');
      expect(new Set(codes)).toEqual(new Set(['AUTH_REQUIRED', 'RATE_LIMITED']));

      const socket = connect({ token: d.sn.token }, d);
      try {
        expect(await handshake(socket)).toEqual({ ok: true }); // the handshake took one event
        const answers: unknown[] = [];
        for (let i = 0; i < 20; i++)
          answers.push(await socket.timeout(5_000).emitWithAck('envelope:submit', {}));
        for (const a of answers) expect(notRegistryBody(a)).toBeUndefined();
        const got = answers.map((a) => (a as ErrorBody).error.code);
        expect(got.at(-1)).toBe('RATE_LIMITED');
        expect(ERROR_CODES.RATE_LIMITED.status).toBe(429);
        expect((answers.at(-1) as ErrorBody).error.retryAfter).toBeGreaterThan(0);
      } finally {
        socket.close();
      }
    },
    TIMEOUT,
  );
});

describe('what the first fuzzing runs found, fixed', () => {
  // server/realtime/gateway.ts reads envelope:submit as (raw, ack) and returns without a word when
  // `ack` is not a function: a submission with no payload, or with two, before its acknowledgement
  // is never answered, and the node waits for its own timeout. It should be refused (SCHEMA_INVALID).
  it('answers a submission with no payload, or two, with SCHEMA_INVALID', async () => {
    const socket = connect({ token: f.sn.token });
    expect(await handshake(socket)).toEqual({ ok: true });
    try {
      for (const args of [[], [{}, {}]]) {
        const answer: unknown = await socket.timeout(1_000).emitWithAck('envelope:submit', ...args);
        expect((answer as ErrorBody).error.code).toBe('SCHEMA_INVALID');
      }
    } finally {
      socket.close();
    }
  });
});

describe('the process', () => {
  it('met no unhandled rejection and no uncaught exception', () => {
    expect(watch.troubles).toEqual([]);
  });
});
