import { loadSodium } from '../../shared/crypto/sodium.ts';

await loadSodium();
