/**
 * A relay armed for fuzzing (test/adversarial/fuzz-*.test.ts): listening on loopback, with two
 * authorities enrolled by hand (valid session tokens), a registered auditor logged in, and a peer
 * relay known only by its key (requests it signs are valid federation requests; nothing listens at
 * its URL, so gossip to it and reads through it fail at once). Also the watchdogs a fuzzing run
 * ends with: unhandled rejections and uncaught exceptions in this process, keys added to
 * Object.prototype, and a proof that the relay still serves.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject } from '../../shared/crypto/signing.ts';
import type { RelayOptions } from '../../server/app.ts';
import { startTestRelay, type TestRelay } from './fixtures.ts';
import { enrolByHand, postJson, seal, type HandNode } from './hand-built-node.ts';
import { random } from './random.ts';

export const PEER_DOMAIN = 'relay.p.test';
export const AUDITOR = 'fuzz-auditor';

export interface FuzzedRelay {
  relay: TestRelay;
  sn: HandNode;
  ke: HandNode;
  auditorToken: string;
  /** The peer relay's name and key, to sign federation requests with. */
  peer: { domain: string; privateKey: KeyObject };
}

/** Starts the relay and enrols everyone; `options` as for startTestRelay (limits, ...). */
export async function startFuzzedRelay(options: Partial<RelayOptions> = {}): Promise<FuzzedRelay> {
  // Gossip rounds would call the peer (nobody listens) in the middle of the run: none.
  const relay = await startTestRelay({ gossipIntervalMs: 3_600_000, ...options });
  const sn = await enrolByHand(relay, 'sn.moj');
  const ke = await enrolByHand(relay, 'ke.ag');

  const auditorKeys = generateSigningKeyPair(random);
  await relay.relay.store.addAuditor(AUDITOR, toBase64url(auditorKeys.publicKey), new Date());
  const c = await postJson(relay, '/v1/audit/auth/challenge', { auditor: AUDITOR });
  expect(c.statusCode).toBe(200);
  const { challenge } = c.json<{ challenge: string }>();
  const sig = signObject(
    CONTEXTS.auditChallenge,
    { relay: relay.domain, auditor: AUDITOR, challenge },
    auditorKeys.secretKey,
  );
  const t = await postJson(relay, '/v1/audit/auth/token', { auditor: AUDITOR, challenge, sig });
  expect(t.statusCode).toBe(200);

  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await relay.relay.store.addPeer({
    domain: PEER_DOMAIN,
    url: 'http://127.0.0.1:9', // the discard port: connection refused at once
    publicKey: publicKey.export({ format: 'jwk' }).x!,
    addedAt: new Date(),
  });
  await relay.relay.ctx.federation.peers.load();
  return {
    relay,
    sn,
    ke,
    auditorToken: t.json<{ token: string }>().token,
    peer: { domain: PEER_DOMAIN, privateKey },
  };
}

/** Records every unhandled rejection and uncaught exception of this process until stop(). */
export function watchProcess(): { troubles: string[]; stop(): void } {
  const troubles: string[] = [];
  const onRejection = (reason: unknown) =>
    troubles.push(`unhandledRejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  const onException = (err: Error) => troubles.push(`uncaughtException: ${err.stack ?? String(err)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    troubles,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** Checks that nothing reached Object.prototype since `before` was taken. */
export function expectNoPollution(before: string[]): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual([...before].sort());
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
}

/**
 * The relay still works: /healthz says ok, sn sends ke an envelope over HTTP, ke finds it in its
 * inbox and acknowledges it. (This writes rows: call it after the tables were compared.)
 */
export async function expectStillServes(f: FuzzedRelay): Promise<void> {
  const health = await fetch(`${f.relay.url}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: 'ok' });
  const env = seal(f.sn, [f.ke]);
  const auth = (n: HandNode) => ({ authorization: `Bearer ${n.token}`, 'content-type': 'application/json' });
  const sent = await fetch(`${f.relay.url}/v1/envelopes`, {
    method: 'POST',
    headers: auth(f.sn),
    body: JSON.stringify(env),
  });
  expect(sent.status).toBe(200);
  expect(await sent.json()).toMatchObject({ id: env.id, status: 'accepted' });
  const inbox = await fetch(`${f.relay.url}/v1/inbox`, {
    headers: { authorization: `Bearer ${f.ke.token}` },
  });
  expect(inbox.status).toBe(200);
  const page = (await inbox.json()) as { envelopes: { id: string }[] };
  expect(page.envelopes.map((e) => e.id)).toContain(env.id);
  const ack = await fetch(`${f.relay.url}/v1/inbox/ack`, {
    method: 'POST',
    headers: auth(f.ke),
    body: JSON.stringify({ ids: [env.id] }),
  });
  expect(await ack.json()).toEqual({ acknowledged: 1 });
}
