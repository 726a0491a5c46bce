/** The node's home folder: node.json (addresses, relay), keystore.json (encrypted keys), node.db, node.lock. */
import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { EntraideError } from '../shared/errors.ts';
import { MAX_NODE_CONFIG_CHARS, NodeConfig } from '../shared/protocol/node-files.ts';
import { parseFileText, systemErrorCode } from '../shared/protocol/parse-file.ts';
import { checkServiceUrl } from '../shared/protocol/service-url.ts';
import { check } from '../shared/protocol/validate.ts';
import { writeFileAtomic } from './atomic-file.ts';

export { NodeConfig };

export function homePaths(home: string) {
  return {
    home,
    config: join(home, 'node.json'),
    keystore: join(home, 'keystore.json'),
    db: join(home, 'node.db'),
    lock: join(home, 'node.lock'),
    /** Documents as they travel: encrypted blobs (documents/<blob>), never plaintext. */
    documents: join(home, 'documents'),
  };
}

/** The node's folder (and any folder in it) is its owner's only; so is every file in it. */
export const HOME_MODE = 0o700;
export const HOME_FILE_MODE = 0o600;

/**
 * Makes `home` and what it holds directly (node.json, keystore.json, node.db and its -wal and
 * -shm, documents/...) readable and writable by their owner only, whatever the umask was when
 * they were made: a folder or file that group or others may use is set to 0700 / 0600, and each
 * such fix is returned as a sentence for the officer (nothing is returned when all was right).
 * node.db is created empty with 0600 when missing, so that SQLite, which gives the -wal and -shm
 * files the database file's mode, never makes them readable by others. Symbolic links are left
 * alone. HOME_CORRUPT, naming the entry, when a mode cannot be changed (another user owns it).
 */
export function secureHome(home: string): string[] {
  const fixes: string[] = [];
  const fix = (path: string, wanted: number, what: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink() || (st.mode & 0o077) === 0) return;
    try {
      chmodSync(path, wanted);
    } catch (err) {
      throw new EntraideError(
        'HOME_CORRUPT',
        `${path} can be read by other users and its mode cannot be changed (${systemErrorCode(err)})`,
      );
    }
    fixes.push(
      `${what} ${path} could be read by other users (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): now ${wanted.toString(8).padStart(4, '0')}, its owner only`,
    );
  };
  fix(home, HOME_MODE, 'the node folder');
  const db = homePaths(home).db;
  if (!existsSync(db)) {
    const fd = openSync(db, 'wx', HOME_FILE_MODE);
    try {
      fchmodSync(fd, HOME_FILE_MODE);
    } finally {
      closeSync(fd);
    }
  }
  for (const entry of readdirSync(home, { withFileTypes: true })) {
    const path = join(home, entry.name);
    if (entry.isDirectory()) fix(path, HOME_MODE, 'the folder');
    else if (entry.isFile()) fix(path, HOME_FILE_MODE, 'the file');
  }
  return fixes;
}

/**
 * The node's configuration. HOME_MISSING when `home` holds no node; HOME_CORRUPT, naming the file
 * and the field, when node.json cannot be read, is not JSON or does not fit the schema;
 * INSECURE_URL when it names its relay by plain http:// off this machine (written before that was
 * refused): the node never talks to its relay in clear over a network.
 */
export function readConfig(home: string): NodeConfig {
  const p = homePaths(home);
  if (!existsSync(home)) throw new EntraideError('HOME_MISSING', `node folder ${home} does not exist`);
  if (!existsSync(p.config))
    throw new EntraideError('HOME_MISSING', `${home} holds no entraide node (no node.json)`);
  let text: string;
  try {
    text = readFileSync(p.config, 'utf8');
  } catch (err) {
    throw new EntraideError('HOME_CORRUPT', `cannot read ${p.config} (${systemErrorCode(err)})`);
  }
  const config = parseFileText(NodeConfig, text, {
    file: p.config,
    code: 'HOME_CORRUPT',
    maxChars: MAX_NODE_CONFIG_CHARS,
  });
  checkServiceUrl(config.relayUrl, `the relay URL in ${p.config}`, 'HOME_CORRUPT');
  return config;
}

/** Replaces node.json atomically; refuses (SCHEMA_INVALID) a configuration that readConfig would refuse. */
export function writeConfig(home: string, config: NodeConfig): void {
  const checked = check(NodeConfig, config, 'node configuration');
  writeFileAtomic(homePaths(home).config, JSON.stringify(checked, null, 2) + '\n');
}
