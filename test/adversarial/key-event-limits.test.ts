/**
 * A node that rotates its encryption key in a loop (300 rotations, no session needed: each is
 * signed) against a real relay process: past the interval and the daily cap the relay answers
 * RATE_LIMITED with the seconds to wait, the key log does not grow, a rotation dated away from the
 * relay's clock is refused, and the audit log holds one entry per key event, accepted or refused.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inviteAuthority } from '../../server/admin.ts';
import { RelayStore } from '../../server/storage/relay-store.ts';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import { generateEncryptionKeyPair } from '../../shared/crypto/keys.ts';
import type { ErrorBody } from '../../shared/errors.ts';
import { signEncryptionKey } from '../../shared/keys/statements.ts';
import { enrolmentFor, type HandEnrolment } from '../support/hand-built-node.ts';
import { removeDir, tempDir } from '../support/fixtures.ts';
import { spawnRelay, type RelayProcess } from '../support/processes.ts';
import { random } from '../support/random.ts';
import { sleep } from '../support/wait.ts';

const DAY = 86_400_000;
const work = tempDir('entraide-keylimits-');
const data = join(work, 'relay');
let relay: RelayProcess;
let node: HandEnrolment;

beforeAll(async () => {
  // A short interval and a small daily cap, so that the test meets both in seconds; the address's
  // own budget is raised so that every rotation reaches the key log's checks.
  const limitsFile = join(work, 'limits.json');
  writeFileSync(
    limitsFile,
    JSON.stringify({
      keyEvents: { minRotationIntervalSeconds: 2, perNodePerDay: 3 },
      rate: { anonymous: { max: 10_000 } },
    }),
  );
  relay = await spawnRelay(data, 0, 'relay.test', { ENTRAIDE_RELAY_LIMITS_FILE: limitsFile });
  const { code } = await inviteAuthority(data, 'sn.moj');
  node = enrolmentFor('relay.test', 'sn.moj', code);
  const res = await post('/v1/enrol', node.request);
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await relay?.stop('SIGKILL');
  removeDir(work);
});

async function post(
  path: string,
  body: unknown,
): Promise<{ status: number; json: unknown; retryAfter: string | null }> {
  const res = await fetch(`${relay.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), retryAfter: res.headers.get('retry-after') };
}

function rotation(issuedAt = new Date()) {
  const statement = signEncryptionKey(
    {
      node: node.address,
      encryptionKey: generateEncryptionKeyPair(random).publicKey,
      issuedAt,
      notAfter: new Date(issuedAt.getTime() + 30 * DAY),
    },
    node.identity.secretKey,
  );
  return { type: 'encryption-key-rotated', statement };
}

async function keyLogSize(): Promise<number> {
  // Read from the relay's database, beside the running relay.
  const store = RelayStore.open(data);
  try {
    return (await store.keyLogEntries()).length;
  } finally {
    await store.close();
  }
}

describe('key events beyond the limits', () => {
  it('refuses rotations past the interval and the daily cap with RATE_LIMITED, and the key log does not grow', async () => {
    const accept = async () => {
      const r = await post('/v1/keylog/events', rotation());
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    };
    await sleep(2_100); // the enrolment's key is the node's first: one interval must pass
    await accept();
    const again = await post('/v1/keylog/events', rotation());
    expect((again.json as ErrorBody).error.code).toBe('RATE_LIMITED');
    expect(Number(again.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(again.retryAfter)).toBeLessThanOrEqual(2);
    await sleep(2_100);
    await accept();
    await sleep(2_100);
    await accept(); // the third of the day: the cap
    const size = await keyLogSize();

    // 300 more at once, as the attack did: none is logged.
    await sleep(2_100);
    const flood = await Promise.all(Array.from({ length: 300 }, () => post('/v1/keylog/events', rotation())));
    const codes = new Set(flood.map((r) => (r.json as ErrorBody).error?.code ?? 'accepted'));
    expect(codes).toEqual(new Set(['RATE_LIMITED']));
    for (const r of flood) expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await keyLogSize()).toBe(size);

    // Dated ten minutes ahead of the relay's clock: refused whatever the budgets.
    const future = await post('/v1/keylog/events', rotation(new Date(Date.now() + 600_000)));
    expect((future.json as ErrorBody).error.code).toBe('ENVELOPE_CLOCK_SKEW');
    expect(await keyLogSize()).toBe(size);
  });

  it('records one audit entry per key event, accepted or refused', async () => {
    await relay.stop('SIGTERM');
    const store = RelayStore.open(data);
    try {
      const events = store.audit.entries(0, 100_000).map((e) => JSON.parse(e.leaf) as AuditEvent);
      const keyEvents = events.filter((e) => e.kind === 'key_event');
      const accepted = keyEvents.filter((e) => !e.reason);
      expect(accepted).toHaveLength(3);
      expect(accepted[0]!.node).toBe(node.address);
      expect(accepted[0]!.detail).toMatch(
        /^encryption-key-rotated of sn\.moj@relay\.test logged at index \d+$/,
      );
      const refused = keyEvents.filter((e) => e.reason).map((e) => e.reason);
      expect(refused).toHaveLength(1 + 300 + 1);
      expect(refused.filter((r) => r === 'RATE_LIMITED')).toHaveLength(301);
      expect(refused.at(-1)).toBe('ENVELOPE_CLOCK_SKEW');
      // Written one each, never as counts.
      expect(events.filter((e) => e.count !== undefined)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
