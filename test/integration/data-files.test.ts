/**
 * The relay's data folder and an auditor's folder checked against schemas before use: a relay
 * with no data folder gets RELAY_DATA_MISSING (not the node's HOME_MISSING), each damaged
 * relay.json or relay-key.json gets RELAY_DATA_CORRUPT naming the file, and a damaged auditor
 * credentials file gets AUDITOR_CORRUPT; a valid folder still opens.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAuditor } from '../../client/audit/auditor.ts';
import { encryptWithPassphrase } from '../../client/keystore.ts';
import { random } from '../../client/random.ts';
import { buildRelay } from '../../server/app.ts';
import { loadRelayIdentity, recordRelayUrl, relayFiles } from '../../server/identity.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { EntraideError, ERROR_CODES } from '../../shared/errors.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'entraide-data-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function refusal(work: () => unknown): Promise<EntraideError> {
  try {
    await work();
  } catch (err) {
    if (err instanceof EntraideError) return err;
    throw new Error(`expected an EntraideError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected an EntraideError, but nothing was thrown');
}

function edited(text: string, edit: (value: Record<string, unknown>) => void): string {
  const value = JSON.parse(text) as Record<string, unknown>;
  edit(value);
  return JSON.stringify(value, null, 2) + '\n';
}

/** A data folder with a relay identity in it, as the first start creates it. */
function relayFolder(): { dir: string; info: string; key: string } {
  const dir = join(freshDir(), 'relay');
  loadRelayIdentity(dir, 'relay.data.example', true);
  const files = relayFiles(dir);
  return { dir, info: readFileSync(files.info, 'utf8'), key: readFileSync(files.key, 'utf8') };
}

function damaged(text: string): [string, string][] {
  return [
    ['an empty file', ''],
    ['text that is not JSON', 'not JSON at all\n'],
    ['a truncated file', text.slice(0, Math.floor(text.length / 2))],
    ['a JSON array', '[]\n'],
    ['an unexpected field', edited(text, (v) => (v.extra = true))],
  ];
}

describe('relay data folder', () => {
  const valid = relayFolder();
  const seed = (JSON.parse(valid.key) as { seed: string }).seed;

  it('opens a valid folder again, with the same identity, and records its URL', () => {
    const first = loadRelayIdentity(valid.dir, undefined, false);
    expect(first.domain).toBe('relay.data.example');
    expect(first.created).toBe(false);
    recordRelayUrl(valid.dir, 'http://127.0.0.1:7801/');
    const again = loadRelayIdentity(valid.dir, 'relay.data.example', false);
    expect(again.publicKeyB64).toBe(first.publicKeyB64);
    expect(again.url).toBe('http://127.0.0.1:7801/');
  });

  it('says RELAY_DATA_MISSING for a data folder that does not exist, with a hint for operators', async () => {
    const missing = join(freshDir(), 'no-such-relay');
    const err = await refusal(() => buildRelay({ dataDir: missing, create: false }));
    expect(err.code).toBe('RELAY_DATA_MISSING');
    expect(err.message).toContain(missing);
    expect(existsSync(missing)).toBe(false);
    expect(ERROR_CODES.RELAY_DATA_MISSING.hint).toMatch(/--data DIR/);
    expect(ERROR_CODES.RELAY_DATA_MISSING.hint).toMatch(/ENTRAIDE_RELAY_DATA/);
    expect(ERROR_CODES.RELAY_DATA_MISSING.hint).not.toMatch(/entraide init/);
  });

  it('says RELAY_DATA_MISSING for a folder that holds no relay', async () => {
    const empty = freshDir();
    const err = await refusal(() => loadRelayIdentity(empty, undefined, false));
    expect(err.code).toBe('RELAY_DATA_MISSING');
    expect(err.message).toContain(empty);
  });

  const infoCases: [string, string][] = [
    ...damaged(valid.info),
    ['no public key', edited(valid.info, (v) => delete v.publicKey)],
    ['a domain that is not one', edited(valid.info, (v) => (v.domain = 'Not A Domain'))],
    ['a public key of the wrong length', edited(valid.info, (v) => (v.publicKey = 'AAAA'))],
    ['the URL as a number', edited(valid.info, (v) => (v.url = 7800))],
    ['a date that is not RFC 3339', edited(valid.info, (v) => (v.createdAt = 'today'))],
    ['another relay’s public key', edited(valid.info, (v) => (v.publicKey = toBase64url(random(32))))],
  ];

  it.each(infoCases)(
    'refuses relay.json with %s: RELAY_DATA_CORRUPT naming the file',
    async (_what, text) => {
      const dir = join(freshDir(), 'relay');
      mkdirSync(dir);
      writeFileSync(join(dir, 'relay.json'), text);
      writeFileSync(join(dir, 'relay-key.json'), valid.key);
      const err = await refusal(() => loadRelayIdentity(dir, undefined, false));
      expect(err.code).toBe('RELAY_DATA_CORRUPT');
      expect(err.message).toMatch(/relay(-key)?\.json/);
      expect(err.message).toContain(dir);
      expect(err.message).not.toContain(seed);
    },
  );

  const keyCases: [string, string | null][] = [
    ...damaged(valid.key),
    ['no file at all', null],
    ['a seed of the wrong length', JSON.stringify({ seed: seed.slice(2) })],
    ['the seed as a number', JSON.stringify({ seed: 42 })],
    ['another seed', JSON.stringify({ seed: toBase64url(random(32)) })],
  ];

  it.each(keyCases)('refuses relay-key.json with %s: RELAY_DATA_CORRUPT naming it', async (_what, text) => {
    const dir = join(freshDir(), 'relay');
    mkdirSync(dir);
    writeFileSync(join(dir, 'relay.json'), valid.info);
    if (text !== null) writeFileSync(join(dir, 'relay-key.json'), text);
    const err = await refusal(() => loadRelayIdentity(dir, undefined, false));
    expect(err.code).toBe('RELAY_DATA_CORRUPT');
    expect(err.message).toContain(join(dir, 'relay-key.json'));
    expect(err.message).not.toContain(seed);
  });

  it('buildRelay refuses a damaged folder with RELAY_DATA_CORRUPT and releases its lock', async () => {
    const dir = join(freshDir(), 'relay');
    mkdirSync(dir);
    writeFileSync(join(dir, 'relay.json'), '{"domain": "relay.data.exa');
    writeFileSync(join(dir, 'relay-key.json'), valid.key);
    const err = await refusal(() => buildRelay({ dataDir: dir, create: false }));
    expect(err.code).toBe('RELAY_DATA_CORRUPT');
    expect(err.message).toContain(join(dir, 'relay.json'));
    expect(existsSync(join(dir, 'relay.lock'))).toBe(false);
    expect(ERROR_CODES.RELAY_DATA_CORRUPT.hint).toMatch(/backup/);
  });
});

describe('auditor folder', () => {
  const PASSPHRASE = 'the auditor’s passphrase';
  const keys = generateSigningKeyPair(random);
  const creds = {
    v: 1,
    name: 'alice',
    relayUrl: 'http://127.0.0.1:7800',
    relayDomain: 'relay.data.example',
    relayKey: toBase64url(random(32)),
    publicKey: toBase64url(keys.publicKey),
    secretKey: toBase64url(keys.secretKey),
  };

  function folderWith(text: string): { home: string; file: string } {
    const home = freshDir();
    const file = join(home, 'auditor-relay.data.example.json');
    writeFileSync(file, text);
    return { home, file };
  }

  it('opens valid credentials', () => {
    const { home } = folderWith(encryptWithPassphrase(creds, PASSPHRASE, 'test'));
    expect(readAuditor(home, PASSPHRASE)).toStrictEqual(creds);
  });

  const cases: [string, string][] = [
    ['an empty file', ''],
    ['text that is not JSON', 'nope'],
    ['a truncated file', encryptWithPassphrase(creds, PASSPHRASE, 'test').slice(0, 60)],
    [
      'a file without its nonce',
      edited(encryptWithPassphrase(creds, PASSPHRASE, 'test'), (v) => delete v.nonce),
    ],
    [
      'an absurd memlimit',
      edited(encryptWithPassphrase(creds, PASSPHRASE, 'test'), (v) =>
        Object.assign(v.kdf as object, { memlimit: 2 ** 40 }),
      ),
    ],
    [
      'sealed contents that are not credentials',
      encryptWithPassphrase({ ...creds, v: 2 }, PASSPHRASE, 'test'),
    ],
  ];

  it.each(cases)('refuses %s with AUDITOR_CORRUPT naming the file', (_what, text) => {
    const { home, file } = folderWith(text);
    let err: unknown;
    try {
      readAuditor(home, PASSPHRASE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EntraideError);
    expect((err as EntraideError).code).toBe('AUDITOR_CORRUPT');
    expect((err as EntraideError).message).toContain(file);
    expect((err as EntraideError).message).not.toContain(creds.secretKey);
  });

  it('still says AUDITOR_MISSING for a folder without credentials', () => {
    const home = freshDir();
    writeFileSync(join(home, 'heads-relay.data.example.json'), '[]');
    expect(() => readAuditor(home, PASSPHRASE)).toThrow(expect.objectContaining({ code: 'AUDITOR_MISSING' }));
  });
});
