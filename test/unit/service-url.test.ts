/**
 * The pure rules of the edge: which relay URLs are accepted (shared/protocol/service-url.ts), the
 * relay key's fingerprint against a reference computed with node:crypto, and the invitation string
 * with systematic corruptions (shared/protocol/invitation.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { checkRelayKey, checkRelayKeyText, relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import { formatInvitation, isInvitation, parseInvitation } from '../../shared/protocol/invitation.ts';
import { checkServiceUrl, isLoopbackHost } from '../../shared/protocol/service-url.ts';

function codeOf(fn: () => unknown): ErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    expect(err).toBeInstanceOf(EntraideError);
    return (err as EntraideError).code;
  }
}

describe('relay URLs', () => {
  it.each([
    'https://relay.example',
    'https://relay.example:8443/entraide/',
    'https://192.0.2.1:7800',
    'http://127.0.0.1:7800',
    'http://127.8.9.10',
    'http://127.1:7800', // the parser's 127.0.0.1
    'http://2130706433/', // 127.0.0.1 as one number
    'http://localhost:7800',
    'http://LOCALHOST',
    'http://[::1]:7800',
    'http://[0:0:0:0:0:0:0:1]/',
  ])('accepts %s', (url) => {
    expect(codeOf(() => checkServiceUrl(url, '--relay'))).toBe('none');
  });

  it.each<[string, ErrorCode]>([
    ['http://192.0.2.1:7800', 'INSECURE_URL'],
    ['http://relay.example', 'INSECURE_URL'],
    ['http://0.0.0.0:7800', 'INSECURE_URL'],
    ['http://[::]:7800', 'INSECURE_URL'],
    ['http://[::ffff:127.0.0.1]/', 'INSECURE_URL'], // a mapped address: not taken for loopback
    ['http://127.0.0.1.nip.io', 'INSECURE_URL'], // a name, whatever it resolves to
    ['http://localhost.relay.example', 'INSECURE_URL'],
    ['http://128.0.0.1', 'INSECURE_URL'],
    ['HTTP://RELAY.EXAMPLE', 'INSECURE_URL'],
    ['relay.example', 'USAGE'],
    ['', 'USAGE'],
    ['ftp://relay.example', 'USAGE'],
    ['ws://relay.example', 'USAGE'],
    ['https://user:secret@relay.example', 'USAGE'],
    ['http://127.0.0.1@relay.example', 'USAGE'], // user info hiding the real host
  ])('refuses %s with %s', (url, code) => {
    expect(codeOf(() => checkServiceUrl(url, '--relay'))).toBe(code);
  });

  it('names what it checks, and the caller’s code for a malformed value read from a file', () => {
    expect(() => checkServiceUrl('http://192.0.2.1', 'the relay URL in node.json')).toThrow(
      /the relay URL in node.json is plain http:\/\/ to 192\.0\.2\.1/,
    );
    expect(codeOf(() => checkServiceUrl('nonsense', 'x', 'HOME_CORRUPT'))).toBe('HOME_CORRUPT');
    // An insecure URL is INSECURE_URL whoever reads it.
    expect(codeOf(() => checkServiceUrl('http://relay.example', 'x', 'HOME_CORRUPT'))).toBe('INSECURE_URL');
  });

  it.each([
    ['127.0.0.1', true],
    ['127.0.0.53', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['relay.example', false],
    ['', false],
  ])('listening on %s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host as string)).toBe(loopback);
  });
});

describe('relay key fingerprint', () => {
  const key = toBase64url(randomBytes(32));
  /** The reference: SHA-256 of the 32 key bytes, as `base64 -d | sha256sum` would give it. */
  const reference = createHash('sha256').update(fromBase64url(key)).digest('base64url');

  it('is base64url(SHA-256(key bytes)), 43 characters', () => {
    expect(relayKeyFingerprint(key)).toBe(reference);
    expect(reference).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('matches the relay key given in full or by its fingerprint, nothing else', () => {
    expect(codeOf(() => checkRelayKey(key, key, 'https://r'))).toBe('none');
    expect(codeOf(() => checkRelayKey(key, reference, 'https://r'))).toBe('none');
    const other = toBase64url(randomBytes(32));
    expect(codeOf(() => checkRelayKey(key, other, 'https://r'))).toBe('RELAY_KEY_MISMATCH');
    expect(codeOf(() => checkRelayKey(key, relayKeyFingerprint(other), 'https://r'))).toBe(
      'RELAY_KEY_MISMATCH',
    );
    const flipped = (reference[0] === 'A' ? 'B' : 'A') + reference.slice(1);
    expect(() => checkRelayKey(key, flipped, 'https://r')).toThrow(
      new RegExp(`the relay at https://r shows the key with fingerprint ${reference}`),
    );
  });

  it.each(['', 'short', `${reference}x`, `${reference.slice(0, 42)}=`, `${reference.slice(0, 42)}+`])(
    'refuses "%s" as key text: USAGE',
    (text) => {
      expect(codeOf(() => checkRelayKeyText(text, '--relay-key'))).toBe('USAGE');
    },
  );
});

describe('invitation', () => {
  const code = toBase64url(randomBytes(24));
  const relayKey = relayKeyFingerprint(toBase64url(randomBytes(32)));
  const relayUrl = 'https://relay.wacap.example';
  const text = formatInvitation({ relayUrl, relayKey, code });

  it('is one copy-paste-safe string holding the code, the key fingerprint and the URL', () => {
    expect(text).toBe(`entraide:${code}.${relayKey}@${relayUrl}`);
    expect(text).toMatch(/^[A-Za-z0-9._:/@-]+$/);
    expect(text.length).toBeLessThan(140);
    expect(isInvitation(text)).toBe(true);
    expect(isInvitation(code)).toBe(false);
  });

  it('parses back, surrounding spaces ignored, the URL normalised', () => {
    expect(parseInvitation(`  ${text}\n`)).toEqual({ relayUrl: `${relayUrl}/`, relayKey, code });
    const local = formatInvitation({ relayUrl: 'http://127.0.0.1:7800', relayKey, code });
    expect(parseInvitation(local).relayUrl).toBe('http://127.0.0.1:7800/');
  });

  it.each<[string, string, ErrorCode]>([
    ['without its prefix', text.slice('entraide:'.length), 'USAGE'],
    ['cut before the URL', text.slice(0, text.indexOf('@')), 'USAGE'],
    ['cut in the fingerprint', text.slice(0, text.indexOf('.') + 20), 'USAGE'],
    ['with the fingerprint cut short', text.replace(`.${relayKey}@`, `.${relayKey.slice(1)}@`), 'USAGE'],
    ['without the fingerprint', text.replace(`.${relayKey}`, ''), 'USAGE'],
    ['with a code of other characters', text.replace(code, `${code.slice(1)}!`), 'USAGE'],
    ['with a code too short', text.replace(code, code.slice(0, 8)), 'USAGE'],
    ['with an empty URL', text.slice(0, text.indexOf('@') + 1), 'USAGE'],
    ['with a URL that is not one', text.replace(relayUrl, 'relay.example'), 'USAGE'],
    ['naming plain http to another machine', text.replace(relayUrl, 'http://relay.example'), 'INSECURE_URL'],
    ['naming plain http to an address', text.replace(relayUrl, 'http://192.0.2.1:7800'), 'INSECURE_URL'],
  ])('refuses one %s: %s', (_what, corrupted, code) => {
    expect(codeOf(() => parseInvitation(corrupted))).toBe(code);
  });

  it('is never formatted with parts that would not parse back', () => {
    expect(codeOf(() => formatInvitation({ relayUrl: 'http://relay.example', relayKey, code }))).toBe(
      'INSECURE_URL',
    );
    expect(codeOf(() => formatInvitation({ relayUrl, relayKey: 'x', code }))).toBe('USAGE');
    expect(codeOf(() => formatInvitation({ relayUrl, relayKey, code: 'a.b' }))).toBe('USAGE');
  });
});
