/**
 * The relay's client for its peers (server/federation/peer-client.ts) against a misbehaving peer,
 * a tiny HTTP server: a redirect is never followed and an answer larger than the cap is not read
 * to its end; both fail with PEER_UNREACHABLE, the second naming the cap. An answer within the
 * cap is read as before.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerClient } from '../../server/federation/peer-client.ts';
import { ANSWER_HEADER, signFederationAnswer } from '../../server/federation/s2s-token.ts';
import { decodeJwt } from 'jose';
import type { Peer } from '../../server/federation/peers.ts';
import { EntraideError } from '../../shared/errors.ts';

const CAP = 4096;
let server: Server;
let url: string;
/** Paths the misbehaving peer was asked for, in order. */
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const json = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(text);
    };
    switch (req.url) {
      case '/redirect':
        return json(302, '{}', { location: `${url}/elsewhere` });
      case '/elsewhere':
        return json(200, '{"followed":true}');
      case '/large':
        return json(200, JSON.stringify({ pad: 'x'.repeat(CAP * 4) }));
      case '/large-chunked': {
        // No Content-Length: the cap is met while reading.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"pad":"');
        for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
        return res.end('"}');
      }
      default: {
        // Within the cap, and signed by the peer for this request: read as any answer.
        const body = JSON.stringify({ pad: 'x'.repeat(CAP - 100) });
        const requestId = String(decodeJwt(req.headers.authorization!.slice('Bearer '.length)).jti);
        void signFederationAnswer(
          { domain: 'relay.peer.test', privateKey: peerKeys.privateKey },
          'relay.self.test',
          { requestId, status: 200, body },
          new Date(),
        ).then((signature) => json(200, body, { [ANSWER_HEADER]: signature }));
        return;
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The misbehaving peer's own key, which the client pinned for it. */
const peerKeys = generateKeyPairSync('ed25519');

function peer(): Peer {
  const { publicKey } = peerKeys;
  const x = publicKey.export({ format: 'jwk' }).x!;
  return {
    domain: 'relay.peer.test',
    url,
    publicKey: x,
    addedAt: new Date(),
    lastSuccessAt: null,
    lastError: null,
    lastErrorAt: null,
    keyLogHead: null,
    auditHead: null,
    alarm: null,
    alarmAt: null,
    key: publicKey,
    keyBytes: new Uint8Array(Buffer.from(x, 'base64url')),
  };
}

const client = new PeerClient(
  { domain: 'relay.self.test', privateKey: generateKeyPairSync('ed25519').privateKey },
  () => new Date(),
  CAP,
);

async function failure(path: string): Promise<EntraideError> {
  try {
    await client.request(peer(), 'GET', path, undefined, 5_000);
  } catch (err) {
    if (err instanceof EntraideError) return err;
    throw err;
  }
  throw new Error(`${path} was read`);
}

describe('the peer client', () => {
  it('never follows a redirect: PEER_UNREACHABLE, and the other URL is never asked', async () => {
    asked.length = 0;
    const err = await failure('/redirect');
    expect(err.code).toBe('PEER_UNREACHABLE');
    expect(err.message).toMatch(/redirect \(HTTP 302\)/);
    expect(asked).toEqual(['/redirect']);
  });

  it.each(['/large', '/large-chunked'])(
    'refuses an answer over its cap (%s) with PEER_UNREACHABLE naming the size',
    async (path) => {
      const err = await failure(path);
      expect(err.code).toBe('PEER_UNREACHABLE');
      expect(err.message).toContain(`more than ${CAP} bytes`);
    },
  );

  it('reads an answer within its cap', async () => {
    const answer = await client.request<{ pad: string }>(peer(), 'GET', '/fits', undefined, 5_000);
    expect(answer.pad).toHaveLength(CAP - 100);
  });
});
