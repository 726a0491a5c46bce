/**
 * The directory act of `entraide demo`: each authority publishes the profile the networks file
 * gives it (signed by its master key, logged by its relay), with its first node as the one that
 * urgent requests alert; then one authority searches the directory of every relay it knows, its
 * own and its relay's peers, for authorities that accept requests in French.
 */
import { parseAuthorityAddress } from '../../shared/addresses.ts';
import { EntraideError } from '../../shared/errors.ts';
import { profileName } from '../../shared/keys/profile.ts';
import { ProfileDraft } from '../../shared/protocol/profile.ts';
import { check } from '../../shared/protocol/validate.ts';
import { publishProfile, searchDirectory } from '../authority-profile.ts';
import type { AuthorityNode } from '../node.ts';
import { out } from './io.ts';

/** The language the demo searches the directory for: found on two relays with examples/networks.json. */
const SEARCHED_LANGUAGE = 'fr';

/**
 * Every profile of a networks file, keyed by authority id, each checked against ProfileDraft
 * before anything starts: a bad one is a USAGE error naming the file, the authority and the field.
 */
export function checkProfiles(file: string, profiles: Record<string, unknown>): Map<string, ProfileDraft> {
  const checked = new Map<string, ProfileDraft>();
  for (const [id, draft] of Object.entries(profiles)) {
    try {
      checked.set(id, check(ProfileDraft, draft, `profiles["${id}"]`));
    } catch (err) {
      if (!(err instanceof EntraideError) || err.code !== 'SCHEMA_INVALID') throw err;
      throw new EntraideError('USAGE', `${file}: ${err.message}`);
    }
  }
  return checked;
}

/** Publishes each node's profile (none when the file has no profiles), then searches the directory. */
export async function demoDirectory(
  nodes: AuthorityNode[],
  profiles: Map<string, ProfileDraft> | undefined,
  t: () => string,
): Promise<void> {
  if (!profiles) {
    out(`${t()}  the networks file has no profiles: no authority publishes one, the directory stays empty`);
    return;
  }
  for (const node of nodes) {
    const profile = profiles.get(parseAuthorityAddress(node.authority).authorityId);
    if (!profile) {
      out(`${t()}  ${node.authority} has no profile in the networks file and publishes none`);
      continue;
    }
    const { profile: p } = await publishProfile(node, {
      ...profile,
      onCall: { ...profile.onCall, node: node.address },
    });
    out(
      `${t()}  ${p.authority} published its profile: ${profileName(p, 'en')}; requests in ${p.languages.join(', ')}`,
    );
  }
  // A counterpart on another network looks for authorities it can write to in French.
  const seeker = nodes.at(-1)!;
  const found = await searchDirectory(seeker, { language: SEARCHED_LANGUAGE });
  const relays = new Set(found.hits.map((h) => h.relay));
  out(
    `${t()}  ${seeker.authority} searched ${found.searched.length} relays for authorities that accept requests in ${SEARCHED_LANGUAGE}: ${found.hits.length} found on ${relays.size} relays`,
  );
  for (const h of found.hits) out(`    ${h.profile.state}  ${h.authority}  on ${h.relay}`);
  for (const u of found.unreachable) out(`    relay ${u.relay} not searched: ${u.reason}`);
}
