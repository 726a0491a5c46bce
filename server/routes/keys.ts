/**
 * Key management and key transparency routes. Public: key events and join requests, whose own
 * signatures authorise them. With a session: the directory (an authority's key events with
 * inclusion proofs), the key log's head, entries and consistency proofs, and join requests by code.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { parseAuthorityAddress } from '../../shared/addresses.ts';
import { EntraideError } from '../../shared/errors.ts';
import {
  ConsistencyProof,
  DirectoryEntry,
  JoinAccepted,
  JoinCode,
  JoinRequest,
  JoinSubmission,
  KeyEvent,
  PendingJoins,
  TicketIssued,
  TicketRequest,
  KeyEventResult,
  KeyLogEntries,
  SignedTreeHead,
} from '../../shared/protocol/key-log.ts';
import { AuthorityAddress } from '../../shared/protocol/schemas.ts';
import type { RelayContext } from '../context.ts';
import { errorResponses } from './error-responses.ts';
import { findJoin, issueTicket, pendingJoins, rejectJoin, requestJoin } from '../domain/joins.ts';
import { randomBytes } from 'node:crypto';
import { submitKeyEvent } from '../domain/key-events.ts';
import { eventAuthority, eventNode } from '../../shared/keys/authority-state.ts';
import { toEntraideError } from '../errors.ts';
import { bearerSecurity, requireSession } from '../plugins/auth.ts';

const errors = errorResponses(400, 401, 403, 404, 409, 413, 415, 422);

const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** A page of a directory answer: the events after index `after` (-1: from the first). */
export const DirectoryQuery = Type.Object(
  { after: Type.Optional(Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER })) },
  { additionalProperties: false },
);
export type DirectoryQuery = Static<typeof DirectoryQuery>;

export async function keyPublicRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  app.addHook(
    'onRequest',
    ctx.budgets.hook('anonymous', (request) => request.ip),
  );
  app.post(
    '/v1/keylog/events',
    {
      schema: {
        summary: 'Log a key event (node certified, key rotated, node revoked); its signature authorises it',
        body: KeyEvent,
        response: { 200: KeyEventResult, ...errors },
      },
    },
    async (request) => {
      const event = request.body as KeyEvent;
      const what = { type: event.type, authority: eventAuthority(event), node: eventNode(event) };
      let result: KeyEventResult;
      try {
        result = await submitKeyEvent(event, ctx.keyEvents);
      } catch (err) {
        const e = toEntraideError(err);
        if (e.status < 500) {
          // One entry for each refused key event, with what it claimed to be, not a count.
          ctx.audit.keyEvent(what, { refused: e.code });
          request.refusalAudited = true;
        }
        throw err;
      }
      if (!result.duplicate) ctx.audit.keyEvent(what, { index: result.index });
      return result;
    },
  );

  app.post(
    '/v1/joins',
    {
      schema: {
        summary:
          'A new node leaves its signed keys for approval, with a join ticket from its authority, and gets a join code',
        body: JoinSubmission,
        response: { 200: JoinAccepted, ...errors },
      },
    },
    async (request) => requestJoin(request.body as JoinSubmission, { ...ctx.keyEvents }),
  );
}

export async function keySessionRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  requireSession(app, ctx);

  keyLogReadRoutes(app, ctx, { prefix: '/v1', security: bearerSecurity, reader: 'a node' });

  app.post(
    '/v1/joins/tickets',
    {
      schema: {
        summary: 'A join ticket for a new node of this node’s authority (works once, for a day)',
        security: bearerSecurity,
        body: TicketRequest,
        response: { 200: TicketIssued, ...errors },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return issueTicket(
        request.sessionNode,
        (request.body as TicketRequest).node,
        ctx.keyEvents,
        (n) => new Uint8Array(randomBytes(n)),
      );
    },
  );

  app.get(
    '/v1/joins',
    {
      schema: {
        summary: 'The join requests waiting for this node’s authority',
        security: bearerSecurity,
        response: { 200: PendingJoins, ...errors },
      },
    },
    async (request) => pendingJoins(request.sessionNode, ctx.keyEvents),
  );

  app.post(
    '/v1/joins/:code/reject',
    {
      schema: {
        summary: 'Reject a join request waiting for this node’s authority',
        security: bearerSecurity,
        params: Type.Object({ code: JoinCode }, { additionalProperties: false }),
        body: Type.Object({}, { additionalProperties: false }),
        response: {
          200: Type.Object({ rejected: Type.Literal(true) }, { additionalProperties: false }),
          ...errors,
        },
      },
    },
    async (request) => {
      await rejectJoin((request.params as { code: string }).code, request.sessionNode, ctx.keyEvents);
      return { rejected: true as const };
    },
  );

  app.get(
    '/v1/joins/:code',
    {
      schema: {
        summary: 'The join request behind a code, for nodes of the same authority',
        security: bearerSecurity,
        params: Type.Object({ code: JoinCode }, { additionalProperties: false }),
        response: { 200: JoinRequest, ...errors },
      },
    },
    async (request) =>
      findJoin((request.params as { code: string }).code, request.sessionNode, ctx.keyEvents),
  );
}

/**
 * The key log as read by this relay's nodes (`/v1/...`, session) and by peer relays
 * (`/v1/federation/...`, server-to-server token): the directory of an authority homed here with
 * inclusion proofs, the signed head, entries, and consistency proofs.
 */
export function keyLogReadRoutes(
  app: FastifyInstance,
  ctx: RelayContext,
  opts: { prefix: string; security: { [scheme: string]: string[] }[]; reader: string },
): void {
  const { prefix, security } = opts;
  app.get(
    `${prefix}/directory/:authority`,
    {
      schema: {
        summary: `For ${opts.reader}: an authority’s key events, each with an inclusion proof against the signed key-log head`,
        security,
        params: Type.Object({ authority: AuthorityAddress }, { additionalProperties: false }),
        querystring: DirectoryQuery,
        response: { 200: DirectoryEntry, ...errors },
      },
    },
    async (request) => {
      const { authority } = request.params as { authority: string };
      const q = request.query as DirectoryQuery;
      const a = parseAuthorityAddress(authority);
      if (a.domain !== ctx.relay.domain) {
        throw new EntraideError(
          'UNKNOWN_AUTHORITY',
          `${authority} is homed on ${a.domain}; this relay is ${ctx.relay.domain}`,
        );
      }
      return ctx.keyLog.directoryEntry(authority, q.after ?? -1, ctx.limits.pages.directoryEntries);
    },
  );

  app.get(
    `${prefix}/keylog/head`,
    {
      schema: {
        summary: `For ${opts.reader}: the latest signed tree head of the key log`,
        security,
        response: { 200: SignedTreeHead, ...errors },
      },
    },
    async () => ctx.keyLog.head(),
  );

  app.get(
    `${prefix}/keylog/entries`,
    {
      schema: {
        summary: `For ${opts.reader}: key-log entries from index \`start\` (up to 1000, up to \`end\` exclusive)`,
        security,
        querystring: Type.Object({ start: Size, end: Type.Optional(Size) }, { additionalProperties: false }),
        response: { 200: KeyLogEntries, ...errors },
      },
    },
    async (request) => {
      const { start, end } = request.query as { start: number; end?: number };
      return { entries: ctx.keyLog.entries(start, end ?? Number.MAX_SAFE_INTEGER) };
    },
  );

  app.get(
    `${prefix}/keylog/consistency`,
    {
      schema: {
        summary: `For ${opts.reader}: an RFC 9162 consistency proof between two sizes of the key log`,
        security,
        querystring: Type.Object({ from: Size, to: Size }, { additionalProperties: false }),
        response: { 200: ConsistencyProof, ...errors },
      },
    },
    async (request) => {
      const { from, to } = request.query as { from: number; to: number };
      return ctx.keyLog.consistency(from, to);
    },
  );
}
