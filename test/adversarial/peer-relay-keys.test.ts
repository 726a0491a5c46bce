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
 * serves is an alarm, after which nothing from that peer is trusted until a hand pin settles it. A
 * hand pin of another key drops the copy of the peer's log verified under the key before (in an open
 * node or through the CLI, which says so); the log read again under the real key raises
 * master-key-substituted for a master key pinned from the forged copy, and sending stays refused
 * (KEY_CHANGED). A rollover the pinned key signed keeps the copy.
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
import type { KeyLogLeaf, SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { verifyTreeHead } from '../../shared/keys/tree-head.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import type { NewAlarm } from '../../client/key-log-monitor.ts';
import { rotateKey } from '../../server/admin.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  startPeeredRelays,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { MaliciousRelay } from '../support/malicious-relay.ts';
import { BIN, cli } from '../support/processes.ts';
import { random } from '../support/random.ts';
import { rowCounts } from '../support/refusals.ts';
import { waitFor } from '../support/wait.ts';
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

  it('a hand pin drops the copy of the peer’s log verified under a first-use key that was not the peer’s; read again under the real key, it alarms on the master key pinned from the forged one', async () => {
    const w = await world();
    const sn = await opened(await homeBehind(w, 'sn.moj'));
    const raised: NewAlarm[] = [];
    sn.onAlarm((a) => raised.push(a));
    // First use while the home relay lies: its own key pinned as the peer's, the forged log verified
    // under it and kept, and a master key for ke.ag pinned from that log.
    w.evil.impersonatePeer(PEER, forgedPeerLog());
    await sn.trust.authority(KE);
    const [fake, real] = [w.home.relay.identity.publicKeyB64, w.peer.relay.identity.publicKeyB64];
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({ source: 'first-use', publicKey: fake });
    expect(await sn.store.keyLogLeaves(PEER)).toHaveLength(1);
    const forged = (await sn.store.pin(KE))!;
    expect(forged.safetyCode).not.toBe((await w.ke.fingerprint()).safetyCode);

    // The officer hears the real key from the peer's operator and pins it, in this open node.
    w.evil.honest();
    const { dropped } = await sn.peerPins.pinByHand(PEER, real);
    expect(dropped).toEqual({ entries: 1, size: 1 });
    expect(await sn.store.keyLogLeaves(PEER)).toEqual([]);
    expect(await sn.store.keyLogHead(PEER)).toBeNull();
    const notices = (await sn.store.alarms()).filter((a) => a.kind === 'peer-key-log-dropped');
    expect(notices).toEqual([expect.objectContaining({ relay: PEER, authority: null })]);
    expect(notices[0]!.message).toContain(
      `replaces the key pinned before (first-use, fingerprint ${relayKeyFingerprint(fake)}): this node’s copy of ${PEER}’s key log, verified under that key (1 entry, head of size 1), was dropped`,
    );
    // The master key pinned from the forged log is not forgotten.
    expect(await sn.store.pin(KE)).toEqual(forged);

    // The next send reads the peer's whole log again under the real key, and refuses ke.ag.
    const before = rowCounts(w.home).envelopes;
    const err = await refusal(sn.send({ to: [KE], subject: 'after the pin', body: 'must not be sent' }));
    expect(err.code).toBe('KEY_CHANGED');
    expect(err.message).toContain(`pinned safety code ${forged.safetyCode}`);
    const log = w.peer.relay.ctx.keyLog;
    expect((await sn.store.keyLogLeaves(PEER)).map((r) => JSON.parse(r.leaf) as KeyLogLeaf)).toEqual(
      log.entries(0, log.size).map((e) => e.leaf),
    );
    const head = JSON.parse((await sn.store.keyLogHead(PEER))!.head) as SignedTreeHead;
    expect(() =>
      verifyTreeHead(head, { log: 'key', relay: PEER, relayKey: fromBase64url(real) }),
    ).not.toThrow();
    const alarms = (await sn.store.alarms()).filter((a) => a.kind === 'master-key-substituted');
    expect(alarms).toEqual([expect.objectContaining({ relay: PEER, authority: KE, resolvedAt: null })]);
    expect(alarms[0]!.message).toContain(
      `the master key pinned here for ${KE} (safety code ${forged.safetyCode}, pinned ${forged.pinnedAt.toISOString()}) is not in relay ${PEER}’s key log read again from the start: the log shows another master key for it (safety code ${(await w.ke.fingerprint()).safetyCode})`,
    );
    expect(raised.map((a) => a.kind)).toEqual([
      'peer-key-pinned',
      'peer-key-log-dropped',
      'master-key-substituted',
    ]);
    expect(await sn.store.pin(KE)).toEqual(forged);
    expect(await sn.store.peerKeys.openAlarms('peer-key-changed', PEER)).toEqual([]);
    expect(rowCounts(w.home).envelopes).toBe(before);
    expect(sn.sent()).toEqual([]);
    // The alarm is raised once; sending stays refused.
    expect((await refusal(sn.trust.authority(KE, true))).code).toBe('KEY_CHANGED');
    expect((await sn.store.alarms()).filter((a) => a.kind === 'master-key-substituted')).toHaveLength(1);
  });

  it('`entraide relay pin` says the copy held under the previous key was dropped; the node opened next reads it again and alarms', async () => {
    const w = await world();
    const snHome = await homeBehind(w, 'sn.moj');
    let sn = await opened(snHome);
    w.evil.impersonatePeer(PEER, forgedPeerLog());
    await sn.trust.authority(KE);
    const forged = (await sn.store.pin(KE))!;
    await closed(sn);

    w.evil.honest();
    const real = w.peer.relay.identity.publicKeyB64;
    const env = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
    // `--` ends the options: a key may begin with '-' (base64url), which would read as one.
    const r = await cli(['--home', snHome, 'relay', 'pin', '--', PEER, real], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `The copy of ${PEER}’s key log held under the previous key (1 entry) was dropped: it will be read again from the start under the key pinned now.`,
    );
    sn = await opened(snHome);
    expect(await sn.store.keyLogHead(PEER)).toBeNull();
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({ source: 'hand', publicKey: real });
    expect((await refusal(sn.send({ to: [KE], subject: 's', body: 'b' }))).code).toBe('KEY_CHANGED');
    expect((await sn.store.alarms()).filter((a) => a.kind === 'master-key-substituted')).toEqual([
      expect.objectContaining({ relay: PEER, authority: KE }),
    ]);
    expect(await sn.store.pin(KE)).toEqual(forged);
    const size = (await sn.store.keyLogHead(PEER))!.size;
    await closed(sn);

    // Pinning the same key again keeps the copy read under it.
    const again = await cli(['--home', snHome, 'relay', 'pin', '--json', '--', PEER, real], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ source: 'hand', droppedLogCopy: null });
    sn = await opened(snHome);
    expect((await sn.store.keyLogHead(PEER))?.size).toBe(size);
  });

  it('a rollover the pinned key signed keeps the copy of the peer’s log: it is not read again', async () => {
    const w = await world();
    const sn = await opened(await homeBehind(w, 'sn.moj'));
    await sn.send({ to: [KE], subject: 'first contact', body: 'pins relay.peer' });
    const oldKey = w.peer.relay.identity.publicKeyB64;
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({ source: 'first-use', publicKey: oldKey });
    const copy = await sn.store.keyLogLeaves(PEER);
    expect(copy.length).toBeGreaterThan(0);

    // The peer relay rotates its key (stopped, rotated, started again at the same address).
    const port = Number(new URL(w.peer.url).port);
    await w.peer.close();
    open.splice(open.indexOf(w.peer), 1);
    const { newKey } = await rotateKey(w.peer.dataDir);
    const peer = await startTestRelay({ domain: PEER, dataDir: w.peer.dataDir, port });
    open.push(peer);
    await waitFor(
      async () => (await w.home.relay.store.listPeers())[0]?.publicKey === newKey,
      10_000,
      `${HOME} to follow ${PEER}'s rollover`,
    );
    const asked = w.evil.requests.length;
    await sn.trust.authority(KE, true);
    expect(await sn.store.peerKeys.get(PEER)).toMatchObject({
      source: 'first-use',
      publicKey: newKey,
      pinnedKey: oldKey,
    });
    const kinds = (await sn.store.alarms()).map((a) => a.kind);
    expect(kinds).toContain('peer-key-rotated');
    expect(kinds).not.toContain('peer-key-log-dropped');
    expect(kinds).not.toContain('master-key-substituted');
    expect(await sn.store.keyLogLeaves(PEER)).toEqual(copy);
    // Nothing of the log was downloaded again from its start.
    expect(w.evil.requests.slice(asked).filter((r) => r.includes('/keylog/entries?start=0'))).toEqual([]);
    const sent = await sn.send({ to: [KE], subject: 'after the rollover', body: 'to the real node' });
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
