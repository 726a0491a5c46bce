/**
 * Key-log heads that nodes gossip to each other inside signed content (DESIGN: Keys,
 * Self-monitoring; Logs that can be checked). Each envelope's content, receipts included, carries
 * the latest heads its sender verified of the key logs that matter to the recipient: its own
 * relay's and each recipient authority's relay's. A relay that shows one history to the sender and
 * another to the recipient is caught by the first message between them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SignedTreeHead } from './key-log.ts';

/** At most this many heads ride in one item: the sender's relay and a few recipient relays. */
export const MAX_GOSSIP_HEADS = 8;

export const Gossip = Type.Object(
  { heads: Type.Array(SignedTreeHead, { maxItems: MAX_GOSSIP_HEADS }) },
  {
    additionalProperties: false,
    description:
      'Signed key-log heads the sending node verified, one per relay, for the recipient to compare',
  },
);
export type Gossip = Static<typeof Gossip>;
