/**
 * Reading what the node holds: an item whose handling code names other nodes is shown only with an
 * override reason, which is logged; the first opening of a received item sends a read receipt.
 */
import { parseNodeAddress } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import { Handling, mayRead } from '../shared/requests/handling.ts';
import { check } from '../shared/protocol/validate.ts';
import type { NodeStore, StoredMessage } from './store/node-store.ts';

export interface ReadingDeps {
  store: NodeStore;
  /** This node's address. */
  address: string;
  receipts: { read(envelopeId: string): void };
}

/** One item by id; MESSAGE_NOT_FOUND or HANDLING_RESTRICTED (without an override) otherwise. */
export function readItem(
  deps: ReadingDeps,
  id: string,
  opts: { override?: string | undefined },
): StoredMessage {
  const { store, address } = deps;
  const m = store.message(id);
  if (!m) throw new EntraideError('MESSAGE_NOT_FOUND', `no message ${id} on this node`);
  if (m.direction === 'in' && m.handling) {
    const handling = check(Handling, JSON.parse(m.handling), 'stored handling code');
    if (!mayRead(handling, parseNodeAddress(address).nodeName)) {
      if (!opts.override) {
        throw new EntraideError(
          'HANDLING_RESTRICTED',
          `${m.kind} ${m.id} is for ${handling.nodes!.join(', ')} only`,
        );
      }
      store.requests.addOverride({
        at: new Date().toISOString(),
        item: m.id,
        action: 'read',
        reason: opts.override,
        node: address,
      });
    }
  }
  if (m.direction === 'in' && !m.readAt) {
    m.readAt = new Date().toISOString();
    store.markRead(m.id, m.readAt);
    deps.receipts.read(m.id);
  }
  return m;
}
