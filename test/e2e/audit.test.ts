/**
 * The audit log end to end, with real processes: the relay runs as a process (`entraide relay start`), an auditor uses
 * the `entraide audit` commands, the operator `entraide relay auditor`. An attacker with disk
 * access tampers with the relay's database directly; `audit verify` must catch every change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { cli, spawnRelay, type RelayProcess } from '../support/processes.ts';

const PASS = { ENTRAIDE_PASSPHRASE: 'audit e2e passphrase' };
const SN_NODE = 'desk1/sn.moj@relay.local';
const KE_NODE = 'desk1/ke.ag@relay.local';
const KE = 'ke.ag@relay.local';
const MESSAGES = [1, 2, 3].map((i) => ({
  subject: `Confidential subject ${i} zebra`,
  body: `Secret body number ${i} of the quokka file.`,
}));

interface Event {
  seq: number;
  at: string;
  kind: string;
  envelope?: string;
  sender?: string;
  recipients?: string[];
  node?: string;
  size?: number;
  ciphertextHash?: string;
  reason?: string;
  detail?: string;
  count?: number;
  source?: string;
}
interface Row {
  seq: number;
  at: unknown;
  kind: string;
  envelopeId: string | null;
  leaf: string;
}

describe('audit log end to end', { timeout: 300_000 }, () => {
  let relay: RelayProcess | undefined;
  let url = '';
  const work = tempDir('entraide-audit-e2e-');
  const data = join(work, 'relay');
  const senegal = join(work, 'sn');
  const kenya = join(work, 'ke');
  const auditor = join(work, 'auditor');
  const env = { ENTRAIDE_RELAY_DATA: data, ...PASS };
  const ids: string[] = [];
  let auditorKey = '';

  const ok = async (args: string[]) => {
    const r = await cli(args, env);
    expect(r.code, `${args.join(' ')}: ${r.stderr} ${r.stdout}`).toBe(0);
    return r.stdout;
  };
  const audit = (...args: string[]) => cli(['--home', auditor, 'audit', ...args], env);
  const log = async (...filters: string[]): Promise<Event[]> =>
    JSON.parse(await ok(['--home', auditor, 'audit', 'log', '--json', ...filters])) as Event[];
  const verifyOk = async () => {
    const r = await audit('verify');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok: \d+ entries/);
    return r.stdout;
  };
  /** `audit verify` must fail with PROOF_INVALID naming an index at or before `atMost`. */
  const verifyCatches = async (atMost: number) => {
    const r = await audit('verify');
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('[PROOF_INVALID]');
    const index = /from index (\d+)/.exec(r.stderr);
    expect(index, r.stderr).not.toBeNull();
    expect(Number(index![1])).toBeLessThanOrEqual(atMost);
    return r.stderr;
  };
  /** Opens the relay's database as an attacker would, runs `fn` and closes it. */
  const tamper = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(join(data, 'relay.db'));
    db.pragma('busy_timeout = 5000');
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const rows = () => tamper((db) => db.prepare('SELECT * FROM "AuditEntry" ORDER BY seq').all() as Row[]);
  const setLeaf = (seq: number, leaf: string) =>
    tamper((db) => db.prepare('UPDATE "AuditEntry" SET leaf = ? WHERE seq = ?').run(leaf, seq).changes);
  const deleteRow = (seq: number) =>
    tamper((db) => db.prepare('DELETE FROM "AuditEntry" WHERE seq = ?').run(seq).changes);
  const restoreRow = (r: Row) =>
    tamper((db) =>
      db
        .prepare('INSERT INTO "AuditEntry" (seq, at, kind, envelopeId, leaf) VALUES (?, ?, ?, ?, ?)')
        .run(r.seq, r.at, r.kind, r.envelopeId, r.leaf),
    );
  const badToken = (path: string) => fetch(`${url}${path}`, { headers: { authorization: 'Bearer x' } });

  beforeAll(async () => {
    // Refused anonymous requests are written as counts once a second here (a minute by default).
    const limitsFile = join(work, 'limits.json');
    writeFileSync(limitsFile, JSON.stringify({ refusalIntervalSeconds: 1 }));
    relay = await spawnRelay(data, 0, 'relay.local', { ENTRAIDE_RELAY_LIMITS_FILE: limitsFile });
    url = relay.url;
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('two authorities exchange three messages', async () => {
    for (const [home, id] of [`${senegal}:sn.moj`, `${kenya}:ke.ag`].map((x) => x.split(':'))) {
      const invitation = /^\s+(entraide:\S+)$/m.exec(await ok(['relay', 'invite', id!]))![1]!;
      const init = `init --invite ${invitation} --authority ${id} --node desk1`.split(' ');
      await ok(['--home', home!, ...init]);
    }
    for (const m of MESSAGES) {
      const sent = await ok([
        '--home',
        senegal,
        'send',
        '--unverified-ok',
        '--to',
        KE,
        '--subject',
        m.subject,
        '--body',
        m.body,
      ]);
      ids.push(sent.trim());
    }
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    const inbox = await ok(['--home', kenya, 'inbox']);
    expect(inbox).toContain('3 new');
  });

  it('an auditor gets a key and the operator registers it', async () => {
    // The relay's key fingerprint, from its operator (`relay info`), never from the relay itself.
    const { fingerprint } = JSON.parse(await ok(['relay', 'info', '--json'])) as { fingerprint: string };
    const gen = await ok([
      '--home',
      auditor,
      'audit',
      'keygen',
      '--relay',
      url,
      '--relay-key',
      fingerprint,
      '--name',
      'alice',
    ]);
    auditorKey = /^Public key: ([A-Za-z0-9_-]{43})$/m.exec(gen)![1]!;
    expect(await ok(['relay', 'auditor', 'add', 'alice', '--key', auditorKey])).toContain(
      'alice may now read',
    );
    const list = JSON.parse(await ok(['relay', 'auditor', 'list', '--json'])) as {
      name: string;
      publicKey: string;
      removedAt: string | null;
    }[];
    expect(list).toEqual([
      expect.objectContaining({ name: 'alice', publicKey: auditorKey, removedAt: null }),
    ]);
  });

  it('lists accepted and delivered entries, without content, filtered and as CSV', async () => {
    const all = await log();
    for (const id of ids) {
      const mine = all.filter((e) => e.envelope === id);
      expect(mine.map((e) => e.kind).sort()).toEqual(['accepted', 'delivered']);
      const accepted = mine.find((e) => e.kind === 'accepted')!;
      expect(accepted.sender).toBe(SN_NODE);
      expect(accepted.recipients).toEqual([KE]);
      expect(accepted.size).toBeGreaterThan(0);
      expect(accepted.ciphertextHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(mine.find((e) => e.kind === 'delivered')!.node).toBe(KE_NODE);

      const filtered = await log('--envelope', id);
      expect(filtered).toEqual(mine);
      expect(filtered).toHaveLength(2);
    }
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i));
    const text = await ok(['--home', auditor, 'audit', 'log', '--json']);
    for (const m of MESSAGES) {
      for (const secret of [m.subject, m.body, 'zebra', 'quokka']) expect(text).not.toContain(secret);
    }

    const byKenya = await log('--authority', KE);
    for (const id of ids) expect(byKenya.filter((e) => e.envelope === id)).toHaveLength(2);
    expect(await log('--from', '2099-01-01T00:00:00Z')).toEqual([]);

    const csv = (await ok(['--home', auditor, 'audit', 'log', '--csv'])).trimEnd().split('\n');
    expect(csv[0]).toMatch(/^seq,at,kind,envelope,/);
    // Each `audit log` above logged the auditor in: the log has grown by those logins since `all`.
    expect(csv.length).toBeGreaterThan(all.length + 1);
    for (const row of csv.slice(all.length + 1)) expect(row.split(',')[2]).toBe('login');
    for (const [i, e] of all.entries())
      expect(csv[i + 1]!.startsWith(`${e.seq},${e.at},${e.kind},`)).toBe(true);
  });

  it('counts refused anonymous requests per code and source, with a printable detail', async () => {
    const before = (await log()).length;
    // CR, LF and an ANSI colour sequence in a probed path
    expect((await fetch(`${url}/v1/nothing/%0d%0a%1b[31mX`)).status).toBe(404);
    expect((await badToken('/v1/inbox')).status).toBe(401);
    expect((await badToken('/v1/inbox')).status).toBe(401);
    const post = await fetch(`${url}/v1/envelopes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(post.status).toBe(401);
    // The relay writes the counts of each interval (1 s here) at its end.
    const total = (events: Event[], reason: string) =>
      events.filter((e) => e.reason === reason).reduce((n, e) => n + (e.count ?? 0), 0);
    let refused: Event[] = [];
    await waitFor(
      async () => {
        // Without the logins of the auditor's own `audit log` commands.
        refused = (await log()).slice(before).filter((e) => e.kind !== 'login');
        return total(refused, 'TOKEN_INVALID') === 2 && total(refused, 'AUTH_REQUIRED') === 1;
      },
      10_000,
      'the counted refusals',
    );
    expect(total(refused, 'NOT_FOUND')).toBe(1);
    expect(refused.every((e) => e.source === '127.0.0.1' && e.kind !== undefined)).toBe(true);
    expect(refused.find((e) => e.reason === 'TOKEN_INVALID')!.detail).toBe('GET /v1/inbox');
    expect(refused.find((e) => e.reason === 'AUTH_REQUIRED')!.detail).toBe('POST /v1/envelopes');
    const probe = refused.find((e) => e.reason === 'NOT_FOUND')!;
    expect(probe.detail).toMatch(/^GET \/v1\/nothing\/.*31mX$/);
    const controls = ['\r', '\n', '\x1b'];
    expect(controls.filter((c) => probe.detail!.includes(c))).toEqual([]);

    const lines = (await ok(['--home', auditor, 'audit', 'log'])).trimEnd().split('\n');
    expect(lines.find((l) => l.includes('[NOT_FOUND]'))).toMatch(/31mX" {2}×1 from 127\.0\.0\.1 since /);
    expect(lines.join('\n')).not.toContain('\x1b');
  });

  it('verifies the whole log and proves an envelope’s events', async () => {
    await verifyOk();
    const proof = JSON.parse(await ok(['--home', auditor, 'audit', 'proof', ids[0]!, '--json'])) as {
      head: { size: number; root: string };
      events: { index: number; event: Event; proof: string[] }[];
    };
    expect(proof.events.map((e) => e.event.kind)).toEqual(['accepted', 'delivered']);
    expect(proof.events.every((e) => e.event.envelope === ids[0])).toBe(true);
    expect(proof.head.size).toBeGreaterThan(proof.events[1]!.index);
    expect(proof.head.root).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('sets each officer’s exported record against the relay’s log', async () => {
    const files = { sn: join(work, 'sn-record.json'), ke: join(work, 'ke-record.json') };
    await ok(['--home', senegal, 'record', 'export', '--out', files.sn]);
    await ok(['--home', kenya, 'record', 'export', '--out', files.ke]);
    const text = readFileSync(files.sn, 'utf8');
    for (const m of MESSAGES) expect(text).not.toContain(m.subject);
    const report = await ok([
      '--home',
      auditor,
      'audit',
      'reconcile',
      '--relay',
      url,
      '--record',
      files.sn,
      '--record',
      files.ke,
    ]);
    expect(report).toContain(`${SN_NODE}: record of`);
    expect(report).toMatch(/3 sent and accepted/);
    expect(report).toMatch(/3 received and delivered/);
    // An entry changed in the file: the node's signature no longer covers it.
    const altered = text.replace('\\"kind\\":\\"sent\\"', '\\"kind\\":\\"opened\\"');
    expect(altered).not.toBe(text);
    writeFileSync(files.sn, altered);
    const bad = await audit('reconcile', '--relay', url, '--record', files.sn);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /the record of desk1\/sn\.moj@relay\.local is not what it signed from index 0: .*\[PROOF_INVALID\]/,
    );
  });

  it('lets only registered auditors read the audit API', async () => {
    expect((await fetch(`${url}/v1/audit/head`)).status).toBe(401);
    expect((await badToken('/v1/audit/head')).status).toBe(401);
    await ok(['relay', 'auditor', 'remove', 'alice']);
    const denied = await audit('verify');
    expect(denied.code).toBe(1);
    // Refused at login like an unknown auditor (no way to tell removed from never registered).
    expect(denied.stderr).toMatch(/\[CHALLENGE_INVALID\]/);
    const list = JSON.parse(await ok(['relay', 'auditor', 'list', '--json'])) as {
      removedAt: string | null;
    }[];
    expect(list[0]!.removedAt).not.toBeNull();
    await ok(['relay', 'auditor', 'add', 'alice', '--key', auditorKey]);
    await verifyOk();
  });

  it('catches a modified, deleted, swapped or cut-off entry', async () => {
    await verifyOk();
    const original = rows();
    expect(original.length).toBeGreaterThan(8);
    const accepted = original.find((r) => r.kind === 'accepted' && r.seq > 0)!;

    // (a) one entry's leaf changed
    const changed = accepted.leaf.replace(/"size":(\d+)/, (_, n: string) => `"size":${Number(n) + 1}`);
    expect(changed).not.toBe(accepted.leaf);
    expect(setLeaf(accepted.seq, changed)).toBe(1);
    await verifyCatches(accepted.seq);
    setLeaf(accepted.seq, accepted.leaf);
    await verifyOk();

    // (b) one entry deleted
    const middle = original[Math.floor(original.length / 2)]!;
    expect(deleteRow(middle.seq)).toBe(1);
    expect(await verifyCatches(middle.seq)).toContain(`index ${middle.seq}`);
    restoreRow(middle);
    await verifyOk();

    // (c) two entries swapped
    const [x, y] = [original[2]!, original[original.length - 3]!];
    expect(x.leaf).not.toBe(y.leaf);
    setLeaf(x.seq, y.leaf);
    setLeaf(y.seq, x.leaf);
    await verifyCatches(x.seq);
    setLeaf(x.seq, x.leaf);
    setLeaf(y.seq, y.leaf);
    await verifyOk();

    // (d) the tail cut off (the last row now: each `audit verify` above logged in, a new entry).
    // The relay appends the next verify's own login after the cut, so it shows as a gap.
    const last = rows().at(-1)!;
    expect(deleteRow(last.seq)).toBe(1);
    expect(await verifyCatches(last.seq)).toMatch(/tail was cut off|missing|came where entry/);
    restoreRow(last);

    const ok2 = await verifyOk();
    expect(Number(/^ok: (\d+) entries/.exec(ok2)![1])).toBeGreaterThanOrEqual(original.length);
    // As it was, plus the logins of each `audit verify`.
    const now = rows();
    expect(now.slice(0, original.length)).toEqual(original);
    expect(now.slice(original.length).map((r) => r.kind)).toEqual(
      now.slice(original.length).map(() => 'login'),
    );
  });
});
