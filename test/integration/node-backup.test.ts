/**
 * The node's folder and its whole record: folder and file modes made owner-only on every opening,
 * `entraide backup` / `entraide restore` between two machines (a real relay, real nodes, and the
 * CLI from the build), and the passphrase rule at `init`.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupKdfFor } from '../../client/backup.ts';
import { initNode } from '../../client/init.ts';
import { readKeystore } from '../../client/keystore.ts';
import { NodeBackupWriter } from '../../client/node-backup-file.ts';
import { backupNode, restoreNode } from '../../client/node-backup.ts';
import { AuthorityNode } from '../../client/node.ts';
import { exportKeys, importKeys } from '../../client/restore.ts';
import { canonicalBytes } from '../../shared/canonical.ts';
import { EntraideError } from '../../shared/errors.ts';
import {
  enrolNode,
  invite,
  PASSPHRASE,
  removeDir,
  startTestRelay,
  tempDir,
  type TestRelay,
} from '../support/fixtures.ts';
import { cli } from '../support/processes.ts';
import { preservationDraft } from '../support/requests.ts';
import { waitFor } from '../support/wait.ts';

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** What an officer sees of the node's record: mail both ways, requests, the receipts of what it sent. */
function recordOf(node: AuthorityNode) {
  // Spread, so that each listed body is read now, while the node is open.
  const sent = node.sent().map((m) => ({ ...m }));
  return {
    inbox: node.inbox().map((m) => ({ ...m })),
    sent,
    requests: node.requests.list(),
    // The whole story of each (all sent by this node: showing them sends no read receipt).
    stories: node.requests.list().map((r) => node.requests.show(r.id)),
    receipts: sent.map((m) => node.receipts.evidence(m.id)),
  };
}

async function rejection(p: Promise<unknown>): Promise<EntraideError> {
  const err = await p.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  if (!(err instanceof EntraideError)) throw err;
  return err;
}

describe('a node’s folder, its backup and its restoration', () => {
  let relay: TestRelay;
  let sn: AuthorityNode;
  let ke: AuthorityNode;
  const open: AuthorityNode[] = [];

  beforeAll(async () => {
    relay = await startTestRelay();
    sn = await enrolNode(relay, 'sn.moj');
    ke = await enrolNode(relay, 'ke.ag');
    open.push(ke);
  });
  afterAll(async () => {
    for (const n of open) await n.close().catch(() => undefined);
    await relay?.close();
  });

  it('makes a folder that others may read its owner’s only again when the node opens, and says so', async () => {
    const node = await enrolNode(relay, 'gh.moj');
    const home = node.home;
    // A new node: folder 0700, every file 0600 (the -wal and -shm exist while it is open).
    expect(modeOf(home)).toBe(0o700);
    for (const f of ['node.json', 'keystore.json', 'node.db', 'node.db-wal', 'node.db-shm'])
      expect([f, modeOf(join(home, f))]).toEqual([f, 0o600]);
    expect(node.notices).toEqual([]);
    await node.close();

    chmodSync(home, 0o755);
    chmodSync(join(home, 'node.db'), 0o644);
    chmodSync(join(home, 'keystore.json'), 0o640);
    const again = await AuthorityNode.open(home, PASSPHRASE);
    open.push(again);
    expect(modeOf(home)).toBe(0o700);
    for (const f of ['node.json', 'keystore.json', 'node.db', 'node.db-wal', 'node.db-shm'])
      expect([f, modeOf(join(home, f))]).toEqual([f, 0o600]);
    expect(again.notices).toHaveLength(3);
    expect(again.notices[0]).toBe(
      `the node folder ${home} could be read by other users (mode 0755): now 0700, its owner only`,
    );
    expect(again.notices.slice(1).sort()).toEqual([
      `the file ${join(home, 'keystore.json')} could be read by other users (mode 0640): now 0600, its owner only`,
      `the file ${join(home, 'node.db')} could be read by other users (mode 0644): now 0600, its owner only`,
    ]);
  });

  it('restores messages, requests and receipts on a new machine, and reads mail sent before the backup', async () => {
    const toSn = await ke.send({
      to: [sn.authority],
      subject: 'Extradition file',
      body: 'The hearing is on Monday.',
    });
    const fromSn = await sn.send({ to: [ke.authority], subject: 'Re: file', body: 'Received, thank you.' });
    const request = await sn.requests.create({
      type: 'expedited_preservation',
      to: ke.authority,
      draft: preservationDraft(),
    });
    await ke.fetchInbox();
    ke.read(fromSn.id);
    await waitFor(
      async () => {
        await sn.fetchInbox();
        const ev = sn.receipts.evidence(fromSn.id).receipts.map((r) => r.kind);
        return ev.includes('delivered') && ev.includes('read');
      },
      10_000,
      'the receipts of sn’s message',
    );
    // Sent before the backup, fetched only after the restoration: the restored keys must open it.
    const waiting = await ke.send({ to: [sn.authority], subject: 'Later', body: 'Sent before the backup.' });
    const before = recordOf(sn);
    expect(before.inbox.map((m) => m.id)).toContain(toSn.id);
    expect(before.requests.map((r) => r.id)).toContain(request.id);
    expect(before.receipts.flatMap((e) => e.receipts).length).toBeGreaterThan(0);

    const file = join(tempDir('entraide-backup-'), 'sn.backup');
    mkdirSync(join(sn.home, 'documents', 'case-17'), { recursive: true });
    writeFileSync(join(sn.home, 'documents', 'case-17', 'warrant.pdf'), 'a scanned warrant');
    // Larger than a few of the stream's 1 MiB chunks.
    const scan = randomBytes(3 * 1024 * 1024 + 123);
    writeFileSync(join(sn.home, 'documents', 'scan.bin'), scan);
    const summary = backupNode(sn, file, PASSPHRASE);
    expect(summary).toMatchObject({ node: sn.address, files: 3, hasMasterKey: true });
    expect(modeOf(file)).toBe(0o600);
    // The keys, the record and the documents are sealed: none of them appears in the file.
    const text = readFileSync(file, 'latin1');
    for (const secret of [sn.keys.identitySecretKey, sn.keys.databaseKey!, 'scanned warrant', 'Extradition'])
      expect(text).not.toContain(secret);

    // The key backup carries the database content key too, and `keys import` puts it back.
    const keysFile = join(tempDir('entraide-keys-'), 'sn.keys');
    exportKeys(sn, keysFile, PASSPHRASE);
    const keysHome = join(tempDir('entraide-keys-home-'), 'sn');
    await importKeys({ home: keysHome, file: keysFile, passphrase: PASSPHRASE });
    expect(readKeystore(join(keysHome, 'keystore.json'), PASSPHRASE).databaseKey).toBe(sn.keys.databaseKey);

    // The disk is lost.
    const lost = sn.home;
    await sn.close();
    removeDir(lost);
    const machine = tempDir('entraide-new-machine-');
    const home = join(machine, 'sn');
    const restored = await restoreNode({ home, file, passphrase: PASSPHRASE });
    expect(restored.config.node).toBe('desk1/sn.moj@relay.test');
    expect(modeOf(home)).toBe(0o700);
    expect(modeOf(join(home, 'documents'))).toBe(0o700);
    for (const f of ['node.json', 'keystore.json', 'node.db', 'documents/case-17/warrant.pdf'])
      expect([f, modeOf(join(home, f))]).toEqual([f, 0o600]);
    expect(readdirSync(machine)).toEqual(['sn']);
    expect(readFileSync(join(home, 'documents', 'case-17', 'warrant.pdf'), 'utf8')).toBe('a scanned warrant');
    expect(readFileSync(join(home, 'documents', 'scan.bin')).equals(scan)).toBe(true);

    const again = await AuthorityNode.open(home, PASSPHRASE);
    open.push(again);
    expect(again.address).toBe(restored.config.node);
    expect(recordOf(again)).toEqual(before);
    expect(again.read(toSn.id).body).toBe('The hearing is on Monday.');
    expect(again.requests.show(request.id).state).toBe(
      before.requests.find((r) => r.id === request.id)!.state,
    );
    await again.fetchInbox();
    expect(again.read(waiting.id).body).toBe('Sent before the backup.');

    // A wrong passphrase, a damaged or cut file, a folder in use: refused, and nothing is written.
    const target = join(machine, 'elsewhere');
    const wrong = await rejection(restoreNode({ home: target, file, passphrase: 'not the passphrase' }));
    expect([wrong.code, wrong.message]).toEqual([
      'PASSPHRASE_WRONG',
      'the passphrase does not open this backup',
    ]);
    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 100]! ^= 1;
    const early = Buffer.from(bytes);
    early[bytes.indexOf(0x0a) + 1024 * 1024]! ^= 1;
    const cut = bytes.subarray(0, bytes.length - 1);
    // Three whole chunks and nothing after: no FINAL chunk.
    const chunksOnly = bytes.subarray(0, bytes.indexOf(0x0a) + 1 + 3 * (1024 * 1024 + 17));
    const header = bytes.subarray(0, bytes.indexOf(0x0a));
    const redated = Buffer.concat([
      Buffer.from(
        header.toString('utf8').replace(/"createdAt":"[^"]+"/, '"createdAt":"2020-01-01T00:00:00.000Z"'),
      ),
      bytes.subarray(header.length),
    ]);
    for (const [what, damaged, message] of [
      [
        'one bit flipped',
        flipped,
        'the backup file was altered or is incomplete: a part of it does not verify',
      ],
      [
        'one bit flipped in the first chunk',
        early,
        'the backup file was altered or is incomplete: a part of it does not verify',
      ],
      ['its last chunks cut', chunksOnly, 'the backup file is cut short: its last part is missing'],
      [
        'its last byte cut',
        cut,
        'the backup file was altered or is incomplete: a part of it does not verify',
      ],
      [
        'its date changed',
        redated,
        'the backup file was altered or is incomplete: a part of it does not verify',
      ],
      [
        'no header line',
        Buffer.from('{}'),
        'the backup file has no header line (it is not a node backup, or is cut short)',
      ],
    ] as const) {
      const damagedFile = join(tempDir('entraide-damaged-'), 'sn.backup');
      writeFileSync(damagedFile, damaged);
      const err = await rejection(restoreNode({ home: target, file: damagedFile, passphrase: PASSPHRASE }));
      expect([what, err.code, err.message]).toEqual([what, 'BACKUP_INVALID', message]);
    }
    const inUse = await rejection(restoreNode({ home, file, passphrase: PASSPHRASE }));
    expect(inUse.code).toBe('HOME_EXISTS');
    expect(readdirSync(machine)).toEqual(['sn']);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a backup, sealed with the right passphrase, whose manifest lies or reaches out of the folder', async () => {
    const createdAt = new Date().toISOString();
    /** A backup as a hostile writer who knows the passphrase would seal it. */
    const forge = (files: { path: string; size: number }[], bytes: Uint8Array) => {
      const file = join(tempDir('entraide-forged-'), 'ke.backup');
      const fd = openSync(file, 'wx');
      const label = { authority: ke.authority, node: ke.address, createdAt, hasMasterKey: true };
      const writer = NodeBackupWriter.start(fd, label, PASSPHRASE, backupKdfFor('test'));
      const manifest = canonicalBytes({ config: ke.config, material: ke.keys, createdAt, files });
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, manifest.length);
      writer.write(length);
      writer.write(manifest);
      writer.write(bytes);
      writer.finish();
      closeSync(fd);
      return file;
    };
    const db = { path: 'node.db', size: 3 };
    for (const [what, files, bytes, message] of [
      ['a path up and out', [db, { path: '../escape', size: 1 }], 'abcd', 'outside node.db and documents/'],
      [
        'a way out under documents/',
        [db, { path: 'documents/../../escape', size: 1 }],
        'abcd',
        'outside node.db and documents/',
      ],
      ['an absolute path', [db, { path: '/tmp/escape', size: 1 }], 'abcd', 'outside node.db and documents/'],
      ['no database', [{ path: 'documents/a', size: 1 }], 'a', 'holds no node.db'],
      ['a path twice', [db, db], 'abcdef', 'names a path twice'],
      [
        'a file as a folder',
        [db, { path: 'documents/a', size: 1 }, { path: 'documents/a/b', size: 1 }],
        'abcde',
        'names a file as the folder of another',
      ],
      [
        'more listed than held',
        [db, { path: 'documents/a', size: 5 }],
        'abcd',
        'holds less than its manifest lists',
      ],
      ['more held than listed', [db], 'abcd', 'holds more than its manifest lists'],
    ] as const) {
      const file = forge([...files], new TextEncoder().encode(bytes));
      const parent = tempDir('entraide-forged-target-');
      const err = await rejection(restoreNode({ home: join(parent, 'ke'), file, passphrase: PASSPHRASE }));
      expect([what, err.code, err.message]).toEqual([
        what,
        'BACKUP_INVALID',
        expect.stringContaining(message),
      ]);
      expect([what, readdirSync(parent)]).toEqual([what, []]);
    }
  });
});

describe('the CLI: the passphrase rule at `init`, `backup` and `restore`', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay();
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('refuses a 6-character passphrase at init, creating nothing; backs up and restores a node', async () => {
    const parent = tempDir('entraide-cli-');
    const home = join(parent, 'sn');
    const code = await invite(relay, 'sn.moj');
    const args = (h: string) => [
      '--home',
      h,
      'init',
      '--relay',
      relay.url,
      '--relay-key',
      relay.relay.identity.publicKeyB64,
    ];
    const short = await cli([...args(home), '--invite', code, '--authority', 'sn.moj', '--node', 'desk1'], {
      ENTRAIDE_PASSPHRASE: 'abc123',
    });
    expect(short.code, short.stderr).toBe(1);
    expect(short.stderr).toBe(
      'entraide: a new passphrase needs at least 12 characters; this one has 6 [PASSPHRASE_TOO_SHORT]. Choose a passphrase of at least 12 characters: several unrelated words, e.g. four or five, are long and easy to remember. Nothing was created or changed.\n',
    );
    expect(readdirSync(parent)).toEqual([]);
    // The invitation was not used: the relay enrolled nothing.
    await initNode({
      home,
      relayUrl: relay.url,
      relayKey: relay.relay.identity.publicKeyB64,
      invite: code,
      authorityId: 'sn.moj',
      nodeName: 'desk1',
      passphrase: PASSPHRASE,
    });

    const env = { ENTRAIDE_PASSPHRASE: PASSPHRASE };
    const file = join(parent, 'sn.backup');
    const backup = await cli(['--home', home, 'backup', '--out', file], env);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(
      /^Backup of desk1\/sn\.moj@relay\.test written to .*: 1 file\(s\), \d+ bytes, with the authority master key\.\n/,
    );
    const restoredHome = join(tempDir('entraide-cli-new-'), 'sn');
    const restore = await cli(['--home', restoredHome, 'restore', '--from', file], env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/^Restored desk1\/sn\.moj@relay\.test of sn\.moj@relay\.test in /);
    const node = await AuthorityNode.open(restoredHome, PASSPHRASE);
    try {
      expect(node.notices).toEqual([]);
      expect((await node.fingerprint()).safetyCode).toMatch(/^\d{5}( \d{5}){7}$/);
    } finally {
      await node.close();
    }
  });
});
