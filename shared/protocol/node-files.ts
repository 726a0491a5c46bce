/**
 * The files of a node's folder, as they are on disk: node.json (the node's addresses and its
 * relay) and keystore.json (the keys, encrypted under the passphrase). The same outer shape holds
 * an auditor's credentials. What the keystore's ciphertext holds is `KeyMaterial` (client/keystore.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { PassphraseKdf } from './passphrase-kdf.ts';
import { AuthorityAddress, B64, Domain, NodeAddress, PublicKey, Rfc3339 } from './schemas.ts';

const closed = { additionalProperties: false } as const;

/** node.json */
export const NodeConfig = Type.Object(
  {
    v: Type.Literal(1),
    relayUrl: Type.String({ minLength: 1, maxLength: 2048 }),
    relay: Type.Object({ domain: Domain, publicKey: PublicKey }, closed),
    authority: AuthorityAddress,
    node: NodeAddress,
    createdAt: Rfc3339,
    /** Days after which the node rotates its encryption key by itself (default 30). */
    keyRotationDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
    /** The code a joining node showed, until its authority approves it. */
    joinCode: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /**
     * Who is woken when an `immediate` request arrives on this node (the on-call node of the
     * authority's profile, or any node while the profile names none): a command run with the
     * alert in its environment, or a webhook posted the alert as JSON. Never any content.
     */
    alerts: Type.Optional(
      Type.Object(
        {
          command: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
          webhook: Type.Optional(Type.String({ pattern: '^https?://[^\\s]{1,2040}$' })),
        },
        closed,
      ),
    ),
  },
  closed,
);
export type NodeConfig = Static<typeof NodeConfig>;

/** Far above any node.json this code writes (a few hundred characters). */
export const MAX_NODE_CONFIG_CHARS = 64 * 1024;

/** keystore.json, and an auditor's credentials file: XSalsa20-Poly1305 under an Argon2id key. */
export const PassphraseFile = Type.Object(
  {
    v: Type.Literal(1),
    kdf: PassphraseKdf,
    nonce: B64(24, 'XSalsa20-Poly1305 nonce'),
    ciphertext: Type.String({
      pattern: '^[A-Za-z0-9_-]+$',
      minLength: 22,
      description: 'crypto_secretbox_easy (a 16-byte tag, then the JSON it protects)',
    }),
  },
  closed,
);
export type PassphraseFile = Static<typeof PassphraseFile>;

/** Many times a keystore at its largest (1000 encryption keys). */
export const MAX_PASSPHRASE_FILE_CHARS = 4 * 1024 * 1024;
