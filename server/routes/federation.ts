/**
 * Routes for peer relays only. Every request carries a server-to-server token (s2s-token.ts) that
 * signs the method, path and body; the raw body is kept to check its hash.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EntraideError } from '../../shared/errors.ts';
import { parseStrictJson } from '../../shared/protocol/strict-json.ts';
import { LIMITS } from '../../shared/limits.ts';
import {
  HeadsSeen,
  HeadsSeenResult,
  DeliveryReports,
  DeliveryReportsResult,
  ForwardBatch,
  ForwardResults,
  BLOB_PIECE_BYTES,
  BlobHeld,
  BlobOffer,
  BlobPiece,
} from '../../shared/protocol/federation.ts';
import { BlobId } from '../../shared/protocol/schemas.ts';
import { parseNodeAddress } from '../../shared/addresses.ts';
import { ConsistencyProof, SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { toBase64url } from '../../shared/bytes.ts';
import { Type } from '@sinclair/typebox';
import type { RelayContext } from '../context.ts';
import { errorResponses } from './error-responses.ts';
import { acceptForwarded } from '../domain/federation-inbound.ts';
import { keyLogReadRoutes } from './keys.ts';
import type { Peer } from '../federation/peers.ts';
import { ANSWER_HEADER, signFederationAnswer } from '../federation/s2s-token.ts';
import { decodeJwt } from 'jose';

declare module 'fastify' {
  interface FastifyRequest {
    peer: Peer | null;
    rawBody: string;
    /** The jti of the peer's request token, which the signed answer names. */
    federationRequestId: string;
  }
}

// 429: a peer past its budget; 503: storage failing, or a sender's keys not readable from the peer just now.
const errors = errorResponses(400, 401, 403, 404, 413, 422, 429, 503);
export const federationSecurity = [{ federation: [] as string[] }];
const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export async function federationRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  app.decorateRequest('peer', null);
  app.decorateRequest('rawBody', '');
  app.decorateRequest('federationRequestId', '');
  // Every answer to a verified peer, refusals included, is signed for its request (s2s-token.ts).
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.peer || !request.federationRequestId) return payload;
    const body =
      typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
    const token = await signFederationAnswer(
      { domain: ctx.relay.domain, privateKey: ctx.federation.signingKey },
      request.peer.domain,
      { requestId: request.federationRequestId, status: reply.statusCode, body },
      ctx.now(),
    );
    void reply.header(ANSWER_HEADER, token);
    return payload;
  });
  // The signed hash covers the body exactly as sent: keep it before parsing.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    (request as FastifyRequest).rawBody = body as string;
    done(null, undefined);
  });
  // The signature first; only a signed body is parsed and validated: an unsigned request learns nothing.
  app.addHook('preValidation', async (request) => {
    try {
      request.peer = await ctx.federation.verifier.verify(request.headers.authorization, {
        method: request.method,
        path: request.url,
        body: request.rawBody,
      });
    } catch (err) {
      // A replay is signed by a known peer: one audit entry each, naming it.
      const peer = err instanceof EntraideError ? err.details?.peer : undefined;
      if (err instanceof EntraideError && err.code === 'TOKEN_REPLAYED' && typeof peer === 'string') {
        try {
          ctx.audit.refused(err.code, `${request.method} ${request.url.split('?')[0]}`, { peer });
          request.refusalAudited = true;
        } catch {
          // Storage is failing: the error handler counts it instead.
        }
      }
      // A caller without a valid signature spends its address's budget.
      await ctx.budgets.take('anonymous', request.ip);
      throw err;
    }
    request.federationRequestId = String(
      decodeJwt(request.headers.authorization!.slice('Bearer '.length)).jti,
    );
    await ctx.budgets.take('federation', request.peer.domain);
    if (request.rawBody !== '') {
      request.body = parseStrictJson(request.rawBody);
    }
  });

  app.post(
    '/v1/federation/envelopes',
    {
      // One envelope may be as large as a node may send; the batch adds its brackets and commas.
      bodyLimit: LIMITS.maxRequestBytes + 64 * 1024,
      schema: {
        summary: 'A peer relay forwards envelopes for authorities homed here',
        security: federationSecurity,
        body: ForwardBatch,
        response: { 200: ForwardResults, ...errors },
      },
    },
    async (request) =>
      acceptForwarded((request.body as ForwardBatch).envelopes, request.peer!, ctx.envelopes),
  );

  app.post(
    '/v1/federation/blobs',
    {
      schema: {
        summary: 'A peer relay announces a document’s blob it will forward (before the envelope naming it)',
        security: federationSecurity,
        body: BlobOffer,
        response: { 200: BlobHeld, ...errors },
      },
    },
    async (request) => {
      const peer = request.peer!;
      const offer = request.body as BlobOffer;
      // Only for a sender homed on that peer: a peer cannot upload in another relay's name.
      if (parseNodeAddress(offer.sender).domain !== peer.domain)
        throw new EntraideError('FORBIDDEN', `${offer.sender} is not a node of ${peer.domain}`);
      await ctx.blobs.create(offer.sender, offer.size, offer.id, { peer: peer.domain, sha256: offer.sha256 });
      return ctx.blobs.piece(offer.id, peer.domain, -1, Buffer.alloc(0));
    },
  );

  app.post(
    '/v1/federation/blobs/:id/pieces',
    {
      // A piece travels as base64url inside the signed JSON body.
      bodyLimit: Math.ceil((BLOB_PIECE_BYTES * 4) / 3) + 4096,
      schema: {
        summary: 'A piece of a blob a peer relay announced, at the offset this relay holds',
        security: federationSecurity,
        params: Type.Object({ id: BlobId }, { additionalProperties: false }),
        body: BlobPiece,
        response: { 200: BlobHeld, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const { offset, data } = request.body as BlobPiece;
      return ctx.blobs.piece(id, request.peer!.domain, offset, Buffer.from(data, 'base64url'));
    },
  );

  app.post(
    '/v1/federation/deliveries',
    {
      schema: {
        summary: 'A peer relay reports that its nodes stored envelopes sent from here',
        security: federationSecurity,
        body: DeliveryReports,
        response: { 200: DeliveryReportsResult, ...errors },
      },
    },
    async (request) => {
      const peer = request.peer!;
      const reports = (request.body as DeliveryReports).reports;
      // Only about envelopes our nodes sent, and only for the reporting peer's own nodes. A report
      // names the envelope by its sender and id; one without a sender counts only when a single
      // envelope of ours holds the id (two senders may use one id).
      const valid = reports.flatMap((r) => {
        if (parseNodeAddress(r.node).domain !== peer.domain) return [];
        const ours = ctx.store
          .envelopesUnder(r.envelopeId)
          .filter((e) => parseNodeAddress(e.sender).domain === ctx.relay.domain);
        const meta = r.from !== undefined ? ours.find((e) => e.sender === r.from) : theOnly(ours);
        return meta
          ? [{ envelopeId: r.envelopeId, sender: meta.sender, node: r.node, deliveredAt: r.deliveredAt }]
          : [];
      });
      ctx.store.recordRemoteDeliveries(valid);
      return { recorded: valid.length, ignored: reports.length - valid.length };
    },
  );

  app.post(
    '/v1/federation/heads',
    {
      schema: {
        summary: 'Gossip: a peer relay shows the heads of this relay’s key log it verified',
        security: federationSecurity,
        body: HeadsSeen,
        response: { 200: HeadsSeenResult, ...errors },
      },
    },
    async (request) => ctx.federation.gossip.received(request.peer!, (request.body as HeadsSeen).heads),
  );

  // The audit log's signed head and consistency proofs (hashes only, never entries), for gossip.
  app.get(
    '/v1/federation/audit/head',
    {
      schema: {
        summary: 'Gossip: the latest signed head of this relay’s audit log',
        security: federationSecurity,
        response: { 200: SignedTreeHead, ...errors },
      },
    },
    async () => ctx.audit.head(),
  );

  app.get(
    '/v1/federation/audit/consistency',
    {
      schema: {
        summary: 'Gossip: an RFC 9162 consistency proof between two sizes of this relay’s audit log',
        security: federationSecurity,
        querystring: Type.Object({ from: Size, to: Size }, { additionalProperties: false }),
        response: { 200: ConsistencyProof, ...errors },
      },
    },
    async (request) => {
      const { from, to } = request.query as { from: number; to: number };
      if (from > to || to > ctx.store.audit.size) {
        throw new EntraideError(
          'NOT_FOUND',
          `no consistency proof from ${from} to ${to}: the audit log has ${ctx.store.audit.size} entries`,
        );
      }
      return { from, to, proof: ctx.store.audit.consistencyProof(from, to).map(toBase64url) };
    },
  );

  keyLogReadRoutes(app, ctx, {
    prefix: '/v1/federation',
    security: federationSecurity,
    reader: 'a peer relay',
  });
}

/** The one item of `items`, or undefined when there are none or several. */
function theOnly<T>(items: readonly T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}
