/**
 * An attacker without credentials probes a real relay process (default limits) with 2,000 requests
 * to paths that do not exist: past its address's budget it gets 429 with Retry-After, and the audit
 * log gains a handful of counted entries, not 2,000, and still verifies.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RelayStore } from '../../server/storage/relay-store.ts';
import { auditLeafHashOfText, type AuditEvent } from '../../shared/audit/audit-event.ts';
import { LogVerifier } from '../../shared/audit/verify-log.ts';
import { fromBase64url } from '../../shared/bytes.ts';
import type { SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { removeDir, tempDir } from '../support/fixtures.ts';
import { spawnRelay, type RelayProcess } from '../support/processes.ts';

const dir = tempDir('entraide-probe-');
let relay: RelayProcess | undefined;
afterAll(async () => {
  await relay?.stop('SIGKILL');
  removeDir(dir);
});

function auditOf(dataDir: string) {
  const store = RelayStore.open(dataDir);
  try {
    const leaves = store.audit.entries(0, 1_000_000).map((e) => e.leaf);
    const heads = store.audit.heads().map((h) => JSON.parse(h.head) as SignedTreeHead);
    return { leaves, heads };
  } finally {
    void store.close();
  }
}

describe('a flood of probes of unknown paths', () => {
  it('is answered 404 then 429, and adds at most a handful of audit entries', async () => {
    relay = await spawnRelay(dir);
    const publicKey = /public key:\s+(\S+)/.exec(relay.output())![1]!;
    const statuses = new Map<number, number>();
    let retryAfter = 0;
    let next = 0;
    const worker = async () => {
      while (next < 2_000) {
        const i = next++;
        const res = await fetch(`${relay!.url}/v1/probe/${i}/%0d%0a`, {
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429) retryAfter = Number(res.headers.get('retry-after'));
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(statuses.get(404)).toBeGreaterThan(0);
    expect(statuses.get(429)).toBeGreaterThan(1_500);
    expect((statuses.get(404) ?? 0) + (statuses.get(429) ?? 0)).toBe(2_000);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // The relay still serves everyone else (the health check is not counted).
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);

    // A clean stop writes the counts of the interval.
    await relay.stop('SIGTERM');
    const { leaves, heads } = auditOf(dir);
    const events = leaves.map((l) => JSON.parse(l) as AuditEvent);
    const refusals = events.filter((e) => e.reason === 'NOT_FOUND' || e.reason === 'RATE_LIMITED');
    expect(refusals.length).toBeLessThanOrEqual(4);
    expect(refusals.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(2_000);
    expect(new Set(refusals.map((e) => e.source))).toEqual(new Set(['127.0.0.1']));
    for (const e of refusals) expect(e.detail).not.toMatch(/[\r\n]/);

    const verifier = new LogVerifier({
      log: 'audit',
      relay: 'relay.test',
      relayKey: fromBase64url(publicKey, 'key', 32),
    });
    heads.forEach((h) => verifier.addHead(h));
    leaves.forEach((leaf, i) => verifier.addLeafHash(i, auditLeafHashOfText(leaf)));
    expect(() => verifier.finish()).not.toThrow();
    expect(heads.at(-1)!.size).toBe(leaves.length);
  });
});
