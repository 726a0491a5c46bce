/**
 * Several nodes per authority, rotation, revocation, backup and the key log, end to end on a real
 * relay with real nodes: the scenario an authority lives through.
 */
import { issueJoinTicket } from '../../client/join-tickets.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeJoin, requestToJoin } from '../../client/join.ts';
import {
  approveJoin,
  keyHistory,
  listNodes,
  purgeKeys,
  revoke,
  rotateEncryptionKey,
  rotateMaster,
  verifySafetyCode,
} from '../../client/key-manager.ts';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { rotateMasterKey } from '../../shared/keys/statements.ts';
import { exportKeys, importKeys } from '../../client/restore.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { random } from '../support/random.ts';
import { join } from 'node:path';

let relay: TestRelay;
let sn1: AuthorityNode;
let ke: AuthorityNode;
const opened: AuthorityNode[] = [];

async function joinAndApprove(name: string, approver: AuthorityNode): Promise<AuthorityNode> {
  const home = tempDir('entraide-join-');
  const joined = await requestToJoin({
    home,
    relayUrl: relay.url,
    authorityId: 'sn.moj',
    nodeName: name,
    ticket: (await issueJoinTicket(approver, name)).ticket,
    passphrase: PASSPHRASE,
  });
  const node = await AuthorityNode.open(home, PASSPHRASE);
  opened.push(node);
  await expect(completeJoin(node)).rejects.toMatchObject({ code: 'NOT_APPROVED' });
  await approveJoin(approver, joined.code.toLowerCase().replace(/-/g, ' '));
  const { safetyCode } = await completeJoin(node);
  expect(safetyCode).toBe((await approver.fingerprint()).safetyCode);
  await expect(approveJoin(approver, joined.code)).rejects.toMatchObject({
    code: 'NODE_EXISTS',
    message: expect.stringContaining('already approved') as string,
  });
  return node;
}

beforeAll(async () => {
  relay = await startTestRelay();
  sn1 = await enrolNode(relay, 'sn.moj', 'desk1');
  ke = await enrolNode(relay, 'ke.ag', 'desk1');
  opened.push(sn1, ke);
});

afterAll(async () => {
  for (const n of opened) await n.close().catch(() => undefined);
  await relay?.close();
});

describe('an authority with several nodes', () => {
  let sn2: AuthorityNode;
  let sn3: AuthorityNode;

  it('adds nodes through a join code approved with the master key', async () => {
    sn2 = await joinAndApprove('desk2', sn1);
    sn3 = await joinAndApprove('desk3', sn1);
    const list = await listNodes(sn1);
    expect(list.map((n) => [n.node, n.state])).toEqual([
      ['desk1/sn.moj@relay.test', 'active'],
      ['desk2/sn.moj@relay.test', 'active'],
      ['desk3/sn.moj@relay.test', 'active'],
    ]);
  });

  it('a counterpart encrypts to all three nodes, and each one reads the message', async () => {
    const sent = await ke.send({
      to: ['sn.moj@relay.test'],
      subject: 'for every desk',
      body: 'MLA request 42',
    });
    expect(sent.recipients.sort()).toEqual([
      'desk1/sn.moj@relay.test',
      'desk2/sn.moj@relay.test',
      'desk3/sn.moj@relay.test',
    ]);
    for (const n of [sn1, sn2, sn3]) {
      const got = await n.fetchInbox();
      expect(got.map((o) => o.kind === 'message' && o.message.body)).toEqual(['MLA request 42']);
    }
  });

  it('a joined node sends, and the other nodes of its authority get a copy', async () => {
    const sent = await sn2.send({ to: ['ke.ag@relay.test'], subject: 'answer', body: 'executed' });
    expect(sent.recipients.sort()).toEqual([
      'desk1/ke.ag@relay.test',
      'desk1/sn.moj@relay.test',
      'desk3/sn.moj@relay.test',
    ]);
    for (const n of [ke, sn1, sn3]) {
      const got = await n.fetchInbox();
      expect(got.map((o) => o.kind === 'message' && o.message.sender)).toEqual(['desk2/sn.moj@relay.test']);
    }
  });

  it('rotates an encryption key: old mail still opens, new mail uses the new key', async () => {
    const before = await ke.send({ to: ['sn.moj@relay.test'], subject: 'before rotation', body: 'old key' });
    const r = await rotateEncryptionKey(sn3);
    ke.trust.forget();
    const after = await ke.send({ to: ['sn.moj@relay.test'], subject: 'after rotation', body: 'new key' });
    const got = await sn3.fetchInbox();
    expect(got.map((o) => o.kind === 'message' && o.message.id).sort()).toEqual([before.id, after.id].sort());
    const state = (await ke.trust.authority('sn.moj@relay.test', true)).state;
    expect(state.nodes.get(sn3.address)!.encryptionKeys.length).toBe(2);
    expect(r.keyId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await sn1.fetchInbox();
    await sn2.fetchInbox();
  });

  it('revokes a node: it cannot log in, is no longer encrypted to, and its socket is closed', async () => {
    const errors: string[] = [];
    await sn3.listen({ onError: (e) => errors.push(e.code) });
    await revoke(sn1, 'desk3', 'laptop lost');
    await waitFor(() => errors.includes('NODE_REVOKED'), 5_000, 'the revoked node’s socket to close');
    ke.trust.forget();
    const sent = await ke.send({
      to: ['sn.moj@relay.test'],
      subject: 'after revocation',
      body: 'not for desk3',
    });
    expect(sent.recipients).not.toContain(sn3.address);
    sn3.stopListening();
    // Its login is refused like an unknown node's: a revoked node is not told apart at login.
    await expect(sn3.fetchInbox()).rejects.toMatchObject({ code: 'CHALLENGE_INVALID' });
    await sn1.fetchInbox();
    await sn2.fetchInbox();
  });

  it('rotates the master key; the counterpart follows the signed rotation and sees a new safety code', async () => {
    const before = (await ke.fingerprint('sn.moj@relay.test')).safetyCode;
    const r = await rotateMaster(sn1);
    expect(r.safetyCode).not.toBe(before);
    ke.trust.forget();
    const after = await ke.fingerprint('sn.moj@relay.test');
    expect(after.safetyCode).toBe(r.safetyCode);
    await ke.send({ to: ['sn.moj@relay.test'], subject: 'after master rotation', body: 'still trusted' });
    // The rotated master key still approves nodes.
    const sn4 = await joinAndApprove('desk4', sn1);
    expect(sn4.approved).toBe(true);
  });

  it('shows every step in the key log, each proven', async () => {
    const h = await keyHistory(ke, 'sn.moj@relay.test');
    expect(h.events.every((e) => e.accepted)).toBe(true);
    expect(h.events.map((e) => e.type)).toEqual([
      'authority-enrolled',
      'node-certified',
      'node-certified',
      'node-certified',
      'encryption-key-rotated',
      'node-revoked',
      'master-key-rotated',
      'node-certified',
    ]);
    await expect(verifySafetyCode(ke, 'sn.moj@relay.test', '00000 '.repeat(8))).rejects.toMatchObject({
      code: 'SAFETY_CODE_MISMATCH',
    });
    const ok = await verifySafetyCode(ke, 'sn.moj@relay.test', h.safetyCode);
    expect(ok.verifiedAt).toBeTruthy();
  });

  it('restores the master key from a backup onto a new node that replaces a lost one', async () => {
    const file = join(tempDir('entraide-backup-'), 'sn.backup');
    exportKeys(sn1, file, PASSPHRASE, { opslimit: 2, memlimit: 64 * 1024 * 1024 });
    const home = tempDir('entraide-restored-');
    await expect(
      importKeys({ home: tempDir('x-'), file, passphrase: 'wrong passphrase' }),
    ).rejects.toMatchObject({
      code: 'PASSPHRASE_WRONG',
    });
    const r = await importKeys({ home, file, passphrase: PASSPHRASE, asNode: 'desk5' });
    expect(r.restored).toBe('new-node');
    const sn5 = await AuthorityNode.open(home, PASSPHRASE);
    opened.push(sn5);
    await revoke(sn5, 'desk1', 'replaced by desk5');
    ke.trust.forget();
    const sent = await ke.send({
      to: ['sn.moj@relay.test'],
      subject: 'to the new desk',
      body: 'hello desk5',
    });
    expect(sent.recipients).toContain('desk5/sn.moj@relay.test');
    expect(sent.recipients).not.toContain('desk1/sn.moj@relay.test');
    const got = await sn5.fetchInbox();
    expect(got.map((o) => o.kind === 'message' && o.message.body)).toContain('hello desk5');
    expect((await sn5.fingerprint()).safetyCode).toBe((await ke.fingerprint('sn.moj@relay.test')).safetyCode);
  });
});

describe('crash between saving a key and publishing it', () => {
  it('publishes a saved encryption key on the next run, and a pending master key too', async () => {
    const home = tempDir('entraide-crash-');
    const relayUrl = relay.url;
    await initNode({
      home,
      relayUrl,
      invite: await invite(relay, 'ml.moj'),
      authorityId: 'ml.moj',
      nodeName: 'desk1',
      passphrase: PASSPHRASE,
    });
    let ml = await AuthorityNode.open(home, PASSPHRASE);
    // What a crash right after the keystore write leaves: a new key that the relay never saw.
    const pair = generateEncryptionKeyPair(random);
    const now = new Date();
    const next = generateSigningKeyPair(random);
    const masterSecret = fromBase64url(ml.keys.masterSecretKey!, 'm', 64);
    ml.keystore.save({
      ...ml.keys,
      encryptionKeys: [
        {
          publicKey: toBase64url(pair.publicKey),
          secretKey: toBase64url(pair.secretKey),
          createdAt: now.toISOString(),
          notAfter: new Date(now.getTime() + 60 * 86_400_000).toISOString(),
          publishedAt: null,
        },
        ...ml.keys.encryptionKeys,
      ],
      pendingMaster: {
        secretKey: toBase64url(next.secretKey),
        rotation: rotateMasterKey(
          { authority: ml.authority, issuedAt: now },
          { publicKey: masterSecret.slice(32), secretKey: masterSecret },
          next,
        ),
      },
    });
    await ml.close();
    ml = await AuthorityNode.open(home, PASSPHRASE);
    opened.push(ml);
    await ml.fetchInbox(); // any work with the relay finishes what the crash interrupted
    expect(ml.keys.encryptionKeys[0]!.publishedAt).not.toBeNull();
    expect(ml.keys.pendingMaster).toBeUndefined();
    expect(ml.keys.masterPublicKey).toBe(toBase64url(next.publicKey));
    ke.trust.forget();
    const state = (await ke.trust.authority('ml.moj@relay.test', true)).state;
    expect(state.masterKeys[0]!.key).toBe(toBase64url(next.publicKey));
    expect(state.nodes.get(ml.address)!.encryptionKeys[0]!.key).toBe(toBase64url(pair.publicKey));
    const sent = await ke.send({
      to: ['ml.moj@relay.test'],
      subject: 'after the crash',
      body: 'opens with the new key',
    });
    const got = await ml.fetchInbox();
    expect(got.map((o) => o.kind === 'message' && o.message.id)).toEqual([sent.id]);
  });
});

describe('rotation by age and purging', () => {
  it('rotates a key older than the period by itself, keeps the old one until purged', async () => {
    const gh = await enrolNode(relay, 'gh.moj');
    opened.push(gh);
    const old = gh.keys.encryptionKeys[0]!;
    const aged = new Date(Date.now() - 31 * 86_400_000).toISOString();
    gh.keystore.save({ ...gh.keys, encryptionKeys: [{ ...old, createdAt: aged }] });
    const before = await ke.send({ to: ['gh.moj@relay.test'], subject: 'to the old key', body: 'one' });
    await gh.fetchInbox(); // finds the key too old: rotates, then fetches
    expect(gh.keys.encryptionKeys).toHaveLength(2);
    expect(gh.keys.encryptionKeys[1]!.publicKey).toBe(old.publicKey);
    ke.trust.forget();
    const after = await ke.send({ to: ['gh.moj@relay.test'], subject: 'to the new key', body: 'two' });
    const got = await gh.fetchInbox();
    expect(got.map((o) => o.kind === 'message' && o.message.id)).toEqual([after.id]);
    expect(gh.read(before.id).body).toBe('one');

    // Purging destroys the old private key; the current one stays.
    expect(purgeKeys(gh, new Date(Date.now() - 86_400_000)).purged).toEqual([]);
    const r = purgeKeys(gh, new Date(Date.now() + 60_000));
    expect(r).toMatchObject({ kept: 1 });
    expect(r.purged).toHaveLength(1);
    expect(gh.keys.encryptionKeys[1]!.secretKey).toBeNull();
    expect(gh.keys.encryptionKeys[0]!.secretKey).not.toBeNull();
  });
});
