/**
 * The only importer of libsodium. The sumo build is used throughout so that the node's
 * keystore has Argon2id (crypto_pwhash) and every part shares one library.
 */
import sodiumModule from 'libsodium-wrappers-sumo';

export type Sodium = typeof sodiumModule;

let ready = false;

/** Resolves once libsodium's WebAssembly is loaded; call once at start-up. */
export async function loadSodium(): Promise<Sodium> {
  await sodiumModule.ready;
  ready = true;
  return sodiumModule;
}

/** The loaded library; throws if loadSodium() was not awaited first. */
export function sodium(): Sodium {
  if (!ready) throw new Error('libsodium is not loaded: await loadSodium() at start-up');
  return sodiumModule;
}
