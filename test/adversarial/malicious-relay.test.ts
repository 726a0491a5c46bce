/**
 * A relay operator who lies about keys (a malicious relay). The operator holds the relay key, so
 * every key log it shows is correctly signed; the nodes behind it must still refuse to encrypt to a
 * key the authority did not sign, stop when the log contradicts what they verified before, and
 * raise an alarm on their own authority's forged events. Every node here talks to the relay
 * through the proxy of test/support/malicious-relay.ts.
 */
import { issueJoinTicket } from '../../client/join-tickets.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { approveJoin, revoke, rotateEncryptionKey } from '../../client/key-manager.ts';
import { completeJoin, requestToJoin } from '../../client/join.ts';
import { AuthorityNode } from '../../client/node.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import { issueNodeCertificate } from '../../shared/crypto/certificates.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { EntraideError, type ErrorBody } from '../../shared/errors.ts';
import { makeLeaf } from '../../shared/keys/key-log-leaf.ts';
import { declareAuthority, rotateMasterKey, signEncryptionKey } from '../../shared/keys/statements.ts';
import type { KeyEvent, KeyLogLeaf } from '../../shared/protocol/key-log.ts';
import { invite, PASSPHRASE, startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { MaliciousRelay } from '../support/malicious-relay.ts';
import { rowCounts } from '../support/refusals.ts';
import { random } from '../support/random.ts';
import { profileOf, publishProfile, searchDirectory } from '../../client/authority-profile.ts';
import { signProfile } from '../../shared/keys/profile.ts';
import type { ProfileDraft } from '../../shared/protocol/profile.ts';

const KE_PROFILE: ProfileDraft = {
  names: [{ language: 'en', name: 'Office of the Attorney General, Kenya' }],
  state: 'KE',
  competences: ['untoc_mla', 'untoc_extradition'],
  languages: ['en', 'sw'],
  channels: { electronicOriginal: true, originalToFollow: 'none', interpol: true },
};

const DAY = 86_400_000;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
});

interface World {
  relay: TestRelay;
  evil: MaliciousRelay;
}

async function world(): Promise<World> {
  const relay = await startTestRelay();
  open.push(relay);
  const evil = await MaliciousRelay.start(relay);
  open.push(evil);
  return { relay, evil };
}

/** Enrols `<nodeName>/<authorityId>` with the relay reached through the malicious proxy. */
async function nodeBehind(w: World, authorityId: string, nodeName = 'desk1'): Promise<AuthorityNode> {
  const home = tempDir('entraide-node-');
  await initNode({
    home,
    relayUrl: w.evil.url,
    invite: await invite(w.relay, authorityId),
    authorityId,
    nodeName,
    passphrase: PASSPHRASE,
  });
  const node = await AuthorityNode.open(home, PASSPHRASE);
  open.push(node);
  return node;
}

/** A second node of `approver`'s authority, joined with a code and approved with the master key. */
async function joinBehind(w: World, approver: AuthorityNode, nodeName: string): Promise<AuthorityNode> {
  const home = tempDir('entraide-join-');
  const joined = await requestToJoin({
    home,
    relayUrl: w.evil.url,
    authorityId: approver.authority.split('@')[0]!,
    nodeName,
    ticket: (await issueJoinTicket(approver, nodeName)).ticket,
    passphrase: PASSPHRASE,
  });
  const node = await AuthorityNode.open(home, PASSPHRASE);
  open.push(node);
  await approveJoin(approver, joined.code);
  await completeJoin(node);
  return node;
}

async function refusal(work: Promise<unknown>): Promise<EntraideError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof EntraideError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const envelopes = (w: World): number => rowCounts(w.relay).envelopes;
const leaf = (event: KeyEvent): KeyLogLeaf => makeLeaf(event, new Date());
const indexOf = (leaves: KeyLogLeaf[], found: (l: KeyLogLeaf) => boolean): number => {
  const i = leaves.findIndex(found);
  expect(i).toBeGreaterThanOrEqual(0);
  return i;
};

async function alarms(node: AuthorityNode, kind: string) {
  return (await node.store.alarms()).filter((a) => a.kind === kind);
}

/**
 * A node checks the key log at most a few times a second and keeps a directory answer while the
 * log has not grown; forgetting makes the next operation ask the relay, as it would a moment later.
 */
function lookAgain(...nodes: AuthorityNode[]): void {
  for (const n of nodes) n.trust.forget();
}

/** A second self-signed enrolment of `authority` under a master key the relay made up. */
function fakeEnrolment(authority: string): KeyEvent {
  return {
    type: 'authority-enrolled',
    declaration: declareAuthority(authority, generateSigningKeyPair(random), new Date()),
  };
}

/** Two authorities behind the malicious relay that have already exchanged a message (keys pinned). */
async function pinned(): Promise<{ w: World; sn: AuthorityNode; ke: AuthorityNode }> {
  const w = await world();
  const sn = await nodeBehind(w, 'sn.moj');
  const ke = await nodeBehind(w, 'ke.ag');
  const first = await sn.send({ to: [ke.authority], subject: 'first contact', body: 'pins ke.ag' });
  expect(first.recipients).toEqual([ke.address]);
  expect((await ke.fetchInbox()).map((o) => o.kind)).toEqual(['message']);
  return { w, sn, ke };
}

describe('a malicious relay cannot add or substitute keys', () => {
  it('cannot add a node to an authority: senders never encrypt to it, and the authority raises an alarm', async () => {
    const { w, sn, ke } = await pinned();
    const rogue = issueNodeCertificate(
      {
        authority: ke.authority,
        node: `rogue/${ke.authority}`,
        identityKey: generateSigningKeyPair(random).publicKey,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        encKeyNotAfter: new Date(Date.now() + DAY),
        issuedAt: new Date(),
      },
      generateSigningKeyPair(random).secretKey,
    );
    const forged = w.evil.realLeaves().length;
    w.evil.serveLog([...w.evil.realLeaves(), leaf({ type: 'node-certified', certificate: rogue })]);
    lookAgain(sn, ke);

    const sent = await sn.send({ to: [ke.authority], subject: 'second', body: 'only for the real node' });
    expect(sent.recipients).toEqual([ke.address]);
    const trusted = await sn.trust.authority(ke.authority, true);
    expect(trusted.state.nodes.has(rogue.node)).toBe(false);
    expect(trusted.history.find((h) => h.node === rogue.node)).toMatchObject({
      index: forged,
      accepted: false,
      code: 'CERTIFICATE_INVALID',
      reason: `certificate of ${rogue.node} is not signed by the master key of ${ke.authority}`,
    });
    const got = await ke.fetchInbox();
    expect(got.map((o) => o.kind === 'message' && o.message.body)).toEqual(['only for the real node']);

    await ke.monitor.sync();
    const [alarm, ...more] = await alarms(ke, 'forged-event');
    expect(more).toEqual([]);
    expect(alarm).toMatchObject({ authority: ke.authority, idx: forged });
    expect(alarm!.message).toContain(`node ${rogue.node} certified`);
    expect(alarm!.message).toContain('which our keys did not make');
    expect(alarm!.message).toContain('not signed by the master key');
  });

  it('cannot substitute a node’s encryption key: KEY_CHANGED names the node and why, nothing is sent', async () => {
    const { w, sn, ke } = await pinned();
    const statement = signEncryptionKey(
      {
        node: ke.address,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        issuedAt: new Date(),
        notAfter: new Date(Date.now() + 30 * DAY),
      },
      generateSigningKeyPair(random).secretKey, // not ke's identity key
    );
    const forged = w.evil.realLeaves().length;
    w.evil.serveLog([...w.evil.realLeaves(), leaf({ type: 'encryption-key-rotated', statement })]);
    lookAgain(sn, ke);
    const before = envelopes(w);

    const err = await refusal(sn.send({ to: [ke.authority], subject: 'second', body: 'must not be sent' }));
    expect(err.code).toBe('KEY_CHANGED');
    expect(err.message).toContain(`encryption key of ${ke.address} rotated`);
    expect(err.message).toContain(`(log entry ${forged})`);
    expect(err.message).toContain('is not signed by that node’s certified identity key');
    expect(err.message).toContain('Nothing was sent');
    expect(envelopes(w)).toBe(before);
    expect(sn.sent().map((m) => m.subject)).toEqual(['first contact']);

    await ke.monitor.sync();
    expect(await alarms(ke, 'forged-event')).toEqual([
      expect.objectContaining({ authority: ke.authority, idx: forged }),
    ]);
  });

  it('cannot substitute a master key with a second enrolment: KEY_CHANGED, the pin stands', async () => {
    const { w, sn, ke } = await pinned();
    const pin = await sn.fingerprint(ke.authority);
    const forged = w.evil.realLeaves().length;
    w.evil.serveLog([...w.evil.realLeaves(), leaf(fakeEnrolment(ke.authority))]);
    lookAgain(sn, ke);
    const before = envelopes(w);

    const err = await refusal(sn.send({ to: [ke.authority], subject: 'second', body: 'must not be sent' }));
    expect(err.code).toBe('KEY_CHANGED');
    expect(err.message).toContain(`key change for ${ke.authority}`);
    expect(err.message).toContain(`(log entry ${forged})`);
    expect(err.message).toContain(`a second enrolment of ${ke.authority} with another master key`);
    expect(envelopes(w)).toBe(before);
    expect((await sn.fingerprint(ke.authority)).safetyCode).toBe(pin.safetyCode);

    await ke.monitor.sync();
    const [alarm] = await alarms(ke, 'forged-event');
    expect(alarm).toMatchObject({ authority: ke.authority, idx: forged });
    expect(alarm!.message).toContain('the first one stands');
  });

  it('cannot rotate a master key without the current one: KEY_CHANGED names the authority and why', async () => {
    const { w, sn, ke } = await pinned();
    const rotation = rotateMasterKey(
      { authority: ke.authority, issuedAt: new Date() },
      // Claims to start from ke's real master key, but the relay can only sign with a key of its own.
      {
        publicKey: fromBase64url(ke.keys.masterPublicKey!, 'masterPublicKey', 32),
        secretKey: generateSigningKeyPair(random).secretKey,
      },
      generateSigningKeyPair(random),
    );
    const forged = w.evil.realLeaves().length;
    w.evil.serveLog([...w.evil.realLeaves(), leaf({ type: 'master-key-rotated', rotation })]);
    lookAgain(sn, ke);
    const before = envelopes(w);

    const err = await refusal(sn.send({ to: [ke.authority], subject: 'second', body: 'must not be sent' }));
    expect(err.code).toBe('KEY_CHANGED');
    expect(err.message).toContain(`key change for ${ke.authority}`);
    expect(err.message).toContain(`master key rotated from ${rotation.previousKey.slice(0, 8)}`);
    expect(err.message).toContain(`(log entry ${forged})`);
    expect(err.message).toContain(`is not signed by its current master key`);
    expect(envelopes(w)).toBe(before);

    await ke.monitor.sync();
    expect(await alarms(ke, 'forged-event')).toEqual([
      expect.objectContaining({ authority: ke.authority, idx: forged }),
    ]);
  });
});

describe('a malicious relay cannot rewrite, truncate or fork a log a node has verified', () => {
  /** Each variant gets the honest leaves (sn.moj enrolled at 0–1, ke.ag at 2–3) and returns a forgery. */
  const variants: [string, (honest: KeyLogLeaf[]) => KeyLogLeaf[]][] = [
    [
      'an old leaf altered (the master key of ke.ag’s enrolment swapped)',
      (honest) =>
        honest.map((l) =>
          l.event.type === 'authority-enrolled' && l.authority.startsWith('ke.')
            ? { ...l, event: fakeEnrolment(l.authority) }
            : l,
        ),
    ],
    [
      'truncated, then grown past the verified size with other leaves',
      (honest) => [
        ...honest.slice(0, 2),
        ...honest.slice(2).map((l) => ({ ...l, loggedAt: new Date().toISOString() })),
        leaf(fakeEnrolment('ke.ag@relay.test')),
      ],
    ],
    [
      'truncated, then grown to less than the verified size with other leaves',
      (honest) => [...honest.slice(0, 2), leaf(fakeEnrolment('ke.ag@relay.test'))],
    ],
    [
      'another log of the same size (every entry logged again later)',
      (honest) =>
        honest.map((l) => ({ ...l, loggedAt: new Date(Date.parse(l.loggedAt) + 1000).toISOString() })),
    ],
  ];

  it.each(variants)('%s: KEYLOG_INCONSISTENT everywhere, an alarm, nothing sent', async (_name, forge) => {
    const { w, sn, ke } = await pinned();
    const honest = w.evil.realLeaves();
    expect(honest.map((l) => [l.authority, l.event.type])).toEqual([
      ['sn.moj@relay.test', 'authority-enrolled'],
      ['sn.moj@relay.test', 'node-certified'],
      ['ke.ag@relay.test', 'authority-enrolled'],
      ['ke.ag@relay.test', 'node-certified'],
    ]);
    await sn.monitor.sync(); // sn holds a verified head of size 4
    const head = w.evil.serveLog(forge(honest));
    lookAgain(sn);
    const before = envelopes(w);

    const sending = await refusal(
      sn.send({ to: [ke.authority], subject: 'second', body: 'must not be sent' }),
    );
    const reading = await refusal(sn.trust.authority(ke.authority, true));
    const syncing = await refusal(sn.monitor.sync());
    for (const err of [sending, reading, syncing]) {
      expect(err.code).toBe('KEYLOG_INCONSISTENT');
      expect(err.message).toMatch(/not a prefix of the one this node verified|does not extend|a fork/);
      expect(err.message).toContain(`size ${Math.min(head.size, 4)}`);
    }
    expect(envelopes(w)).toBe(before);
    expect(sn.sent().map((m) => m.subject)).toEqual(['first contact']);
    const raised = await alarms(sn, 'log-inconsistent');
    expect(raised.length).toBeGreaterThanOrEqual(1);
    expect(raised[0]!.message).toContain(`root ${head.root}`);
  });

  it('cannot withhold one of an authority’s events from a directory answer', async () => {
    const { w, sn, ke } = await pinned();
    await sn.monitor.sync();
    w.evil.serveLog(w.evil.realLeaves(), { withhold: [3] }); // ke.ag's node certificate
    lookAgain(sn);
    const before = envelopes(w);

    for (const work of [
      sn.trust.authority(ke.authority, true),
      sn.send({ to: [ke.authority], subject: 'second', body: 'must not be sent' }),
    ]) {
      const err = await refusal(work);
      expect(err.code).toBe('KEYLOG_INCONSISTENT');
      expect(err.message).toContain(
        `the relay withheld 1 key event(s) of ${ke.authority} from its directory answer (log entries 3)`,
      );
    }
    expect(envelopes(w)).toBe(before);
    expect(await alarms(sn, 'log-inconsistent')).toHaveLength(1);
  });

  it('once caught, the node trusts nothing from the relay until an officer resolves it', async () => {
    const { w, sn, ke } = await pinned();
    await sn.monitor.sync();
    w.evil.serveLog(
      w.evil
        .realLeaves()
        .slice(0, 3)
        .concat(leaf(fakeEnrolment('ke.ag@relay.test'))),
    );
    lookAgain(sn);
    expect((await refusal(sn.monitor.sync())).code).toBe('KEYLOG_INCONSISTENT');
    const before = envelopes(w);
    // At once, and after the relay goes back to the honest log: still refused, nothing sent.
    expect((await refusal(sn.send({ to: [ke.authority], subject: 'at once', body: 'no' }))).code).toBe(
      'KEYLOG_INCONSISTENT',
    );
    w.evil.honest();
    lookAgain(sn);
    const latched = await refusal(sn.send({ to: [ke.authority], subject: 'later', body: 'no' }));
    expect(latched.code).toBe('KEYLOG_INCONSISTENT');
    expect(latched.message).toMatch(/until an officer resolves it/);
    expect(envelopes(w)).toBe(before);
    // The same evidence is stored once, however often it is met.
    expect(await alarms(sn, 'log-inconsistent')).toHaveLength(1);
    // The officer resolves it; the honest log is consistent with what the node verified: work resumes.
    expect(await sn.monitor.resolve()).toBe(1);
    await sn.send({ to: [ke.authority], subject: 'resolved', body: 'sent' });
    expect(envelopes(w)).toBe(before + 1);
  });
});

describe('a malicious relay cannot bring a revoked node back', () => {
  /** sn.moj with desk1 (master key) and desk2, then desk2 revoked; ke.ag has seen the revocation. */
  async function revoked() {
    const w = await world();
    const sn1 = await nodeBehind(w, 'sn.moj', 'desk1');
    const sn2 = await joinBehind(w, sn1, 'desk2');
    const ke = await nodeBehind(w, 'ke.ag');
    const first = await ke.send({ to: [sn1.authority], subject: 'to both desks', body: 'first' });
    expect(first.recipients.sort()).toEqual([sn1.address, sn2.address]);
    await revoke(sn1, 'desk2', 'laptop stolen');
    await rotateEncryptionKey(sn1); // so that the revocation is not the last entry of the log
    lookAgain(ke);
    const second = await ke.send({ to: [sn1.authority], subject: 'after revocation', body: 'desk1 only' });
    expect(second.recipients).toEqual([sn1.address]);
    const honest = w.evil.realLeaves();
    const revocation = indexOf(honest, (l) => l.event.type === 'node-revoked');
    const certified = honest[
      indexOf(honest, (l) => l.event.type === 'node-certified' && l.event.certificate.node === sn2.address)
    ]!.event as Extract<KeyEvent, { type: 'node-certified' }>;
    return { w, sn1, sn2, ke, honest, revocation, certified };
  }

  it('a log rewritten without the revocation: KEYLOG_INCONSISTENT, an alarm, nothing sent', async () => {
    const { w, ke, sn1, honest, revocation } = await revoked();
    w.evil.serveLog(honest.filter((_, i) => i !== revocation));
    lookAgain(ke);
    const before = envelopes(w);

    const err = await refusal(ke.send({ to: [sn1.authority], subject: 'third', body: 'must not be sent' }));
    expect(err.code).toBe('KEYLOG_INCONSISTENT');
    expect(err.message).toContain(`not a prefix of the one this node verified (size ${honest.length})`);
    expect(envelopes(w)).toBe(before);
    const [alarm] = await alarms(ke, 'log-inconsistent');
    expect(alarm!.message).toContain(`size ${honest.length - 1}`);
  });

  it('its certificate logged again after the revocation: refused, never encrypted to, alarmed', async () => {
    const { w, ke, sn1, sn2, honest, certified } = await revoked();
    w.evil.serveLog([...honest, leaf(certified)]);
    lookAgain(ke, sn1);

    const sent = await ke.send({ to: [sn1.authority], subject: 'third', body: 'desk1 only' });
    expect(sent.recipients).toEqual([sn1.address]);
    const trusted = await ke.trust.authority(sn1.authority, true);
    expect(trusted.state.nodes.get(sn2.address)!.revoked).toMatchObject({ reason: 'laptop stolen' });
    expect(trusted.history.at(-1)).toMatchObject({
      index: honest.length,
      node: sn2.address,
      accepted: false,
      code: 'NODE_REVOKED',
      reason: `${sn2.address} was revoked; a revoked node is never certified again`,
    });
    await sn1.monitor.sync();
    const [alarm] = await alarms(sn1, 'forged-event');
    expect(alarm).toMatchObject({ authority: sn1.authority, idx: honest.length });
    expect(alarm!.message).toContain('a revoked node is never certified again');
  });

  it('the honest relay refuses to log its certificate again, and refuses its login', async () => {
    const { w, sn2, certified } = await revoked();
    const logged = await w.relay.relay.app.inject({
      method: 'POST',
      url: '/v1/keylog/events',
      payload: certified,
    });
    expect(logged.statusCode).toBe(403);
    expect(logged.json<ErrorBody>().error).toMatchObject({
      code: 'NODE_REVOKED',
      message: expect.stringContaining(`${sn2.address} was revoked on`),
    });
    // Its login: a challenge like any address gets (the challenge step tells nothing), then the
    // signed challenge refused like an unknown node's.
    const login = await w.relay.relay.app.inject({
      method: 'POST',
      url: '/v1/auth/challenge',
      payload: { node: sn2.address },
    });
    expect(login.statusCode).toBe(200);
    sn2.relay.invalidate();
    const err = await refusal(sn2.fetchInbox());
    expect(err.code).toBe('CHALLENGE_INVALID');
  });

  it('the directory served under an older head, from before the revocation: never encrypted to', async () => {
    const { w, ke, sn1, sn2, honest, revocation } = await revoked();
    // A prefix of the verified log is consistent with it; the node must still use all it verified.
    w.evil.serveLog(honest.slice(0, revocation));
    lookAgain(ke);

    const targets = await ke.trust.recipients(sn1.authority, true);
    expect(targets.map((t) => t.node)).not.toContain(sn2.address);
  });
});

describe('first contact is protected by self-monitoring', () => {
  it('a fake enrolment logged by the relay does not displace the real master key; the authority sees it', async () => {
    const w = await world();
    const sn = await nodeBehind(w, 'sn.moj');
    await sn.monitor.sync();
    const fr = await nodeBehind(w, 'fr.dacg'); // has never read the key log
    const forged = w.evil.realLeaves().length;
    w.evil.serveLog([...w.evil.realLeaves(), leaf(fakeEnrolment(sn.authority))]);
    lookAgain(sn);
    const before = envelopes(w);

    const trusted = await fr.trust.authority(sn.authority);
    expect(trusted.masterKey).toEqual(fromBase64url(sn.keys.masterPublicKey!, 'masterPublicKey', 32));
    expect((await fr.store.pin(sn.authority))!.safetyCode).toBe((await sn.fingerprint()).safetyCode);
    const err = await refusal(fr.send({ to: [sn.authority], subject: 'hello', body: 'must not be sent' }));
    expect(err.code).toBe('KEY_CHANGED');
    expect(err.message).toContain(`a second enrolment of ${sn.authority} with another master key`);
    expect(envelopes(w)).toBe(before);

    await sn.monitor.sync();
    const [alarm] = await alarms(sn, 'forged-event');
    expect(alarm).toMatchObject({ authority: sn.authority, idx: forged });
    expect(alarm!.message).toContain(
      `the relay logged for ${sn.authority}: authority enrolled with master key`,
    );
  });

  it('cannot forge an authority’s profile: the real one stands, the forgery shows refused in its history, the authority alarms', async () => {
    const { w, sn, ke } = await pinned();
    const real = await publishProfile(ke, KE_PROFILE);
    lookAgain(sn, ke);
    expect((await profileOf(sn, ke.authority)).profile).toEqual(real.profile);
    // The operator serves a profile that sends requests elsewhere, signed by a key it made.
    const forgedProfile = signProfile(
      {
        authority: ke.authority,
        issuedAt: new Date(),
        draft: { ...KE_PROFILE, languages: ['ru'], onCall: { phone: '+7 000 000 00 00' } },
      },
      generateSigningKeyPair(random).secretKey,
    );
    const forged = w.evil.realLeaves().length;
    w.evil.serveLog([...w.evil.realLeaves(), leaf({ type: 'profile-published', profile: forgedProfile })]);
    lookAgain(sn, ke);
    const seen = await profileOf(sn, ke.authority);
    expect(seen.profile).toEqual(real.profile);
    expect(seen.history.map((h) => [h.index, h.accepted, h.code])).toEqual([
      [real.index, true, null],
      [forged, false, 'BAD_SIGNATURE'],
    ]);
    const found = await searchDirectory(sn, { language: 'ru' });
    expect(found.hits).toEqual([]);
    await ke.monitor.sync();
    expect(await alarms(ke, 'forged-event')).toEqual([
      expect.objectContaining({ authority: ke.authority, idx: forged }),
    ]);
  });
});
