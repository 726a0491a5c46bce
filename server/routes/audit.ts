/**
 * The audit API, for auditors only. Public: an auditor's login (a challenge signed with the key
 * the operator registered). With an auditor's token (its own token type, which no node holds):
 * the signed head, every head signed so far, entries, inclusion and consistency proofs, and the
 * entries of one envelope with their proofs. Nothing here serves content, keys or envelopes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { fromBase64url, toBase64url } from '../../shared/bytes.ts';
import { CONTEXTS, verifyObject } from '../../shared/crypto/signing.ts';
import { EntraideError } from '../../shared/errors.ts';
import {
  AuditChallenge,
  AuditChallengeRequest,
  AuditEntries,
  AuditEnvelopeRecord,
  AuditHeads,
  AuditPeers,
  AuditProof,
  AuditToken,
  AuditTokenRequest,
} from '../../shared/protocol/audit.ts';
import { SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { EnvelopeId } from '../../shared/protocol/schemas.ts';
import { check } from '../../shared/protocol/validate.ts';
import { DECOY_KEY } from '../auth/challenges.ts';
import { AUDIT_TOKEN_TYPE, bearerToken } from '../auth/tokens.ts';
import type { RelayContext } from '../context.ts';
import { errorResponses } from './error-responses.ts';
import { keyLogReadRoutes } from './keys.ts';

/** The audit API takes an auditor's token (its own token type), never a node's. */
const auditorSecurity = [{ auditor: [] as string[] }];
const errors = errorResponses(400, 401, 403, 404, 422);
const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const PAGE = 10_000;

declare module 'fastify' {
  interface FastifyRequest {
    auditor: string;
  }
}

/** Challenges of auditors are kept apart from nodes' by a prefix no node address can have. */
const subject = (name: string) => `auditor:${name}`;

export async function auditLoginRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  app.addHook(
    'onRequest',
    ctx.budgets.hook('anonymous', (request) => request.ip),
  );
  app.post(
    '/v1/audit/auth/challenge',
    {
      schema: {
        summary: 'Ask for a login challenge for an auditor',
        body: AuditChallengeRequest,
        response: { 200: AuditChallenge, ...errors },
      },
    },
    async (request) => {
      const { auditor } = request.body as { auditor: string };
      // Any well-formed name gets a challenge, registered or not: who audits is not told here.
      const c = ctx.challenges.issue(subject(auditor), ctx.now());
      return { challenge: c.challenge, expiresAt: c.expiresAt.toISOString() };
    },
  );

  app.post(
    '/v1/audit/auth/token',
    {
      schema: {
        summary: 'Exchange a signed challenge for an auditor token',
        body: AuditTokenRequest,
        response: { 200: AuditToken, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body as AuditTokenRequest;
      const now = ctx.now();
      ctx.challenges.check(body.challenge, subject(body.auditor), now);
      // Unknown, removed and wrongly signed get one answer, after the same work (a signature check).
      const a = await ctx.store.auditor(body.auditor);
      const key = a && !a.removedAt ? fromBase64url(a.publicKey, 'key', 32) : undefined;
      const signed = { relay: ctx.relay.domain, auditor: body.auditor, challenge: body.challenge };
      const verified = verifyObject(CONTEXTS.auditChallenge, signed, body.sig, key ?? DECOY_KEY);
      if (!key || !verified) {
        throw new EntraideError(
          'CHALLENGE_INVALID',
          'login refused: not an auditor of this relay, or the challenge is not signed with the auditor’s key',
        );
      }
      ctx.challenges.spend(body.challenge, now);
      ctx.audit.login({ auditor: body.auditor });
      const t = await ctx.tokens.issue(subject(body.auditor), now, AUDIT_TOKEN_TYPE);
      void reply.header('cache-control', 'no-store');
      return { token: t.token, expiresAt: t.expiresAt.toISOString() };
    },
  );
}

export async function auditRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  app.decorateRequest('auditor', '');
  app.addHook('onRequest', async (request: FastifyRequest) => {
    try {
      const session = await ctx.tokens.verify(bearerToken(request.headers.authorization), AUDIT_TOKEN_TYPE);
      const name = session.node.startsWith('auditor:') ? session.node.slice('auditor:'.length) : '';
      const a = name ? await ctx.store.auditor(name) : null;
      if (!a || a.removedAt)
        throw new EntraideError('TOKEN_INVALID', 'this token is not an auditor’s of this relay');
      request.auditor = name;
    } catch (err) {
      // A caller without a valid token spends its address's budget.
      await ctx.budgets.take('anonymous', request.ip);
      throw err;
    }
    await ctx.budgets.take('audit', request.auditor);
  });
  const audit = () => ctx.store.audit;

  app.get(
    '/v1/audit/head',
    {
      schema: {
        summary: 'The audit log’s signed head (signed now if entries came since the last)',
        security: auditorSecurity,
        response: { 200: SignedTreeHead, ...errors },
      },
    },
    async () => ctx.audit.head(),
  );

  app.get(
    '/v1/audit/heads',
    {
      schema: {
        summary: 'The heads the relay signed, smallest first, one page at a time (after: the last size seen)',
        security: auditorSecurity,
        querystring: Type.Object(
          {
            after: Type.Optional(Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: AuditHeads, ...errors },
      },
    },
    async (request) => {
      const q = request.query as { after?: number; limit?: number };
      const limit = Math.min(q.limit ?? ctx.limits.pages.auditHeads, ctx.limits.pages.auditHeads);
      const rows = audit().headsAfter(q.after ?? -1, limit + 1);
      return {
        heads: rows.slice(0, limit).map((h) => check(SignedTreeHead, JSON.parse(h.head), 'stored head')),
        more: rows.length > limit,
      };
    },
  );

  app.get(
    '/v1/audit/entries',
    {
      schema: {
        summary: 'Entries in index order, from `from`',
        security: auditorSecurity,
        querystring: Type.Object(
          { from: Size, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE })) },
          { additionalProperties: false },
        ),
        response: { 200: AuditEntries, ...errors },
      },
    },
    async (request) => {
      const { from, limit } = request.query as { from: number; limit?: number };
      return {
        entries: audit()
          .entries(from, limit ?? PAGE)
          .map((e) => ({ index: e.seq, leaf: e.leaf })),
      };
    },
  );

  app.get(
    '/v1/audit/proof',
    {
      schema: {
        summary: 'Inclusion proof of entry `index` in the tree of `size` entries',
        security: auditorSecurity,
        querystring: Type.Object({ index: Size, size: Size }, { additionalProperties: false }),
        response: { 200: AuditProof, ...errors },
      },
    },
    async (request) => {
      const { index, size } = request.query as { index: number; size: number };
      requireSize(size, ctx);
      return { proof: audit().inclusionProof(index, size).map(toBase64url) };
    },
  );

  app.get(
    '/v1/audit/consistency',
    {
      schema: {
        summary: 'Consistency proof between the trees of `from` and `to` entries',
        security: auditorSecurity,
        querystring: Type.Object({ from: Size, to: Size }, { additionalProperties: false }),
        response: { 200: AuditProof, ...errors },
      },
    },
    async (request) => {
      const { from, to } = request.query as { from: number; to: number };
      requireSize(to, ctx);
      return { proof: audit().consistencyProof(from, to).map(toBase64url) };
    },
  );

  app.get(
    '/v1/audit/envelopes/:id',
    {
      schema: {
        summary: 'An envelope’s entries, each with its inclusion proof against the current head',
        security: auditorSecurity,
        params: Type.Object({ id: EnvelopeId }, { additionalProperties: false }),
        response: { 200: AuditEnvelopeRecord, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const head = ctx.audit.head();
      const entries = audit()
        .entriesFor(id)
        .filter((e) => e.seq < head.size)
        .map((e) => ({
          index: e.seq,
          leaf: e.leaf,
          proof: audit().inclusionProof(e.seq, head.size).map(toBase64url),
        }));
      if (entries.length === 0)
        throw new EntraideError('NOT_FOUND', `the audit log has no entry for envelope ${id}`);
      return { head, entries };
    },
  );

  app.get(
    '/v1/audit/peers',
    {
      schema: {
        summary:
          'The latest head of each peer relay’s audit log that this relay verified by gossip, and any alarm',
        security: auditorSecurity,
        response: { 200: AuditPeers, ...errors },
      },
    },
    async () => ({
      peers: (await ctx.store.listPeers()).map((p) => ({
        domain: p.domain,
        auditHead: p.auditHead ? check(SignedTreeHead, JSON.parse(p.auditHead), 'stored head') : null,
        alarm: p.alarm,
      })),
    }),
  );

  // The key log, so that an auditor can check the identity key under which a node signed the
  // record it shows (`audit reconcile --record`): public keys and proofs only.
  keyLogReadRoutes(app, ctx, { prefix: '/v1/audit', security: auditorSecurity, reader: 'an auditor' });
}

function requireSize(size: number, ctx: RelayContext): void {
  if (size > ctx.store.audit.size) {
    throw new EntraideError('NOT_FOUND', `the audit log has ${ctx.store.audit.size} entries, not ${size}`);
  }
}
