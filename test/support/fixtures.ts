/** Test fixtures: a real relay in this process on loopback, and real nodes enrolled on it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRelay, type Relay, type RelayOptions } from '../../server/app.ts';
import { createInvitation } from '../../server/domain/enrolment.ts';
import { relayLimits } from '../../server/limits.ts';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';

export const PASSPHRASE = 'correct horse battery staple';

export function tempDir(prefix = 'entraide-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestRelay {
  relay: Relay;
  url: string;
  dataDir: string;
  domain: string;
  close(): Promise<void>;
}

export async function startTestRelay(
  opts: Partial<RelayOptions> & { port?: number } = {},
): Promise<TestRelay> {
  const { port = 0, ...options } = opts;
  const dataDir = options.dataDir ?? tempDir('entraide-relay-');
  // The `test` profile of budgets: a test file logs in dozens of nodes from one address and rotates
  // keys within seconds. Tests of the budgets themselves pass the limits they check.
  const relay = await buildRelay({
    domain: 'relay.test',
    create: true,
    limits: relayLimits('test'),
    ...options,
    dataDir,
  });
  const url = await relay.listen('127.0.0.1', port);
  return {
    relay,
    url,
    dataDir,
    domain: relay.identity.domain,
    async close() {
      await relay.close();
    },
  };
}

/** Two relays, each added as the other's peer with its key pinned: a federated pair. */
export async function startPeeredRelays(
  domains: [string, string],
  opts: Partial<RelayOptions> = {},
): Promise<[TestRelay, TestRelay]> {
  const a = await startTestRelay({ ...opts, domain: domains[0] });
  const b = await startTestRelay({ ...opts, domain: domains[1] });
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    await x.relay.store.addPeer({
      domain: y.domain,
      url: y.url,
      publicKey: y.relay.identity.publicKeyB64,
      addedAt: new Date(),
    });
  }
  return [a, b];
}

export async function invite(relay: TestRelay, authorityId: string): Promise<string> {
  return (await createInvitation(relay.relay.store, authorityId, new Date())).code;
}

/** Enrols `<nodeName>/<authorityId>@<domain>` with a fresh invitation and opens it. */
export async function enrolNode(
  relay: TestRelay,
  authorityId: string,
  nodeName = 'desk1',
  home = tempDir('entraide-node-'),
): Promise<AuthorityNode> {
  await enrolHome(relay, authorityId, nodeName, home);
  return AuthorityNode.open(home, PASSPHRASE);
}

/** Enrols a node in `home` (under PASSPHRASE) without opening it: for a process to open. */
export async function enrolHome(
  relay: TestRelay,
  authorityId: string,
  nodeName: string,
  home: string,
): Promise<void> {
  await initNode({
    home,
    relayUrl: relay.url,
    relayKey: relay.relay.identity.publicKeyB64,
    invite: await invite(relay, authorityId),
    authorityId,
    nodeName,
    passphrase: PASSPHRASE,
  });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
