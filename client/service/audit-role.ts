/**
 * The auditor's side of the local service (`entraide serve` on a folder made by `audit keygen`): the
 * audit logs of the relays this auditor has accounts on, browsed from a local copy, checked by the
 * service with progress, an envelope's events with their inclusion proofs, the heads kept and those
 * peer relays keep, and the reconciliations of `audit reconcile` (audit-reconcile-routes.ts).
 * Nothing of an officer's API is served here, and the auditor's session opens on this service only
 * (service-app.ts).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AUDIT_EVENT_KINDS } from '../../shared/audit/audit-event.ts';
import { literals } from '../../shared/protocol/literals.ts';
import { Domain, EnvelopeId } from '../../shared/protocol/schemas.ts';
import { AuditDesk } from '../audit/audit-desk.ts';
import { MIRROR_PAGE_MAX } from '../audit/audit-mirror.ts';
import { auditReconcileRoutes } from './audit-reconcile-routes.ts';
import type { ServiceRole } from './service-app.ts';

/** Pages of the log a minute: a table scrolled fast through 10^6 entries asks for many. */
export const AUDIT_LOG_PAGES_PER_MINUTE = 3_000;
/** Checks started a minute: each streams a whole log from the relay. */
export const AUDIT_VERIFY_PER_MINUTE = 10;

const RelayQuery = Type.Object({ relay: Domain }, { additionalProperties: false });
const Millis = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });
const LogQuery = Type.Object(
  {
    relay: Domain,
    offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    limit: Type.Integer({ minimum: 1, maximum: MIRROR_PAGE_MAX }),
    from: Type.Optional(Millis),
    to: Type.Optional(Millis),
    authority: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    envelope: Type.Optional(EnvelopeId),
    kind: Type.Optional(literals(AUDIT_EVENT_KINDS)),
    code: Type.Optional(Type.String({ pattern: '^[A-Z][A-Z0-9_]{1,63}$' })),
  },
  { additionalProperties: false },
);
const JobParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) },
  { additionalProperties: false },
);

export function auditRole(
  desk: AuditDesk,
  checkPassphrase: (passphrase: string) => void,
  name: string,
): ServiceRole {
  return {
    kind: 'auditor',
    checkPassphrase,
    view: () => ({ auditor: { name, relays: desk.relays() } }),
    description:
      'The auditor’s API (entraide serve on an auditor’s folder): relay audit logs browsed, verified and proven, on this machine only; metadata only, never content.',
    routes: async (guarded: FastifyInstance) => {
      guarded.get('/audit/relays', async () => ({ relays: desk.relays() }));
      guarded.post('/audit/sync', { schema: { body: RelayQuery } }, async (req) =>
        desk.sync((req.body as { relay: string }).relay),
      );
      guarded.get(
        '/audit/log',
        {
          config: { rateLimit: { max: AUDIT_LOG_PAGES_PER_MINUTE, timeWindow: 60_000 } },
          schema: { querystring: LogQuery },
        },
        async (req) => {
          const { relay, offset, limit, ...filter } = req.query as {
            relay: string;
            offset: number;
            limit: number;
          } & Record<string, string | number | undefined>;
          return desk.page(relay, filter, offset, limit);
        },
      );
      guarded.post(
        '/audit/verify',
        {
          config: { rateLimit: { max: AUDIT_VERIFY_PER_MINUTE, timeWindow: 60_000 } },
          schema: { body: RelayQuery },
        },
        async (req, reply) => reply.code(202).send(desk.verify((req.body as { relay: string }).relay)),
      );
      guarded.get('/audit/verify', { schema: { querystring: RelayQuery } }, async (req) => ({
        jobs: desk.jobsOf((req.query as { relay: string }).relay),
      }));
      guarded.get('/audit/verify/:id', { schema: { params: JobParams } }, async (req) =>
        desk.job((req.params as { id: string }).id),
      );
      guarded.delete('/audit/verify/:id', { schema: { params: JobParams } }, async (req) =>
        desk.cancel((req.params as { id: string }).id),
      );
      guarded.get(
        '/audit/proof/:envelope',
        {
          schema: {
            params: Type.Object({ envelope: EnvelopeId }, { additionalProperties: false }),
            querystring: RelayQuery,
          },
        },
        async (req) =>
          desk
            .client((req.query as { relay: string }).relay)
            .proof((req.params as { envelope: string }).envelope),
      );
      guarded.get('/audit/heads', { schema: { querystring: RelayQuery } }, async (req) => {
        const relay = (req.query as { relay: string }).relay;
        return { kept: desk.keptHeads(relay), peers: await desk.client(relay).peers() };
      });
      auditReconcileRoutes(guarded, desk);
    },
  };
}
