/**
 * The relay's own TLS (`relay start --tls-cert F --tls-key F`): the certificate and key read and
 * checked as a pair, and read again without a restart when either file changes or on SIGHUP, so
 * that a renewal (certbot, an ACME client, an operator's copy) takes effect by itself. A new pair
 * that does not check is reported and the pair in use is kept: a half-written renewal never takes
 * the relay off the air.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { EntraideError } from '../shared/errors.ts';
import { systemErrorCode } from '../shared/protocol/parse-file.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsPair {
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the leaf certificate, as openssl prints it (AB:CD:…). */
  fingerprint: string;
  subject: string;
  validTo: string;
}

function readPem(file: string, what: string, marker: RegExp): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EntraideError('TLS_FILES_INVALID', `cannot read the ${what} ${file} (${systemErrorCode(err)})`);
  }
  if (!marker.test(text)) throw new EntraideError('TLS_FILES_INVALID', `${file} holds no PEM ${what}`);
  return text;
}

/**
 * The pair in `files`. Preconditions, each TLS_FILES_INVALID naming the file (never its content):
 * both files are readable, the certificate file starts with a PEM certificate, the key file holds
 * an unencrypted PEM private key, and that key is the certificate's.
 */
export function readTlsPair(files: TlsFiles): TlsPair {
  const cert = readPem(files.certFile, 'certificate', /-----BEGIN CERTIFICATE-----/);
  const key = readPem(files.keyFile, 'private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new EntraideError('TLS_FILES_INVALID', `${files.certFile} is not a readable PEM certificate`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new EntraideError(
      'TLS_FILES_INVALID',
      `${files.keyFile} is not a readable PEM private key (an encrypted key is not supported)`,
    );
  }
  if (!leaf.checkPrivateKey(privateKey))
    throw new EntraideError(
      'TLS_FILES_INVALID',
      `${files.keyFile} is not the private key of the certificate in ${files.certFile}`,
    );
  try {
    createSecureContext({ cert, key });
  } catch {
    throw new EntraideError(
      'TLS_FILES_INVALID',
      `${files.certFile} and ${files.keyFile} do not make a TLS pair`,
    );
  }
  return { cert, key, fingerprint: leaf.fingerprint256, subject: leaf.subject, validTo: leaf.validTo };
}

export interface TlsReloadLog {
  reloaded(pair: TlsPair): void;
  kept(err: EntraideError): void;
}

/**
 * Serves each new pair from `files` on `server`. `reload()` reads the files now (SIGHUP); `watch()`
 * polls both files' status every `intervalMs` (following symbolic links, so a renewal that swaps a
 * link or renames a file over the old one is seen as well as one written in place) and reloads
 * `debounceMs` after the last change, once both files are written.
 */
export class TlsReloader {
  private timer: NodeJS.Timeout | undefined;
  private watching = false;

  constructor(
    private readonly server: Pick<HttpsServer, 'setSecureContext'>,
    private readonly files: TlsFiles,
    private readonly log: TlsReloadLog,
  ) {}

  /** Reads and serves the pair now; returns whether it did (the old pair is kept otherwise). */
  reload(): boolean {
    let pair: TlsPair;
    try {
      pair = readTlsPair(this.files);
    } catch (err) {
      this.log.kept(err instanceof EntraideError ? err : new EntraideError('TLS_FILES_INVALID', String(err)));
      return false;
    }
    this.server.setSecureContext({ cert: pair.cert, key: pair.key });
    this.log.reloaded(pair);
    return true;
  }

  watch(intervalMs = 1_000, debounceMs = 500): void {
    if (this.watching) return;
    this.watching = true;
    // Any change of either file's status (content, inode, link target) starts the wait again.
    const changed = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), debounceMs);
      this.timer.unref();
    };
    for (const file of [this.files.certFile, this.files.keyFile]) {
      watchFile(file, { interval: intervalMs, persistent: false }, changed);
    }
  }

  close(): void {
    clearTimeout(this.timer);
    if (!this.watching) return;
    this.watching = false;
    for (const file of [this.files.certFile, this.files.keyFile]) unwatchFile(file);
  }
}
