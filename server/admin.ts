/**
 * What a relay's operator does to the relay, with the rules that go with it: invite an authority,
 * tell a peer's operator what it needs, add, update, remove and list peer relays, and add, remove
 * and list auditors. The CLI (`entraide relay …`) and `entraide demo` act only through here.
 *
 * Each action is given the relay's data folder. It checks its input first, before anything is
 * opened, then opens the relay's storage, acts and closes it again. The relay may be running
 * meanwhile: it reads peers and auditors from the database again (federation/peers.ts). The one
 * exception is the rotation of the relay's key, which needs the relay stopped.
 */
import { checkAuthorityId, checkDomain } from '../shared/addresses.ts';
import { fromBase64url } from '../shared/bytes.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EntraideError } from '../shared/errors.ts';
import { AuditorName } from '../shared/protocol/audit.ts';
import { PublicKey } from '../shared/protocol/schemas.ts';
import { checkServiceUrl } from '../shared/protocol/service-url.ts';
import { check } from '../shared/protocol/validate.ts';
import { join } from 'node:path';
import { lockFolder } from '../prisma/folder-lock.ts';
import { createInvitation } from './domain/enrolment.ts';
import { loadRelayIdentity, type RelayIdentity } from './identity.ts';
import { rotateRelayKey, type RelayKeyRotation } from './relay-key-rotation.ts';
import { RelayStore, type IdConflictRecord } from './storage/relay-store.ts';

/** What the operator of a peer relay needs to add this one. */
export interface RelayCard {
  domain: string;
  /** Null until the relay has been started once. */
  url: string | null;
  publicKey: string;
}

export interface Invitation {
  authority: string;
  /** The one-time code; only its hash is stored. */
  code: string;
  expiresAt: Date;
}

export interface PeerInput {
  domain: string;
  url: string;
  publicKey: string;
}

/** A peer as its operator sees it: where it is reached, and how federation with it goes. */
export interface PeerState {
  domain: string;
  url: string;
  publicKey: string;
  reachable: boolean;
  /** Envelopes waiting in the outbox for this peer. */
  queued: number;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The size of the peer's key log this relay last verified, or null before the first check. */
  keyLogSize: number | null;
  alarm: string | null;
  alarmAt: string | null;
}

export interface AuditorRecord {
  name: string;
  publicKey: string;
  addedAt: Date;
  removedAt: Date | null;
}

/** The relay's domain, URL and public key, read from its data folder (no storage is opened). */
export async function relayCard(dataDir: string): Promise<RelayCard> {
  const identity = await identityOf(dataDir);
  return { domain: identity.domain, url: identity.url, publicKey: identity.publicKeyB64 };
}

/**
 * Replaces the relay's key with a new one, signed over by the old one (relay-key-rotation.ts).
 * The relay must be stopped, so that no head is signed with the old key after the rollover:
 * DATA_DIR_LOCKED while it runs. Its next start signs with the new key; its nodes, auditors and
 * peers follow by the rollover it shows.
 */
export async function rotateKey(dataDir: string, now = new Date()): Promise<RelayKeyRotation> {
  await identityOf(dataDir);
  const what = `relay data folder ${dataDir}`;
  let lock;
  try {
    lock = lockFolder(join(dataDir, 'relay.lock'), 'DATA_DIR_LOCKED', what);
  } catch (err) {
    if (!(err instanceof EntraideError) || err.code !== 'DATA_DIR_LOCKED') throw err;
    throw new EntraideError(
      'DATA_DIR_LOCKED',
      `${err.message}: stop the relay, rotate its key, then start it again`,
    );
  }
  try {
    return rotateRelayKey(dataDir, now);
  } finally {
    lock.release();
  }
}

/** A one-time invitation for `authorityId` (e.g. `sn.moj`) to enrol its first node, valid 24 h. */
export async function inviteAuthority(
  dataDir: string,
  authorityId: string,
  now = new Date(),
): Promise<Invitation> {
  checkAuthorityId(authorityId);
  return withRelayStore(dataDir, async (store, identity) => {
    const { code, expiresAt } = await createInvitation(store, authorityId, now);
    return { authority: `${authorityId}@${identity.domain}`, code, expiresAt };
  });
}

/**
 * Adds a peer relay, or updates the URL and key of one already added (both operators add each
 * other). Refuses a malformed domain (ADDRESS_INVALID), URL or key (USAGE), a plain http:// URL off
 * this machine (INSECURE_URL), and the relay itself.
 * Returns this relay's domain.
 */
export async function addPeer(dataDir: string, peer: PeerInput, now = new Date()): Promise<string> {
  checkPeerInput(peer);
  return withRelayStore(dataDir, async (store, identity) => {
    if (peer.domain === identity.domain) throw new EntraideError('USAGE', 'a relay is not its own peer');
    await store.addPeer({ domain: peer.domain, url: peer.url, publicKey: peer.publicKey, addedAt: now });
    return identity.domain;
  });
}

/** Removes a peer relay; what waits for it stays in the outbox until it expires. NOT_FOUND if unknown. */
export async function removePeer(dataDir: string, domain: string): Promise<void> {
  checkDomain(domain);
  await withRelayStore(dataDir, async (store) => {
    if (!(await store.removePeer(domain)))
      throw new EntraideError('NOT_FOUND', `${domain} is not a peer of this relay`);
  });
}

/** The peer relays, by domain, with their state. */
export async function listPeers(dataDir: string): Promise<PeerState[]> {
  return withRelayStore(dataDir, async (store) => {
    const queued = store.outboxCounts();
    return (await store.listPeers()).map((p) => ({
      domain: p.domain,
      url: p.url,
      publicKey: p.publicKey,
      reachable: p.lastSuccessAt !== null && (p.lastErrorAt === null || p.lastSuccessAt >= p.lastErrorAt),
      queued: queued.get(p.domain) ?? 0,
      lastSuccessAt: p.lastSuccessAt?.toISOString() ?? null,
      lastError: p.lastError,
      lastErrorAt: p.lastErrorAt?.toISOString() ?? null,
      keyLogSize: headSize(p.keyLogHead),
      alarm: p.alarm,
      alarmAt: p.alarmAt?.toISOString() ?? null,
    }));
  });
}

/**
 * Lets an auditor read the audit log (and nothing else), by the public key `entraide audit keygen`
 * printed; gives a removed auditor access again. SCHEMA_INVALID for a bad name or key.
 * Returns this relay's domain.
 */
export async function addAuditor(
  dataDir: string,
  name: string,
  publicKey: string,
  now = new Date(),
): Promise<string> {
  check(AuditorName, name, 'auditor name');
  check(PublicKey, publicKey, 'public key');
  return withRelayStore(dataDir, async (store, identity) => {
    await store.addAuditor(name, publicKey, now);
    return identity.domain;
  });
}

/** Takes an auditor's access away (tokens already issued stop working). NOT_FOUND if not an auditor now. */
export async function removeAuditor(dataDir: string, name: string, now = new Date()): Promise<void> {
  check(AuditorName, name, 'auditor name');
  await withRelayStore(dataDir, async (store) => {
    if (!(await store.removeAuditor(name, now)))
      throw new EntraideError('NOT_FOUND', `${name} is not an auditor of this relay`);
  });
}

/**
 * Envelope ids two senders used, newest first (at most `limit`): met on this relay (`relay` is its
 * domain; `peer` the relay the later one came from, if any), or reported by a peer in its answer
 * about an envelope sent from here (`relay` and `peer` are that peer). Both envelopes are kept and
 * delivered; the alarm says that one sender used another's id, perhaps to squat it.
 */
export async function listConflicts(dataDir: string, limit = 100): Promise<IdConflictRecord[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new EntraideError('USAGE', `--limit must be a number from 1 to 10000, not "${limit}"`);
  return withRelayStore(dataDir, async (store) => store.conflicts.latest(limit));
}

/** Auditors, by name, removed ones included. */
export async function listAuditors(dataDir: string): Promise<AuditorRecord[]> {
  return withRelayStore(dataDir, (store) => store.listAuditors());
}

/** Checks what an operator types for a peer (the messages name the CLI's options). */
export function checkPeerInput(input: PeerInput): void {
  checkDomain(input.domain);
  // https:// only, but for a peer on this machine (INSECURE_URL).
  checkServiceUrl(input.url, '--url');
  try {
    fromBase64url(input.publicKey, '--key', 32);
  } catch {
    throw new EntraideError(
      'USAGE',
      '--key must be the peer relay’s public key as `entraide relay info` prints it',
    );
  }
}

async function identityOf(dataDir: string): Promise<RelayIdentity> {
  await loadSodium();
  return loadRelayIdentity(dataDir, undefined, false);
}

/** The identity first: a folder that holds no relay is refused before a database is created in it. */
async function withRelayStore<T>(
  dataDir: string,
  fn: (store: RelayStore, identity: RelayIdentity) => Promise<T>,
): Promise<T> {
  const identity = await identityOf(dataDir);
  const store = RelayStore.open(dataDir);
  try {
    return await fn(store, identity);
  } finally {
    await store.close();
  }
}

/** The size of a kept signed tree head, or null when none is kept (or it cannot be read). */
function headSize(head: string | null): number | null {
  if (head === null) return null;
  try {
    const size = (JSON.parse(head) as { size?: unknown }).size;
    return Number.isSafeInteger(size) ? (size as number) : null;
  } catch {
    return null;
  }
}
