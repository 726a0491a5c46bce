/** Checks that a refused request got its status and code and left every relay table as it was. */
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { ErrorBody, ErrorCode } from '../../shared/errors.ts';
import type { TestRelay } from './fixtures.ts';

export function rowCounts(relay: TestRelay) {
  relay.relay.store.flush(); // anything (wrongly) queued for commit is written before counting
  const db = relay.relay.store.db;
  const count = (sql: string): number => db.prepare<[], { n: number }>(sql).get()!.n;
  return {
    envelopes: count('SELECT count(*) AS n FROM "Envelope"'),
    deliveries: count('SELECT count(*) AS n FROM "Delivery"'),
    authorities: count('SELECT count(*) AS n FROM "Authority"'),
    nodes: count('SELECT count(*) AS n FROM "Node"'),
    invitationsUsed: count('SELECT count(*) AS n FROM "Invitation" WHERE usedAt IS NOT NULL'),
  };
}

export function expectError(res: LightMyRequestResponse, status: number, code: ErrorCode): void {
  let body: Partial<ErrorBody> = {};
  try {
    body = res.json<ErrorBody>();
  } catch {
    /* not JSON: the assertion below shows the raw status */
  }
  // Soft, so that a wrong answer still goes on to show whether anything was stored.
  expect.soft({ status: res.statusCode, code: body.error?.code }).toEqual({ status, code });
  expect.soft(typeof body.error?.message).toBe('string');
}

/** Sends, checks status and code, and checks that no table changed. */
export async function refused(
  relay: TestRelay,
  send: () => Promise<LightMyRequestResponse>,
  status: number,
  code: ErrorCode,
): Promise<void> {
  const before = rowCounts(relay);
  const res = await send();
  expectError(res, status, code);
  expect(rowCounts(relay)).toEqual(before);
}
