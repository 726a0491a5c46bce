// Verifies Ed25519 signatures for the relay off its event loop (see signature-verifier.ts).
// Plain JavaScript so that the same file runs from the sources (tests) and from dist/.
import { parentPort } from 'node:worker_threads';
import sodium from 'libsodium-wrappers-sumo';

await sodium.ready;

parentPort.on('message', (batch) => {
  const results = batch.items.map(({ message, sig, key }) => {
    try {
      return sodium.crypto_sign_verify_detached(sig, message, key);
    } catch {
      return false;
    }
  });
  parentPort.postMessage({ id: batch.id, results });
});
parentPort.postMessage({ ready: true });
