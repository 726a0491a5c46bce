/**
 * The whole record of a node in one file (`entraide backup`), and putting it back on a new machine
 * (`entraide restore`): so that a lost disk does not lose the authority's legal record. The file
 * (node-backup-file.ts) holds, sealed under the passphrase:
 * - a manifest: node.json's configuration, the key material (with the database content key, so
 *   the restored database opens), the date, and the list of files that follow;
 * - node.db, a consistent copy made while the node is open (VACUUM INTO reads it in one
 *   transaction; its content columns stay encrypted under the database key);
 * - the files of the `documents/` folder, when there is one.
 * A restore brings back the very node that was backed up (same address, keys and record).
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { fromUtf8 } from '../shared/bytes.ts';
import { canonicalBytes } from '../shared/canonical.ts';
import { loadSodium } from '../shared/crypto/sodium.ts';
import { EntraideError } from '../shared/errors.ts';
import { NodeConfig } from '../shared/protocol/node-files.ts';
import { requireNewPassphrase } from '../shared/protocol/passphrase-kdf.ts';
import { Rfc3339 } from '../shared/protocol/schemas.ts';
import { checkServiceUrl } from '../shared/protocol/service-url.ts';
import { check } from '../shared/protocol/validate.ts';
import { asBackupInvalid, backupKdfFor, invalid, type BackupKdf } from './backup.ts';
import { HOME_FILE_MODE, HOME_MODE, homePaths, writeConfig } from './home.ts';
import { encryptKeystore, kdfProfileFromEnv, KeyMaterial } from './keystore.ts';
import { writeFileAtomic } from './atomic-file.ts';
import {
  CHUNK_BYTES,
  MAX_NODE_BACKUP_BYTES,
  NodeBackupReader,
  NodeBackupWriter,
} from './node-backup-file.ts';
import type { NodeStore } from './store/node-store.ts';

/** The manifest lists a node's files; a node with more documents than this is not ours to back up. */
export const MAX_BACKUP_FILES = 100_000;
/** Keys, configuration and 100,000 file names fit well within this. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
const DOCUMENTS = 'documents';
const DATABASE = 'node.db';
/** One name of a path inside the node folder: no separators, not `.` or `..`, no control characters. */
function isPathSegment(name: string): boolean {
  if (name.length === 0 || name.length > 255 || name === '.' || name === '..') return false;
  for (const c of name) {
    const code = c.codePointAt(0)!;
    if (c === '/' || c === '\\' || code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

const closed = { additionalProperties: false } as const;
const Manifest = Type.Object(
  {
    config: NodeConfig,
    material: KeyMaterial,
    createdAt: Rfc3339,
    files: Type.Array(
      Type.Object(
        {
          path: Type.String({ minLength: 1, maxLength: 4096 }),
          size: Type.Integer({ minimum: 0, maximum: MAX_NODE_BACKUP_BYTES }),
        },
        closed,
      ),
      { minItems: 1, maxItems: MAX_BACKUP_FILES },
    ),
  },
  closed,
);

/** What a backup reads of an open node (an AuthorityNode is one). */
export interface BackupSource {
  home: string;
  config: NodeConfig;
  keys: KeyMaterial;
  store: Pick<NodeStore, 'flush' | 'db'>;
}

export interface BackupSummary {
  node: string;
  files: number;
  bytes: number;
  hasMasterKey: boolean;
}

/**
 * Writes the node's whole record to `out` (refused, USAGE, when it exists), sealed under
 * `passphrase`; the cost is MODERATE unless ENTRAIDE_TEST_KDF=1 asks for the test profile. The
 * file appears complete or not at all: it is written beside `out` and linked into place at the end.
 */
export function backupNode(
  node: BackupSource,
  out: string,
  passphrase: string,
  kdf: BackupKdf = backupKdfFor(kdfProfileFromEnv()),
): BackupSummary {
  const target = resolve(out);
  if (existsSync(target))
    throw new EntraideError('USAGE', `${out} exists already: choose another --out file`);
  const work = mkdtempSync(join(dirname(target), '.entraide-backup-'));
  try {
    // What waits for the group commit is written first; the copy is then one read transaction.
    node.store.flush();
    const copy = join(work, DATABASE);
    node.store.db.prepare('VACUUM INTO ?').run(copy);
    const files = [{ path: DATABASE, source: copy }, ...documentsOf(node.home)];
    const createdAt = new Date().toISOString();
    const listed = files.map((f) => ({ path: f.path, size: lstatSync(f.source).size }));
    const manifest = canonicalBytes(
      check(
        Manifest,
        { config: node.config, material: node.keys, createdAt, files: listed },
        'backup manifest',
      ),
    );
    if (manifest.length > MAX_MANIFEST_BYTES)
      throw new EntraideError('USAGE', `the node holds more documents than one backup can list`);
    const partial = join(work, 'backup.partial');
    const fd = openSync(partial, 'wx', HOME_FILE_MODE);
    try {
      fchmodSync(fd, HOME_FILE_MODE);
      const writer = NodeBackupWriter.start(
        fd,
        {
          authority: node.config.authority,
          node: node.config.node,
          createdAt,
          hasMasterKey: node.keys.masterSecretKey !== null,
        },
        passphrase,
        kdf,
      );
      writer.write(uint32(manifest.length));
      writer.write(manifest);
      manifest.fill(0);
      files.forEach((f, i) => copyInto(writer, f.source, listed[i]!.size));
      writer.finish();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // A link fails if `out` appeared meanwhile, where a rename would replace it.
    linkSync(partial, target);
    return {
      node: node.config.node,
      files: files.length,
      bytes: listed.reduce((n, f) => n + f.size, 0),
      hasMasterKey: node.keys.masterSecretKey !== null,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface RestoreOptions {
  /** The new node folder: it must not exist, or be empty. */
  home: string;
  file: string;
  /** The backup's passphrase; also the restored keystore's, unless `newPassphrase` is given. */
  passphrase: string;
  /** The restored keystore's passphrase, when the backup's is shorter than a new one may be. */
  newPassphrase?: string | undefined;
}

/**
 * Puts a node back from a backupNode file into a new folder, 0700 with its files 0600. Refused
 * before anything is written: HOME_EXISTS when `home` holds anything, PASSPHRASE_TOO_SHORT for a
 * short keystore passphrase, PASSPHRASE_WRONG, BACKUP_INVALID for a file that is damaged or was
 * altered anywhere (the folder is then left as it was: everything is staged beside it first).
 */
export async function restoreNode(opts: RestoreOptions): Promise<{ config: NodeConfig; createdAt: string }> {
  await loadSodium();
  const home = resolve(opts.home);
  const keystorePassphrase = opts.newPassphrase ?? opts.passphrase;
  if (!keystorePassphrase)
    throw new EntraideError('PASSPHRASE_REQUIRED', 'a passphrase is needed to protect the node’s keys');
  requireNewPassphrase(keystorePassphrase);
  if (existsSync(home) && (!lstatSync(home).isDirectory() || readdirSync(home).length > 0))
    throw new EntraideError('HOME_EXISTS', `${opts.home} is not empty: restore into a new folder`);
  const reader = NodeBackupReader.open(opts.file, opts.passphrase);
  let staging: string | undefined;
  try {
    const manifest = readManifest(reader);
    mkdirSync(dirname(home), { recursive: true, mode: HOME_MODE });
    staging = mkdtempSync(join(dirname(home), `.${basename(home)}.restoring-`));
    chmodSync(staging, HOME_MODE);
    for (const entry of manifest.files) {
      const path = join(staging, ...entry.path.split('/'));
      mkdirSync(dirname(path), { recursive: true, mode: HOME_MODE });
      const fd = openSync(path, 'wx', HOME_FILE_MODE);
      try {
        fchmodSync(fd, HOME_FILE_MODE);
        reader.copy(entry.size, (bytes) => writeAll(fd, bytes));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    reader.end();
    writeFileAtomic(homePaths(staging).keystore, encryptKeystore(manifest.material, keystorePassphrase));
    writeConfig(staging, manifest.config);
    // rename(2) replaces an empty folder; a folder that filled meanwhile makes it fail.
    renameSync(staging, home);
    staging = undefined;
    chmodSync(home, HOME_MODE);
    return { config: manifest.config, createdAt: manifest.createdAt };
  } finally {
    reader.close();
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
}

/** The manifest, checked against the header it was sealed with; its paths stay inside the folder. */
function readManifest(reader: NodeBackupReader) {
  const length = new DataView(reader.read(4).buffer).getUint32(0);
  if (length > MAX_MANIFEST_BYTES)
    throw invalid(`the backup’s manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const bytes = reader.read(length);
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    // The parser's message would quote the plaintext, keys included: never pass it on.
    throw invalid('the backup’s manifest is not JSON');
  } finally {
    bytes.fill(0);
  }
  const manifest = asBackupInvalid(() => check(Manifest, value, 'backup manifest'));
  const { header } = reader;
  if (manifest.config.authority !== header.authority || manifest.config.node !== header.node)
    throw invalid('the contents of the backup belong to another node than its header names');
  if (manifest.createdAt !== header.createdAt)
    throw invalid('the contents of the backup carry another date than its header');
  if ((manifest.material.masterSecretKey !== null) !== header.hasMasterKey)
    throw invalid('the header of the backup misstates whether it holds the authority master key');
  // A backup made before plain http:// off loopback was refused would make a node that cannot start.
  checkServiceUrl(manifest.config.relayUrl, 'the relay URL in the backup', 'BACKUP_INVALID');
  const seen = new Set<string>();
  for (const { path } of manifest.files) {
    const segments = path.split('/');
    const allowed =
      path === DATABASE ||
      (segments[0] === DOCUMENTS && segments.length > 1 && segments.every(isPathSegment));
    if (!allowed) throw invalid('backup manifest.files names a path outside node.db and documents/');
    if (seen.has(path)) throw invalid('backup manifest.files names a path twice');
    seen.add(path);
  }
  if (!seen.has(DATABASE)) throw invalid('backup manifest.files holds no node.db');
  // A file and a folder of the same name cannot both be restored.
  for (const path of seen)
    if (seen.has(path.slice(0, path.lastIndexOf('/'))))
      throw invalid('backup manifest.files names a file as the folder of another');
  return manifest;
}

/** The regular files under home/documents (symbolic links are not followed), paths with "/". */
function documentsOf(home: string): { path: string; source: string }[] {
  const root = join(home, DOCUMENTS);
  if (!existsSync(root) || !lstatSync(root).isDirectory()) return [];
  const found: { path: string; source: string }[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const source = join(dir, entry.name);
      const path = `${prefix}/${entry.name}`;
      if (entry.isDirectory()) walk(source, path);
      else if (entry.isFile()) found.push({ path, source });
      if (found.length >= MAX_BACKUP_FILES)
        throw new EntraideError('USAGE', `the node holds more documents than one backup can list`);
    }
  };
  walk(root, DOCUMENTS);
  return found;
}

/** Streams exactly `size` bytes of `source` into the backup (it was listed with that size). */
function copyInto(writer: NodeBackupWriter, source: string, size: number): void {
  const fd = openSync(source, 'r');
  const buffer = new Uint8Array(CHUNK_BYTES);
  try {
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - done), done);
      if (n === 0) throw new EntraideError('INTERNAL', `${source} became shorter while it was backed up`);
      writer.write(buffer.subarray(0, n));
      done += n;
    }
  } finally {
    buffer.fill(0);
    closeSync(fd);
  }
}

function uint32(n: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, n);
  return bytes;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}
