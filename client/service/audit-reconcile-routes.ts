/**
 * Reconciliation in the auditor's service, the same computations as `entraide audit reconcile`:
 * two relays' logs set against each other (forwarded against received, both ways), and a node's
 * exported record set against its relay's log. Each verifies whole logs, so each is budgeted
 * tightly; the answers are the objects the CLI's `--json` output is made of, so that the page and
 * the CLI agree.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { EntraideError } from '../../shared/errors.ts';
import { Domain } from '../../shared/protocol/schemas.ts';
import type { AuditDesk } from '../audit/audit-desk.ts';
import { reconcileRecord, RecordExport, recordRelay } from '../audit/record-reconcile.ts';
import { reconcile } from '../audit/relay-reconcile.ts';

/** Reconciliations started a minute, of each kind: each streams one or two whole logs. */
export const RECONCILE_PER_MINUTE = 6;
/**
 * The largest record a node's officer can hand the auditor's page: an exported entry takes about
 * 350 bytes, so this holds some 190,000 events, years of an authority's traffic. The CLI reads the
 * file from disk without a bound of its own.
 */
export const RECORD_BODY_LIMIT = 64 * 1024 * 1024;

const Problem = Type.Union([Type.Object({ index: Type.Integer(), message: Type.String() }), Type.Null()]);
const LogView = Type.Object({ relay: Type.String(), size: Type.Integer(), problem: Problem });
const Ids = Type.Array(Type.String());

const Reconciliation = Type.Object({
  logs: Type.Array(LogView),
  directions: Type.Array(
    Type.Object({
      from: Type.String(),
      to: Type.String(),
      matched: Type.Integer(),
      notReceived: Ids,
      notForwarded: Ids,
    }),
  ),
  alarms: Type.Array(Type.Object({ relay: Type.String(), peer: Type.String(), alarm: Type.String() })),
});

const RecordReport = Type.Object({
  node: Type.String(),
  record: Type.Object({ size: Type.Integer(), heads: Type.Integer(), problem: Problem }),
  log: LogView,
  until: Type.String(),
  matched: Type.Object({ sent: Type.Integer(), received: Type.Integer(), receipts: Type.Integer() }),
  sentNotAccepted: Ids,
  receivedNotDelivered: Ids,
  receiptWithoutDelivery: Type.Array(Type.Object({ envelope: Type.String(), node: Type.String() })),
  acceptedNotSent: Ids,
  deliveredNotReceived: Ids,
  hashMismatch: Ids,
});

const RelayPair = Type.Object({ a: Domain, b: Domain }, { additionalProperties: false });
const RelayQuery = Type.Object({ relay: Domain }, { additionalProperties: false });

export function auditReconcileRoutes(guarded: FastifyInstance, desk: AuditDesk): void {
  guarded.post(
    '/audit/reconcile/relays',
    {
      config: { rateLimit: { max: RECONCILE_PER_MINUTE, timeWindow: 60_000 } },
      schema: { body: RelayPair, response: { 200: Reconciliation } },
    },
    async (req) => {
      const { a, b } = req.body as { a: string; b: string };
      const [ca, cb] = [desk.client(a), desk.client(b)];
      if (a === b) throw new EntraideError('USAGE', 'choose two different relays to reconcile');
      return reconcile(ca, cb);
    },
  );
  guarded.post(
    '/audit/reconcile/record',
    {
      bodyLimit: RECORD_BODY_LIMIT,
      config: { rateLimit: { max: RECONCILE_PER_MINUTE, timeWindow: 60_000 } },
      schema: { querystring: RelayQuery, body: RecordExport, response: { 200: RecordReport } },
    },
    async (req) => {
      const { relay } = req.query as { relay: string };
      const client = desk.client(relay);
      const domain = recordRelay(req.body);
      if (domain !== relay) {
        throw new EntraideError(
          'AUDITOR_MISSING',
          `this is the record of a node of ${domain || 'an unknown relay'}, not of ${relay}: choose that relay`,
        );
      }
      return reconcileRecord(client, req.body);
    },
  );
}
