/**
 * Cost of each step of the envelope path, measured in isolation on this machine with the
 * project's own functions (and the relay's and node's own storage modules on temp folders).
 * Each step runs several rounds; the best round is the intrinsic cost, the median shows noise
 * from other work on the machine.
 *
 *   node dist/bench/steps.js          (also run at the end of `npm run bench` unless BENCH_STEPS=0)
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseAuthorityAddress, parseNodeAddress } from '../shared/addresses.ts';
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { canonicalBytes } from '../shared/canonical.ts';
import {
  keyCommitment,
  openEnvelope,
  sealEnvelope,
  sealToKey,
  verifyEnvelopeSignature,
} from '../shared/crypto/envelope.ts';
import { encryptionKeyId } from '../shared/crypto/keys.ts';
import { CONTEXTS, signObject, signingBytes, withoutSig } from '../shared/crypto/signing.ts';
import { loadSodium, sodium } from '../shared/crypto/sodium.ts';
import { LIMITS } from '../shared/limits.ts';
import { Envelope } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import { uuidv7 } from '../shared/uuid.ts';
import { random } from '../client/random.ts';
import { NodeStore } from '../client/store/node-store.ts';
import { RelayStore } from '../server/storage/relay-store.ts';
import { table } from './stats.ts';
import { BODY_1KIB, createRawNode } from './wire.ts';

export interface StepCost {
  where: 'relay' | 'node' | 'disk';
  step: string;
  /** CPU time (user + system) per operation, over all rounds: not inflated by other work on the machine. */
  cpuUs: number;
  /** Wall-clock µs per operation: best round and median round. */
  bestUs: number;
  medianUs: number;
  note?: string;
}

interface Timing {
  best: number;
  median: number;
  cpu: number;
}

function summariseRounds(walls: number[], cpuTotalUs: number, ops: number): Timing {
  walls.sort((a, b) => a - b);
  return { best: walls[0]!, median: walls[Math.floor(walls.length / 2)]!, cpu: cpuTotalUs / ops };
}

function timeSync(iterations: number, fn: (i: number) => unknown, nRounds = 5): Timing {
  for (let i = 0; i < Math.min(iterations, 200); i++) fn(i); // warm-up (JIT)
  const walls: number[] = [];
  const c0 = process.cpuUsage();
  for (let r = 0; r < nRounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) fn(i);
    walls.push(((performance.now() - t0) * 1000) / iterations);
  }
  const c = process.cpuUsage(c0);
  return summariseRounds(walls, c.user + c.system, iterations * nRounds);
}

async function timeAsync(
  iterations: number,
  fn: (i: number) => Promise<unknown>,
  nRounds = 3,
  perCall = 1,
): Promise<Timing> {
  for (let i = 0; i < Math.min(iterations, 20); i++) await fn(i);
  const walls: number[] = [];
  const c0 = process.cpuUsage();
  for (let r = 0; r < nRounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) await fn(i);
    walls.push(((performance.now() - t0) * 1000) / iterations / perCall);
  }
  const c = process.cpuUsage(c0);
  return summariseRounds(walls, c.user + c.system, iterations * nRounds * perCall);
}

export async function measureSteps(): Promise<StepCost[]> {
  await loadSodium();
  const s = sodium();
  const out: StepCost[] = [];
  const add = (where: StepCost['where'], step: string, t: Timing, note?: string) =>
    out.push({ where, step, cpuUs: t.cpu, bestUs: t.best, medianUs: t.median, ...(note ? { note } : {}) });

  const sender = createRawNode('relay.bench', 's0.bench', 'desk1').node;
  const recipient = createRawNode('relay.bench', 'r0.bench', 'desk1').node;
  const content = canonicalBytes({ type: 'message', subject: 'bench step', body: BODY_1KIB });
  const seal = () => {
    const sentAt = new Date();
    return sealEnvelope(
      {
        id: uuidv7(sentAt.getTime(), random(10)),
        from: sender.address,
        to: [recipient.authority],
        sentAt,
        ttl: LIMITS.defaultTtlSeconds,
        recipients: [{ node: recipient.address, encryptionKey: recipient.encryption.publicKey }],
        content,
      },
      sender.identity.secretKey,
      random,
    );
  };
  const env = seal();
  const frame = JSON.stringify(env);

  // ---- relay: acceptEnvelope, step by step (server/domain/envelopes.ts) ----------------
  add(
    'relay',
    'JSON.parse of the submitted frame (socket.io-parser)',
    timeSync(5000, () => JSON.parse(frame)),
    `${frame.length} bytes`,
  );
  add(
    'relay',
    'JSON.stringify(raw) → stored body',
    timeSync(5000, () => JSON.stringify(env)),
  );
  add(
    'relay',
    'check(Envelope) (ajv)',
    timeSync(5000, () => check(Envelope, env, 'envelope')),
  );
  add(
    'relay',
    'checkBinaryFields (5 × fromBase64url)',
    timeSync(5000, () => {
      fromBase64url(env.keyCommitment, 'keyCommitment', 32);
      fromBase64url(env.nonce, 'nonce', 24);
      fromBase64url(env.ciphertext, 'ciphertext');
      fromBase64url(env.recipients[0]!.encKeyId, 'encKeyId', 16);
      fromBase64url(env.recipients[0]!.wrappedKey, 'wrappedKey', 80);
    }),
  );
  add(
    'relay',
    'signingBytes(withoutSig(env)) (canonicalize + utf8)',
    timeSync(5000, () => signingBytes(CONTEXTS.envelope, withoutSig(env))),
  );
  const signed = signingBytes(CONTEXTS.envelope, withoutSig(env));
  const sig = fromBase64url(env.sig, 'sig', 64);
  add(
    'relay',
    'Ed25519 verify, libsodium-wrappers (wasm) — what the relay uses',
    timeSync(1000, () => s.crypto_sign_verify_detached(sig, signed, sender.identity.publicKey)),
  );
  const spki = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: toBase64url(sender.identity.publicKey) },
    format: 'jwk',
  });
  add(
    'relay',
    'Ed25519 verify, node:crypto (KeyObject cached) — alternative',
    timeSync(1000, () => nodeVerify(null, signed, spki, sig)),
  );
  add(
    'relay',
    'sha256(signed ‖ sig) hex',
    timeSync(5000, () => createHash('sha256').update(signed).update(sig).digest('hex')),
  );
  add(
    'relay',
    'address parsing (to + recipients) and checks',
    timeSync(5000, () => {
      for (const to of env.to) parseAuthorityAddress(to);
      for (const r of env.recipients) parseNodeAddress(r.node);
    }),
  );

  // ---- relay storage (server/storage/relay-store.ts, group commit) ---------------------
  const dir = mkdtempSync(join(tmpdir(), 'entraide-steps-'));
  try {
    const store = RelayStore.open(dir);
    store.setLocalDomain('relay.bench');
    try {
      let k = 0;
      const newEnvelope = () => {
        const now = new Date();
        return {
          id: uuidv7(now.getTime(), random(10)),
          sender: sender.address,
          hash: createHash('sha256').update(String(k++)).digest('hex'),
          body: frame,
          acceptedAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
          recipientNodes: [recipient.address],
          peers: [],
          to: [recipient.authority],
          ciphertextHash: createHash('sha256').update(String(k)).digest('base64url'),
          fromPeer: null,
        };
      };
      const ids: string[] = [];
      const accept1 = await timeAsync(60, async () => {
        const e = newEnvelope();
        ids.push(e.id);
        await store.acceptEnvelope(e);
      });
      add(
        'relay',
        'store.acceptEnvelope, 1 per batch (one commit + fsync each)',
        accept1,
        'what a lightly loaded relay pays per envelope',
      );
      const accept100 = await timeAsync(
        20,
        async () => {
          const batch = Array.from({ length: 100 }, newEnvelope);
          for (const e of batch) ids.push(e.id);
          await Promise.all(batch.map((e) => store.acceptEnvelope(e)));
        },
        3,
        100,
      );
      add('relay', 'store.acceptEnvelope, 100 per batch (per envelope)', accept100);
      let d = 0;
      const mark1 = await timeAsync(60, async () =>
        store.markDelivered(ids[d++]!, recipient.address, new Date()),
      );
      add(
        'relay',
        'store.markDelivered, 1 per batch (one commit + fsync each)',
        mark1,
        'a second commit per turn, separate from the accept batch',
      );
      const mark100 = await timeAsync(
        10,
        async () => {
          const batch = ids.slice(d, d + 100);
          d += 100;
          await Promise.all(batch.map((id) => store.markDelivered(id, recipient.address, new Date())));
        },
        3,
        100,
      );
      add('relay', 'store.markDelivered, 100 per batch (per envelope)', mark100);

      // The same rows without the fsync, to split SQLite's own work from the disk wait.
      const db = store.db;
      const find = db.prepare('SELECT sender, hash, acceptedAt, expiredAt FROM "Envelope" WHERE id = ?');
      const insert = db.prepare(
        'INSERT INTO "Envelope" (id, sender, hash, size, body, acceptedAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      const insertDelivery = db.prepare(
        'INSERT INTO "Delivery" (envelopeId, sender, node, state) VALUES (?, ?, ?, \'pending\')',
      );
      const rows = () => {
        const e = newEnvelope();
        find.all(e.id);
        insert.run(e.id, e.sender, e.hash, e.body.length, e.body, e.acceptedAt, e.expiresAt);
        insertDelivery.run(e.id, e.sender, recipient.address);
      };
      const savepoint = db.transaction(rows);
      db.pragma('synchronous = OFF');
      const plain100 = db.transaction(() => {
        for (let i = 0; i < 100; i++) rows();
      });
      const sp100 = db.transaction(() => {
        for (let i = 0; i < 100; i++) savepoint();
      });
      add(
        'relay',
        'SQLite work only: select + 2 inserts, 100/tx, no fsync',
        timeSync(20, plain100, 3),
        'per 100 envelopes',
      );
      add(
        'relay',
        'SQLite work only, with a savepoint per envelope (as relay-store)',
        timeSync(20, sp100, 3),
        'per 100 envelopes',
      );
      db.pragma('synchronous = FULL');
    } finally {
      await store.close();
    }

    // ---- disk ---------------------------------------------------------------------------
    const probe = join(dir, 'fsync-probe');
    const fd = openSync(probe, 'w');
    try {
      const buf = Buffer.alloc(4096, 1);
      add(
        'disk',
        'overwrite 4 KiB + fdatasync (raw disk flush)',
        timeSync(
          50,
          () => {
            writeSync(fd, buf, 0, buf.length, 0);
            fdatasyncSync(fd);
          },
          3,
        ),
        'DESIGN.md assumes ~150–200 µs per commit',
      );
    } finally {
      closeSync(fd);
    }

    // ---- node: send and receive (client/node.ts) -----------------------------------------
    add(
      'node',
      'sealEnvelope, 1 recipient, 1 KiB (whole)',
      timeSync(500, () => seal()),
    );
    const contentKey = random(32);
    add(
      'node',
      '  sealToKey (wrap content key for one node)',
      timeSync(500, () => sealToKey(contentKey, recipient.encryption.publicKey, random)),
    );
    add(
      'node',
      '  keyCommitment (BLAKE2b)',
      timeSync(2000, () => keyCommitment(contentKey)),
    );
    add(
      'node',
      '  encryptionKeyId (BLAKE2b)',
      timeSync(2000, () => encryptionKeyId(recipient.encryption.publicKey)),
    );
    const nonce = random(24);
    const aad = canonicalBytes({ a: 1 });
    add(
      'node',
      '  XChaCha20-Poly1305 encrypt 1 KiB',
      timeSync(2000, () =>
        s.crypto_aead_xchacha20poly1305_ietf_encrypt(content, aad, null, nonce, contentKey),
      ),
    );
    add(
      'node',
      '  Ed25519 sign (signObject over the envelope)',
      timeSync(500, () => signObject(CONTEXTS.envelope, withoutSig(env), sender.identity.secretKey)),
    );
    add(
      'node',
      '  random(32) node:crypto',
      timeSync(5000, () => random(32)),
    );
    const edPriv = createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        x: toBase64url(sender.identity.publicKey),
        d: toBase64url(sender.identity.secretKey.slice(0, 32)),
      },
      format: 'jwk',
    });
    add(
      'node',
      '  alternative: Ed25519 sign, node:crypto (KeyObject cached)',
      timeSync(500, () => nodeSign(null, signed, edPriv)),
    );
    const xSecret = random(32);
    add(
      'node',
      '  X25519 scalar mult, libsodium (wasm) (sealToKey does 2)',
      timeSync(500, () => s.crypto_scalarmult(xSecret, recipient.encryption.publicKey)),
    );
    const xPriv = createPrivateKey({
      key: {
        kty: 'OKP',
        crv: 'X25519',
        x: toBase64url(s.crypto_scalarmult_base(xSecret)),
        d: toBase64url(xSecret),
      },
      format: 'jwk',
    });
    const xPub = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: toBase64url(recipient.encryption.publicKey) },
      format: 'jwk',
    });
    add(
      'node',
      '  alternative: X25519 diffieHellman, node:crypto',
      timeSync(500, () => diffieHellman({ privateKey: xPriv, publicKey: xPub })),
    );
    add(
      'node',
      'verifyEnvelopeSignature (recipient)',
      timeSync(500, () => verifyEnvelopeSignature(env, sender.identity.publicKey)),
    );
    const keys = {
      node: recipient.address,
      encryptionKeys: new Map([
        [
          encryptionKeyId(recipient.encryption.publicKey),
          { publicKey: recipient.encryption.publicKey, secretKey: recipient.encryption.secretKey },
        ],
      ]),
    };
    add(
      'node',
      'openEnvelope (unwrap + commitment + decrypt)',
      timeSync(500, () => openEnvelope(env, keys)),
    );

    const nodeStore = NodeStore.open(join(dir, 'node.db'), random(32));
    try {
      let m = 0;
      const message = () => ({
        id: uuidv7(Date.now(), random(10)),
        direction: 'in' as const,
        sender: sender.address,
        recipients: [recipient.authority],
        subject: `m ${m++}`,
        body: BODY_1KIB,
        language: null,
        sentAt: new Date().toISOString(),
        receivedAt: new Date().toISOString(),
        acceptedAt: null,
        envelope: frame,
        kind: 'message' as const,
        requestId: null,
        handling: null,
        content: null,
      });
      const saved: string[] = [];
      add(
        'node',
        'store.saveMessage, 1 per batch (one commit + fsync)',
        await timeAsync(60, async () => {
          const msg = message();
          saved.push(msg.id);
          await nodeStore.saveMessage(msg);
        }),
      );
      let a = 0;
      add(
        'node',
        'store.markAccepted (sync UPDATE, own commit + fsync, blocks the loop)',
        timeSync(60, () => nodeStore.markAccepted(saved[a++ % saved.length]!, new Date().toISOString()), 3),
      );
    } finally {
      await nodeStore.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export function formatSteps(steps: StepCost[]): string {
  const rows = [['step', 'where', 'CPU µs', 'wall µs best', 'wall µs median']];
  for (const st of steps)
    rows.push([st.step, st.where, st.cpuUs.toFixed(1), st.bestUs.toFixed(1), st.medianUs.toFixed(1)]);
  const lines = table(rows).split('\n');
  // Notes go after the aligned columns, on the lines of their steps.
  return lines.map((l, i) => (i >= 2 && steps[i - 2]?.note ? `${l}   ${steps[i - 2]!.note}` : l)).join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  measureSteps().then(
    (steps) => console.log(formatSteps(steps)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
