/**
 * The directory of competent authorities from a node: publishing this authority's profile (signed
 * with the master key, logged as a key event), reading another's (from the key log this node
 * verified, so a relay can neither forge nor hide a change), and searching the profiles of every
 * authority homed on the relays this node knows (its own and its relay's peers).
 */
import { parseAuthorityAddress } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import { replayAuthority, type IndexedLeaf, type KeyHistoryItem } from '../shared/keys/authority-state.ts';
import { profileMatches, signProfile, type ProfileQuery } from '../shared/keys/profile.ts';
import { PeerList } from '../shared/protocol/federation.ts';
import { ProfileDraft, type AuthorityProfile } from '../shared/protocol/profile.ts';
import { check } from '../shared/protocol/validate.ts';
import { masterSecret } from './key-manager.ts';
import type { KeyPort } from './node-port.ts';

export interface ProfileView {
  authority: string;
  /** The profile in force, or null when the authority published none. */
  profile: AuthorityProfile | null;
  /** Log index of the profile in force. */
  index: number | null;
  /** Every profile event of the authority's key history, refused ones with their reason. */
  history: KeyHistoryItem[];
}

/** Signs `draft` (profile.json) with the master key and logs it; the relay checks it as any key event. */
export async function publishProfile(
  node: KeyPort,
  draft: unknown,
  now = new Date(),
): Promise<{ authority: string; index: number; profile: AuthorityProfile }> {
  const body = check(ProfileDraft, draft, 'profile');
  const onCall = body.onCall?.node;
  if (onCall && parseAuthorityAddress(onCall.slice(onCall.indexOf('/') + 1)).address !== node.authority)
    throw new EntraideError(
      'SCHEMA_INVALID',
      `profile.onCall.node ${onCall} is not a node of ${node.authority}`,
    );
  if (onCall && !(await node.trust.authority(node.authority, true)).state.nodes.get(onCall))
    throw new EntraideError(
      'SCHEMA_INVALID',
      `profile.onCall.node ${onCall} is not a certified node of ${node.authority}`,
    );
  const profile = signProfile({ authority: node.authority, issuedAt: now, draft: body }, masterSecret(node));
  const result = await node.publish({ type: 'profile-published', profile });
  return { authority: node.authority, index: result.index, profile };
}

/** An authority's profile, from its key events as this node verified them. */
export async function profileOf(node: KeyPort, authority: string, fresh = true): Promise<ProfileView> {
  const address = parseAuthorityAddress(authority).address;
  const t = await node.trust.authority(address, fresh);
  return {
    authority: address,
    profile: t.state.profile?.profile ?? null,
    index: t.state.profile?.index ?? null,
    history: t.history.filter((h) => h.type === 'profile-published'),
  };
}

export interface DirectoryHit {
  authority: string;
  relay: string;
  profile: AuthorityProfile;
  index: number;
}

/**
 * The authorities whose profile in force matches `query`, on this node's relay and each of its
 * peers (or on `relays` only), from each relay's key log as this node verified it. A relay that
 * does not answer is named in `unreachable`; the others still answer.
 */
export async function searchDirectory(
  node: KeyPort,
  query: ProfileQuery,
  opts: { relays?: readonly string[]; among?: ReadonlySet<string> } = {},
): Promise<{ hits: DirectoryHit[]; searched: string[]; unreachable: { relay: string; reason: string }[] }> {
  const home = node.config.relay.domain;
  const relays = opts.relays ?? [
    home,
    ...(await node.relay.get(PeerList, '/v1/peers')).peers.map((p) => p.domain),
  ];
  const hits: DirectoryHit[] = [];
  const searched: string[] = [];
  const unreachable: { relay: string; reason: string }[] = [];
  for (const domain of relays) {
    let entries: IndexedLeaf[];
    try {
      const view = await node.trust.relayView(domain);
      await view.monitor.sync();
      entries = view.monitor.entriesOf(undefined);
    } catch (err) {
      if (!(err instanceof EntraideError)) throw err;
      unreachable.push({ relay: domain, reason: `${err.message} [${err.code}]` });
      continue;
    }
    searched.push(domain);
    const profiled = new Set(
      entries.filter((e) => e.leaf.event.type === 'profile-published').map((e) => e.leaf.authority),
    );
    for (const authority of profiled) {
      if (opts.among && !opts.among.has(authority)) continue;
      const { state } = replayAuthority(entries.filter((e) => e.leaf.authority === authority));
      const p = state?.profile;
      if (p && profileMatches(p.profile, query))
        hits.push({ authority, relay: domain, profile: p.profile, index: p.index });
    }
  }
  hits.sort(
    (a, b) => a.profile.state.localeCompare(b.profile.state) || a.authority.localeCompare(b.authority),
  );
  return { hits, searched, unreachable };
}
