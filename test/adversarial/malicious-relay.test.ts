/**
 * A relay operator who rewrites the directory (a malicious relay): the node pins each counterpart's
 * master key on first use and refuses to send when it changes, and never encrypts to a node whose
 * certificate the pinned key did not sign.
 */
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthorityNode } from '../../client/node.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { issueNodeCertificate } from '../../shared/crypto/certificates.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { NodeCertificate } from '../../shared/protocol/schemas.ts';
import { enrolNode, PASSPHRASE, startTestRelay, type TestRelay } from '../support/fixtures.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

/** What the relay's operator can do with its own database: replace an authority's keys wholesale. */
function swapAuthorityKeys(relay: TestRelay, authority: string): void {
  const db = relay.relay.store.db;
  const master = generateSigningKeyPair(random);
  const rows = db.prepare('SELECT address, certificate FROM "Node" WHERE authority = ?').all(authority) as {
    address: string;
    certificate: string;
  }[];
  db.prepare('UPDATE "Authority" SET masterKey = ? WHERE address = ?').run(
    toBase64url(master.publicKey),
    authority,
  );
  for (const row of rows) {
    const old = JSON.parse(row.certificate) as NodeCertificate;
    const forged = issueNodeCertificate(
      {
        authority,
        node: row.address,
        identityKey: generateSigningKeyPair(random).publicKey,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        encKeyNotAfter: new Date(old.encKeyNotAfter),
        issuedAt: new Date(),
      },
      master.secretKey,
    );
    db.prepare('UPDATE "Node" SET certificate = ? WHERE address = ?').run(
      JSON.stringify(forged),
      row.address,
    );
  }
}

async function reopen(node: AuthorityNode): Promise<AuthorityNode> {
  const home = dirname(node.store.db.name);
  await node.close();
  const again = await AuthorityNode.open(home, PASSPHRASE);
  open.push(again);
  return again;
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

describe('a malicious relay', () => {
  it('cannot swap a counterpart’s master key: sending is refused, nothing leaves the node', async () => {
    const relay = await startTestRelay();
    open.push(relay);
    let sn = await enrolNode(relay, 'sn.moj');
    const ke = await enrolNode(relay, 'ke.ag');
    open.push(ke);
    await sn.send({ to: [ke.authority], subject: 'first contact', body: 'pins ke.ag' });
    const pinned = await sn.fingerprint(ke.authority);

    swapAuthorityKeys(relay, ke.authority);
    sn = await reopen(sn); // no cached directory entry
    const before = relay.relay.store.db.prepare('SELECT count(*) AS n FROM "Envelope"').get() as {
      n: number;
    };
    const err = await refusal(sn.send({ to: [ke.authority], subject: 'second', body: 'must not be sent' }));
    expect(err.code).toBe('KEY_CHANGED');
    expect(err.message).toContain(pinned.safetyCode);
    expect(relay.relay.store.db.prepare('SELECT count(*) AS n FROM "Envelope"').get()).toEqual(before);
    expect(sn.sent().map((m) => m.subject)).toEqual(['first contact']);
    // The pin itself is unchanged.
    expect((await sn.fingerprint(ke.authority)).safetyCode).toBe(pinned.safetyCode);
  });

  it('cannot make a node accept mail under a swapped key: it is recorded as rejected', async () => {
    const relay = await startTestRelay();
    open.push(relay);
    const sn = await enrolNode(relay, 'sn.moj');
    open.push(sn);
    let ke = await enrolNode(relay, 'ke.ag');
    await sn.send({ to: [ke.authority], subject: 'pins sn', body: 'first' });
    expect(await ke.fetchInbox()).toHaveLength(1);
    await sn.send({ to: [ke.authority], subject: 'after the swap', body: 'second' });
    swapAuthorityKeys(relay, sn.authority);
    ke = await reopen(ke);
    const outcomes = await ke.fetchInbox();
    expect(outcomes).toEqual([
      expect.objectContaining({
        kind: 'rejected',
        rejection: expect.objectContaining({ code: 'KEY_CHANGED' }),
      }),
    ]);
    expect(ke.inbox().map((m) => m.subject)).toEqual(['pins sn']);
  });

  it('cannot add a node to an authority: a certificate the pinned key did not sign is never used', async () => {
    const relay = await startTestRelay();
    open.push(relay);
    let sn = await enrolNode(relay, 'sn.moj');
    const ke = await enrolNode(relay, 'ke.ag');
    open.push(ke);
    await sn.send({ to: [ke.authority], subject: 'pins ke', body: 'first' });
    // The relay slips in a node of its own under ke.ag, certified by a key it made up.
    const rogue = generateSigningKeyPair(random);
    const cert = issueNodeCertificate(
      {
        authority: ke.authority,
        node: `rogue/${ke.authority}`,
        identityKey: generateSigningKeyPair(random).publicKey,
        encryptionKey: generateEncryptionKeyPair(random).publicKey,
        encKeyNotAfter: new Date(Date.now() + 86_400_000),
        issuedAt: new Date(),
      },
      rogue.secretKey,
    );
    relay.relay.store.db
      .prepare(
        'INSERT INTO "Node" (address, authority, identityKey, certificate, createdAt) VALUES (?, ?, ?, ?, ?)',
      )
      .run(cert.node, ke.authority, cert.identityKey, JSON.stringify(cert), new Date().toISOString());
    relay.relay.ctx.directory.add({
      address: cert.node,
      authority: ke.authority,
      identityKey: cert.identityKey,
      revokedAt: null,
    });
    sn = await reopen(sn);
    const sent = await sn.send({ to: [ke.authority], subject: 'second', body: 'only for the real node' });
    expect(sent.recipients).toEqual([ke.address]);
    const trusted = await sn.trust.authority(ke.authority, true);
    expect(trusted.refused).toEqual([expect.objectContaining({ node: cert.node })]);
  });
});
