/** The node's home folder: node.json (addresses, relay), keystore.json (encrypted keys), node.db, node.lock. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntraideError } from '../shared/errors.ts';
import { MAX_NODE_CONFIG_CHARS, NodeConfig } from '../shared/protocol/node-files.ts';
import { parseFileText, systemErrorCode } from '../shared/protocol/parse-file.ts';
import { checkServiceUrl } from '../shared/protocol/service-url.ts';
import { check } from '../shared/protocol/validate.ts';
import { writeFileAtomic } from './keystore.ts';

export { NodeConfig };

export function homePaths(home: string) {
  return {
    home,
    config: join(home, 'node.json'),
    keystore: join(home, 'keystore.json'),
    db: join(home, 'node.db'),
    lock: join(home, 'node.lock'),
  };
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
