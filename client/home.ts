/** The node's home folder: node.json (addresses, relay), keystore.json (encrypted keys), node.db, node.lock. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntraideError } from '../shared/errors.ts';

export interface NodeConfig {
  v: 1;
  relayUrl: string;
  relay: { domain: string; publicKey: string };
  authority: string;
  node: string;
  createdAt: string;
  /** Days after which the node rotates its encryption key by itself (default 30). */
  keyRotationDays?: number;
  /** The code a joining node showed, until its authority approves it. */
  joinCode?: string;
}

export function homePaths(home: string) {
  return {
    home,
    config: join(home, 'node.json'),
    keystore: join(home, 'keystore.json'),
    db: join(home, 'node.db'),
    lock: join(home, 'node.lock'),
  };
}

export function readConfig(home: string): NodeConfig {
  const p = homePaths(home);
  if (!existsSync(home)) throw new EntraideError('HOME_MISSING', `node folder ${home} does not exist`);
  if (!existsSync(p.config))
    throw new EntraideError('HOME_MISSING', `${home} holds no entraide node (no node.json)`);
  try {
    return JSON.parse(readFileSync(p.config, 'utf8')) as NodeConfig;
  } catch {
    throw new EntraideError('HOME_MISSING', `${p.config} is not readable JSON`);
  }
}
