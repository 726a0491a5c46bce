/**
 * Strangers try to fill an authority's join slots on a real relay process: 16 join requests signed
 * with throwaway keys, without a ticket or with made-up ones. None is stored or shown to the
 * authority; the authority's real join, with the ticket one of its nodes issued, goes through;
 * the ticket works once; a waiting join can be listed and rejected by the authority only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../shared/bytes.ts';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import type { ErrorBody } from '../../shared/errors.ts';
import { newJoinTicket } from '../../shared/keys/join-code.ts';
import { signJoinRequest } from '../../shared/keys/statements.ts';
import type { JoinAccepted, PendingJoins, TicketIssued } from '../../shared/protocol/key-log.ts';
import { enrolOverHttp, type HandEnrolment } from '../support/hand-built-node.ts';
import { removeDir, tempDir } from '../support/fixtures.ts';
import { spawnRelay, type RelayProcess } from '../support/processes.ts';
import { random } from '../support/random.ts';

const DOMAIN = 'relay.test';
const dir = tempDir('entraide-joins-');
let relay: RelayProcess;
const tokens = new Map<string, string>();
let sn: HandEnrolment;
let ke: HandEnrolment;

async function call<T>(method: string, path: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${relay.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T & Partial<ErrorBody> };
}

async function enrol(authorityId: string): Promise<HandEnrolment> {
  const node = await enrolOverHttp({ url: relay.url, dataDir: dir, domain: DOMAIN }, authorityId);
  tokens.set(node.address, node.token);
  return node;
}

function joinRequest(node: string) {
  const identity = generateSigningKeyPair(random);
  const now = new Date();
  return signJoinRequest(
    {
      relay: DOMAIN,
      node,
      identityKey: toBase64url(identity.publicKey),
      encryptionKey: toBase64url(generateEncryptionKeyPair(random).publicKey),
      encKeyNotAfter: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
      createdAt: now.toISOString(),
    },
    identity.secretKey,
  );
}

beforeAll(async () => {
  relay = await spawnRelay(dir, 0, DOMAIN);
  sn = await enrol('sn.moj');
  ke = await enrol('ke.ag');
});
afterAll(async () => {
  await relay?.stop('SIGKILL');
  removeDir(dir);
});

describe('join requests need a ticket from the authority', () => {
  it('refuses 16 forged joins, stores none, and lets the real one through', async () => {
    const snToken = tokens.get(sn.address)!;
    const forged = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        call('POST', '/v1/joins', {
          request: joinRequest(`intruder${i}/sn.moj@${DOMAIN}`),
          // made-up tickets, and one issued to another authority
          ticket: newJoinTicket(random),
        }),
      ),
    );
    for (const f of forged) expect([f.status, f.json.error?.code]).toEqual([403, 'JOIN_TICKET_INVALID']);
    const kenyan = await call<TicketIssued>('POST', '/v1/joins/tickets', {}, tokens.get(ke.address));
    expect(kenyan.status).toBe(200);
    const crossed = await call('POST', '/v1/joins', {
      request: joinRequest(`intruder99/sn.moj@${DOMAIN}`),
      ticket: kenyan.json.ticket,
    });
    expect(crossed.json.error?.code).toBe('JOIN_TICKET_INVALID');
    // A join without any ticket does not even match the route's schema.
    const bare = await call('POST', '/v1/joins', joinRequest(`intruder100/sn.moj@${DOMAIN}`));
    expect(bare.status).toBe(400);

    // Nothing waits for Senegal's approval.
    const before = await call<PendingJoins>('GET', '/v1/joins', undefined, snToken);
    expect(before.json.joins).toEqual([]);

    // Senegal's own ticket, for desk2: the real join goes through.
    const ticket = await call<TicketIssued>(
      'POST',
      '/v1/joins/tickets',
      { node: `desk2/sn.moj@${DOMAIN}` },
      snToken,
    );
    expect(ticket.status).toBe(200);
    expect(ticket.json).toMatchObject({ authority: `sn.moj@${DOMAIN}`, node: `desk2/sn.moj@${DOMAIN}` });
    const real = await call<JoinAccepted>('POST', '/v1/joins', {
      request: joinRequest(`desk2/sn.moj@${DOMAIN}`),
      ticket: ticket.json.ticket,
    });
    expect(real.status, JSON.stringify(real.json)).toBe(200);
    // The ticket was for desk2 and is spent: another node cannot use it, nor can desk2 with new keys.
    for (const node of [`desk3/sn.moj@${DOMAIN}`, `desk2/sn.moj@${DOMAIN}`]) {
      const again = await call('POST', '/v1/joins', {
        request: joinRequest(node),
        ticket: ticket.json.ticket,
      });
      expect(again.json.error?.code).toBe('JOIN_TICKET_INVALID');
    }

    const pending = await call<PendingJoins>('GET', '/v1/joins', undefined, snToken);
    expect(pending.json.joins.map((j) => [j.code, j.node])).toEqual([
      [real.json.code, `desk2/sn.moj@${DOMAIN}`],
    ]);
    // Kenya sees none of Senegal's, and cannot reject it.
    expect(
      (await call<PendingJoins>('GET', '/v1/joins', undefined, tokens.get(ke.address))).json.joins,
    ).toEqual([]);
    const foreign = await call('POST', `/v1/joins/${real.json.code}/reject`, {}, tokens.get(ke.address));
    expect(foreign.json.error?.code).toBe('JOIN_NOT_FOUND');
    // Without a session, neither list nor reject.
    expect((await call('GET', '/v1/joins')).status).toBe(401);
    expect((await call('POST', '/v1/joins/tickets', {})).status).toBe(401);

    // Senegal rejects it: it is gone.
    const rejected = await call('POST', `/v1/joins/${real.json.code}/reject`, {}, snToken);
    expect(rejected.json).toEqual({ rejected: true });
    expect((await call<PendingJoins>('GET', '/v1/joins', undefined, snToken)).json.joins).toEqual([]);
  });

  it('bounds the unused tickets an authority holds', async () => {
    const token = tokens.get(sn.address)!;
    const answers: number[] = [];
    for (let i = 0; i < 17; i++) answers.push((await call('POST', '/v1/joins/tickets', {}, token)).status);
    // One was spent above; sixteen unused may be held at once.
    expect(answers.filter((s) => s === 200)).toHaveLength(16);
    expect(answers.at(-1)).toBe(429);
  });
});
