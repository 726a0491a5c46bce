/**
 * Forwarding a received item to another authority, under its handling code: `allowed` goes,
 * `consent_required` goes with the reference of the sender's consent, `forbidden` goes only with
 * an officer's override and its reason. Consents and overrides are logged on the node.
 */
import { EntraideError } from '../shared/errors.ts';
import { MessageContent, type RequestContent } from '../shared/protocol/content.ts';
import { check } from '../shared/protocol/validate.ts';
import {
  DEFAULT_MESSAGE_HANDLING,
  describeHandling,
  mayForward,
  type Handling,
} from '../shared/requests/handling.ts';
import type { AuthorityNode, SendResult } from './node.ts';

export interface ForwardOptions {
  to: string[];
  /** Reference of the sender's consent (a letter, a message id), for `consent_required`. */
  consent?: string | undefined;
  /** The officer's reason for forwarding against the handling code. */
  override?: string | undefined;
  note?: string | undefined;
}

export async function forward(node: AuthorityNode, id: string, opts: ForwardOptions): Promise<SendResult> {
  const m = node.store.message(id);
  if (!m || m.direction !== 'in' || m.kind === 'receipts') {
    throw new EntraideError('MESSAGE_NOT_FOUND', `no received message or request ${id} on this node`);
  }
  const handling: Handling = m.handling ? (JSON.parse(m.handling) as Handling) : DEFAULT_MESSAGE_HANDLING;
  const decision = mayForward(handling, opts.consent);
  if (!decision.allowed && !opts.override) {
    throw new EntraideError(
      'FORWARD_FORBIDDEN',
      decision.needs === 'consent'
        ? `${m.kind} ${m.id} may be forwarded only with its sender's consent (${describeHandling(handling)})`
        : `${m.kind} ${m.id} may not be forwarded (${describeHandling(handling)})`,
    );
  }
  // Read (and restricted-read checks) first: forwarding shows the item's content.
  node.read(m.id, { override: opts.override });

  let text = m.body;
  if (m.kind === 'request') {
    const stored = node.store.envelopeOf(m.id);
    const request = JSON.parse(stored!.content!) as RequestContent;
    text = JSON.stringify(request, null, 2);
  }
  const body = `${opts.note ? `${opts.note}\n\n` : ''}---- forwarded from ${m.sender}, ${m.sentAt} ----\n${text}`;
  // The copy keeps the item's forwarding rule; node names of this authority mean nothing elsewhere.
  const handlingOut: Handling = { visibility: 'authority', forwarding: handling.forwarding };
  const content = check(
    MessageContent,
    {
      type: 'message',
      subject: `Fwd: ${m.subject}`.slice(0, 998),
      body,
      ...(m.language ? { language: m.language } : {}),
      handling: handlingOut,
    },
    'message',
  );
  const to = opts.to.join(', ');
  const log = (action: string, reason: string, at: string) =>
    node.store.requests.addOverride({ at, item: m.id, action, reason, node: node.address });
  return node.dispatch({
    to: opts.to,
    content,
    record: {
      kind: 'message',
      subject: content.subject,
      body,
      language: m.language,
      requestId: null,
      handling,
    },
    // This authority's own copy goes only to the nodes the original was restricted to.
    restrict:
      handling.visibility === 'named' ? { authority: node.authority, nodes: handling.nodes! } : undefined,
    // Logged in the transaction that stores the copy: a forward refused before that is not on record.
    then: (env) => {
      if (!decision.allowed) log('forward-override', `to ${to}: ${opts.override!}`, env.sentAt);
      else if (handling.forwarding === 'consent_required')
        log('forward-with-consent', `to ${to}: consent ${opts.consent!}`, env.sentAt);
    },
  });
}
