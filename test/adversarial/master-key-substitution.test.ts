/**
 * A dishonest peer relay substitutes an authority's master key on its side. Relay Y holds its own
 * key, so it can show peer relays (and, through them, their nodes) a correctly signed key log in
 * which its authority y.moj is enrolled under a master key the operator made, certifying y.moj's
 * real node (its public keys are public) under it. A sender on relay X meeting y.moj for the first
 * time pins the fake key and seals to the real node's real encryption key, so the envelope still
 * arrives and opens — and only the format 2 header, which names the master key the sender pinned,
 * lets y.moj's node see that its key was substituted on the sender's path.
 *
 * Y's own nodes reach it directly and see its real log; X reaches Y through the malicious proxy
 * (test/support/malicious-relay.ts, forging the /v1/federation key-log and directory routes only).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorityNode, ReceiveOutcome } from '../../client/node.ts';
import { issueNodeCertificate } from '../../shared/crypto/certificates.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { masterKeyFingerprint } from '../../shared/crypto/master-key-fingerprint.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { makeLeaf } from '../../shared/keys/key-log-leaf.ts';
import { declareAuthority } from '../../shared/keys/statements.ts';
import type { KeyLogLeaf } from '../../shared/protocol/key-log.ts';
import { enrolNode, startTestRelay } from '../support/fixtures.ts';
import { MaliciousRelay } from '../support/malicious-relay.ts';
import { random } from '../support/random.ts';
import { waitFor } from '../support/wait.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
});

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };

/** Relay X (honest) and relay Y, which X reaches through a proxy that Y's operator controls. */
async function world() {
  const x = await startTestRelay({ domain: 'relay-x.test', outbox: fast });
  open.push(x);
  const y = await startTestRelay({ domain: 'relay-y.test' });
  open.push(y);
  const evil = await MaliciousRelay.start(y);
  open.push(evil);
  await x.relay.store.addPeer({
    domain: y.domain,
    url: evil.url,
    publicKey: y.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
  await y.relay.store.addPeer({
    domain: x.domain,
    url: x.url,
    publicKey: x.relay.identity.publicKeyB64,
    addedAt: new Date(),
  });
  return { x, y, evil };
}

/**
 * Y's real log, with `victim`'s events replaced: enrolled under `fake`, its real node certified
 * by `fake` with its real identity and encryption keys (what a relay can copy from the real log).
 */
function substituted(real: KeyLogLeaf[], victim: string, fake: ReturnType<typeof generateSigningKeyPair>) {
  return real.map((leaf) => {
    if (leaf.authority !== victim) return leaf;
    const e = leaf.event;
    if (e.type === 'authority-enrolled') {
      return makeLeaf(
        { type: 'authority-enrolled', declaration: declareAuthority(victim, fake, new Date()) },
        new Date(),
      );
    }
    if (e.type === 'node-certified') {
      const c = e.certificate;
      const certificate = issueNodeCertificate(
        {
          authority: c.authority,
          node: c.node,
          identityKey: fromBase64url(c.identityKey, 'identityKey', 32),
          encryptionKey: fromBase64url(c.encryptionKey, 'encryptionKey', 32),
          encKeyNotAfter: new Date(c.encKeyNotAfter),
          issuedAt: new Date(c.issuedAt),
          formats: c.formats,
        },
        fake.secretKey,
      );
      return makeLeaf({ type: 'node-certified', certificate }, new Date());
    }
    throw new Error(`unexpected event ${e.type} of ${victim} in this test`);
  });
}

const substitutions = async (node: AuthorityNode) =>
  (await node.store.alarms()).filter((a) => a.kind === 'master-key-substituted');

describe('a peer relay that substitutes an authority’s master key', () => {
  it('is caught by the real authority’s node at the first envelope, which names the sender and the key used', async () => {
    const { x, y, evil } = await world();
    const victim = await enrolNode(y, 'y.moj');
    open.push(victim);
    const local = await enrolNode(y, 'y.police'); // a sender that sees Y's real log
    open.push(local);
    const sender = await enrolNode(x, 'x.moj');
    open.push(sender);
    const fake = generateSigningKeyPair(random);
    evil.serveLog(substituted(evil.realLeaves(), victim.authority, fake), { toPeersOnly: true });

    const arrived: ReceiveOutcome[] = [];
    const has = (id: string) => arrived.find((o) => o.kind === 'message' && o.message.id === id);
    const delivered = (id: string, what: string) =>
      waitFor(
        async () => {
          arrived.push(...(await victim.fetchInbox()));
          return Boolean(has(id));
        },
        10_000,
        what,
      );

    // A control: a sender that saw the real key raises no alarm.
    const control = await local.send({ to: [victim.authority], subject: 'neighbours', body: 'next door' });
    await delivered(control.id, 'the envelope from y.police');
    expect(has(control.id)).toMatchObject({ kind: 'message', message: { sender: local.address } });
    expect(await substitutions(victim)).toEqual([]);

    // The sender pins the fake key on first use: its view of y.moj is the forged one.
    const pinned = await sender.trust.authority(victim.authority);
    expect(pinned.masterKey).toEqual(fake.publicKey);
    const sent = await sender.send({ to: [victim.authority], subject: 'first contact', body: 'hello' });
    expect(sent.recipients).toEqual([victim.address]);
    await delivered(sent.id, 'the envelope from x.moj');
    // Handled as usual: it was sealed to this node's real key, and opened.
    expect(has(sent.id)).toMatchObject({
      kind: 'message',
      message: { sender: sender.address, body: 'hello' },
    });

    const raised = await substitutions(victim);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ authority: sender.authority, relay: x.domain, resolvedAt: null });
    expect(raised[0]!.message).toContain(sender.address);
    expect(raised[0]!.message).toContain(`envelope ${sent.id}`); // the officer knows which item to doubt
    expect(raised[0]!.message).toContain(masterKeyFingerprint(fake.publicKey));
    expect(raised[0]!.message).toContain('Compare safety codes');
    expect(raised[0]!.message).not.toContain(local.address);
  });
});
