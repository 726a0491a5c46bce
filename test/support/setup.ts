import { loadSodium } from '../../shared/crypto/sodium.ts';

// Keystores made by the tests use the cheap, explicit test KDF profile (recorded in each keystore
// file); spawned relays and CLI processes inherit it through process.env. A test of the default
// profile deletes it locally.
process.env.ENTRAIDE_TEST_KDF = '1';

await loadSodium();
