/**
 * An authority's profile as a key event (shared/keys/profile.ts, authority-state.ts): signed by
 * the master key in force, newer than the one it replaces, naming an on-call node of its own
 * authority; anything else is refused and leaves the profile in force as it was, and each change
 * stays in the authority's key history. Then what a profile answers: searches, and what it tells
 * a sender before a request goes out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, type SigningKeyPair } from '../../shared/crypto/keys.ts';
import { loadSodium } from '../../shared/crypto/sodium.ts';
import { replayAuthority, type IndexedLeaf } from '../../shared/keys/authority-state.ts';
import { makeLeaf } from '../../shared/keys/key-log-leaf.ts';
import {
  counterpartWarnings,
  profileMatches,
  profileName,
  signProfile,
  verifyProfile,
} from '../../shared/keys/profile.ts';
import { declareAuthority, rotateMasterKey } from '../../shared/keys/statements.ts';
import type { KeyEvent } from '../../shared/protocol/key-log.ts';
import { AuthorityProfile, type ProfileDraft } from '../../shared/protocol/profile.ts';
import { check } from '../../shared/protocol/validate.ts';
import { codeOf, KE_AG, random } from './fixtures.ts';

const T0 = new Date('2026-03-01T09:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const DRAFT: ProfileDraft = {
  names: [
    { language: 'en', name: 'Office of the Attorney General' },
    { language: 'fr', name: 'Bureau du Procureur général' },
  ],
  state: 'KE',
  competences: ['untoc_mla', 'untoc_extradition', 'electronic_evidence_24_7'],
  requestTypes: ['mutual_legal_assistance', 'extradition', 'expedited_preservation'],
  languages: ['en', 'sw'],
  channels: { electronicOriginal: false, originalToFollow: 'paper', interpol: true },
  onCall: { node: `desk1/${KE_AG}`, phone: '+254 20 000 0000', hours: '24/7' },
  requirements: { dualCriminality: 'Required for coercive measures only.' },
  treaties: [{ kind: 'untoc' }, { kind: 'harare_scheme' }],
  guide: 'https://ag.example.ke/mla-guide',
};

let amk: SigningKeyPair;
beforeAll(async () => {
  await loadSodium();
  amk = generateSigningKeyPair(random);
});

const enrolled = (): IndexedLeaf => ({
  index: 0,
  leaf: makeLeaf({ type: 'authority-enrolled', declaration: declareAuthority(KE_AG, amk, T0) }, T0),
});
const logged = (index: number, event: KeyEvent, minutes: number): IndexedLeaf => ({
  index,
  leaf: makeLeaf(event, at(minutes)),
});
const profileEvent = (draft: ProfileDraft, key: SigningKeyPair, minutes: number): KeyEvent => ({
  type: 'profile-published',
  profile: signProfile({ authority: KE_AG, issuedAt: at(minutes), draft }, key.secretKey),
});

describe('a profile in the key log', () => {
  it('is signed by the master key, fits its schema, and becomes the profile in force', () => {
    const p = signProfile({ authority: KE_AG, issuedAt: at(1), draft: DRAFT }, amk.secretKey);
    expect(check(AuthorityProfile, p, 'profile')).toEqual(p);
    expect(() => verifyProfile(p, amk.publicKey)).not.toThrow();
    const { state, history } = replayAuthority([enrolled(), logged(1, profileEvent(DRAFT, amk, 1), 1)]);
    expect(state!.profile).toEqual({
      profile: expect.objectContaining({ state: 'KE', languages: ['en', 'sw'] }),
      index: 1,
    });
    expect(history[1]).toMatchObject({ type: 'profile-published', accepted: true });
  });

  it('refuses a profile signed by another key, or changed after signing: the one in force stands', () => {
    const other = generateSigningKeyPair(random);
    const good = logged(1, profileEvent(DRAFT, amk, 1), 1);
    const byOther = logged(2, profileEvent({ ...DRAFT, languages: ['ru'] }, other, 2), 2);
    const real = profileEvent(DRAFT, amk, 3) as Extract<KeyEvent, { type: 'profile-published' }>;
    const edited = logged(3, { ...real, profile: { ...real.profile, languages: ['zh'] } }, 3);
    const { state, history } = replayAuthority([enrolled(), good, byOther, edited]);
    expect(state!.profile!.index).toBe(1);
    expect(history.slice(1).map((h) => [h.accepted, h.code])).toEqual([
      [true, null],
      [false, 'BAD_SIGNATURE'],
      [false, 'BAD_SIGNATURE'],
    ]);
  });

  it('a change is a newer profile, kept in the history; an older one logged again is refused', () => {
    const first = profileEvent(DRAFT, amk, 1);
    const second = profileEvent({ ...DRAFT, languages: ['en', 'sw', 'fr'] }, amk, 5);
    const { state, history } = replayAuthority([
      enrolled(),
      logged(1, first, 1),
      logged(2, second, 5),
      logged(3, first, 6),
    ]);
    expect(state!.profile).toMatchObject({ index: 2, profile: { languages: ['en', 'sw', 'fr'] } });
    expect(history.map((h) => h.type)).toEqual([
      'authority-enrolled',
      'profile-published',
      'profile-published',
      'profile-published',
    ]);
    expect(history[3]).toMatchObject({ accepted: false, code: 'KEY_EVENT_INVALID' });
  });

  it('after a master-key rotation, only the new key signs profiles', () => {
    const next = generateSigningKeyPair(random);
    const rotation = rotateMasterKey({ authority: KE_AG, issuedAt: at(2) }, amk, next);
    const { state, history } = replayAuthority([
      enrolled(),
      logged(1, { type: 'master-key-rotated', rotation }, 2),
      logged(2, profileEvent(DRAFT, amk, 3), 3),
      logged(3, profileEvent(DRAFT, next, 4), 4),
    ]);
    expect(history[2]).toMatchObject({ accepted: false, code: 'BAD_SIGNATURE' });
    expect(state!.profile!.index).toBe(3);
  });

  it('refuses an on-call node of another authority', () => {
    const p = signProfile(
      {
        authority: KE_AG,
        issuedAt: at(1),
        draft: { ...DRAFT, onCall: { node: 'desk1/ng.moj@relay.wacap.example' } },
      },
      amk.secretKey,
    );
    expect(codeOf(() => verifyProfile(p, amk.publicKey))).toBe('KEY_EVENT_INVALID');
  });
});

describe('what a profile answers', () => {
  const p = () => signProfile({ authority: KE_AG, issuedAt: at(1), draft: DRAFT }, amk.secretKey);

  it('matches searches by State, competence, language, type and name (case and accents ignored)', () => {
    expect(profileMatches(p(), {})).toBe(true);
    expect(profileMatches(p(), { state: 'ke', competence: 'electronic_evidence_24_7', language: 'sw' })).toBe(
      true,
    );
    expect(profileMatches(p(), { state: 'NG' })).toBe(false);
    expect(profileMatches(p(), { competence: 'asset_recovery' })).toBe(false);
    expect(profileMatches(p(), { language: 'fr' })).toBe(false);
    expect(profileMatches(p(), { requestType: 'confiscation' })).toBe(false);
    expect(profileMatches(p(), { name: 'procureur GENERAL' })).toBe(true);
    expect(profileMatches(p(), { name: 'ministry' })).toBe(false);
    expect(profileName(p(), 'fr')).toBe('Bureau du Procureur général');
    expect(profileName(p(), 'ar')).toBe('Office of the Attorney General');
  });

  it('warns a sender of a language not accepted, a type not handled, an original to follow', () => {
    const codes = (r: Parameters<typeof counterpartWarnings>[1]) =>
      counterpartWarnings(p(), r).map((w) => w.code);
    expect(codes({ type: 'mutual_legal_assistance', language: 'en' })).toEqual(['original_required']);
    expect(codes({ type: 'confiscation', language: 'fr' })).toEqual([
      'language_not_accepted',
      'type_not_handled',
      'original_required',
    ]);
    // A version in an accepted language is enough.
    expect(codes({ type: 'extradition', language: 'fr', versions: [{ language: 'en' }] })).toEqual([
      'original_required',
    ]);
    const electronic = signProfile(
      {
        authority: KE_AG,
        issuedAt: at(1),
        draft: {
          ...DRAFT,
          requestTypes: undefined,
          channels: { ...DRAFT.channels, originalToFollow: 'none' },
        },
      },
      amk.secretKey,
    );
    expect(counterpartWarnings(electronic, { type: 'confiscation', language: 'sw' })).toEqual([]);
  });
});
