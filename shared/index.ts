/** The protocol core, re-exported for the relay, the node and tests. */
export * from './addresses.ts';
export * from './bytes.ts';
export * from './canonical.ts';
export * from './errors.ts';
export * from './limits.ts';
export * from './uuid.ts';
export * from './crypto/sodium.ts';
export * from './crypto/random.ts';
export * from './crypto/signing.ts';
export * from './crypto/keys.ts';
export * from './crypto/certificates.ts';
export * from './crypto/envelope.ts';
export * from './crypto/safety-code.ts';
export * from './protocol/schemas.ts';
export * from './protocol/content.ts';
export * from './protocol/validate.ts';
export * from './protocol/events.ts';
