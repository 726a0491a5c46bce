/**
 * For this relay's nodes: the peer relays and their keys, and a window onto each peer's key log and
 * directory. The relay passes the peer's signed answers through unchanged; nodes verify them
 * against the peer's key exactly as they verify their own relay's.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { EntraideError } from '../../shared/errors.ts';
import { PeerList } from '../../shared/protocol/federation.ts';
import {
  ConsistencyProof,
  DirectoryEntry,
  KeyLogEntries,
  SignedTreeHead,
} from '../../shared/protocol/key-log.ts';
import { AuthorityAddress, Domain, RelayInfo } from '../../shared/protocol/schemas.ts';
import { check } from '../../shared/protocol/validate.ts';
import type { RelayContext } from '../context.ts';
import { errorResponses } from './error-responses.ts';
import { bearerSecurity, requireSession } from '../plugins/auth.ts';
import { DirectoryQuery } from './keys.ts';
import { peerRelayInfo } from '../federation/peer-key-follow.ts';

const errors = errorResponses(400, 401, 403, 404, 409, 503);
const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export async function relayRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  requireSession(app, ctx);

  app.get(
    '/v1/peers',
    {
      schema: {
        summary: 'The peer relays of this relay and their public keys',
        security: bearerSecurity,
        response: { 200: PeerList, ...errors },
      },
    },
    async () => {
      await ctx.federation.peers.load();
      return {
        peers: ctx.federation.peers
          .all()
          .map((p) => ({ domain: p.domain, publicKey: p.publicKey, alarm: p.alarm })),
      };
    },
  );

  /** Asks the peer and checks the shape of its answer; the signatures are for the node to check. */
  async function fromPeer<S extends TSchema>(domain: string, path: string, schema: S, what: string) {
    const peer = await ctx.federation.peers.require(domain);
    return check(
      schema,
      await ctx.federation.client.request<unknown>(peer, 'GET', path, undefined, ctx.federation.timeoutMs),
      what,
    );
  }

  const domainParam = { domain: Domain };

  app.get(
    '/v1/relays/:domain/directory/:authority',
    {
      schema: {
        summary: 'A peer relay’s directory answer for one of its authorities, as the peer signed it',
        security: bearerSecurity,
        params: Type.Object({ ...domainParam, authority: AuthorityAddress }, { additionalProperties: false }),
        querystring: DirectoryQuery,
        response: { 200: DirectoryEntry, ...errors },
      },
    },
    async (request) => {
      const { domain, authority } = request.params as { domain: string; authority: string };
      const { after } = request.query as DirectoryQuery;
      if (!authority.endsWith(`@${domain}`)) {
        throw new EntraideError('UNKNOWN_AUTHORITY', `${authority} is not homed on ${domain}`);
      }
      return fromPeer(
        domain,
        `/v1/federation/directory/${encodeURIComponent(authority)}${after === undefined ? '' : `?after=${after}`}`,
        DirectoryEntry,
        'directory answer',
      );
    },
  );

  app.get(
    '/v1/relays/:domain/relay',
    {
      schema: {
        summary: 'A peer relay’s domain, key and key rollovers, as the peer shows them',
        description:
          'Nodes verify the rollovers from the key this relay pinned for the peer (GET /v1/peers), so that they follow a peer that rotated its key before this relay does.',
        security: bearerSecurity,
        params: Type.Object(domainParam, { additionalProperties: false }),
        response: { 200: RelayInfo, ...errors },
      },
    },
    // Unsigned, as the peer shows it to anyone: the rollovers prove themselves.
    async (request) =>
      peerRelayInfo(await ctx.federation.peers.require((request.params as { domain: string }).domain)),
  );

  app.get(
    '/v1/relays/:domain/keylog/head',
    {
      schema: {
        summary: 'A peer relay’s signed key-log head',
        security: bearerSecurity,
        params: Type.Object(domainParam, { additionalProperties: false }),
        response: { 200: SignedTreeHead, ...errors },
      },
    },
    async (request) =>
      fromPeer(
        (request.params as { domain: string }).domain,
        '/v1/federation/keylog/head',
        SignedTreeHead,
        'tree head',
      ),
  );

  app.get(
    '/v1/relays/:domain/keylog/entries',
    {
      schema: {
        summary: 'A peer relay’s key-log entries',
        security: bearerSecurity,
        params: Type.Object(domainParam, { additionalProperties: false }),
        querystring: Type.Object({ start: Size, end: Type.Optional(Size) }, { additionalProperties: false }),
        response: { 200: KeyLogEntries, ...errors },
      },
    },
    async (request) => {
      const { start, end } = request.query as { start: number; end?: number };
      const q = `start=${start}${end === undefined ? '' : `&end=${end}`}`;
      return fromPeer(
        (request.params as { domain: string }).domain,
        `/v1/federation/keylog/entries?${q}`,
        KeyLogEntries,
        'key-log entries',
      );
    },
  );

  app.get(
    '/v1/relays/:domain/keylog/consistency',
    {
      schema: {
        summary: 'A consistency proof of a peer relay’s key log',
        security: bearerSecurity,
        params: Type.Object(domainParam, { additionalProperties: false }),
        querystring: Type.Object({ from: Size, to: Size }, { additionalProperties: false }),
        response: { 200: ConsistencyProof, ...errors },
      },
    },
    async (request) => {
      const { from, to } = request.query as { from: number; to: number };
      return fromPeer(
        (request.params as { domain: string }).domain,
        `/v1/federation/keylog/consistency?from=${from}&to=${to}`,
        ConsistencyProof,
        'consistency proof',
      );
    },
  );
}
