/**
 * Signing and checking an authority's profile (shared/protocol/profile.ts), finding authorities by
 * it, and what it tells a sender before a request goes out: a language the counterpart does not
 * accept, a type of request it does not handle, an original that must follow on paper.
 */
import { toBase64url } from '../bytes.ts';
import { CONTEXTS, signObject, verifyObject, withoutSig } from '../crypto/signing.ts';
import { EntraideError } from '../errors.ts';
import type { AuthorityProfile, Competence, ProfileDraft } from '../protocol/profile.ts';
import { parseTimestamp } from '../time.ts';
import type { Warning } from '../requests/completeness.ts';
import type { RequestType } from '../requests/vocabulary.ts';

export function signProfile(
  input: { authority: string; issuedAt: Date; draft: ProfileDraft },
  masterSecretKey: Uint8Array,
): AuthorityProfile {
  const body = {
    v: 1 as const,
    authority: input.authority,
    issuedAt: input.issuedAt.toISOString(),
    ...input.draft,
  };
  return { ...body, sig: signObject(CONTEXTS.authorityProfile, body, masterSecretKey) };
}

/**
 * Checks a profile against the master key in force: BAD_SIGNATURE when another key signed it (or
 * a byte of it changed), KEY_EVENT_INVALID when it names an on-call node of another authority.
 */
export function verifyProfile(p: AuthorityProfile, masterKey: Uint8Array): void {
  parseTimestamp(p.issuedAt, 'profile.issuedAt');
  if (!verifyObject(CONTEXTS.authorityProfile, withoutSig(p), p.sig, masterKey)) {
    throw new EntraideError(
      'BAD_SIGNATURE',
      `the profile of ${p.authority} is not signed by its master key in force`,
    );
  }
  const onCall = p.onCall?.node;
  if (onCall && onCall.slice(onCall.indexOf('/') + 1) !== p.authority) {
    throw new EntraideError(
      'KEY_EVENT_INVALID',
      `the on-call node ${onCall} is not a node of ${p.authority}`,
    );
  }
}

/** The fingerprint of a master key as profiles are shown with it (the first bytes, base64url). */
export function keyTag(masterKey: Uint8Array): string {
  return `${toBase64url(masterKey).slice(0, 8)}…`;
}

export interface ProfileQuery {
  /** ISO 3166-1 alpha-2. */
  state?: string | undefined;
  competence?: Competence | undefined;
  /** A language requests may be written in. */
  language?: string | undefined;
  /** A request type it handles. */
  requestType?: RequestType | undefined;
  /** Words of one of its names (case and accents ignored). */
  name?: string | undefined;
}

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

export function profileMatches(p: AuthorityProfile, q: ProfileQuery): boolean {
  if (q.state && p.state !== q.state.toUpperCase()) return false;
  if (q.competence && !p.competences.includes(q.competence)) return false;
  if (q.language && !p.languages.includes(q.language)) return false;
  if (q.requestType && p.requestTypes && !p.requestTypes.includes(q.requestType)) return false;
  if (q.name) {
    const words = fold(q.name).split(/\s+/).filter(Boolean);
    if (!p.names.some((n) => words.every((w) => fold(n.name).includes(w)))) return false;
  }
  return true;
}

/** The profile's name in `language`, else its first. */
export function profileName(p: AuthorityProfile, language?: string): string {
  return (p.names.find((n) => n.language === language) ?? p.names[0]!).name;
}

/**
 * What the counterpart's profile says against a request about to go out: warnings, which the
 * sender reads and may send past (a translation can follow; a paper original is posted after).
 */
export function counterpartWarnings(
  p: AuthorityProfile,
  request: { type: RequestType; language: string; versions?: readonly { language: string }[] | undefined },
): Warning[] {
  const out: Warning[] = [];
  const languages = [request.language, ...(request.versions ?? []).map((v) => v.language)];
  if (!languages.some((l) => p.languages.includes(l)))
    out.push({
      code: 'language_not_accepted',
      field: 'language',
      message: `${p.authority} accepts requests in ${p.languages.join(', ')} (UNTOC art. 18(14)); this one is in ${languages.join(', ')}: add a version or a translation`,
    });
  if (p.requestTypes && !p.requestTypes.includes(request.type))
    out.push({
      code: 'type_not_handled',
      field: 'type',
      message: `${p.authority} does not handle ${request.type} requests; it handles: ${p.requestTypes.join(', ')}`,
    });
  if (p.channels.originalToFollow !== 'none')
    out.push({
      code: 'original_required',
      field: 'channels',
      message: `${p.authority} needs the original to follow by ${p.channels.originalToFollow === 'paper' ? 'post' : 'the diplomatic channel'}`,
    });
  return out;
}
