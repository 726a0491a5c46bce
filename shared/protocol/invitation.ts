/**
 * The invitation a relay operator gives an authority (`entraide relay invite`): one string that
 * carries the relay's URL, the fingerprint of the relay's key and the one-time code, so that the
 * node checks the key the relay shows at first contact instead of trusting it:
 *
 *   entraide:<code>.<key fingerprint>@<relay URL>
 *   entraide:pX2b…(32).Qm7L…(43)@https://relay.wacap.example
 *
 * Only base64url characters, `.`, `:`, `@` and the URL's own: a terminal selects it whole and a
 * shell takes it unquoted for the URLs relays have (https://host[:port][/path]).
 */
import { EntraideError } from '../errors.ts';
import { checkRelayKeyText } from '../crypto/relay-key.ts';
import { checkServiceUrl } from './service-url.ts';

export const INVITATION_PREFIX = 'entraide:';

export interface InvitationParts {
  relayUrl: string;
  /** The fingerprint of the relay's public key (shared/crypto/relay-key.ts). */
  relayKey: string;
  /** The one-time code the relay stores the hash of. */
  code: string;
}

const CODE = /^[A-Za-z0-9_-]{16,128}$/;

/** Whether `text` is meant as a whole invitation (rather than a bare code). */
export function isInvitation(text: string): boolean {
  return text.trim().startsWith(INVITATION_PREFIX);
}

/** The invitation string. Preconditions: a well-formed code and key text, and a URL checkServiceUrl accepts. */
export function formatInvitation(parts: InvitationParts): string {
  if (!CODE.test(parts.code))
    throw new EntraideError('USAGE', 'an invitation code is 16 to 128 base64url characters');
  checkRelayKeyText(parts.relayKey, 'the relay key fingerprint');
  checkServiceUrl(parts.relayUrl, 'the relay URL');
  return `${INVITATION_PREFIX}${parts.code}.${parts.relayKey}@${parts.relayUrl}`;
}

/**
 * The parts of an invitation as pasted (surrounding spaces ignored). USAGE naming `what` when it is
 * not one; INSECURE_URL when it names a relay off loopback over plain http://.
 */
export function parseInvitation(text: string, what = '--invite'): InvitationParts {
  const value = text.trim();
  const at = value.indexOf('@');
  const head = value.slice(INVITATION_PREFIX.length, at);
  const dot = head.indexOf('.');
  const code = head.slice(0, dot);
  const relayKey = head.slice(dot + 1);
  if (!value.startsWith(INVITATION_PREFIX) || at < 0 || dot < 0 || !CODE.test(code))
    throw new EntraideError(
      'USAGE',
      `${what} is not a whole invitation (entraide:<code>.<key fingerprint>@<relay URL>, as \`entraide relay invite\` prints it): it may have been cut when copied`,
    );
  checkRelayKeyText(relayKey, `the key fingerprint in ${what}`);
  const relayUrl = checkServiceUrl(value.slice(at + 1), `the relay URL in ${what}`).href;
  return { relayUrl, relayKey, code };
}
