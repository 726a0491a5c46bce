/**
 * Handling codes travel with every request and message, as Europol's SIENA codes do: who may see
 * the item inside the receiving authority, and whether it may be forwarded to anyone else.
 * The sender seals a restricted item only for the named nodes; the receiving node enforces the
 * codes again (it refuses to show or forward what they forbid, unless an officer overrides with a
 * reason, which the node logs).
 */
import { Type, type Static } from '@sinclair/typebox';
import { literals } from '../protocol/literals.ts';
import { NodeName } from '../protocol/schemas.ts';

export const VISIBILITIES = ['authority', 'named'] as const;
export const FORWARDINGS = ['allowed', 'consent_required', 'forbidden'] as const;

export const Handling = Type.Object(
  {
    /** `authority`: every officer of the receiving authority; `named`: only the nodes listed in `nodes`. */
    visibility: literals(VISIBILITIES),
    /** Node names inside the receiving authority (e.g. `desk1`), when visibility is `named`. */
    nodes: Type.Optional(Type.Array(NodeName, { minItems: 1, maxItems: 32 })),
    /** `consent_required`: only with the sender's consent, whose reference the officer records. */
    forwarding: literals(FORWARDINGS),
    /** Conditions in words, e.g. the rule of speciality (UNTOC art. 18(19)). */
    conditions: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type Handling = Static<typeof Handling>;

/** Requests are confidential by default (UNTOC art. 18(20)): any officer may read, none may forward. */
export const DEFAULT_REQUEST_HANDLING: Handling = { visibility: 'authority', forwarding: 'consent_required' };
export const DEFAULT_MESSAGE_HANDLING: Handling = { visibility: 'authority', forwarding: 'allowed' };

/** Why the handling code is malformed, or null: `named` needs nodes, `authority` must not list any. */
export function handlingProblem(h: Handling): string | null {
  if (h.visibility === 'named' && !h.nodes?.length) return 'visibility "named" needs the list of nodes';
  if (h.visibility === 'authority' && h.nodes !== undefined)
    return 'nodes are listed only with visibility "named"';
  return null;
}

/** Whether the node `nodeName` of the receiving authority may show the item to its officer. */
export function mayRead(h: Handling, nodeName: string): boolean {
  return h.visibility === 'authority' || (h.nodes ?? []).includes(nodeName);
}

export type ForwardDecision = { allowed: true } | { allowed: false; needs: 'consent' | 'override' };

/** Whether a received item may be forwarded, given an optional consent reference. */
export function mayForward(h: Handling, consentReference: string | undefined): ForwardDecision {
  if (h.forwarding === 'allowed') return { allowed: true };
  if (h.forwarding === 'consent_required')
    return consentReference ? { allowed: true } : { allowed: false, needs: 'consent' };
  return { allowed: false, needs: 'override' };
}

const FORWARDING_RANK = { allowed: 0, consent_required: 1, forbidden: 2 } as const;

/** A forwarded item keeps the stricter of its own code and the code it is forwarded under. */
export function stricter(a: Handling, b: Handling): Handling {
  const forwarding =
    FORWARDING_RANK[a.forwarding] >= FORWARDING_RANK[b.forwarding] ? a.forwarding : b.forwarding;
  const conditions = [a.conditions, b.conditions].filter(Boolean).join(' / ') || undefined;
  // Named on both sides: only the nodes both name (possibly none, which nobody may then read).
  const nodes =
    a.visibility === 'named' && b.visibility === 'named'
      ? a.nodes!.filter((n) => b.nodes!.includes(n))
      : a.visibility === 'named'
        ? a.nodes
        : b.visibility === 'named'
          ? b.nodes
          : undefined;
  return {
    visibility: nodes ? 'named' : 'authority',
    ...(nodes ? { nodes } : {}),
    forwarding,
    ...(conditions ? { conditions } : {}),
  };
}

export function describeHandling(h: Handling): string {
  const who = h.visibility === 'authority' ? 'any officer' : `only ${h.nodes!.join(', ')}`;
  const fwd = {
    allowed: 'may be forwarded',
    consent_required: 'forward only with consent',
    forbidden: 'never forward',
  }[h.forwarding];
  return `${who}; ${fwd}${h.conditions ? `; ${h.conditions}` : ''}`;
}
