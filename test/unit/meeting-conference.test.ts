/** Conference rooms and passcodes from randomness passed in (shared/meetings/conference.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base32Lower,
  Conference,
  CONFERENCE_RANDOM_BYTES,
  conferenceLink,
  ROOM_RANDOM_BYTES,
} from '../../shared/meetings/conference.ts';
import { isValid } from '../../shared/protocol/validate.ts';
import { codeOf, random } from './fixtures.ts';

describe('conferenceLink', () => {
  it('makes an unguessable room and an 8-digit passcode under the base URL', () => {
    const link = conferenceLink('https://meet.wacap.example/', random(CONFERENCE_RANDOM_BYTES));
    expect(link.room).toMatch(/^entraide(-[a-z2-7]{4}){8}$/);
    expect(link.url).toBe(`https://meet.wacap.example/${link.room}`);
    expect(link.passcode).toMatch(/^[0-9]{8}$/);
    expect(isValid(Conference, link)).toBe(true);
  });

  it('is deterministic in its bytes: the room from the first 20, the passcode from the rest', () => {
    const bytes = new Uint8Array(CONFERENCE_RANDOM_BYTES);
    bytes.set([255, 251, 250, 1, 2, 3, 4, 5, 6, 7, 8, 9, 250, 19], ROOM_RANDOM_BYTES);
    const link = conferenceLink('https://meet.example:8443/rooms', bytes);
    expect(link.room).toBe('entraide-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa');
    expect(link.url).toBe('https://meet.example:8443/rooms/entraide-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaa');
    // 255, 251 and 250 are rejected (no modulo bias); then 1..7 and 9 % 10.
    expect(link.passcode).toBe('12345678');
  });

  it('maps the 250 accepted byte values evenly onto the ten digits and skips the 6 others', () => {
    const counts = new Array<number>(10).fill(0);
    for (let b = 0; b < 256; b++) {
      const bytes = new Uint8Array(CONFERENCE_RANDOM_BYTES).fill(1, ROOM_RANDOM_BYTES);
      bytes[ROOM_RANDOM_BYTES] = b;
      const { passcode } = conferenceLink('https://m.example', bytes);
      if (b >= 250) expect(passcode).toBe('11111111');
      else counts[Number(passcode[0])]!++;
    }
    expect(counts).toEqual(new Array<number>(10).fill(25));
  });

  it('encodes base32 as RFC 4648 does (test vectors of §10, lower-case, unpadded)', () => {
    const enc = (s: string) => base32Lower(new TextEncoder().encode(s));
    expect(enc('')).toBe('');
    expect(enc('f')).toBe('my');
    expect(enc('fo')).toBe('mzxq');
    expect(enc('foo')).toBe('mzxw6');
    expect(enc('foob')).toBe('mzxw6yq');
    expect(enc('fooba')).toBe('mzxw6ytb');
    expect(enc('foobar')).toBe('mzxw6ytboi');
  });

  it('gives different rooms for different randomness (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: CONFERENCE_RANDOM_BYTES, maxLength: CONFERENCE_RANDOM_BYTES }),
        fc.uint8Array({ minLength: CONFERENCE_RANDOM_BYTES, maxLength: CONFERENCE_RANDOM_BYTES }),
        (a, b) => {
          const same = a.subarray(0, ROOM_RANDOM_BYTES).every((x, i) => x === b[i]);
          let la, lb;
          try {
            [la, lb] = [conferenceLink('https://m.example', a), conferenceLink('https://m.example', b)];
          } catch {
            return; // fewer than 8 bytes below 250 in the passcode part
          }
          expect(la.room === lb.room).toBe(same);
        },
      ),
    );
  });

  it.each([
    'http://meet.example',
    'ftp://meet.example',
    'https://user:pw@meet.example',
    'https://meet.example/?room=x',
    'https://meet.example/#x',
    'https://MEET.example',
    'https://meet.example:0',
    'https://meet.example:70000',
    'https://',
    'meet.example',
    'javascript:alert(1)',
    'https://meet.example/a b',
    '',
  ])('refuses the base URL %j with CONFERENCE_URL_INVALID', (base) => {
    expect(codeOf(() => conferenceLink(base, random(CONFERENCE_RANDOM_BYTES)))).toBe(
      'CONFERENCE_URL_INVALID',
    );
  });

  it.each([
    'http://localhost',
    'http://localhost:8000/',
    'https://10.0.0.5:8443',
    'https://jitsi.moj.gov.sn/meet',
  ])('accepts %j', (base) =>
    expect(() => conferenceLink(base, random(CONFERENCE_RANDOM_BYTES))).not.toThrow(),
  );

  it('needs enough random bytes', () => {
    expect(() => conferenceLink('https://m.example', random(16))).toThrow(RangeError);
  });
});
