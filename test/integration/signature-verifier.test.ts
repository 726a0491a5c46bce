import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../shared/crypto/keys.ts';
import { sodium } from '../../shared/crypto/sodium.ts';
import { createVerifier } from '../../server/domain/signature-verifier.ts';
import { random } from '../support/random.ts';

describe.each([0, 1])('signature verifier with %i worker(s)', (workers) => {
  it('answers each signature of a batch in order, and refuses after close', async () => {
    const verifier = createVerifier(workers);
    const kp = generateSigningKeyPair(random);
    const other = generateSigningKeyPair(random);
    const items = Array.from({ length: 300 }, (_, i) => {
      const message = random(64 + i);
      const sig = sodium().crypto_sign_detached(message, kp.secretKey);
      if (i % 3 === 1) sig[5]! ^= 1; // tampered signature
      return { message, sig, key: i % 3 === 2 ? other.publicKey : kp.publicKey, valid: i % 3 === 0 };
    });
    const results = await Promise.all(items.map((it) => verifier.verify(it.message, it.sig, it.key)));
    expect(results).toEqual(items.map((it) => it.valid));
    expect(await verifier.verify(new Uint8Array(3), new Uint8Array(5), new Uint8Array(2))).toBe(false);
    await verifier.close();
    if (workers > 0)
      await expect(verifier.verify(items[0]!.message, items[0]!.sig, kp.publicKey)).rejects.toMatchObject({
        code: 'INTERNAL',
      });
  });
});
