/**
 * A video-conference room for a meeting, on a conference server the network chose (e.g. a Jitsi
 * deployment): an unguessable room name and a numeric passcode, both from randomness passed in.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EntraideError } from '../errors.ts';

/** Bytes for the room name (160 bits) and for the passcode's rejection sampling. */
export const ROOM_RANDOM_BYTES = 20;
export const PASSCODE_RANDOM_BYTES = 16;
export const CONFERENCE_RANDOM_BYTES = ROOM_RANDOM_BYTES + PASSCODE_RANDOM_BYTES;
export const PASSCODE_DIGITS = 8;

const HOST = '(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const PATH = '(?:/[A-Za-z0-9._~-]+)*/?';
/** https on any host, or plain http on localhost (for tests and demos); no user, query or fragment. */
export const CONFERENCE_BASE_PATTERN = `^(?:https://${HOST}|http://localhost)(?::[0-9]{1,5})?${PATH}$`;
const BASE = new RegExp(CONFERENCE_BASE_PATTERN);
export const ROOM_PATTERN = '^entraide(?:-[a-z2-7]{4}){8}$';

export const Conference = Type.Object(
  {
    url: Type.String({ pattern: CONFERENCE_BASE_PATTERN, maxLength: 2048 }),
    room: Type.String({ pattern: ROOM_PATTERN }),
    passcode: Type.String({ pattern: `^[0-9]{${PASSCODE_DIGITS}}$` }),
  },
  { additionalProperties: false },
);
export type Conference = Static<typeof Conference>;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower-case, no padding. */
export function base32Lower(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >> bits) & 31]!;
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31]!;
  return out;
}

/** Checks a conference server's base URL; returns it without a trailing slash. */
export function checkConferenceBase(baseUrl: string): string {
  if (typeof baseUrl !== 'string' || baseUrl.length > 1024 || !BASE.test(baseUrl)) {
    throw new EntraideError(
      'CONFERENCE_URL_INVALID',
      `"${String(baseUrl)}" is not a conference base URL: give https://host[:port][/path], lower-case, ` +
        'without user, query or fragment (http:// only for localhost)',
    );
  }
  const port = /:([0-9]{1,5})(?:\/|$)/.exec(baseUrl.slice(baseUrl.indexOf('//') + 2));
  if (port && (Number(port[1]) < 1 || Number(port[1]) > 65535)) {
    throw new EntraideError('CONFERENCE_URL_INVALID', `"${baseUrl}" has no valid port`);
  }
  return baseUrl.replace(/\/+$/, '');
}

/**
 * Eight decimal digits from random bytes, one digit per byte below 250 (the largest multiple of
 * 10 that fits a byte): bytes 250..255 are skipped, so every digit is equally likely.
 */
function passcode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b >= 250) continue;
    out += String(b % 10);
    if (out.length === PASSCODE_DIGITS) return out;
  }
  // Needs 9 of 16 bytes ≥ 250: about 1 in 10^11. The caller draws fresh bytes and tries again.
  throw new RangeError('not enough random bytes for a passcode; call again with fresh randomness');
}

/**
 * A room on the conference server at `baseUrl`: 'entraide-xxxx-…' (32 base32 characters from 20
 * random bytes) and an 8-digit passcode. `randomBytes` needs CONFERENCE_RANDOM_BYTES bytes.
 * Throws CONFERENCE_URL_INVALID for a base URL that is not https (or http://localhost).
 */
export function conferenceLink(baseUrl: string, randomBytes: Uint8Array): Conference {
  const base = checkConferenceBase(baseUrl);
  if (randomBytes.length < CONFERENCE_RANDOM_BYTES) {
    throw new RangeError(`conferenceLink needs ${CONFERENCE_RANDOM_BYTES} random bytes`);
  }
  const letters = base32Lower(randomBytes.subarray(0, ROOM_RANDOM_BYTES));
  const room = `entraide-${letters.match(/.{4}/g)!.join('-')}`;
  return {
    url: `${base}/${room}`,
    room,
    passcode: passcode(randomBytes.subarray(ROOM_RANDOM_BYTES, CONFERENCE_RANDOM_BYTES)),
  };
}
