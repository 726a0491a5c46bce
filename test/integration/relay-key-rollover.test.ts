/**
 * The relay key replaced (`entraide relay key rotate`) while the relay is stopped, and everyone who
 * pinned the old key following the new one through the rollover the relay signed with both, with no
 * new invitation: two nodes keep exchanging mail and rewrite node.json, their key logs still verify
 * across the change, an auditor's `verify` passes over heads signed by both keys, and a peer relay
 * pins the new key and keeps federating. A relay that shows another key without a valid chain from
 * the pinned one (an adversary's double at the same address) is refused with RELAY_MISMATCH, and a
 * request signed in a peer's name with such a key stays refused.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditorClient, createAuditor, type Credentials } from '../../client/audit/auditor.ts';
import { readConfig } from '../../client/home.ts';
import { keyHistory, rotateEncryptionKey } from '../../client/key-manager.ts';
import { AuthorityNode } from '../../client/node.ts';
import { listPeers, rotateKey } from '../../server/admin.ts';
import { signFederationRequest } from '../../server/federation/s2s-token.ts';
import { loadRelayIdentity } from '../../server/identity.ts';
import { rotateRelayKey } from '../../server/relay-key-rotation.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { EntraideError, type ErrorBody, type ErrorCode } from '../../shared/errors.ts';
import { RelayInfo } from '../../shared/protocol/schemas.ts';
import { check } from '../../shared/protocol/validate.ts';
import {
  enrolNode,
  PASSPHRASE,
  startPeeredRelays,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { cli } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

const PASS = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

async function refusedWith(action: () => Promise<unknown>, code: ErrorCode): Promise<EntraideError> {
  const err = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EntraideError);
  expect((err as EntraideError).code).toBe(code);
  return err as EntraideError;
}

async function relayInfo(url: string): Promise<RelayInfo> {
  return check(RelayInfo, await (await fetch(new URL('/v1/relay', url))).json(), 'relay identity');
}

/** A relay that can be stopped and started again on its data folder and port. */
function restartable(first: TestRelay, options: { domain?: string; outbox?: typeof fast } = {}) {
  let current = first;
  let running = true;
  const port = Number(new URL(first.url).port);
  cleanup.push(async () => {
    if (running) await current.close();
  });
  return {
    get relay() {
      return current;
    },
    async stop() {
      await current.close();
      running = false;
    },
    async start() {
      current = await startTestRelay({ ...options, dataDir: first.dataDir, port });
      running = true;
      return current;
    },
  };
}

describe('one relay rotates its key', () => {
  let relay: ReturnType<typeof restartable>;
  let sn: AuthorityNode;
  let ke: AuthorityNode;
  const keHome = tempDir('entraide-node-');
  let auditor: Credentials;
  let oldKey: string;
  let newKey: string;
  let issuedAt: string;

  beforeAll(async () => {
    relay = restartable(await startTestRelay());
    sn = await enrolNode(relay.relay, 'sn.moj');
    cleanup.push(() => sn.close());
    ke = await enrolNode(relay.relay, 'ke.ag', 'desk1', keHome);
    cleanup.push(() => ke.close());
    auditor = await createAuditor(tempDir('entraide-auditor-'), {
      name: 'alice',
      relayUrl: relay.relay.url,
      relayKey: relayKeyFingerprint(relay.relay.relay.identity.publicKeyB64),
      passphrase: PASSPHRASE,
    });
    await relay.relay.relay.store.addAuditor('alice', auditor.publicKey, new Date());
    oldKey = relay.relay.relay.identity.publicKeyB64;
    await sn.send({ to: ['ke.ag@relay.test'], subject: 'before', body: 'signed by the first key' });
    expect((await ke.fetchInbox()).length).toBe(1);
  });

  it('is refused while the relay runs (DATA_DIR_LOCKED), changing nothing', async () => {
    const files = ['relay.json', 'relay-key.json'].map((f) => join(relay.relay.dataDir, f));
    const before = files.map((f) => readFileSync(f, 'utf8'));
    const err = await refusedWith(() => rotateKey(relay.relay.dataDir), 'DATA_DIR_LOCKED');
    expect(err.message).toMatch(/stop the relay, rotate its key, then start it again/);
    expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before);
  });

  it('replaces the key with `relay key rotate`, the new key signed by the old one, whose seed is gone', async () => {
    const dataDir = relay.relay.dataDir;
    await relay.stop();
    const oldSeed = (JSON.parse(readFileSync(join(dataDir, 'relay-key.json'), 'utf8')) as { seed: string })
      .seed;
    const r = await cli(['relay', 'key', 'rotate', '--data', dataDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { previousKey: string; newKey: string; fingerprint: string };
    expect(out.previousKey).toBe(oldKey);
    expect(out.fingerprint).toBe(relayKeyFingerprint(out.newKey));
    newKey = out.newKey;
    expect(existsSync(join(dataDir, 'relay-key.next.json'))).toBe(false);
    for (const f of readdirSync(dataDir).filter((n) => n.endsWith('.json') || n.endsWith('.tmp')))
      expect(readFileSync(join(dataDir, f), 'utf8'), f).not.toContain(oldSeed);

    const started = await relay.start();
    expect(started.relay.identity.publicKeyB64).toBe(newKey);
    const info = await relayInfo(started.url);
    expect(info.publicKey).toBe(newKey);
    expect(info.keyHistory).toEqual([
      expect.objectContaining({ previousKey: oldKey, newKey, relay: 'relay.test' }),
    ]);
    issuedAt = info.keyHistory![0]!.issuedAt;
    // The key log's head is signed again, with the new key, after the rollover.
    expect(Date.parse(started.relay.ctx.keyLog.head().timestamp)).toBeGreaterThan(Date.parse(issuedAt));
  });

  it('is followed by a node that stayed open: node.json names the new key, a notice is recorded', async () => {
    await sn.send({ to: ['ke.ag@relay.test'], subject: 'after', body: 'signed by the second key' });
    expect(readConfig(sn.home).relay.publicKey).toBe(newKey);
    expect(sn.config.relay.publicKey).toBe(newKey);
    const notices = (await sn.store.alarms()).filter((a) => a.kind === 'relay-key-rotated');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.message).toContain(relayKeyFingerprint(newKey));
    // A key event after the rollover: the key log grows under heads signed by the new key.
    await rotateEncryptionKey(sn);
  });

  it('is followed by the CLI of a node opened afresh, which says so on stderr', async () => {
    await ke.close();
    const r = await cli(['--home', keHome, 'inbox', '--json'], PASS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`relay relay.test rotated its key`);
    expect(readConfig(keHome).relay.publicKey).toBe(newKey);
    ke = await AuthorityNode.open(keHome, PASSPHRASE);
    expect(
      ke
        .inbox()
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['after', 'before']);
  });

  it('keeps the key logs verifiable across the change (keys check, key history)', async () => {
    for (const node of [sn, ke]) {
      const head = await node.monitor.sync(0);
      expect(Date.parse(head.timestamp)).toBeGreaterThan(Date.parse(issuedAt));
    }
    // `keys check`: the sync above, and no alarm but the notice of the rollover.
    expect((await ke.store.alarms()).map((a) => a.kind)).toEqual(['relay-key-rotated']);
    // `keys history`: every event proven under the new key's head, the ones before the rollover too.
    const history = await keyHistory(ke, 'sn.moj@relay.test');
    expect(history.events.every((e) => e.accepted)).toBe(true);
    expect(history.events.map((e) => e.type)).toContain('encryption-key-rotated');
  });

  it('lets an auditor who pinned the old key verify heads signed by both', async () => {
    const report = await new AuditorClient(auditor).verify();
    expect(report.problem).toBeNull();
    const times = report.seenHeads.map((h) => Date.parse(h.timestamp));
    expect(times.some((t) => t < Date.parse(issuedAt))).toBe(true);
    expect(times.some((t) => t > Date.parse(issuedAt))).toBe(true);
    expect(report.consistency).toBeGreaterThan(0);
  });

  it('refuses a double at the same address showing another key, with or without a chain: RELAY_MISMATCH', async () => {
    const port = Number(new URL(relay.relay.url).port);
    await relay.stop();
    const double = restartable(await startTestRelay({ port }));
    const mismatch = async () => {
      const err = await refusedWith(() => sn.fetchInbox(), 'RELAY_MISMATCH');
      expect(readConfig(sn.home).relay.publicKey).toBe(newKey);
      await refusedWith(() => new AuditorClient(auditor).login(), 'RELAY_MISMATCH');
      return err;
    };
    expect((await mismatch()).message).toMatch(/the relay shows no rollover/);
    // The double rotates its own key: a well-formed chain, but not from any key pinned here.
    await double.stop();
    await rotateKey(double.relay.dataDir);
    await double.start();
    expect((await mismatch()).message).toMatch(/the pinned key is not in the chain/);
  });
});

describe('a rotation stopped by a crash', () => {
  const seedOf = (dir: string, file: string) =>
    (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { seed: string }).seed;

  it('counts once relay.json names the new key: its seed is read from the next file, then put in place', () => {
    const dir = tempDir('entraide-relay-');
    const first = loadRelayIdentity(dir, 'relay.test', true);
    const oldSeed = seedOf(dir, 'relay-key.json');
    const done = rotateRelayKey(dir, new Date());
    // As if the process stopped between writing relay.json and renaming the next file over the old seed.
    writeFileSync(join(dir, 'relay-key.next.json'), readFileSync(join(dir, 'relay-key.json')));
    writeFileSync(join(dir, 'relay-key.json'), JSON.stringify({ seed: oldSeed }));
    const loaded = loadRelayIdentity(dir, undefined, false);
    expect(loaded.publicKeyB64).toBe(done.newKey);
    expect(loaded.keyHistory.map((r) => r.previousKey)).toEqual([first.publicKeyB64]);
    // The next rotation completes the stopped one first, then chains on from its key.
    const next = rotateRelayKey(dir, new Date(Date.now() + 1000));
    expect(next.previousKey).toBe(done.newKey);
    expect(existsSync(join(dir, 'relay-key.next.json'))).toBe(false);
    expect(loadRelayIdentity(dir, undefined, false).keyHistory).toHaveLength(2);
    expect(
      readdirSync(dir)
        .map((f) => (f.endsWith('.json') ? readFileSync(join(dir, f), 'utf8') : ''))
        .join(),
    ).not.toContain(oldSeed);
  });

  it('never happened while relay.json names the old key: the stray next seed is ignored, then removed', () => {
    const dir = tempDir('entraide-relay-');
    const first = loadRelayIdentity(dir, 'relay.test', true);
    writeFileSync(join(dir, 'relay-key.next.json'), JSON.stringify({ seed: toBase64url(randomBytes(32)) }));
    expect(loadRelayIdentity(dir, undefined, false).publicKeyB64).toBe(first.publicKeyB64);
    expect(rotateRelayKey(dir, new Date()).previousKey).toBe(first.publicKeyB64);
    expect(existsSync(join(dir, 'relay-key.next.json'))).toBe(false);
  });

  it('refuses a relay.json whose chain was tampered with: RELAY_DATA_CORRUPT', () => {
    const dir = tempDir('entraide-relay-');
    loadRelayIdentity(dir, 'relay.test', true);
    rotateRelayKey(dir, new Date());
    const file = join(dir, 'relay.json');
    const info = JSON.parse(readFileSync(file, 'utf8')) as { keyHistory: { issuedAt: string }[] };
    info.keyHistory[0]!.issuedAt = '2020-01-01T00:00:00.000Z';
    writeFileSync(file, JSON.stringify(info));
    const err = (() => {
      try {
        loadRelayIdentity(dir, undefined, false);
      } catch (e) {
        return e as EntraideError;
      }
    })();
    expect(err?.code).toBe('RELAY_DATA_CORRUPT');
    expect(err?.message).toMatch(/the key history in .*relay\.json does not hold/);
  });
});

describe('two peered relays, one rotates its key', () => {
  it('keeps federating: the other relay and its node follow the rollover', async () => {
    const [a, first] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], { outbox: fast });
    cleanup.push(() => a.close());
    const b = restartable(first, { domain: 'relay.b.test', outbox: fast });
    const sn = await enrolNode(a, 'sn.moj');
    cleanup.push(() => sn.close());
    const ke = await enrolNode(b.relay, 'ke.ag');
    cleanup.push(() => ke.close());
    const exchange = async (subject: string) => {
      await sn.send({ to: ['ke.ag@relay.b.test'], subject, body: 'to Nairobi' });
      await waitFor(async () => (await ke.fetchInbox()).length > 0, 10_000, `${subject} to reach ke.ag`);
      await ke.send({ to: ['sn.moj@relay.a.test'], subject, body: 'to Dakar' });
      await waitFor(async () => (await sn.fetchInbox()).length > 0, 10_000, `${subject} to reach sn.moj`);
    };
    await exchange('before');
    const oldKey = b.relay.relay.identity.publicKeyB64;

    await b.stop();
    const { newKey } = await rotateKey(b.relay.dataDir);
    await b.start();
    // Announced at start: relay.b.test's first requests are signed with the new key, and relay.a.test,
    // failing to verify them under the pinned one, follows the chain.
    await waitFor(
      async () => (await a.relay.store.listPeers())[0]?.publicKey === newKey,
      10_000,
      'relay.a.test to pin the new key of relay.b.test',
    );
    await exchange('after');
    expect(sn.inbox().map((m) => m.subject)).toEqual(['after', 'before']);
    expect(ke.inbox().map((m) => m.subject)).toEqual(['after', 'before']);
    expect((await listPeers(a.dataDir))[0]).toMatchObject({
      domain: 'relay.b.test',
      publicKey: newKey,
      alarm: null,
    });
    const shown = await cli(['relay', 'peers', '--data', a.dataDir]);
    expect(shown.stdout).toContain(`key fingerprint ${relayKeyFingerprint(newKey)}`);

    // A request in relay.b.test's name signed with a key no rollover of it leads to stays refused.
    const stranger = await startTestRelay({ domain: 'relay.b.test' });
    cleanup.push(() => stranger.close());
    const path = '/v1/federation/keylog/head';
    const token = await signFederationRequest(
      { domain: 'relay.b.test', privateKey: stranger.relay.identity.privateKeyObject },
      'relay.a.test',
      { method: 'GET', path, body: '' },
      new Date(),
    );
    const res = await fetch(new URL(path, a.url), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).error.code).toBe('TOKEN_INVALID');
    expect((await a.relay.store.listPeers())[0]?.publicKey).toBe(newKey);
    expect(oldKey).not.toBe(newKey);
  }, 30_000);
});
