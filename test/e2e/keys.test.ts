/**
 * The life of an authority's keys, lived by officers with real processes: a relay started with
 * `entraide relay start`, and the `entraide` CLI from the build for every step (join and approve
 * nodes, rotate keys, revoke a lost laptop, read the key history, restore from a backup).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, spawnRelay, type CliResult, type RelayProcess } from '../support/processes.ts';

const DOMAIN = 'relay.test';
const SN = `sn.moj@${DOMAIN}`;
const KE = `ke.ag@${DOMAIN}`;
const node = (name: string) => `${name}/${SN}`;
const SN_PASS = { ENTRAIDE_PASSPHRASE: 'senegal desk passphrase' };
const KE_PASS = { ENTRAIDE_PASSPHRASE: 'kenya desk passphrase' };
/** One CLI call; a backup's Argon2id takes 2–4 s on the two-core machine, so this leaves room. */
const CALL_MS = 20_000;
const JOIN_CODE = /^\s+([0-9A-Z]{4}(?:-[0-9A-Z]{4}){5})$/m;
const SAFETY_CODE = /\d{5}(?: \d{5}){7}/;
/** `text` matched literally inside a RegExp. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs `entraide` and fails the test with the command line when it does not finish in time. */
async function entraide(args: string[], env: Record<string, string>): Promise<CliResult> {
  const started = Date.now();
  const r = await cli(args, env, CALL_MS);
  if (Date.now() - started >= CALL_MS) throw new Error(`entraide ${args.join(' ')} took over ${CALL_MS} ms`);
  return r;
}

function ok(r: CliResult): string {
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** The officer sees one line, `entraide: <message> [CODE]. <hint>`, no stack, and the exit code. */
function refused(r: CliResult, code: string, exit = 1): string {
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(exit);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^entraide: \\S.* \\[${code}\\]\\. \\S`));
  expect(r.stdout).toBe('');
  return lines[0]!;
}

interface Sent {
  id: string;
  recipients: string[];
}
interface Listing {
  node: string;
  state: 'active' | 'revoked';
  thisNode: boolean;
  encryptionKeyId: string;
  revokeReason: string | null;
}
interface History {
  authority: string;
  safetyCode: string;
  verifiedAt: string | null;
  head: { size: number };
  events: { index: number; type: string; node: string | null; accepted: boolean; proof: string }[];
}
interface Check {
  consistent: boolean;
  error: unknown;
  head: { size: number } | null;
  alarms: { kind: string; authority: string | null; message: string }[];
}

describe('an authority’s nodes and keys, end to end', { timeout: 90_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'entraide-e2e-keys-'));
  const home = {
    desk1: join(work, 'sn-desk1'),
    desk2: join(work, 'sn-desk2'),
    desk3: join(work, 'sn-desk3'),
    desk5: join(work, 'sn-desk5'),
    ke: join(work, 'ke-desk1'),
  };
  let relay: RelayProcess;
  const asSn = (dir: string, ...args: string[]) => entraide(['--home', dir, ...args], SN_PASS);
  const asKe = (...args: string[]) => entraide(['--home', home.ke, ...args], KE_PASS);
  const keSends = async (subject: string, body: string): Promise<Sent> =>
    JSON.parse(
      ok(await asKe('send', '--unverified-ok', '--to', SN, '--subject', subject, '--body', body, '--json')),
    ) as Sent;

  // What the steps hand on to the next ones.
  let firstSafetyCode = '';
  let newSafetyCode = '';
  let desk3KeyId = '';

  beforeAll(async () => {
    // Keys are rotated seconds apart here, where a real node waits days: the `test` budgets.
    relay = await spawnRelay(join(work, 'relay'), 0, DOMAIN, { ENTRAIDE_RELAY_LIMITS: 'test' });
  }, 30_000);

  afterAll(async () => {
    await relay?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('1. the relay starts, invites sn.moj and ke.ag, and each enrols its desk1', async () => {
    expect(relay.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const invite = async (id: string) => {
      const r = JSON.parse(
        ok(await entraide(['relay', 'invite', id, '--data', join(work, 'relay'), '--json'], {})),
      ) as { authority: string; invitation: string };
      expect(r.authority).toBe(`${id}@${DOMAIN}`);
      return r.invitation;
    };
    const [snInvite, keInvite] = await Promise.all([invite('sn.moj'), invite('ke.ag')]);
    const init = (dir: string, id: string, invitation: string, env: Record<string, string>) =>
      entraide(['--home', dir, 'init', '--invite', invitation, '--authority', id, '--node', 'desk1'], env);
    const [sn, ke] = await Promise.all([
      init(home.desk1, 'sn.moj', snInvite, SN_PASS),
      init(home.ke, 'ke.ag', keInvite, KE_PASS),
    ]);
    expect(ok(sn)).toContain(`Node ${node('desk1')} is enrolled on ${DOMAIN}.`);
    expect(ok(ke)).toContain(`Node desk1/${KE} is enrolled on ${DOMAIN}.`);
    firstSafetyCode = new RegExp(`Safety code:\\s+(${SAFETY_CODE.source})`).exec(sn.stdout)![1]!;
  });

  it('2. desk2 and desk3 join, desk1 approves them, and the node list shows all three', async () => {
    // The relay key's fingerprint comes from a node of the authority, not from the relay.
    const { relayKeyFingerprint } = JSON.parse(ok(await asSn(home.desk1, 'whoami', '--json'))) as {
      relayKeyFingerprint: string;
    };
    // Without a ticket from a node of the authority, the relay keeps no join request.
    const ticketless = await asSn(
      home.desk2,
      'node',
      'join',
      '--relay',
      relay.url,
      '--relay-key',
      relayKeyFingerprint,
      '--authority',
      'sn.moj',
      '--node',
      'desk2',
    );
    expect(refused(ticketless, 'USAGE', 2)).toContain('entraide node ticket');
    const ticketFor = async (name: string) => {
      const t = JSON.parse(ok(await asSn(home.desk1, 'node', 'ticket', '--for', name, '--json'))) as {
        ticket: string;
        relayKeyFingerprint: string;
      };
      expect(t.relayKeyFingerprint).toBe(relayKeyFingerprint);
      return t.ticket;
    };
    const tickets = { desk2: await ticketFor('desk2'), desk3: await ticketFor('desk3') };
    const joinAs = (dir: string, name: 'desk2' | 'desk3') =>
      asSn(
        dir,
        'node',
        'join',
        '--relay',
        relay.url,
        '--relay-key',
        relayKeyFingerprint,
        '--authority',
        'sn.moj',
        '--node',
        name,
        '--ticket',
        tickets[name],
        '--no-wait',
      );
    const [j2, j3] = await Promise.all([joinAs(home.desk2, 'desk2'), joinAs(home.desk3, 'desk3')]);
    const codes = [j2, j3].map((r, i) => {
      const text = ok(r);
      expect(text).toContain(`Join code for ${node(`desk${i + 2}`)}:`);
      expect(text).not.toContain('Waiting for the approval');
      const code = JOIN_CODE.exec(text)![1]!;
      expect(text).toContain(`entraide node approve ${code}`);
      return code;
    });
    const [desk2Code, desk3Code] = codes as [string, string];
    // Both wait for the authority's approval, and desk1 sees them.
    const pending = JSON.parse(ok(await asSn(home.desk1, 'node', 'pending', '--json'))) as { code: string }[];
    expect(pending.map((p) => p.code).sort()).toEqual([desk2Code, desk3Code].sort());

    // Before approval the node can do nothing, and says which code to show.
    const waiting = refused(await asSn(home.desk3, 'inbox'), 'NOT_APPROVED');
    expect(waiting).toContain(`(join code ${desk3Code})`);

    // Read out over the telephone and typed in lower case, unquoted, in groups: the code still works.
    const spoken = desk2Code.toLowerCase().split('-');
    expect(ok(await asSn(home.desk1, 'node', 'approve', ...spoken))).toMatch(
      new RegExp(
        `^${literal(node('desk2'))} is certified \\(key log entry \\d+\\); it can now log in\\.$`,
        'm',
      ),
    );
    expect(ok(await asSn(home.desk1, 'node', 'approve', desk3Code))).toContain(
      `${node('desk3')} is certified`,
    );

    const list = JSON.parse(ok(await asSn(home.desk2, 'node', 'list', '--json'))) as Listing[];
    expect(list.map((n) => [n.node, n.state, n.thisNode])).toEqual([
      [node('desk1'), 'active', false],
      [node('desk2'), 'active', true],
      [node('desk3'), 'active', false],
    ]);
  });

  it('3. ke.ag writes to sn.moj and each of the three desks receives and reads it', async () => {
    const sent = await keSends('MLA request 2026/201', 'Please freeze account 9913.');
    expect(sent.recipients.sort()).toEqual([node('desk1'), node('desk2'), node('desk3')]);
    const desks = [home.desk1, home.desk2, home.desk3];
    // desk3 has run nothing since its approval: its first command, `inbox`, completes the join.
    for (const inbox of await Promise.all(desks.map((d) => asSn(d, 'inbox')))) {
      expect(ok(inbox)).toContain('1 new; 1 in the inbox');
      expect(inbox.stdout).toContain(`* ${sent.id}`);
    }
    for (const read of await Promise.all(desks.map((d) => asSn(d, 'read', sent.id.slice(0, 13))))) {
      expect(ok(read)).toContain(`From:     desk1/${KE}`);
      expect(read.stdout).toContain('Subject:  MLA request 2026/201');
      expect(read.stdout).toContain('Please freeze account 9913.');
    }
  });

  it('4. desk3 rotates its key and reads old and new mail; desk1 rotates the master key; ke verifies the new code', async () => {
    // Sealed to desk3's current key, and fetched only after the rotation: opened with the old key.
    const beforeRotation = await keSends('Before rotation', 'Sealed to the old key.');
    expect(beforeRotation.recipients).toContain(node('desk3'));

    const rotated = ok(await asSn(home.desk3, 'keys', 'rotate'));
    const m = new RegExp(
      `^New encryption key (\\S+) for ${literal(node('desk3'))}, valid until \\S+ \\S+ \\(key log entry \\d+\\)\\.$`,
      'm',
    ).exec(rotated);
    expect(m, rotated).not.toBeNull();
    desk3KeyId = m![1]!;

    const afterRotation = await keSends('After rotation', 'Sealed to the new key.');
    expect(afterRotation.recipients).toContain(node('desk3'));
    // desk3 reads its mail while desk1, at another desk, rotates the authority master key.
    const [, master] = await Promise.all([
      (async () => {
        expect(ok(await asSn(home.desk3, 'inbox'))).toContain('2 new; 3 in the inbox');
        expect(ok(await asSn(home.desk3, 'read', beforeRotation.id))).toContain('Sealed to the old key.');
        expect(ok(await asSn(home.desk3, 'read', afterRotation.id))).toContain('Sealed to the new key.');
      })(),
      asSn(home.desk1, 'keys', 'rotate', '--master'),
    ]);
    expect(ok(master)).toContain(`The master key of ${SN} was rotated; the old key signed the new one.`);
    newSafetyCode = new RegExp(`New safety code: (${SAFETY_CODE.source})`).exec(master.stdout)![1]!;
    expect(newSafetyCode).not.toBe(firstSafetyCode);

    // ke.ag follows the rotation by itself.
    expect(ok(await asKe('fingerprint', SN))).toContain(newSafetyCode);

    // The officer in Nairobi types the code read out by Dakar: first the old one, by mistake.
    const mismatch = refused(
      await asKe('keys', 'verify', SN, ...firstSafetyCode.split(' ')),
      'SAFETY_CODE_MISMATCH',
    );
    expect(mismatch).toContain('nothing was marked');
    expect(ok(await asKe('keys', 'verify', SN, ...newSafetyCode.split(' ')))).toContain(
      `${SN} is verified: the safety code matches.`,
    );
  });

  it('5. desk1 revokes the lost laptop desk3: it is shut out and no longer receives mail', async () => {
    expect(ok(await asSn(home.desk1, 'node', 'revoke', 'desk3', '--reason', 'laptop lost'))).toMatch(
      new RegExp(`^${literal(node('desk3'))} is revoked \\(key log entry \\d+\\)`, 'm'),
    );
    const [shutOut, sent, listed] = await Promise.all([
      asSn(home.desk3, 'inbox'),
      keSends('After the revocation', 'Not for the lost laptop.'),
      asSn(home.desk1, 'node', 'list', '--json'),
    ]);
    // Refused at login like a node the relay never knew: a login does not tell revoked apart.
    refused(shutOut, 'CHALLENGE_INVALID');
    expect(sent.recipients.sort()).toEqual([node('desk1'), node('desk2')]);
    // The key log held desk3's rotated key until the revocation.
    expect((JSON.parse(ok(listed)) as Listing[]).find((n) => n.node === node('desk3'))).toMatchObject({
      state: 'revoked',
      revokeReason: 'laptop lost',
      encryptionKeyId: desk3KeyId,
    });
  });

  it('6. ke.ag reads sn.moj’s key history, every event proven and accepted', async () => {
    const history = JSON.parse(ok(await asKe('keys', 'history', SN, '--json'))) as History;
    expect(history.authority).toBe(SN);
    expect(history.safetyCode).toBe(newSafetyCode);
    expect(history.verifiedAt).not.toBeNull();
    expect(history.events.map((e) => [e.type, e.node])).toEqual([
      ['authority-enrolled', null],
      ['node-certified', node('desk1')],
      ['node-certified', node('desk2')],
      ['node-certified', node('desk3')],
      ['encryption-key-rotated', node('desk3')],
      ['master-key-rotated', null],
      ['node-revoked', node('desk3')],
    ]);
    expect(history.events.every((e) => e.accepted && e.proof === 'checked')).toBe(true);
    // The log also holds ke.ag's two enrolment entries.
    expect(history.head.size).toBe(history.events.length + 2);
    expect(Math.max(...history.events.map((e) => e.index))).toBeLessThan(history.head.size);

    const text = ok(await asKe('keys', 'history', SN));
    expect(text).toContain(`${SN}  safety code ${newSafetyCode}  (verified)`);
    expect(text).toContain(`key log: size ${history.head.size},`);
    const entries = text.split('\n').filter((l) => /^\s+#\d+/.test(l));
    expect(entries).toHaveLength(7);
    for (const line of entries) expect(line).toMatch(/^\s+#\d+\s+\S+ \S+\s+ok\s+\S/);
    expect(text).not.toContain('REFUSED');
  });

  it('7. desk1’s backup restores the authority on desk5, which revokes desk1; desk2 sees a consistent log', async () => {
    const backup = join(work, 'sn-desk1.backup');
    expect(ok(await asSn(home.desk1, 'keys', 'export', '--out', backup))).toContain(
      `Backup written to ${backup} (with the authority master key).`,
    );

    const wrong = await entraide(['--home', home.desk5, 'keys', 'import', backup, '--as-node', 'desk5'], {
      ENTRAIDE_PASSPHRASE: 'not the passphrase',
    });
    refused(wrong, 'PASSPHRASE_WRONG');
    expect(existsSync(home.desk5)).toBe(false);

    const truncated = join(work, 'truncated.backup');
    const full = readFileSync(backup, 'utf8');
    writeFileSync(truncated, full.slice(0, Math.floor(full.length / 2)));
    refused(await asSn(home.desk5, 'keys', 'import', truncated, '--as-node', 'desk5'), 'BACKUP_INVALID');
    expect(existsSync(home.desk5)).toBe(false);

    const restored = ok(await asSn(home.desk5, 'keys', 'import', backup, '--as-node', 'desk5'));
    expect(restored).toContain(`Restored ${node('desk5')} of ${SN} in ${home.desk5}.`);
    expect(ok(await asSn(home.desk5, 'node', 'revoke', 'desk1', '--reason', 'restored on desk5'))).toContain(
      `${node('desk1')} is revoked`,
    );

    const sent = await keSends('To the restored desk', 'Welcome back, Dakar.');
    expect(sent.recipients.sort()).toEqual([node('desk2'), node('desk5')]);
    // desk5 reads it while desk2 checks the key log.
    const [, [check, text]] = await Promise.all([
      (async () => {
        expect(ok(await asSn(home.desk5, 'inbox'))).toContain('1 new; 1 in the inbox');
        expect(ok(await asSn(home.desk5, 'read', sent.id))).toContain('Welcome back, Dakar.');
      })(),
      (async () => {
        const json = JSON.parse(ok(await asSn(home.desk2, 'keys', 'check', '--json'))) as Check;
        return [json, ok(await asSn(home.desk2, 'keys', 'check'))] as const;
      })(),
    ]);
    expect(check.consistent).toBe(true);
    expect(check.error).toBeNull();
    const kinds = check.alarms.map((a) => a.kind);
    expect(kinds).not.toContain('forged-event');
    expect(kinds).not.toContain('log-inconsistent');
    expect(kinds).not.toContain('own-key-unknown');
    // desk2 first read the log once desk3 was certified: what came later was made by other desks.
    const elsewhere = check.alarms.filter((a) => a.kind === 'made-elsewhere').map((a) => a.message);
    for (const made of [
      `encryption key of ${node('desk3')} rotated`,
      'master key rotated',
      `node ${node('desk3')} revoked (laptop lost)`,
      `node ${node('desk5')} certified`,
      `node ${node('desk1')} revoked (restored on desk5)`,
    ]) {
      expect(
        elsewhere.some((m) => m.includes(made)),
        `made-elsewhere: ${made}`,
      ).toBe(true);
    }
    expect(text).toContain(`key log verified up to size ${check.head!.size}`);
    expect(text).toMatch(new RegExp(`made-elsewhere\\s+node ${literal(node('desk5'))} certified`));
    expect(text).not.toContain('NOT CONSISTENT');

    // The relay served the whole scenario without crashing or printing a stack trace.
    expect(relay.child.exitCode).toBeNull();
    expect(relay.output()).not.toMatch(/\n\s+at /);
  });
});
