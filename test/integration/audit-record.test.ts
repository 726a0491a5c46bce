/**
 * A node's own record set against its relay's audit log (`audit reconcile --record`), across two
 * federated relays: what the node sent was accepted, what it received was delivered to it, and
 * each receipt it holds matches a delivery to the node that signed it. The node's identity key
 * comes from the relay's key log, not from the file; a record altered, signed by another key or
 * claiming what the relay never saw, and a relay that accepts in a node's name, are each caught.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditorClient, createAuditor, readAuditor } from '../../client/audit/auditor.ts';
import {
  provenIdentityKey,
  reconcileRecord,
  recordDifferences,
  type RecordExport,
} from '../../client/audit/record-reconcile.ts';
import type { AuthorityNode } from '../../client/node.ts';
import { exportRecord, recordEvents } from '../../client/record.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { signNodeRecordHead, type NodeRecordHead } from '../../shared/audit/node-record.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { uuidv7 } from '../../shared/uuid.ts';
import { random } from '../../client/random.ts';
import { enrolNode, tempDir, type TestRelay, startPeeredRelays } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

const fast = { baseDelayMs: 50, maxDelayMs: 400, pollMs: 100, timeoutMs: 2_000 };
const PASS = 'auditor passphrase';

describe('a node’s record against its relay’s audit log', () => {
  let a: TestRelay;
  let b: TestRelay;
  let sn: AuthorityNode;
  let ke: AuthorityNode;
  const home = tempDir('entraide-auditor-');
  let atA: AuditorClient;
  let atB: AuditorClient;
  const sent: string[] = [];

  beforeAll(async () => {
    [a, b] = await startPeeredRelays(['relay.a.test', 'relay.b.test'], { outbox: fast });
    sn = await enrolNode(a, 'sn.moj');
    ke = await enrolNode(b, 'ke.ag');
    for (let i = 0; i < 3; i++)
      sent.push((await sn.send({ to: [ke.authority], subject: `to ke ${i}`, body: 'b' })).id);
    await waitFor(
      async () => {
        await ke.fetchInbox();
        return ke.inbox().length >= 3;
      },
      15_000,
      'messages at Kenya',
    );
    await ke.receipts.flush();
    await waitFor(
      async () => {
        await sn.fetchInbox();
        return recordEvents(sn).filter((e) => e.kind === 'receipt').length >= 3;
      },
      15_000,
      'Kenya’s receipts at Senegal',
    );
    for (const r of [a, b]) {
      const creds = await createAuditor(home, { name: 'alice', relayUrl: r.url, passphrase: PASS });
      await r.relay.store.addAuditor('alice', creds.publicKey, new Date());
    }
    atA = new AuditorClient(readAuditor(home, PASS, a.url));
    atB = new AuditorClient(readAuditor(home, PASS, b.url));
  });
  afterAll(async () => {
    await sn?.close();
    await ke?.close();
    await a?.close();
    await b?.close();
  });

  /** Waits until the deliveries reported across the federation have reached the sender's relay. */
  async function settled(client: AuditorClient, node: AuthorityNode) {
    let last = await reconcileRecord(client, exportRecord(node));
    await waitFor(
      async () => {
        last = await reconcileRecord(client, exportRecord(node));
        return recordDifferences(last) === 0;
      },
      15_000,
      `the record of ${node.address} to agree with its relay`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(last)}`);
    });
    return last;
  }

  it('takes the node’s identity key from the relay’s key log', async () => {
    const key = await provenIdentityKey(atA, sn.address);
    expect(toBase64url(key)).toBe(sn.keys.identityPublicKey);
    await expect(provenIdentityKey(atA, 'desk9/sn.moj@relay.a.test')).rejects.toMatchObject({
      code: 'UNKNOWN_AUTHORITY',
    });
    // A node of another relay is not in this relay's key log.
    await expect(provenIdentityKey(atA, ke.address)).rejects.toMatchObject({ code: 'UNKNOWN_AUTHORITY' });
  });

  it('matches what each node sent, received and holds receipts for', async () => {
    const s = await settled(atA, sn);
    expect(s.record.problem).toBeNull();
    expect(s.matched.sent).toBeGreaterThanOrEqual(3);
    // Kenya's delivered receipts (and read receipts, none here) match deliveries B reported to A.
    expect(s.matched.receipts).toBeGreaterThanOrEqual(3);
    const k = await settled(atB, ke);
    expect(k.matched.received).toBeGreaterThanOrEqual(3);
    expect(k.matched.sent).toBeGreaterThanOrEqual(1); // the envelope carrying the receipts
  });

  it('catches an entry altered in the exported file', async () => {
    const x = exportRecord(sn);
    const i = x.entries.findIndex((e) => e.includes('"sent"'));
    x.entries[i] = x.entries[i]!.replace('"sent"', '"opened"');
    const r = await reconcileRecord(atA, x);
    expect(r.record.problem?.index).toBeLessThanOrEqual(i);
    expect(recordDifferences(r)).toBe(0); // nothing is compared against a record that does not verify
  });

  it('refuses a record whose heads another key signed', async () => {
    const x = exportRecord(sn);
    const other = generateSigningKeyPair(random);
    const forged: RecordExport = {
      ...x,
      identityKey: toBase64url(other.publicKey),
      heads: x.heads.map((h: NodeRecordHead): NodeRecordHead =>
        signNodeRecordHead(
          {
            node: h.node,
            size: h.size,
            root: Uint8Array.from(Buffer.from(h.root, 'base64url')),
            timestamp: new Date(h.timestamp),
          },
          other.secretKey,
        ),
      ),
    };
    const r = await reconcileRecord(atA, forged);
    expect(r.record.problem?.message).toMatch(/not signed by/);
  });

  it('shows what the node recorded as sent that the relay never accepted', async () => {
    const ghost = uuidv7(Date.now(), random(10));
    sn.store.record.transaction(() =>
      sn.store.record.append({
        kind: 'sent',
        envelope: ghost,
        item: 'message',
        counterparts: [ke.authority],
      }),
    );
    const r = await reconcileRecord(atA, exportRecord(sn));
    expect(r.record.problem).toBeNull();
    expect(r.sentNotAccepted).toEqual([ghost]);
  });

  it('shows an acceptance the relay logged in the node’s name that the node never made', async () => {
    const forged = uuidv7(Date.now(), random(10));
    a.relay.store.audit.transaction(() =>
      a.relay.store.audit.append({
        kind: 'accepted',
        envelope: forged,
        sender: sn.address,
        recipients: [ke.authority],
        size: 100,
      }),
    );
    const r = await reconcileRecord(atA, exportRecord(sn));
    expect(r.acceptedNotSent).toEqual([forged]);
  });

  it('shows a receipt the node holds from a node the log never delivered to', async () => {
    sn.store.record.transaction(() =>
      sn.store.record.append({
        kind: 'receipt',
        envelope: sent[0]!,
        receipt: { kind: 'delivered', node: 'desk7/ke.ag@relay.b.test' },
      }),
    );
    const r = await reconcileRecord(atA, exportRecord(sn));
    expect(r.receiptWithoutDelivery).toEqual([{ envelope: sent[0], node: 'desk7/ke.ag@relay.b.test' }]);
  });

  it('refuses a file that is not a record', async () => {
    await expect(reconcileRecord(atA, { v: 1, type: 'something else' })).rejects.toMatchObject({
      code: 'SCHEMA_INVALID',
    });
  });
});
