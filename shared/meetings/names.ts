/**
 * Identifiers that networks and meetings share: a network's id, language tags, and the hash that
 * names a signed roster or meeting message.
 */
import { Type } from '@sinclair/typebox';
import { toBase64url } from '../bytes.ts';
import { canonicalBytes } from '../canonical.ts';
import { sodium } from '../crypto/sodium.ts';

/** A network's id: a lower-case slug of 2 to 40 characters, e.g. 'wacap', 'great-lakes'. */
export const NETWORK_ID_PATTERN = '[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])';
export const NetworkId = Type.String({ pattern: `^${NETWORK_ID_PATTERN}$`, maxLength: 40 });

/** A BCP 47 language tag as the rest of entraide writes them: 'fr', 'pt-BR'. */
export const LanguageTag = Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$', maxLength: 35 });
export const MAX_LANGUAGES = 20;
export const Languages = Type.Array(LanguageTag, { maxItems: MAX_LANGUAGES, uniqueItems: true });

/** SHA-256 of an object's canonical form (signature included), base64url: its identity. */
export function objectHash(value: unknown): string {
  return toBase64url(sodium().crypto_hash_sha256(canonicalBytes(value)));
}
