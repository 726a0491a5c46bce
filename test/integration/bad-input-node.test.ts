/**
 * Bad input on the node side (SDK) and on the relay's data folder: wrong passphrase, missing or
 * locked home folder, a second node initialised into a folder that holds one, and a second
 * relay on a data folder in use. Each refusal is an EntraideError with a stable code and leaves
 * the folder, the relay's tables and the locks as they were.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNode } from '../../client/init.ts';
import { AuthorityNode } from '../../client/node.ts';
import { buildRelay } from '../../server/app.ts';
import { hashInvitation } from '../../server/domain/enrolment.ts';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  removeDir,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { rowCounts } from '../support/refusals.ts';

/** Awaits `work` and returns the EntraideError it rejects with; fails if it resolves or throws anything else. */
async function refusal(work: Promise<unknown>): Promise<EntraideError> {
  let outcome: unknown;
  try {
    await work;
  } catch (err) {
    outcome = err;
  }
  if (!(outcome instanceof EntraideError)) {
    throw new Error(`expected an EntraideError, got ${outcome === undefined ? 'success' : String(outcome)}`);
  }
  return outcome;
}

async function expectCode(work: Promise<unknown>, code: ErrorCode): Promise<void> {
  expect((await refusal(work)).code).toBe(code);
}

let relay: TestRelay;
let home: string;
const dirs: string[] = [];

beforeAll(async () => {
  relay = await startTestRelay();
  home = tempDir('entraide-node-');
  dirs.push(home);
  const node = await enrolNode(relay, 'sn.moj', 'desk1', home);
  await node.close();
});

afterAll(async () => {
  await relay?.close();
  for (const d of dirs) removeDir(d);
});

describe('node home folder', () => {
  it('refuses a wrong passphrase with PASSPHRASE_WRONG and releases the folder lock', async () => {
    await expectCode(AuthorityNode.open(home, 'not the passphrase'), 'PASSPHRASE_WRONG');
    expect(existsSync(join(home, 'node.lock'))).toBe(false);
    const node = await AuthorityNode.open(home, PASSPHRASE);
    await node.close();
  });

  it('refuses a home folder that does not exist with HOME_MISSING', async () => {
    const parent = tempDir('entraide-gone-');
    dirs.push(parent);
    const missing = join(parent, 'no-such-node');
    await expectCode(AuthorityNode.open(missing, PASSPHRASE), 'HOME_MISSING');
    expect(existsSync(missing)).toBe(false);
  });

  it('refuses an empty folder (no node in it) with HOME_MISSING', async () => {
    const empty = tempDir('entraide-empty-');
    dirs.push(empty);
    await expectCode(AuthorityNode.open(empty, PASSPHRASE), 'HOME_MISSING');
  });

  it('refuses a home folder that another open node holds with HOME_LOCKED', async () => {
    const first = await AuthorityNode.open(home, PASSPHRASE);
    try {
      await expectCode(AuthorityNode.open(home, PASSPHRASE), 'HOME_LOCKED');
      // The refused open did not take the lock away from the node that holds it.
      expect(readFileSync(join(home, 'node.lock'), 'utf8').trim()).toBe(String(process.pid));
    } finally {
      await first.close();
    }
    const again = await AuthorityNode.open(home, PASSPHRASE);
    await again.close();
  });

  it('refuses initNode into a folder that already holds a node with HOME_EXISTS, touching nothing', async () => {
    const config = readFileSync(join(home, 'node.json'), 'utf8');
    const keystore = readFileSync(join(home, 'keystore.json'), 'utf8');
    const code = await invite(relay, 'ke.ag');
    const before = rowCounts(relay);
    await expectCode(
      initNode({
        home,
        relayUrl: relay.url,
        invite: code,
        authorityId: 'ke.ag',
        nodeName: 'desk1',
        passphrase: PASSPHRASE,
      }),
      'HOME_EXISTS',
    );
    expect(rowCounts(relay)).toEqual(before);
    expect(readFileSync(join(home, 'node.json'), 'utf8')).toBe(config);
    expect(readFileSync(join(home, 'keystore.json'), 'utf8')).toBe(keystore);
    const invitation = relay.relay.store.db
      .prepare<[string], { usedAt: string | null }>('SELECT usedAt FROM "Invitation" WHERE codeHash = ?')
      .get(hashInvitation(code));
    expect(invitation).toEqual({ usedAt: null });
  });

  it('leaves no folder behind when the relay refuses the enrolment (INVITATION_INVALID)', async () => {
    const parent = tempDir('entraide-parent-');
    dirs.push(parent);
    const fresh = join(parent, 'node');
    const before = rowCounts(relay);
    await expectCode(
      initNode({
        home: fresh,
        relayUrl: relay.url,
        invite: await invite(relay, 'gh.moj'),
        authorityId: 'tg.moj',
        nodeName: 'desk1',
        passphrase: PASSPHRASE,
      }),
      'INVITATION_INVALID',
    );
    expect(existsSync(fresh)).toBe(false);
    expect(rowCounts(relay)).toEqual(before);
  });
});

describe('relay data folder', () => {
  it('refuses a second relay on a data folder in use with DATA_DIR_LOCKED, leaving the first one serving', async () => {
    await expectCode(buildRelay({ dataDir: relay.dataDir, domain: relay.domain }), 'DATA_DIR_LOCKED');
    expect(readFileSync(join(relay.dataDir, 'relay.lock'), 'utf8').trim()).toBe(String(process.pid));
    const health = await relay.relay.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    // The running relay still enrols and serves nodes after the refused start.
    const node = await enrolNode(relay, 'ml.moj');
    await node.close();
  });
});
