/**
 * TLS certificates made at test time with the openssl binary: self-signed, P-256, for 127.0.0.1 (an
 * IP subject alternative name), valid two days. Tests that need one are skipped where openssl is
 * missing (HAS_OPENSSL).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** As node:tls gives it (getPeerCertificate().fingerprint256). */
  fingerprint: string;
}

/** A new certificate and key in `dir`, as `<name>.cert.pem` and `<name>.key.pem`. */
export function makeCertificate(dir: string, name: string): TestCertificate {
  const certFile = join(dir, `${name}.cert.pem`);
  const keyFile = join(dir, `${name}.key.pem`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(certFile, 'utf8');
  return {
    certFile,
    keyFile,
    cert,
    key: readFileSync(keyFile, 'utf8'),
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}
