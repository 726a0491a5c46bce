/**
 * Join codes: what a new node shows and an approving officer types. The code is 120 bits of a
 * BLAKE2b hash of the signed join request, so the relay that stores the request cannot swap its
 * keys without the code changing. Crockford base32 (no I, L, O, U), groups of four.
 */
import { EntraideError } from '../errors.ts';
import { canonicalBytes } from '../canonical.ts';
import { concatBytes, utf8 } from '../bytes.ts';
import { sodium } from '../crypto/sodium.ts';
import type { JoinRequest } from '../protocol/key-log.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function joinCode(request: JoinRequest): string {
  const digest = sodium().crypto_generichash(
    15,
    concatBytes(utf8('entraide/v1/join-code'), new Uint8Array([0]), canonicalBytes(request)),
    null,
  );
  return grouped(digest);
}

/**
 * A join ticket: 120 random bits written like a join code. A node of the authority asks its relay
 * for one and gives it to the officer of the new node, who presents it with the join request.
 */
export function newJoinTicket(random: (n: number) => Uint8Array): string {
  return grouped(random(15));
}

/** 15 bytes as 24 Crockford base32 characters in groups of four. */
function grouped(digest: Uint8Array): string {
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of digest) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31]!;
    }
    acc &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join('-');
}

/** Accepts the code as people type it: any case, spaces or hyphens anywhere, O for 0, I/L for 1. */
export function normaliseJoinCode(text: string, what = 'join code'): string {
  const clean = text.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (!/^[0-9A-HJKMNP-TV-Z]{24}$/.test(clean)) {
    throw new EntraideError('USAGE', `"${text}" is not a ${what} (24 letters and digits, e.g. 7K2M-9QXD-…)`);
  }
  return clean.match(/.{4}/g)!.join('-');
}
