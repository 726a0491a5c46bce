/**
 * No trust on first use over the network, and no plain http:// off loopback, at every place a relay
 * URL or key enters: `init` (an invitation, or a bare code with --relay and --relay-key), `node join`,
 * `audit keygen`, `relay peer add`, and the files and rows written before (node.json, an auditor's
 * credentials, a peer row). Each refusal has its code and leaves nothing behind: no folder, the
 * relay's tables as they were, the one-time code still unused.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor, readAuditor } from '../../client/audit/auditor.ts';
import { readConfig } from '../../client/home.ts';
import { initNode } from '../../client/init.ts';
import { requestToJoin } from '../../client/join.ts';
import { encryptWithPassphrase } from '../../client/keystore.ts';
import { writeFileAtomic } from '../../client/atomic-file.ts';
import { AuthorityNode } from '../../client/node.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { EntraideError, type ErrorCode } from '../../shared/errors.ts';
import { formatInvitation, parseInvitation } from '../../shared/protocol/invitation.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { cli, type CliResult } from '../support/processes.ts';
import { rowCounts } from '../support/refusals.ts';

const PASS = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
const OFF_LOOPBACK = 'http://192.0.2.1:7800'; // TEST-NET-1: a connection there would hang, not fail

let relay: TestRelay;
let fingerprint: string;
/** The fingerprint of a key that is not the relay's. */
const wrongKey = () => relayKeyFingerprint(toBase64url(randomBytes(32)));
const work = tempDir('entraide-trust-');
let n = 0;
const fresh = (name: string) => join(work, `${name}-${++n}`);

beforeAll(async () => {
  relay = await startTestRelay({ domain: 'relay.test' });
  fingerprint = relayKeyFingerprint(relay.relay.identity.publicKeyB64);
});
afterAll(async () => {
  await relay?.close();
});

async function refusedWith(action: () => Promise<unknown>, code: ErrorCode): Promise<EntraideError> {
  const err = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EntraideError);
  expect((err as EntraideError).code).toBe(code);
  return err as EntraideError;
}

function cliRefused(r: CliResult, code: ErrorCode, message?: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(code === 'USAGE' ? 2 : 1);
  expect(r.stderr).toContain(`[${code}]`);
  if (message) expect(r.stderr).toMatch(message);
}

describe('a relay key that is not the expected one', () => {
  it('stops `init` with RELAY_KEY_MISMATCH: no folder, nothing on the relay, the code still good', async () => {
    const code = await invite(relay, 'sn.moj');
    const home = fresh('sn');
    const before = rowCounts(relay);
    const forged = formatInvitation({ relayUrl: relay.url, relayKey: wrongKey(), code });
    const r = await cli(
      ['--home', home, 'init', '--invite', forged, '--authority', 'sn.moj', '--node', 'desk1'],
      PASS,
    );
    cliRefused(
      r,
      'RELAY_KEY_MISMATCH',
      /the relay at http:\/\/127\.0\.0\.1:\d+ shows the key with fingerprint/,
    );
    expect(existsSync(home)).toBe(false);
    expect(rowCounts(relay)).toEqual(before);
    // The same code, with the key the operator gave; localhost is this machine too.
    const port = new URL(relay.url).port;
    const good = parseInvitation(
      formatInvitation({ relayUrl: `http://localhost:${port}`, relayKey: fingerprint, code }),
    );
    await initNode({
      home,
      relayUrl: good.relayUrl,
      relayKey: good.relayKey,
      invite: good.code,
      authorityId: 'sn.moj',
      nodeName: 'desk1',
      passphrase: PASSPHRASE,
    });
    expect(readConfig(home).relay.publicKey).toBe(relay.relay.identity.publicKeyB64);
  });

  it('leaves a folder that existed exactly as it was', async () => {
    const home = fresh('kept');
    mkdirSync(home);
    writeFileSync(join(home, 'notes.txt'), 'mine');
    await refusedWith(
      () =>
        initNode({
          home,
          relayUrl: relay.url,
          relayKey: wrongKey(),
          invite: 'x'.repeat(32),
          authorityId: 'ke.ag',
          nodeName: 'desk1',
          passphrase: PASSPHRASE,
        }),
      'RELAY_KEY_MISMATCH',
    );
    expect(readdirSync(home)).toEqual(['notes.txt']);
    expect(readFileSync(join(home, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('stops `node join` and `audit keygen` too, storing nothing', async () => {
    const joining = fresh('join');
    await refusedWith(
      () =>
        requestToJoin({
          home: joining,
          relayUrl: relay.url,
          relayKey: wrongKey(),
          authorityId: 'sn.moj',
          nodeName: 'desk2',
          ticket: 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA',
          passphrase: PASSPHRASE,
        }),
      'RELAY_KEY_MISMATCH',
    );
    expect(existsSync(joining)).toBe(false);
    const auditor = fresh('auditor');
    const r = await cli(
      [
        '--home',
        auditor,
        'audit',
        'keygen',
        '--relay',
        relay.url,
        '--relay-key',
        wrongKey(),
        '--name',
        'alice',
      ],
      PASS,
    );
    cliRefused(r, 'RELAY_KEY_MISMATCH');
    expect(existsSync(auditor)).toBe(false);
    // The key in full is accepted as well as its fingerprint.
    const creds = await createAuditor(auditor, {
      name: 'alice',
      relayUrl: relay.url,
      relayKey: relay.relay.identity.publicKeyB64,
      passphrase: PASSPHRASE,
    });
    expect(creds.relayKey).toBe(relay.relay.identity.publicKeyB64);
  });

  it('is required: a bare code needs --relay-key, a join needs it and says where to find it', async () => {
    const home = fresh('bare');
    const [bare, join, keygen] = await Promise.all([
      cli(
        [
          '--home',
          home,
          'init',
          '--relay',
          relay.url,
          '--invite',
          'x'.repeat(32),
          '--authority',
          'gh.moj',
          '--node',
          'desk1',
        ],
        PASS,
      ),
      cli(
        ['--home', home, 'node', 'join', '--relay', relay.url, '--authority', 'sn.moj', '--node', 'desk2'],
        PASS,
      ),
      cli(['--home', home, 'audit', 'keygen', '--relay', relay.url, '--name', 'bob'], PASS),
    ]);
    cliRefused(bare, 'USAGE', /whole invitation string .*--relay-key/);
    cliRefused(join, 'USAGE', /`entraide whoami` prints on a node of this authority/);
    cliRefused(keygen, 'USAGE', /`entraide relay info`/);
    expect(existsSync(home)).toBe(false);
    // Through the SDK, only a relay on loopback may be pinned as it answers.
    await refusedWith(
      () =>
        initNode({
          home,
          relayUrl: 'https://192.0.2.1:7800',
          invite: 'x'.repeat(32),
          authorityId: 'gh.moj',
          nodeName: 'desk1',
          passphrase: PASSPHRASE,
        }),
      'USAGE',
    );
    expect(existsSync(home)).toBe(false);
  });
});

describe('plain http:// to another machine', () => {
  it('is refused by init, node join, audit keygen and relay peer add before any network call', async () => {
    const home = fresh('insecure');
    const started = Date.now();
    const invitation = formatInvitation({
      relayUrl: relay.url,
      relayKey: fingerprint,
      code: 'x'.repeat(32),
    }).replace(relay.url, OFF_LOOPBACK);
    const peers = await relay.relay.store.listPeers();
    const results = await Promise.all([
      cli(['--home', home, 'init', '--invite', invitation, '--authority', 'gh.moj', '--node', 'desk1'], PASS),
      cli(
        [
          '--home',
          home,
          'node',
          'join',
          '--relay',
          OFF_LOOPBACK,
          '--relay-key',
          fingerprint,
          '--authority',
          'gh.moj',
          '--node',
          'desk2',
          '--ticket',
          'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA',
        ],
        PASS,
      ),
      cli(
        [
          '--home',
          home,
          'audit',
          'keygen',
          '--relay',
          'http://relay.example',
          '--relay-key',
          fingerprint,
          '--name',
          'bob',
        ],
        PASS,
      ),
      cli([
        'relay',
        'peer',
        'add',
        '--data',
        relay.dataDir,
        '--domain',
        'relay.peer.example',
        '--url',
        OFF_LOOPBACK,
        '--key',
        relay.relay.identity.publicKeyB64,
      ]),
    ]);
    for (const r of results)
      cliRefused(r, 'INSECURE_URL', /plain http:\/\/ to (192\.0\.2\.1|relay\.example), another machine/);
    expect(Date.now() - started).toBeLessThan(15_000); // no connection was tried (it would hang 30 s)
    expect(existsSync(home)).toBe(false);
    expect(await relay.relay.store.listPeers()).toEqual(peers);
    for (const relayUrl of [OFF_LOOPBACK, 'http://relay.example:7800'])
      await refusedWith(
        () =>
          initNode({
            home,
            relayUrl,
            relayKey: fingerprint,
            invite: 'x'.repeat(32),
            authorityId: 'gh.moj',
            nodeName: 'desk1',
            passphrase: PASSPHRASE,
          }),
        'INSECURE_URL',
      );
  });

  it('in a node.json, an auditor’s credentials or a peer row written before, is refused when read', async () => {
    // node.json
    const home = fresh('old-node');
    await (await enrolNode(relay, 'ml.moj', 'desk1', home)).close();
    const config = join(home, 'node.json');
    writeFileSync(config, readFileSync(config, 'utf8').replace(relay.url, OFF_LOOPBACK));
    await refusedWith(() => AuthorityNode.open(home, PASSPHRASE), 'INSECURE_URL');
    expect(() => readConfig(home)).toThrow(/the relay URL in .*node\.json is plain http:\/\//);

    // an auditor's credentials
    const auditor = fresh('old-auditor');
    const creds = await createAuditor(auditor, {
      name: 'carol',
      relayUrl: relay.url,
      passphrase: PASSPHRASE,
    });
    const file = join(auditor, readdirSync(auditor)[0]!);
    writeFileAtomic(file, encryptWithPassphrase({ ...creds, relayUrl: OFF_LOOPBACK }, PASSPHRASE));
    await refusedWith(async () => readAuditor(auditor, PASSPHRASE), 'INSECURE_URL');

    // a peer row: kept as a peer, never contacted
    await relay.relay.store.addPeer({
      domain: 'relay.old.example',
      url: OFF_LOOPBACK,
      publicKey: toBase64url(randomBytes(32)),
      addedAt: new Date(),
    });
    const { peers, client } = relay.relay.ctx.federation;
    await peers.load();
    const peer = (await peers.find('relay.old.example'))!;
    expect(peer).toBeDefined();
    const err = await refusedWith(
      () => client.request(peer, 'GET', '/v1/federation/keylog/head'),
      'INSECURE_URL',
    );
    expect(err.message).toMatch(/the URL of peer relay relay\.old\.example is plain http:\/\//);
  });
});
