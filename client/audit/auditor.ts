/**
 * An auditor's side of the audit log: a key pair kept under a passphrase with the relay's pinned
 * public key, a login by signed challenge, and the checks an auditor runs without trusting the
 * relay: every signed head verifies, successive heads are consistent, and the entries streamed in
 * order hash to every signed root (bounded memory: the log is never held whole).
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { AuditEvent } from '../../shared/audit/audit-event.ts';
import { leafHashOfText } from '../../prisma/sha256.ts';
import { LogVerifier, type LogProblem } from '../../shared/audit/verify-log.ts';
import { firstDifferingEntry, SPAN_MAX } from './pinpoint.ts';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { CONTEXTS, signObject } from '../../shared/crypto/signing.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { EntraideError } from '../../shared/errors.ts';
import { headRoot, verifyTreeHead } from '../../shared/keys/tree-head.ts';
import { verifyConsistency } from '../../shared/merkle/verify-consistency.ts';
import { verifyInclusion } from '../../shared/merkle/verify-inclusion.ts';
import {
  AuditChallenge,
  AuditEntries,
  AuditEnvelopeRecord,
  AuditHeads,
  AuditorName,
  AuditPeers,
  AuditProof,
  AuditToken,
} from '../../shared/protocol/audit.ts';
import { Domain, PublicKey, RelayInfo } from '../../shared/protocol/schemas.ts';
import { checkServiceUrl } from '../../shared/protocol/service-url.ts';
import { SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { check } from '../../shared/protocol/validate.ts';
import { checkRelayAddress, firstContact } from '../first-contact.ts';
import { encryptWithPassphrase, readPassphraseFile } from '../keystore.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { random } from '../random.ts';
import { RelayKeyRing } from '../relay-keys.ts';
import { RelayHttp, Unchecked } from '../transport/http.ts';

const Credentials = Type.Object(
  {
    v: Type.Literal(1),
    name: AuditorName,
    relayUrl: Type.String({ maxLength: 2048 }),
    relayDomain: Domain,
    relayKey: PublicKey,
    publicKey: PublicKey,
    secretKey: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;
/** One credentials file per relay, so that one auditor’s folder can hold accounts on several relays. */
const fileFor = (domain: string) => `auditor-${domain}.json`;
const PAGE = 10_000;
/** Entries between two reports of progress (and checks for a cancellation). */
const PROGRESS_EVERY = 5_000;

/** Creates an auditor's key pair in `home`; pins the relay's key, `relayKey` (first-contact.ts). */
export async function createAuditor(
  home: string,
  opts: { name: string; relayUrl: string; relayKey?: string | undefined; passphrase: string },
): Promise<Credentials> {
  await loadSodium();
  check(AuditorName, opts.name, 'auditor name');
  const { relay: info } = await firstContact(checkRelayAddress(opts.relayUrl, opts.relayKey));
  const file = join(home, fileFor(info.domain));
  if (existsSync(file)) {
    throw new EntraideError('HOME_EXISTS', `${home} already holds auditor credentials for ${info.domain}`);
  }
  const keys = generateSigningKeyPair(random);
  const creds = check(
    Credentials,
    {
      v: 1,
      name: opts.name,
      relayUrl: opts.relayUrl,
      relayDomain: info.domain,
      relayKey: info.publicKey,
      publicKey: toBase64url(keys.publicKey),
      secretKey: toBase64url(keys.secretKey),
    },
    'auditor credentials',
  );
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileAtomic(file, encryptWithPassphrase(creds, opts.passphrase));
  return creds;
}

/**
 * The credentials for `relay` (a URL or a domain) in `home`; without `relay`, the only ones there.
 */
export function readAuditor(home: string, passphrase: string, relay?: string): Credentials {
  const files = existsSync(home) ? readdirSync(home).filter((f) => /^auditor-.+\.json$/.test(f)) : [];
  if (files.length === 0) throw new EntraideError('AUDITOR_MISSING', `no auditor credentials in ${home}`);
  const all = files.map((f) => readPassphraseFile(join(home, f), passphrase, 'AUDITOR_CORRUPT', Credentials));
  if (relay === undefined) {
    if (all.length === 1) return checkedUrl(all[0]!, home);
    throw new EntraideError(
      'USAGE',
      `${home} holds accounts on ${all.map((c) => c.relayDomain).join(', ')}: say which with --relay`,
    );
  }
  const same = (x: string) => x.replace(/\/$/, '');
  const found = all.find((c) => same(c.relayUrl) === same(relay) || c.relayDomain === relay);
  if (!found) throw new EntraideError('AUDITOR_MISSING', `no auditor credentials for ${relay} in ${home}`);
  return checkedUrl(found, home);
}

/** Credentials naming their relay by plain http:// off loopback (from before) are refused. */
function checkedUrl(creds: Credentials, home: string): Credentials {
  const what = `the relay URL in ${join(home, fileFor(creds.relayDomain))}`;
  checkServiceUrl(creds.relayUrl, what, 'AUDITOR_CORRUPT');
  return creds;
}

export interface VerifyReport {
  size: number;
  heads: number;
  /** Consistency proofs checked between successive heads. */
  consistency: number;
  problem: LogProblem | null;
}

export class AuditorClient {
  private readonly http: RelayHttp;
  private token: string | undefined;
  /** The relay's keys, proven from the one pinned at keygen through the rollovers the relay signed. */
  readonly relayKeys: RelayKeyRing;

  constructor(
    readonly creds: Credentials,
    relayUrl = creds.relayUrl,
  ) {
    this.http = new RelayHttp(checkServiceUrl(relayUrl, '--relay').href);
    const ask = () => this.http.request(RelayInfo, 'GET', '/v1/relay');
    this.relayKeys = new RelayKeyRing(creds.relayDomain, creds.relayKey, ask);
  }

  async login(): Promise<void> {
    await this.relayKeys.refresh(); // RELAY_MISMATCH unless the key shown follows from the pinned one
    const c = check(
      AuditChallenge,
      await this.http.request(Unchecked, 'POST', '/v1/audit/auth/challenge', { auditor: this.creds.name }),
      'challenge',
    );
    const sig = signObject(
      CONTEXTS.auditChallenge,
      { relay: this.creds.relayDomain, auditor: this.creds.name, challenge: c.challenge },
      fromBase64url(this.creds.secretKey, 'secret key', 64),
    );
    const t = check(
      AuditToken,
      await this.http.request(Unchecked, 'POST', '/v1/audit/auth/token', {
        auditor: this.creds.name,
        challenge: c.challenge,
        sig,
      }),
      'token',
    );
    this.token = t.token;
  }

  /** A GET on the audit API with this auditor's token (logging in again when it expired). */
  async get(path: string): Promise<unknown> {
    if (!this.token) await this.login();
    try {
      return await this.http.request(Unchecked, 'GET', path, undefined, this.token);
    } catch (err) {
      if (!(err instanceof EntraideError) || (err.code !== 'TOKEN_EXPIRED' && err.code !== 'TOKEN_INVALID'))
        throw err;
      await this.login();
      return this.http.request(Unchecked, 'GET', path, undefined, this.token);
    }
  }

  private expected() {
    return { log: 'audit' as const, relay: this.creds.relayDomain, relayKey: this.relayKeys.keys };
  }

  /** The current signed head, checked. */
  async head(): Promise<SignedTreeHead> {
    const head = check(SignedTreeHead, await this.get('/v1/audit/head'), 'audit head');
    verifyTreeHead(head, this.expected());
    return head;
  }

  /** Entries from `from` up to (not including) `to`, page by page, in order. */
  async *entries(from: number, to: number): AsyncGenerator<{ index: number; leaf: string }> {
    for (let next = from; next < to;) {
      const page = check(
        AuditEntries,
        await this.get(`/v1/audit/entries?from=${next}&limit=${Math.min(PAGE, to - next)}`),
        'entries',
      );
      if (page.entries.length === 0) return;
      for (const e of page.entries) {
        if (e.index >= to) return;
        yield e;
        next = e.index + 1;
      }
    }
  }

  /** Events of the log, parsed (for listing); the leaf text is what the verifier hashes. */
  async *events(from = 0): AsyncGenerator<AuditEvent> {
    const head = await this.head();
    for await (const e of this.entries(from, head.size)) yield JSON.parse(e.leaf) as AuditEvent;
  }

  /**
   * The full check: every head signed so far (and a fresh one), their signatures, consistency
   * between each head and the next, and all entries streamed against every root.
   */
  async verify(
    onProgress?: (done: number, total: number) => void,
    /** Heads obtained elsewhere: kept from earlier audits, or shown to another auditor. */
    known: SignedTreeHead[] = [],
    /** Sees every event on the way, so that a caller that also reads the log streams it once. */
    onEvent?: (e: AuditEvent) => void,
    /** Stops the check (it then throws VERIFY_CANCELLED); hears of each head and proof checked. */
    control: { signal?: AbortSignal; onHeads?: (checked: number, consistency: number) => void } = {},
  ): Promise<VerifyReport & { seenHeads: SignedTreeHead[]; head: SignedTreeHead }> {
    const stopIfCancelled = () => {
      if (control.signal?.aborted) throw new EntraideError('VERIFY_CANCELLED', 'the check was cancelled');
    };
    const latest = await this.head();
    const heads: SignedTreeHead[] = [];
    for (let after = -1, more = true; more;) {
      const page = check(AuditHeads, await this.get(`/v1/audit/heads?after=${after}`), 'heads');
      heads.push(...page.heads);
      more = page.more && page.heads.length > 0;
      // A relay that answers pages out of order could keep a reader here for ever: sizes must grow.
      const last = page.heads.at(-1)?.size ?? after;
      if (more && last <= after)
        throw new EntraideError('PROOF_INVALID', 'the relay’s pages of heads do not advance');
      after = last;
    }
    const all = [...known, ...heads, latest].sort((a, b) => a.size - b.size);
    const v = new LogVerifier(this.expected());
    for (const h of all) v.addHead(h);
    let consistency = 0;
    control.onHeads?.(v.checkedHeads, 0);
    for (let i = 1; i < all.length && !v.problem; i++) {
      stopIfCancelled();
      const [a, b] = [all[i - 1]!, all[i]!];
      if (a.size === 0 || a.size === b.size) continue;
      try {
        // A relay that cannot prove a head it signed (a size its log never reached) fails here too.
        const { proof } = check(
          AuditProof,
          await this.get(`/v1/audit/consistency?from=${a.size}&to=${b.size}`),
          'proof',
        );
        verifyConsistency(
          a.size,
          b.size,
          headRoot(a),
          headRoot(b),
          proof.map((p) => fromBase64url(p, 'proof', 32)),
        );
        consistency++;
        control.onHeads?.(v.checkedHeads, consistency);
      } catch (err) {
        if (err instanceof EntraideError && (err.code === 'RELAY_UNREACHABLE' || err.code === 'INTERNAL'))
          throw err;
        return {
          seenHeads: all,
          head: latest,
          size: 0,
          heads: v.checkedHeads,
          consistency,
          problem: {
            index: a.size,
            message: `the head of size ${b.size} does not extend the head of size ${a.size}: ${err instanceof EntraideError ? err.message : 'bad proof'}`,
          },
        };
      }
    }
    let n = 0;
    // The leaf hashes since the last head matched: where a head is missed, they name the entry.
    let span: Uint8Array[] = [];
    for await (const e of this.entries(0, latest.size)) {
      if (!v.problem) {
        const hash = leafHashOfText(e.leaf);
        if (span.length <= SPAN_MAX) span.push(hash);
        v.addLeafHash(e.index, hash);
        if (v.provenSize === e.index + 1) span = [];
      }
      onEvent?.(JSON.parse(e.leaf) as AuditEvent);
      if (v.problem && !onEvent) break;
      if (++n % PROGRESS_EVERY === 0) {
        stopIfCancelled();
        onProgress?.(n, latest.size);
      }
    }
    onProgress?.(n, latest.size);
    const problem = await this.pinpoint(v, span);
    return { size: v.size, heads: v.checkedHeads, consistency, problem, seenHeads: all, head: latest };
  }

  /** The verifier's problem, narrowed to the first entry that differs where a head was missed. */
  private async pinpoint(v: LogVerifier, span: Uint8Array[]): Promise<LogProblem | null> {
    const problem = v.finish();
    const mismatch = v.mismatch;
    if (!problem || !mismatch || problem.index !== mismatch.from) return problem;
    const proof = async (from: number, to: number) =>
      check(AuditProof, await this.get(`/v1/audit/consistency?from=${from}&to=${to}`), 'proof').proof.map(
        (p) => fromBase64url(p, 'proof', 32),
      );
    const entry = await firstDifferingEntry(proof, mismatch, span).catch(() => null);
    if (entry === null) return problem;
    return {
      index: entry,
      message: `entry ${entry} is not the one the relay signed in its head of size ${mismatch.head.size}; every entry before it is proven`,
    };
  }

  /**
   * The heads of each peer relay's audit log that this relay verified by gossip, and its alarms.
   * Only the signatures matter: each head is checked against that peer's own answers later.
   */
  async peers(): Promise<{ domain: string; auditHead: SignedTreeHead | null; alarm: string | null }[]> {
    return check(AuditPeers, await this.get('/v1/audit/peers'), 'peers').peers;
  }

  /** An envelope's entries, each proven included under a signed head. */
  async proof(envelopeId: string): Promise<{
    head: SignedTreeHead;
    events: { index: number; event: AuditEvent; leaf: string; proof: string[] }[];
  }> {
    const record = check(
      AuditEnvelopeRecord,
      await this.get(`/v1/audit/envelopes/${encodeURIComponent(envelopeId)}`),
      'envelope record',
    );
    verifyTreeHead(record.head, this.expected());
    const events = record.entries.map((e) => {
      verifyInclusion(
        leafHashOfText(e.leaf),
        e.index,
        record.head.size,
        e.proof.map((p) => fromBase64url(p, 'proof', 32)),
        headRoot(record.head),
      );
      return { index: e.index, event: JSON.parse(e.leaf) as AuditEvent, leaf: e.leaf, proof: e.proof };
    });
    return { head: record.head, events };
  }
}

/** Where an auditor keeps the heads a relay showed it, to hold the relay to them at the next audit. */
export function knownHeadsFile(home: string, domain: string): string {
  return join(home, `heads-${domain}.json`);
}

/** Heads from a file: a JSON array of signed heads, or an object with `heads` or `head`. */
export function readHeads(text: string, what: string): SignedTreeHead[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EntraideError('INVALID_JSON', `${what} is not valid JSON`);
  }
  const list = Array.isArray(value)
    ? value
    : typeof value === 'object' && value !== null && 'heads' in value
      ? (value as { heads: unknown[] }).heads
      : typeof value === 'object' && value !== null && 'head' in value
        ? [(value as { head: unknown }).head]
        : [];
  return list.map((h, i) => check(SignedTreeHead, h, `${what}[${i}]`));
}

/** One head per size and root, at most `max` (the newest kept). */
export function distinctHeads(heads: SignedTreeHead[], max = 1000): SignedTreeHead[] {
  const seen = new Map<string, SignedTreeHead>();
  for (const h of heads) seen.set(`${h.size}:${h.root}`, h);
  return [...seen.values()].sort((a, b) => a.size - b.size).slice(-max);
}

/** What `audit proof --json` writes: a signed head and an envelope's entries with their proofs. */
export const ProofExport = Type.Object({
  head: SignedTreeHead,
  events: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      leaf: Type.String(),
      proof: Type.Array(Type.String()),
    }),
    { maxItems: 1000 },
  ),
});

/**
 * Checks an exported proof offline: the head's signature under the relay key given, and each
 * entry's inclusion proof against the head's root. Returns the proven events.
 */
export function checkProofExport(
  value: unknown,
  relayKey: Uint8Array,
): { head: SignedTreeHead; events: AuditEvent[] } {
  const e = check(ProofExport, value, 'proof file');
  verifyTreeHead(e.head, { log: 'audit', relay: e.head.relay, relayKey });
  const events = e.events.map((x) => {
    verifyInclusion(
      leafHashOfText(x.leaf),
      x.index,
      e.head.size,
      x.proof.map((p) => fromBase64url(p, 'proof', 32)),
      headRoot(e.head),
    );
    return JSON.parse(x.leaf) as AuditEvent;
  });
  return { head: e.head, events };
}
