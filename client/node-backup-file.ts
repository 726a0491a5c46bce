/**
 * The file format of a whole-node backup (`entraide backup`): the node's keys, its configuration,
 * its database and its documents, sealed under a passphrase. Unlike a key backup (backup.ts) it may
 * be large, so it is sealed and opened as a stream, in bounded memory.
 *
 * Format v1, bytes:
 *   one line of JSON (at most MAX_HEADER_BYTES, ending with "\n"), the header:
 *     { format: 'entraide-node-backup', v: 1, authority, node, createdAt, hasMasterKey,
 *       kdf: { alg: 'argon2id13', opslimit, memlimit, salt, profile? }, check, stream }
 *   then a libsodium secretstream (XChaCha20-Poly1305) whose header is `stream`: chunks of
 *   CHUNK_BYTES of plaintext (each CHUNK_BYTES + 17 bytes sealed), the last one, which may be
 *   shorter or empty, tagged FINAL; nothing may follow it.
 * - The passphrase gives the key and `check` exactly as for a key backup (backup.ts: Argon2id of
 *   the NFC form, 64 bytes, key || check key), so a wrong passphrase (PASSPHRASE_WRONG) is told from
 *   a damaged file (BACKUP_INVALID). The KDF parameters are bounded before Argon2 runs.
 * - Every chunk's additional data is the RFC 8785 encoding of the header, so no header field can
 *   be changed unnoticed; a stream cut short lacks its FINAL chunk; chunks cannot be reordered.
 * - The plaintext is a 4-byte big-endian length, that many bytes of manifest (RFC 8785 JSON,
 *   node-backup.ts says what it holds), then the bytes of each file the manifest lists, in order.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { fromBase64url, toBase64url } from '../shared/bytes.ts';
import { canonicalBytes } from '../shared/canonical.ts';
import { sodium, type Sodium } from '../shared/crypto/sodium.ts';
import { EntraideError } from '../shared/errors.ts';
import { kdfProblem, PassphraseKdf } from '../shared/protocol/passphrase-kdf.ts';
import { AuthorityAddress, B64, NodeAddress, Rfc3339 } from '../shared/protocol/schemas.ts';
import {
  checkedBackupHeader,
  CHECK_BYTES,
  checkOf,
  deriveBytes,
  invalid,
  keyOf,
  passphraseSeal,
  SALT_BYTES,
  type BackupKdf,
} from './backup.ts';
import { random } from './random.ts';

export const NODE_BACKUP_FORMAT = 'entraide-node-backup';
/** Plaintext bytes per sealed chunk: memory stays bounded whatever the size of the database. */
export const CHUNK_BYTES = 1024 * 1024;
/** The header line is a few hundred bytes; more is not a backup. */
export const MAX_HEADER_BYTES = 4096;
/** A backup larger than this is refused before it is read (64 GiB: far beyond a node's record). */
export const MAX_NODE_BACKUP_BYTES = 64 * 1024 ** 3;
const STREAM_HEADER_BYTES = 24; // crypto_secretstream_xchacha20poly1305_HEADERBYTES
const SEAL_BYTES = 17; // crypto_secretstream_xchacha20poly1305_ABYTES

const closed = { additionalProperties: false } as const;
/** A secretstream's state inside libsodium's memory. */
type StreamState = ReturnType<Sodium['crypto_secretstream_xchacha20poly1305_init_pull']>;

const NodeBackupHeader = Type.Object(
  {
    format: Type.Literal(NODE_BACKUP_FORMAT),
    v: Type.Literal(1),
    authority: AuthorityAddress,
    node: NodeAddress,
    createdAt: Rfc3339,
    hasMasterKey: Type.Boolean(),
    kdf: PassphraseKdf,
    check: B64(CHECK_BYTES, 'BLAKE2b-256 keyed by the last 32 derived bytes'),
    stream: B64(STREAM_HEADER_BYTES, 'secretstream header'),
  },
  closed,
);
export type NodeBackupHeader = Static<typeof NodeBackupHeader>;

/** What the header says about the node, written before the stream. */
export interface NodeBackupLabel {
  authority: string;
  node: string;
  createdAt: string;
  hasMasterKey: boolean;
}

/** Seals a stream of plaintext into an open file, chunk by chunk. */
export class NodeBackupWriter {
  private readonly buffer = new Uint8Array(CHUNK_BYTES);
  private filled = 0;

  private constructor(
    private readonly fd: number,
    private readonly state: StreamState,
    private readonly ad: Uint8Array,
  ) {}

  /**
   * Writes the header line to `fd` and starts the stream. Preconditions: libsodium is loaded, the
   * passphrase is not empty (PASSPHRASE_REQUIRED), `kdf` lies within the bounds readers accept.
   */
  static start(fd: number, label: NodeBackupLabel, passphrase: string, kdf: BackupKdf): NodeBackupWriter {
    if (passphrase.length === 0)
      throw new EntraideError('PASSPHRASE_REQUIRED', 'a passphrase is needed to protect the backup');
    const problem = kdfProblem(kdf);
    if (problem) throw new EntraideError('USAGE', `backup KDF: ${problem}`);
    const salt = random(SALT_BYTES);
    const derived = deriveBytes(passphrase, kdf, salt);
    try {
      const s = sodium();
      const { state, header: streamHeader } = s.crypto_secretstream_xchacha20poly1305_init_push(
        keyOf(derived),
      );
      const header: NodeBackupHeader = {
        format: NODE_BACKUP_FORMAT,
        v: 1,
        ...label,
        ...passphraseSeal(kdf, salt, derived),
        stream: toBase64url(streamHeader),
      };
      writeAll(fd, new TextEncoder().encode(JSON.stringify(header) + '\n'));
      return new NodeBackupWriter(fd, state, canonicalBytes(header));
    } finally {
      derived.fill(0);
    }
  }

  write(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.filled === CHUNK_BYTES) this.push(false);
      const n = Math.min(CHUNK_BYTES - this.filled, bytes.length - offset);
      this.buffer.set(bytes.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
    }
  }

  /** Seals what is left as the FINAL chunk; the file is complete once this returns. */
  finish(): void {
    this.push(true);
    this.buffer.fill(0);
  }

  private push(final: boolean): void {
    const s = sodium();
    const sealed = s.crypto_secretstream_xchacha20poly1305_push(
      this.state,
      this.buffer.subarray(0, this.filled),
      this.ad,
      final
        ? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL
        : s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    );
    writeAll(this.fd, sealed);
    this.buffer.fill(0, 0, this.filled);
    this.filled = 0;
  }
}

/** Opens a backup file and gives its plaintext back in order, checking every chunk. */
export class NodeBackupReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  private final = false;

  private constructor(
    private readonly fd: number,
    private position: number,
    private readonly size: number,
    private readonly state: StreamState,
    private readonly ad: Uint8Array,
    readonly header: NodeBackupHeader,
  ) {}

  /**
   * Opens `file` with `passphrase`. BACKUP_INVALID for a file that is too large, has no valid
   * header line, asks for KDF parameters out of bounds (all before Argon2 runs) or was altered;
   * PASSPHRASE_WRONG when the passphrase does not derive the file's check. The caller closes it.
   */
  static open(file: string, passphrase: string): NodeBackupReader {
    if (passphrase.length === 0)
      throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase of the backup is needed to read it');
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      throw new EntraideError('USAGE', `cannot read the backup file ${file}`);
    }
    try {
      const size = fstatSync(fd).size;
      if (size > MAX_NODE_BACKUP_BYTES)
        throw invalid(`the backup file is larger than ${MAX_NODE_BACKUP_BYTES} bytes`);
      const head = new Uint8Array(Math.min(MAX_HEADER_BYTES, size));
      readSync(fd, head, 0, head.length, 0);
      const end = head.indexOf(0x0a);
      if (end < 0)
        throw invalid('the backup file has no header line (it is not a node backup, or is cut short)');
      const header = parseHeader(head.subarray(0, end));
      const derived = deriveBytes(
        passphrase,
        header.kdf,
        fromBase64url(header.kdf.salt, 'backup file.kdf.salt', SALT_BYTES),
      );
      try {
        const s = sodium();
        const streamHeader = fromBase64url(header.stream, 'backup file.stream', STREAM_HEADER_BYTES);
        const open = (h: NodeBackupHeader) =>
          new NodeBackupReader(
            fd,
            end + 1,
            size,
            s.crypto_secretstream_xchacha20poly1305_init_pull(streamHeader, keyOf(derived)),
            canonicalBytes(h),
            h,
          );
        const derivedCheck = checkOf(derived);
        if (!s.memcmp(derivedCheck, fromBase64url(header.check, 'backup file.check', CHECK_BYTES))) {
          // A wrong passphrase, or an altered `check`: the first chunk opens under the check this
          // passphrase gives only in the second case (as readBackup tells them apart).
          const probe = open({ ...header, check: toBase64url(derivedCheck) });
          if (probe.pull(true)) throw invalid('the check field of the backup file was altered');
          throw new EntraideError('PASSPHRASE_WRONG', 'the passphrase does not open this backup');
        }
        return open(header);
      } finally {
        derived.fill(0);
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Exactly `n` plaintext bytes; BACKUP_INVALID when the stream ends before. */
  read(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    this.copy(n, (bytes) => {
      out.set(bytes, filled);
      filled += bytes.length;
    });
    return out;
  }

  /** Passes the next `n` plaintext bytes to `sink`, in pieces of at most CHUNK_BYTES. */
  copy(n: number, sink: (bytes: Uint8Array) => void): void {
    let left = n;
    while (left > 0) {
      if (this.at === this.chunk.length) {
        if (this.final) throw invalid('the backup holds less than its manifest lists');
        this.pull(false);
        continue;
      }
      const take = Math.min(left, this.chunk.length - this.at);
      sink(this.chunk.subarray(this.at, this.at + take));
      this.at += take;
      left -= take;
    }
  }

  /** Checks that the plaintext and the file end here: nothing more than the manifest lists. */
  end(): void {
    while (!this.final) {
      if (this.at < this.chunk.length) break;
      this.pull(false);
    }
    if (this.at < this.chunk.length || this.position !== this.size)
      throw invalid('the backup holds more than its manifest lists');
  }

  close(): void {
    this.chunk.fill(0);
    closeSync(this.fd);
  }

  /** The next chunk; with `probe`, true or false instead of BACKUP_INVALID when it does not open. */
  private pull(probe: boolean): boolean {
    const s = sodium();
    const sealed = new Uint8Array(Math.min(CHUNK_BYTES + SEAL_BYTES, this.size - this.position));
    if (sealed.length < SEAL_BYTES) {
      if (probe) return false;
      throw invalid('the backup file is cut short: its last part is missing');
    }
    readSync(this.fd, sealed, 0, sealed.length, this.position);
    let opened: { message: Uint8Array; tag: number } | false;
    try {
      opened = s.crypto_secretstream_xchacha20poly1305_pull(this.state, sealed, this.ad) as
        { message: Uint8Array; tag: number } | false;
    } catch {
      opened = false;
    }
    if (probe) return opened !== false;
    if (!opened) throw invalid('the backup file was altered or is incomplete: a part of it does not verify');
    const final = opened.tag === s.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    if (!final && sealed.length !== CHUNK_BYTES + SEAL_BYTES)
      throw invalid('the backup file is cut short: its last part is missing');
    this.chunk.fill(0);
    this.chunk = opened.message;
    this.at = 0;
    this.position += sealed.length;
    this.final = final;
    return true;
  }
}

/** The header line, checked before Argon2 runs. */
function parseHeader(line: Uint8Array): NodeBackupHeader {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(line));
  } catch {
    throw invalid('the header line of the backup file is not JSON');
  }
  return checkedBackupHeader(NodeBackupHeader, value);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}
