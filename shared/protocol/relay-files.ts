/**
 * The files that hold a relay's identity in its data folder: relay.json (domain, public key, the
 * URL peers reach it at, the key's rollovers) and relay-key.json (the Ed25519 seed, readable by the
 * owner only). While a rotation is under way, relay-key.next.json holds the new seed.
 */
import { Type, type Static } from '@sinclair/typebox';
import { B64, Domain, PublicKey, RelayKeyHistory, Rfc3339 } from './schemas.ts';

const closed = { additionalProperties: false } as const;

/** relay.json */
export const RelayInfoFile = Type.Object(
  {
    domain: Domain,
    publicKey: PublicKey,
    createdAt: Rfc3339,
    /** The URL peers reach this relay at, as last started (`--public-url`, or the listen address). */
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    /** The relay's key rollovers, oldest first (`entraide relay key rotate`): the last one introduced `publicKey`. */
    keyHistory: Type.Optional(RelayKeyHistory),
  },
  closed,
);
export type RelayInfoFile = Static<typeof RelayInfoFile>;

/** relay-key.json */
export const RelayKeyFile = Type.Object({ seed: B64(32, 'Ed25519 seed') }, closed);
export type RelayKeyFile = Static<typeof RelayKeyFile>;

/** Far above either file as the relay writes it. */
export const MAX_RELAY_FILE_CHARS = 64 * 1024;
