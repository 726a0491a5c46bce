/** The node's private encryption keys as the envelope opener wants them. */
import { fromBase64url } from '../shared/bytes.ts';
import { encryptionKeyId } from '../shared/crypto/keys.ts';
import type { KeyMaterial } from './keystore.ts';

/** The private encryption keys a keystore still holds (purged ones are gone), by key id. */
export function encryptionKeysOf(
  keys: KeyMaterial,
): Map<string, { publicKey: Uint8Array; secretKey: Uint8Array }> {
  return new Map(
    keys.encryptionKeys
      .filter((k) => k.secretKey !== null)
      .map((k) => {
        const publicKey = fromBase64url(k.publicKey, 'encryption key', 32);
        return [
          encryptionKeyId(publicKey),
          { publicKey, secretKey: fromBase64url(k.secretKey!, 'encryption key', 32) },
        ];
      }),
  );
}
