/**
 * Content columns of the node's database, sealed at rest under the database key kept in the
 * keystore: XChaCha20-Poly1305-IETF (libsodium), one subkey per table and column (keyed BLAKE2b of
 * the column's name), and the table, column and row id as associated data, so that a value copied
 * into another row or column, or opened with another key, fails rather than reads as something
 * else. Columns that select, sort or join (ids, directions, states, times, kinds) stay clear.
 *
 * Chosen over a whole-database cipher (SQLCipher through better-sqlite3-multiple-ciphers), which
 * lists and searches faster (measured in one run, 10,000 rows: list ~16-106 ms against ~28-104 ms
 * plain; a LIKE search ~7-39 ms) but has no prebuilt binary reachable here: it compiles SQLite
 * from source with node-gyp on every install (~11 minutes on the 2-core machine), and Prisma's
 * adapter imports 'better-sqlite3', so the relay's driver would be swapped too by an npm alias.
 * The cost of sealing is measured by bench/node-store.ts (scenario s).
 */
import { randomFillSync } from 'node:crypto';
import { sodium } from '../../shared/crypto/sodium.ts';
import { EntraideError } from '../../shared/errors.ts';

/** Every sealed column, as "Table.column". */
export const SEALED_COLUMNS = [
  'Message.subject',
  'Message.body',
  'Message.content',
  'Request.title',
  'Request.content',
  'StatusUpdate.signed',
  'Meeting.state',
  'Roster.signed',
  'HandlingOverride.reason',
  'ContentSeal.keyCheck',
  'Document.entry',
] as const;

export type SealedColumn = (typeof SEALED_COLUMNS)[number];

/** The form of a sealed value: the version, then base64url(nonce || ciphertext || tag). */
const PREFIX = 'v1.';
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const SUBKEY_CONTEXT = 'entraide/v1/node-db/';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Nonces come from node:crypto, in blocks: ~10x cheaper than libsodium's randombytes_buf. */
class NoncePool {
  private readonly pool = new Uint8Array(NONCE_BYTES * 256);
  private next = this.pool.length;

  take(): Uint8Array {
    if (this.next === this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    const nonce = this.pool.slice(this.next, this.next + NONCE_BYTES);
    // Each nonce is used once: the pool's bytes are overwritten as they are handed out.
    this.pool.fill(0, this.next, this.next + NONCE_BYTES);
    this.next += NONCE_BYTES;
    return nonce;
  }
}

export class SealedColumns {
  private readonly subkeys = new Map<SealedColumn, Uint8Array>();
  private readonly nonces = new NoncePool();

  /**
   * `databaseKey`: the keystore's 32-byte database key (client/keystore.ts databaseKeyOf). The
   * subkeys are derived at once, so the caller may wipe its copy afterwards. libsodium must be
   * loaded (loadSodium).
   */
  constructor(databaseKey: Uint8Array) {
    if (databaseKey.length !== KEY_BYTES)
      throw new EntraideError('INTERNAL', `the database key must be ${KEY_BYTES} bytes`);
    const s = sodium();
    for (const column of SEALED_COLUMNS)
      this.subkeys.set(
        column,
        s.crypto_generichash(KEY_BYTES, encoder.encode(SUBKEY_CONTEXT + column), databaseKey),
      );
  }

  /** Seals `plaintext` for `column` of the row `rowId`: 'v1.' + base64url(nonce || ciphertext). */
  seal(column: SealedColumn, rowId: string, plaintext: string): string {
    const nonce = this.nonces.take();
    const sealed = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(
      encoder.encode(plaintext),
      associatedData(column, rowId),
      null,
      nonce,
      this.subkey(column),
    );
    const out = Buffer.allocUnsafe(NONCE_BYTES + sealed.length);
    out.set(nonce, 0);
    out.set(sealed, NONCE_BYTES);
    return PREFIX + out.toString('base64url');
  }

  sealNullable(column: SealedColumn, rowId: string, plaintext: string | null): string | null {
    return plaintext === null ? null : this.seal(column, rowId, plaintext);
  }

  /**
   * Opens a value sealed for `column` of the row `rowId`. STORE_CORRUPT, naming the column and the
   * row but never the value, when it is not sealed, was sealed under another key, for another row
   * or column, or was damaged.
   */
  open(column: SealedColumn, rowId: string, value: string): string {
    const bytes = value.startsWith(PREFIX) ? Buffer.from(value.slice(PREFIX.length), 'base64url') : undefined;
    if (!bytes || bytes.length < NONCE_BYTES + TAG_BYTES) throw corrupt(column, rowId, 'is not sealed');
    let plain: Uint8Array;
    try {
      plain = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        bytes.subarray(NONCE_BYTES),
        associatedData(column, rowId),
        bytes.subarray(0, NONCE_BYTES),
        this.subkey(column),
      );
    } catch {
      throw corrupt(column, rowId, 'does not open under this node’s database key');
    }
    try {
      return decoder.decode(plain);
    } catch {
      throw corrupt(column, rowId, 'opens to something that is not UTF-8 text');
    }
  }

  openNullable(column: SealedColumn, rowId: string, value: string | null): string | null {
    return value === null ? null : this.open(column, rowId, value);
  }

  /** True when `value` has the form of a sealed value (it may still fail to open). */
  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  /** Forgets the subkeys (the node is closing). */
  wipe(): void {
    for (const key of this.subkeys.values()) key.fill(0);
    this.subkeys.clear();
  }

  private subkey(column: SealedColumn): Uint8Array {
    const key = this.subkeys.get(column);
    if (!key) throw new EntraideError('INTERNAL', 'the node’s database is closed');
    return key;
  }
}

/** "Table.column", a NUL, the row id: a value opens only where it was sealed. */
function associatedData(column: SealedColumn, rowId: string): Uint8Array {
  return encoder.encode(`${column}\u0000${rowId}`);
}

function corrupt(column: SealedColumn, rowId: string, what: string): EntraideError {
  return new EntraideError(
    'STORE_CORRUPT',
    `node.db: ${column} of row ${JSON.stringify(rowId)} ${what} (another key, a value moved from another row, or damage)`,
  );
}
