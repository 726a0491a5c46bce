/**
 * Scenario (e): the relay's audit log as it grows, on a real SQLite file with synchronous=FULL.
 * - appends/s, 100 events per transaction (what a group commit of envelopes gives) and 1 per
 *   transaction (the worst case: one fsync each);
 * - inclusion proof generation from the stored subtree hashes at 10^5 and 10^6 entries;
 * - full verification (every entry streamed from the database, hashed, checked against a signed
 *   head every 10,000 entries) at 10^5 and 10^6 entries, in bounded memory.
 * Targets (issue 6): ≥ 20,000 appends/s; a proof ≤ 1 ms; a full verify of 10^6 entries ≤ 10 s.
 * BENCH_AUDIT_MAX (default 1000000) bounds the largest log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { leafHashOfText } from '../prisma/sha256.ts';
import { LogVerifier } from '../shared/audit/verify-log.ts';
import { generateSigningKeyPair } from '../shared/crypto/keys.ts';
import { signTreeHead } from '../shared/keys/tree-head.ts';
import type { SignedTreeHead } from '../shared/protocol/key-log.ts';
import { RelayStore } from '../server/storage/relay-store.ts';
import { random } from '../client/random.ts';

export const AUDIT_TARGETS = { appendsPerSecond: 20_000, proofMs: 1, verify1MSeconds: 10 } as const;

export interface AuditBench {
  appendsPerSecondBatched: number;
  appendsPerSecondSingle: number;
  sizes: {
    size: number;
    proofMeanMs: number;
    proofP99Ms: number;
    verifySeconds: number;
    verifyHeapMB: number;
  }[];
}

const RELAY = 'relay.bench';

function event(i: number) {
  return {
    kind: 'accepted' as const,
    envelope: '01a21dc1-3e21-71ea-984d-537ec6028e64',
    sender: 'desk1/sn.moj@relay.bench',
    recipients: ['ke.ag@relay.bench'],
    size: 1000 + (i % 1000),
    ciphertextHash: 'F0zggPXozIJ67Ey8ckmc9_U24EFo0upbUgPLwVLdfz0',
  };
}

export async function measureAudit(log: (line: string) => void = () => undefined): Promise<AuditBench> {
  const dir = mkdtempSync(join(tmpdir(), 'entraide-audit-bench-'));
  const max = Number(process.env.BENCH_AUDIT_MAX) || 1_000_000;
  const key = generateSigningKeyPair(random);
  const store = RelayStore.open(dir);
  store.setLocalDomain(RELAY);
  const audit = store.audit;
  try {
    // Appends, 1 per transaction (fsync each): a short run.
    let t = performance.now();
    const single = 300;
    for (let i = 0; i < single; i++) audit.transaction(() => audit.append(event(i)));
    const appendsPerSecondSingle = single / ((performance.now() - t) / 1000);

    // Appends, 100 per transaction, up to 10^5; then the log grows to 10^6 in larger transactions.
    const heads: SignedTreeHead[] = [];
    const signHead = () =>
      heads.push(
        signTreeHead(
          { log: 'audit', relay: RELAY, size: audit.size, root: audit.root(), timestamp: new Date() },
          key.secretKey,
        ),
      );
    t = performance.now();
    const batched = Math.min(100_000, max) - audit.size;
    for (let done = 0; done < batched; done += 100) {
      audit.transaction(() => {
        for (let i = 0; i < 100; i++) audit.append(event(done + i));
      });
      if (audit.size % 10_000 < 100) signHead();
    }
    const appendsPerSecondBatched = batched / ((performance.now() - t) / 1000);
    log(`[bench] audit: ${Math.round(appendsPerSecondBatched)} appends/s (100 per transaction)`);

    const sizes: AuditBench['sizes'] = [];
    for (const size of [100_000, 1_000_000].filter((s) => s <= max)) {
      while (audit.size < size) {
        audit.transaction(() => {
          for (let i = 0; i < 1000 && audit.size < size; i++) audit.append(event(audit.size));
        });
        if (audit.size % 10_000 === 0) signHead();
      }
      signHead();
      // Proofs: 2,000 random entries against the current size.
      const times: number[] = [];
      for (let i = 0; i < 2_000; i++) {
        const index = Math.floor(Math.random() * size);
        const s = performance.now();
        audit.inclusionProof(index, size);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      // Full verification, streaming the entries from the database.
      const v = new LogVerifier({ log: 'audit', relay: RELAY, relayKey: key.publicKey });
      for (const h of heads) v.addHead(h);
      const heap0 = process.memoryUsage().heapUsed;
      let heapMax = heap0;
      const start = performance.now();
      for (let from = 0; from < size; from += 10_000) {
        for (const e of audit.entries(from, 10_000)) v.addLeafHash(e.seq, leafHashOfText(e.leaf));
        heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
      }
      const problem = v.finish();
      if (problem) throw new Error(`the benchmark's own log does not verify: ${problem.message}`);
      const verifySeconds = (performance.now() - start) / 1000;
      sizes.push({
        size,
        proofMeanMs: times.reduce((a, b) => a + b, 0) / times.length,
        proofP99Ms: times[Math.floor(times.length * 0.99)]!,
        verifySeconds,
        verifyHeapMB: (heapMax - heap0) / 1e6,
      });
      log(`[bench] audit: ${size} entries verified in ${verifySeconds.toFixed(2)} s`);
    }
    return { appendsPerSecondBatched, appendsPerSecondSingle, sizes };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatAudit(a: AuditBench): string {
  const lines = [
    `appends/s, 100 per transaction: ${Math.round(a.appendsPerSecondBatched)} (target ≥ ${AUDIT_TARGETS.appendsPerSecond})`,
    `appends/s, 1 per transaction (one fsync each): ${Math.round(a.appendsPerSecondSingle)}`,
  ];
  for (const s of a.sizes) {
    lines.push(
      `${s.size} entries: inclusion proof mean ${s.proofMeanMs.toFixed(3)} ms, p99 ${s.proofP99Ms.toFixed(3)} ms (target ≤ ${AUDIT_TARGETS.proofMs}); ` +
        `full verify ${s.verifySeconds.toFixed(2)} s${s.size === 1_000_000 ? ` (target ≤ ${AUDIT_TARGETS.verify1MSeconds})` : ''}, heap +${s.verifyHeapMB.toFixed(1)} MB`,
    );
  }
  return lines.join('\n');
}
