/**
 * The operator's actions on a relay (server/admin.ts), run on the data folder of a relay that is
 * running, as an operator runs them: each action, and each refusal with its code and nothing
 * stored (the refusal shape of test/support/refusals.ts, extended to the tables an operator writes).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import {
  addAuditor,
  addPeer,
  inviteAuthority,
  listAuditors,
  listPeers,
  relayCard,
  removeAuditor,
  removePeer,
} from '../../server/admin.ts';
import { hashInvitation } from '../../server/domain/enrolment.ts';
import { recordRelayUrl } from '../../server/identity.ts';
import { startTestRelay, tempDir, type TestRelay } from '../support/fixtures.ts';
import { rowCounts } from '../support/refusals.ts';

let relay: TestRelay;
let dir: string;
const key = () => toBase64url(randomBytes(32));

beforeAll(async () => {
  relay = await startTestRelay({ domain: 'relay.test' });
  dir = relay.dataDir;
});
afterAll(async () => {
  await relay?.close();
});

/** Every relay table a refusal must leave alone: the shared counts, and the operator's tables row by row. */
function stored() {
  const db = relay.relay.store.db;
  const all = (sql: string): unknown[] => db.prepare(sql).all();
  return {
    ...rowCounts(relay),
    invitations: all('SELECT * FROM "Invitation" ORDER BY codeHash'),
    peers: all('SELECT * FROM "Peer" ORDER BY domain'),
    auditors: all('SELECT * FROM "Auditor" ORDER BY name'),
  };
}

/** The action fails with `code` (and a message matching `message`), and no table changed. */
async function refused(action: () => Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  const before = stored();
  const err = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EntraideError);
  expect.soft((err as EntraideError).code).toBe(code);
  if (message) expect.soft((err as EntraideError).message).toMatch(message);
  expect(stored()).toEqual(before);
}

describe('relay card', () => {
  it('gives the domain, the public key, and the URL once the relay recorded one', async () => {
    expect(await relayCard(dir)).toEqual({
      domain: 'relay.test',
      url: null,
      publicKey: relay.relay.identity.publicKeyB64,
    });
    recordRelayUrl(dir, relay.url);
    expect((await relayCard(dir)).url).toBe(relay.url);
  });
});

describe('a folder that holds no relay', () => {
  it('is refused by every action (RELAY_DATA_MISSING), and nothing is created in it', async () => {
    const empty = tempDir('entraide-admin-empty-');
    const actions: (() => Promise<unknown>)[] = [
      () => relayCard(empty),
      () => inviteAuthority(empty, 'sn.moj'),
      () => addPeer(empty, { domain: 'relay.peer.example', url: 'http://127.0.0.1:1', publicKey: key() }),
      () => removePeer(empty, 'relay.peer.example'),
      () => listPeers(empty),
      () => addAuditor(empty, 'alice', key()),
      () => removeAuditor(empty, 'alice'),
      () => listAuditors(empty),
    ];
    for (const action of actions) await refused(action, 'RELAY_DATA_MISSING', /no relay in /);
    await refused(() => listPeers(join(empty, 'nowhere')), 'RELAY_DATA_MISSING', /no relay in /);
    expect(readdirSync(empty)).toEqual([]);
    expect(existsSync(join(empty, 'relay.db'))).toBe(false);
  });
});

describe('invitations', () => {
  it('stores only the hash of a one-time code for the authority, valid 24 h', async () => {
    const before = stored().invitations.length;
    const now = new Date('2030-01-01T00:00:00.000Z');
    const inv = await inviteAuthority(dir, 'sn.moj', now);
    expect(inv.authority).toBe('sn.moj@relay.test');
    expect(inv.expiresAt.toISOString()).toBe('2030-01-02T00:00:00.000Z');
    expect(inv.code).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const rows = stored().invitations as { codeHash: string; authorityId: string }[];
    expect(rows).toHaveLength(before + 1);
    expect(rows).toContainEqual(
      expect.objectContaining({ codeHash: hashInvitation(inv.code), authorityId: 'sn.moj' }),
    );
    expect(JSON.stringify(rows)).not.toContain(inv.code);
  });

  it.each(['SN.MOJ', 'sn moj', '', 'sn.moj@relay.test'])(
    'refuses the authority id "%s": ADDRESS_INVALID',
    async (id) => {
      await refused(() => inviteAuthority(dir, id), 'ADDRESS_INVALID', /not a valid authority id/);
    },
  );
});

describe('peers', () => {
  const peerKey = key();

  it('adds a peer, which the running relay then knows', async () => {
    const own = await addPeer(dir, {
      domain: 'relay.peer.example',
      url: 'http://127.0.0.1:9',
      publicKey: peerKey,
    });
    expect(own).toBe('relay.test');
    expect(await listPeers(dir)).toEqual([
      {
        domain: 'relay.peer.example',
        url: 'http://127.0.0.1:9',
        publicKey: peerKey,
        reachable: false,
        queued: 0,
        lastSuccessAt: null,
        lastError: null,
        lastErrorAt: null,
        keyLogSize: null,
        alarm: null,
        alarmAt: null,
      },
    ]);
    const known = await relay.relay.ctx.federation.peers.find('relay.peer.example');
    expect(known?.publicKey).toBe(peerKey);
  });

  it('updates the URL and key of a peer added again, keeping one row', async () => {
    const newKey = key();
    await addPeer(dir, { domain: 'relay.peer.example', url: 'https://peer.example:8443', publicKey: newKey });
    const peers = await listPeers(dir);
    expect(peers).toHaveLength(1);
    expect(peers[0]).toMatchObject({ url: 'https://peer.example:8443', publicKey: newKey });
  });

  it('lists peers by domain', async () => {
    await addPeer(dir, { domain: 'a.peer.example', url: 'http://127.0.0.1:10', publicKey: key() });
    expect((await listPeers(dir)).map((p) => p.domain)).toEqual(['a.peer.example', 'relay.peer.example']);
  });

  const good = { domain: 'b.peer.example', url: 'http://127.0.0.1:11', publicKey: key() };
  it.each<[string, Partial<typeof good>, ErrorCode, RegExp]>([
    ['a bad domain', { domain: 'not a domain' }, 'ADDRESS_INVALID', /not a valid relay domain/],
    ['an empty domain', { domain: '' }, 'ADDRESS_INVALID', /not a valid relay domain/],
    ['a URL without a scheme', { url: 'relay.example' }, 'USAGE', /--url must be the URL of a relay/],
    ['a URL that is not http(s)', { url: 'ftp://relay.example' }, 'USAGE', /--url must be an https:\/\/ URL/],
    ['a URL with a password', { url: 'https://op:pw@relay.example' }, 'USAGE', /user name or password/],
    ['plain http to an address off loopback', { url: 'http://192.0.2.1:7800' }, 'INSECURE_URL', /plain http/],
    ['plain http to a name off loopback', { url: 'http://relay.example' }, 'INSECURE_URL', /plain http/],
    ['a key that is not base64url', { publicKey: 'not a key!' }, 'USAGE', /--key must be/],
    ['a key of the wrong length', { publicKey: toBase64url(randomBytes(31)) }, 'USAGE', /--key must be/],
    ['its own domain', { domain: 'relay.test' }, 'USAGE', /a relay is not its own peer/],
  ])('refuses %s', async (_what, change, code, message) => {
    await refused(() => addPeer(dir, { ...good, ...change }), code, message);
  });

  it('refuses its own domain even with its own URL and key', async () => {
    await refused(
      () =>
        addPeer(dir, { domain: 'relay.test', url: relay.url, publicKey: relay.relay.identity.publicKeyB64 }),
      'USAGE',
      /a relay is not its own peer/,
    );
  });

  it('removes a peer', async () => {
    await removePeer(dir, 'a.peer.example');
    expect((await listPeers(dir)).map((p) => p.domain)).toEqual(['relay.peer.example']);
  });

  it('refuses to remove a domain that is not a peer: NOT_FOUND', async () => {
    await refused(() => removePeer(dir, 'a.peer.example'), 'NOT_FOUND', /is not a peer of this relay/);
    await refused(() => removePeer(dir, 'never.peer.example'), 'NOT_FOUND', /is not a peer of this relay/);
  });

  it('refuses to remove a malformed domain: ADDRESS_INVALID', async () => {
    await refused(() => removePeer(dir, 'not a domain'), 'ADDRESS_INVALID', /not a valid relay domain/);
  });
});

describe('auditors', () => {
  const aliceKey = key();

  it('adds an auditor, listed as active', async () => {
    expect(await addAuditor(dir, 'alice', aliceKey)).toBe('relay.test');
    expect(await listAuditors(dir)).toEqual([
      { name: 'alice', publicKey: aliceKey, addedAt: expect.any(Date), removedAt: null },
    ]);
  });

  it('removes an auditor, still listed with the time of removal', async () => {
    const at = new Date('2030-01-01T00:00:00.000Z');
    await removeAuditor(dir, 'alice', at);
    expect(await listAuditors(dir)).toEqual([expect.objectContaining({ name: 'alice', removedAt: at })]);
  });

  it('refuses to remove an auditor again, or one that never was: NOT_FOUND', async () => {
    await refused(() => removeAuditor(dir, 'alice'), 'NOT_FOUND', /alice is not an auditor of this relay/);
    await refused(() => removeAuditor(dir, 'bob'), 'NOT_FOUND', /bob is not an auditor of this relay/);
  });

  it('gives a removed auditor access again, with a new key', async () => {
    const newKey = key();
    await addAuditor(dir, 'alice', newKey);
    expect(await listAuditors(dir)).toEqual([
      expect.objectContaining({ publicKey: newKey, removedAt: null }),
    ]);
  });

  it('lists auditors by name', async () => {
    await addAuditor(dir, 'bob', key());
    expect((await listAuditors(dir)).map((a) => a.name)).toEqual(['alice', 'bob']);
  });

  it.each(['Alice', 'alice smith', '', '-alice', 'a'.repeat(33)])(
    'refuses the auditor name "%s": SCHEMA_INVALID',
    async (name) => {
      await refused(() => addAuditor(dir, name, key()), 'SCHEMA_INVALID', /auditor name/);
      await refused(() => removeAuditor(dir, name), 'SCHEMA_INVALID', /auditor name/);
    },
  );

  it.each(['', 'not a key!', toBase64url(randomBytes(31)), toBase64url(randomBytes(64))])(
    'refuses the public key "%s": SCHEMA_INVALID',
    async (publicKey) => {
      await refused(() => addAuditor(dir, 'carol', publicKey), 'SCHEMA_INVALID', /public key/);
    },
  );
});
