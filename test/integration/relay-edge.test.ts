/**
 * How the relay faces the network, before it listens (server/edge.ts, server/tls.ts): its TLS files
 * checked as a pair with a precise TLS_FILES_INVALID, plain HTTP refused off loopback unless a proxy
 * is declared, and a reload that keeps the pair in use when the new one does not check.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import { checkEdge, type EdgeOptions } from '../../server/edge.ts';
import { readTlsPair, TlsReloader, type TlsPair } from '../../server/tls.ts';
import { tempDir } from '../support/fixtures.ts';
import { cli } from '../support/processes.ts';
import { HAS_OPENSSL, makeCertificate, type TestCertificate } from '../support/tls.ts';

function refusal(fn: () => unknown): { code: ErrorCode; message: string } | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    expect(err).toBeInstanceOf(EntraideError);
    return { code: (err as EntraideError).code, message: (err as EntraideError).message };
  }
}

describe.skipIf(!HAS_OPENSSL)('TLS files', () => {
  const dir = tempDir('entraide-tls-files-');
  let a: TestCertificate;
  let b: TestCertificate;
  beforeAll(() => {
    a = makeCertificate(dir, 'a');
    b = makeCertificate(dir, 'b');
  });
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads a certificate and its key as a pair, with the fingerprint node:tls shows', () => {
    const pair = readTlsPair({ certFile: a.certFile, keyFile: a.keyFile });
    expect(pair.fingerprint).toBe(a.fingerprint);
    expect(pair.subject).toContain('CN=127.0.0.1');
  });

  it.each<[string, () => { certFile: string; keyFile: string }, RegExp]>([
    [
      'a missing certificate',
      () => ({ certFile: join(dir, 'none.pem'), keyFile: a.keyFile }),
      /cannot read the certificate .*none\.pem \(ENOENT\)/,
    ],
    [
      'a missing key',
      () => ({ certFile: a.certFile, keyFile: join(dir, 'none.pem') }),
      /cannot read the private key .*none\.pem \(ENOENT\)/,
    ],
    [
      'a folder for a file',
      () => ({ certFile: dir, keyFile: a.keyFile }),
      /cannot read the certificate .* \(EISDIR\)/,
    ],
    [
      'the key given as certificate',
      () => ({ certFile: a.keyFile, keyFile: a.keyFile }),
      /a\.key\.pem holds no PEM certificate/,
    ],
    [
      'the certificate given as key',
      () => ({ certFile: a.certFile, keyFile: a.certFile }),
      /a\.cert\.pem holds no PEM private key/,
    ],
    [
      'a damaged certificate',
      () => ({
        certFile: file('bad.cert.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
        keyFile: a.keyFile,
      }),
      /bad\.cert\.pem is not a readable PEM certificate/,
    ],
    [
      'a damaged key',
      () => ({
        certFile: a.certFile,
        keyFile: file('bad.key.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      }),
      /bad\.key\.pem is not a readable PEM private key/,
    ],
    [
      'the key of another certificate',
      () => ({ certFile: a.certFile, keyFile: b.keyFile }),
      /b\.key\.pem is not the private key of the certificate in .*a\.cert\.pem/,
    ],
  ])('refuses %s: TLS_FILES_INVALID naming the file, never its content', (_what, files, message) => {
    const r = refusal(() => readTlsPair(files()));
    expect(r).not.toBe('none');
    const { code, message: text } = r as { code: ErrorCode; message: string };
    expect(code).toBe('TLS_FILES_INVALID');
    expect(text).toMatch(message);
    expect(text).not.toContain('BEGIN');
  });

  it('serves other machines over TLS given the URL they reach it at, which invitations carry', () => {
    const tls = { certFile: a.certFile, keyFile: a.keyFile };
    const pair = checkEdge({ host: '0.0.0.0', tls, publicUrl: 'https://relay.example' });
    expect(pair?.fingerprint).toBe(a.fingerprint);
    expect(checkEdge({ host: '127.0.0.1', tls })?.fingerprint).toBe(a.fingerprint);
    expect(refusal(() => checkEdge({ host: '0.0.0.0', tls }))).toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/^listening on 0\.0\.0\.0 needs --public-url/),
    });
  });

  it('serves a new pair on reload, and keeps the one in use when the new one does not check', () => {
    const served: { cert: string; key: string }[] = [];
    const reloaded: TlsPair[] = [];
    const kept: EntraideError[] = [];
    const certFile = join(dir, 'live.cert.pem');
    const keyFile = join(dir, 'live.key.pem');
    writeFileSync(certFile, a.cert);
    writeFileSync(keyFile, a.key);
    const reloader = new TlsReloader(
      { setSecureContext: (ctx) => served.push(ctx as { cert: string; key: string }) },
      { certFile, keyFile },
      { reloaded: (p) => reloaded.push(p), kept: (e) => kept.push(e) },
    );
    writeFileSync(certFile, b.cert); // the renewal is half written: the key is still a's
    expect(reloader.reload()).toBe(false);
    expect(served).toEqual([]);
    expect(kept.map((e) => e.code)).toEqual(['TLS_FILES_INVALID']);
    writeFileSync(keyFile, b.key);
    expect(reloader.reload()).toBe(true);
    expect(served).toEqual([{ cert: b.cert, key: b.key }]);
    expect(reloaded.map((p) => p.fingerprint)).toEqual([b.fingerprint]);
    reloader.close();
  });
});

describe('where the relay may serve plain HTTP', () => {
  it.each<[string, EdgeOptions, ErrorCode | 'none']>([
    ['loopback', { host: '127.0.0.1' }, 'none'],
    ['loopback by name', { host: 'localhost' }, 'none'],
    ['IPv6 loopback', { host: '::1' }, 'none'],
    ['every interface', { host: '0.0.0.0' }, 'INSECURE_URL'],
    ['every IPv6 interface', { host: '::' }, 'INSECURE_URL'],
    ['a public address', { host: '192.0.2.1' }, 'INSECURE_URL'],
    ['behind a proxy', { host: '0.0.0.0', behindProxy: true, publicUrl: 'https://relay.example' }, 'none'],
    ['behind a proxy without a public URL', { host: '0.0.0.0', behindProxy: true }, 'USAGE'],
    [
      'behind a proxy on this machine without a public URL',
      { host: '127.0.0.1', behindProxy: true },
      'USAGE',
    ],
    [
      'behind a proxy that serves plain http',
      { host: '0.0.0.0', behindProxy: true, publicUrl: 'http://relay.example' },
      'INSECURE_URL',
    ],
    [
      'with a public URL that is plain http off loopback',
      { host: '127.0.0.1', publicUrl: 'http://192.0.2.1' },
      'INSECURE_URL',
    ],
  ])('%s: %s', (_what, opts, code) => {
    const r = refusal(() => checkEdge(opts));
    expect(r === 'none' ? 'none' : r.code).toBe(code);
  });

  it('says what to do about plain HTTP off loopback', () => {
    expect(refusal(() => checkEdge({ host: '0.0.0.0' }))).toMatchObject({
      message: expect.stringMatching(/--tls-cert and --tls-key, or --behind-proxy/),
    });
  });

  it('`relay start` takes --tls-cert and --tls-key together or neither: USAGE before anything', async () => {
    const data = join(tempDir('entraide-edge-'), 'relay');
    const [certOnly, keyOnly] = await Promise.all([
      cli(['relay', 'start', '--data', data, '--port', '0', '--tls-cert', 'cert.pem']),
      cli(['relay', 'start', '--data', data, '--port', '0', '--tls-key', 'key.pem']),
    ]);
    expect(certOnly.code).toBe(2);
    expect(certOnly.stderr).toMatch(/--tls-cert and --tls-key go together: give --tls-key.*\[USAGE\]/);
    expect(keyOnly.code).toBe(2);
    expect(keyOnly.stderr).toMatch(/give --tls-cert, the certificate of --tls-key.*\[USAGE\]/);
  });
});
