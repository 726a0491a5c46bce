/**
 * A relay checks a peer's directory answer before it uses a sender's key (server/federation/remote-keys.ts)
 * with the same shared check, and the same codes, as a node checks its own relay's answer
 * (shared/keys/directory-entry.ts): a genuine answer serves the key; each corruption is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import type { DirectoryEntry } from '../../shared/protocol/key-log.ts';
import type { PeerClient } from '../../server/federation/peer-client.ts';
import type { Peer } from '../../server/federation/peers.ts';
import { RemoteKeys } from '../../server/federation/remote-keys.ts';
import { enrolNode, startTestRelay, type TestRelay } from '../support/fixtures.ts';

const SN = 'sn.moj@relay.home';
const KE = 'ke.ag@relay.home';
let home: TestRelay;
let sn: DirectoryEntry;
let ke: DirectoryEntry;
let peer: Peer;

beforeAll(async () => {
  home = await startTestRelay({ domain: 'relay.home' });
  for (const id of ['sn.moj', 'ke.ag']) await (await enrolNode(home, id)).close();
  sn = home.relay.ctx.keyLog.directoryEntry(SN);
  ke = home.relay.ctx.keyLog.directoryEntry(KE);
  // RemoteKeys reads only the peer's domain and pinned key.
  peer = { domain: 'relay.home', keyBytes: home.relay.identity.publicKey } as Peer;
});
afterAll(async () => {
  await home?.close();
});

/** A relay whose peer answers every directory request with `answer`. */
function keysServedBy(answer: unknown): RemoteKeys {
  const client = { request: () => Promise.resolve(structuredClone(answer)) } as unknown as PeerClient;
  return new RemoteKeys(client);
}

async function refusal(answer: unknown, authority = SN): Promise<EntraideError> {
  const err = await keysServedBy(answer)
    .identityKey(peer, authority, `desk1/${authority}`)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(EntraideError);
  return err as EntraideError;
}

describe('a peer’s directory answer', () => {
  it('serves the sender’s identity key when its proofs check', async () => {
    const key = await keysServedBy(sn).identityKey(peer, SN, `desk1/${SN}`);
    expect(key).toHaveLength(32);
  });

  it.each<[string, () => unknown, ErrorCode, RegExp]>([
    [
      'an answer for another authority',
      () => ({ ...ke }),
      'KEYLOG_INCONSISTENT',
      /answered for ke\.ag@relay\.home when asked for sn\.moj@relay\.home/,
    ],
    [
      'an event of another authority',
      () => ({ ...sn, events: [...sn.events, ke.events[0]!] }),
      'KEYLOG_INCONSISTENT',
      /includes an event of ke\.ag@relay\.home/,
    ],
    [
      'an inclusion proof with a flipped bit',
      () => {
        const [first, ...rest] = sn.events;
        const proof = fromBase64url(first!.proof[0]!, 'proof', 32);
        proof[0]! ^= 1;
        return {
          ...sn,
          events: [{ ...first!, proof: [toBase64url(proof), ...first!.proof.slice(1)] }, ...rest],
        };
      },
      'PROOF_INVALID',
      /./,
    ],
    [
      'an event at another index',
      () => ({ ...sn, events: sn.events.map((e) => ({ ...e, index: e.index + 1 })) }),
      'PROOF_INVALID',
      /./,
    ],
  ])('refuses %s', async (_what, forge, code, message) => {
    const err = await refusal(forge());
    expect({ code: err.code, message: err.message }).toEqual({
      code,
      message: expect.stringMatching(message),
    });
  });

  it('refuses a head not signed by the peer’s pinned key', async () => {
    const other = { ...peer, keyBytes: new Uint8Array(32).fill(7) } as Peer;
    const err = await keysServedBy(sn)
      .identityKey(other, SN, `desk1/${SN}`)
      .then(
        () => undefined,
        (e: unknown) => e as EntraideError,
      );
    expect(err?.code).toBe('PROOF_INVALID');
  });
});
