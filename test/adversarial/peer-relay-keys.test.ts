/**
 * A home relay that lies about a peer relay (test/support/malicious-relay.ts: it gives its own key as
 * the peer's and serves a "peer key log" it signed, with a self-signed enrolment of a peer authority
 * the node has not met). The node pins peer relay keys (client/peer-pins.ts) and holds the home
 * relay's word to them:
 * (i) a key pinned by hand refuses the forged log at once, with an alarm and PEER_KEY_CHANGED;
 * (ii) so does a key from the roster of a coordinator whose safety code the officer verified;
 * (iii) with no second source the fake key gets through, and the first CLI send to that authority
 *      stops on its unverified safety code (UNVERIFIED_COUNTERPART in a script), naming where to
 *      compare it; in a terminal the officer is asked once.
 * Also: a key pinned on first use is kept across restarts, and a later change of what the home relay
 * serves is an alarm, after which nothing from that peer is trusted until a hand pin settles it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { verifySafetyCode } from '../../client/key-manager.ts';
import { AuthorityNode } from '../../client/node.ts';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { EntraideError } from '../../shared/errors.ts';
import { makeLeaf } from '../../shared/keys/key-log-leaf.ts';
import { declareAuthority } from '../../shared/keys/statements.ts';
import type { KeyLogLeaf } from '../../shared/protocol/key-log.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  startPeeredRelays,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { MaliciousRelay } from '../support/malicious-relay.ts';
import { BIN, cli } from '../support/processes.ts';
import { random } from '../support/random.ts';
import { rowCounts } from '../support/refusals.ts';
import { execFile } from 'node:child_process';

const HOME = 'relay.home';
const PEER = 'relay.peer';
const KE = `ke.ag@${PEER}`;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close().catch(() => undefined);
});

interface World {
  home: TestRelay;
  peer: TestRelay;
  evil: MaliciousRelay;
  ke: AuthorityNode;
}

async function world(): Promise<World> {
  const [home, peer] = await startPeeredRelays([HOME, PEER]);
  open.push(home, peer);
  const evil = await MaliciousRelay.start(home);
  open.push(evil);
  const ke = await enrolNode(peer, 'ke.ag');
  open.push(ke);
  return { home, peer, evil, ke };
}

/** Enrols `authorityId` on the home relay, reached through the malicious proxy; returns its folder. */
async function homeBehind(w: World, authorityId: string): Promise<string> {
  const home = tempDir('entraide-node-');
  await initNode({
    home,
    relayUrl: w.evil.url,
    relayKey: w.home.relay.identity.publicKeyB64,
    invite: await invite(w.home, authorityId),
    authorityId,
    nodeName: 'desk1',
    passphrase: PASSPHRASE,
  });
  return home;
}

async function opened(home: string): Promise<AuthorityNode> {
  const node = await AuthorityNode.open(home, PASSPHRASE);
  open.push(node);
  return node;
}

async function closed(node: AuthorityNode): Promise<void> {
  open.splice(open.indexOf(node), 1);
  await node.close();
}

/** The peer's log as the home relay forges it: a self-signed enrolment of ke.ag under a key it made up. */
function forgedPeerLog(): KeyLogLeaf[] {
  const declaration = declareAuthority(KE, generateSigningKeyPair(random), new Date());
  return [makeLeaf({ type: 'authority-enrolled', declaration }, new Date())];
}

async function refusal(work: Promise<unknown>): Promise<EntraideError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EntraideError);
  return err as EntraideError;
}

/**
 * A send to ke.ag is refused with `code` (PEER_KEY_CHANGED, or the head's own PROOF_INVALID): an
 * alarm naming the peer, ke.ag's pin (if any) as it was, nothing sent.
 */
async function refusedAtOnce(w: World, sn: AuthorityNode, code = 'PEER_KEY_CHANGED'): Promise<string> {
  const before = rowCounts(w.home).envelopes;
  const [pinned, sent] = [await sn.store.pin(KE), sn.sent().length];
  const err = await refusal(sn.send({ to: [KE], subject: 'forged', body: 'must not be sent' }));
  expect(err.code).toBe(code);
  const [alarm, ...more] = (await sn.store.alarms()).filter(
    (a) => a.kind === 'peer-key-changed' && !a.resolvedAt,
  );
  expect(more).toEqual([]);
  expect(alarm?.relay).toBe(PEER);
  expect(alarm?.message).toContain(`entraide relay pin ${PEER} KEY`);
  expect(await sn.store.pin(KE)).toEqual(pinned);
  expect(rowCounts(w.home).envelopes).toBe(before);
  expect(sn.sent()).toHaveLength(sent);
  // Nothing from the peer is trusted while the alarm is open, whatever is asked.
  expect((await refusal(sn.trust.authority(KE, true))).code).toBe('PEER_KEY_CHANGED');
  return alarm!.message;
}

// Some tests run the CLI, whose every start unlocks a keystore (Argon2id).
describe('peer relay keys pinned on the node', { timeout: 60_000 }, () => {
  it('(i) a key pinned by hand refuses a forged peer log at once, whether the home relay lies about the key or only signs the log', async () => {
    const w = await world();
    const snHome = await homeBehind(w, 'sn.moj');
    const real = w.peer.relay.identity.publicKeyB64;
    // The officer pins the fingerprint the peer's operator read out; it names the key offered.
    const pinned = await cli(
      ['--home', snHome, 'relay', 'pin', PEER, '--fingerprint', relayKeyFingerprint(real)],
      {
        ENTRAIDE_PASSPHRASE: PASSPHRASE,
      },
    );
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stdout).toContain(`${PEER}: key pinned by hand, fingerprint ${relayKeyFingerprint(real)}`);
    const sn = await opened(snHome);
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({ source: 'hand', publicKey: real });
    expect(await sn.store.pin(KE)).toBeNull();

    // The home relay gives its own key as the peer's.
    w.evil.impersonatePeer(PEER, forgedPeerLog());
    const message = await refusedAtOnce(w, sn);
    expect(message).toContain(relayKeyFingerprint(w.home.relay.identity.publicKeyB64));
    expect(message).toContain(`hand, fingerprint ${relayKeyFingerprint(real)}`);

    // The home relay tells the peer's key truly but serves a log it signed itself.
    await sn.peerPins.pinByHand(PEER, real);
    w.evil.impersonatePeer(PEER, forgedPeerLog(), { keepPeerList: true });
    expect(await refusedAtOnce(w, sn, 'PROOF_INVALID')).toMatch(
      /do not verify under the key pinned here \(hand, .*\[PROOF_INVALID\]/,
    );
    expect((await sn.store.peerKeys.get(PEER))?.publicKey).toBe(real);
  });

  it('(ii) a key from the roster of a verified coordinator refuses it too; an unverified coordinator’s proves nothing', async () => {
    const w = await world();
    // The coordinator is on the home relay, reached directly; sn verified its safety code.
    const co = await enrolNode(w.home, 'co.org');
    open.push(co);
    const snHome = await homeBehind(w, 'sn.moj');
    const sn = await opened(snHome);
    await co.networks.create('wacap', 'WACAP');
    await co.networks.change('wacap', { add: [sn.authority, KE] });
    await sn.fetchInbox();
    const roster = sn.networks.roster('wacap');
    expect(roster).toMatchObject({ v: 2, relays: { [PEER]: w.peer.relay.identity.publicKeyB64 } });

    // Not verified: the roster is not a source, and the key the home relay gives would be pinned.
    expect(await sn.networks.relayClaims(PEER)).toEqual([]);
    await verifySafetyCode(sn, co.authority, (await co.fingerprint()).safetyCode);
    expect(await sn.networks.relayClaims(PEER)).toEqual([
      expect.objectContaining({ network: 'wacap', key: w.peer.relay.identity.publicKeyB64 }),
    ]);

    w.evil.impersonatePeer(PEER, forgedPeerLog());
    await refusedAtOnce(w, sn);
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({
      source: 'roster:wacap',
      publicKey: w.peer.relay.identity.publicKeyB64,
    });
  });

  it('a verified roster that contradicts a key pinned on first use is an alarm, not a silent choice', async () => {
    const w = await world();
    const co = await enrolNode(w.home, 'co.org');
    open.push(co);
    const snHome = await homeBehind(w, 'sn.moj');
    let sn = await opened(snHome);
    await verifySafetyCode(sn, co.authority, (await co.fingerprint()).safetyCode);
    // First use while the home relay lies: its own key is pinned for the peer.
    w.evil.impersonatePeer(PEER, forgedPeerLog());
    await sn.trust.authority(KE);
    const fake = w.home.relay.identity.publicKeyB64;
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({ source: 'first-use', publicKey: fake });
    // The verified coordinator's roster then gives the peer's real key.
    await co.networks.create('wacap', 'WACAP');
    await co.networks.change('wacap', { add: [sn.authority, KE] });
    await sn.fetchInbox();
    await closed(sn);
    sn = await opened(snHome);
    const err = await refusal(sn.trust.authority(KE));
    expect(err.code).toBe('PEER_KEY_CHANGED');
    const [alarm] = await sn.store.peerKeys.openAlarms('peer-key-conflict', PEER);
    expect(alarm?.message).toContain(
      `network wacap (roster v2, signed by a verified coordinator) gives relay ${PEER} the key with fingerprint ${relayKeyFingerprint(w.peer.relay.identity.publicKeyB64)}, but the key pinned here (first-use) has fingerprint ${relayKeyFingerprint(fake)}`,
    );
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({ source: 'first-use', publicKey: fake });
  });

  it('keeps a key pinned on first use across restarts; a later change is an alarm until a hand pin settles it', async () => {
    const w = await world();
    const snHome = await homeBehind(w, 'sn.moj');
    let sn = await opened(snHome);
    await sn.send({ to: [KE], subject: 'first contact', body: 'pins relay.peer' });
    const real = w.peer.relay.identity.publicKeyB64;
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({
      source: 'first-use',
      publicKey: real,
      fingerprint: relayKeyFingerprint(real),
    });
    expect((await sn.store.alarms()).find((a) => a.kind === 'peer-key-pinned')?.message).toContain(
      `fingerprint ${relayKeyFingerprint(real)}`,
    );
    await closed(sn);

    // After a restart the home relay gives its own key for the peer, with no rollover to it.
    w.evil.impersonatePeer(PEER, forgedPeerLog());
    sn = await opened(snHome);
    const message = await refusedAtOnce(w, sn);
    expect(message).toContain(
      `not the one pinned here (first-use, fingerprint ${relayKeyFingerprint(real)})`,
    );

    // A hand pin resolves the alarm; the lie raises it again; once the relay is honest, sending works.
    await sn.peerPins.pinByHand(PEER, real);
    expect((await refusal(sn.trust.authority(KE, true))).code).toBe('PEER_KEY_CHANGED');
    await sn.peerPins.pinByHand(PEER, real);
    w.evil.honest();
    const sent = await sn.send({ to: [KE], subject: 'again', body: 'to the real node' });
    expect(sent.recipients).toEqual([w.ke.address]);
  });

  it('(iii) without a second source, the first CLI send to that authority stops on its unverified safety code', async () => {
    const w = await world();
    const snHome = await homeBehind(w, 'sn.moj');
    w.evil.impersonatePeer(PEER, forgedPeerLog());
    const before = rowCounts(w.home).envelopes;
    const env = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
    const r = await cli(['--home', snHome, 'send', '--to', KE, '--subject', 's', '--body', 'b'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('[UNVERIFIED_COUNTERPART]');
    const sn = await opened(snHome);
    const pin = await sn.store.pin(KE);
    // The fake master key got through on first use (that is the attack), and the officer is told
    // its safety code and where to compare it before anything is sent.
    expect(r.stderr).toContain(`${KE} is not verified: its safety code here is ${pin!.safetyCode}`);
    expect(r.stderr).toMatch(/by telephone or in person, or with your network’s coordinator/);
    expect(r.stderr).toContain('--unverified-ok');
    expect((await sn.store.peerKeys.get(PEER))?.fingerprint).toBe(
      relayKeyFingerprint(w.home.relay.identity.publicKeyB64),
    );
    expect(sn.sent()).toEqual([]);
    expect(rowCounts(w.home).envelopes).toBe(before);
  });

  it('asks in a terminal, once: a confirmed counterpart is not asked again', async () => {
    const w = await world();
    const snHome = await homeBehind(w, 'sn.moj');
    const send = ['--home', snHome, 'send', '--to', KE, '--subject', 's', '--body', 'b'];
    const yes = await inTerminal(send, { ENTRAIDE_PASSPHRASE: PASSPHRASE }, 'y\n');
    expect(yes.code, yes.output).toBe(0);
    expect(yes.output).toMatch(/Send to ke\.ag@relay\.peer without a verified safety code\? \[y\/N\]/);
    expect(yes.output).toMatch(/ke\.ag@relay\.peer is not verified: its safety code here is [\d ]{47}\./);
    const sn = await opened(snHome);
    expect(sn.sent()).toHaveLength(1);
    expect((await sn.store.pin(KE))?.confirmedAt).toBeInstanceOf(Date);
    // What the CLI asks about (node.counterparts.unverified) no longer lists ke.ag.
    expect(await sn.counterparts.unverified([KE, sn.authority])).toEqual([]);
  });
});

/** Runs the CLI with a terminal attached (util-linux `script`), typing `input`. */
function inTerminal(
  args: string[],
  env: Record<string, string>,
  input: string,
): Promise<{ code: number; output: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    const child = execFile(
      'script',
      ['-qefc', command, '/dev/null'],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr }),
    );
    child.stdin?.end(input);
  });
}
