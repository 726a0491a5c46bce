/**
 * The officer's routes for keys and nodes (registered under /api/v1 by service-app.ts):
 * counterparts and their safety codes (`keys verify`, `keys history`), the alarms (`keys check`),
 * this authority's nodes and the joins waiting (`node list`, `node pending`), and approving,
 * rejecting and revoking nodes. Approve and revoke sign with the authority master key, so they run
 * inside ctx.withMasterKey: the passphrase is checked first (PASSPHRASE_WRONG, nothing done).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { approveJoin, keyHistory, revoke, verifySafetyCode } from '../key-manager.ts';
import { rejectJoin } from '../join-tickets.ts';
import { alarmsView, counterpartsView, mustHoldMasterKey, nodesView } from './desk-keys.ts';
import type { RouteContext } from './route-context.ts';

const Authority = Type.String({ minLength: 3, maxLength: 320 });
/** 40 digits in groups, as `entraide fingerprint` shows them (spaces or dashes allowed). */
const SafetyCode = Type.String({ minLength: 40, maxLength: 80, pattern: '^[0-9 -]+$' });
/** A join code as shown, spaces allowed. */
const JoinCode = Type.String({ minLength: 4, maxLength: 100 });
const Passphrase = Type.String({ minLength: 1, maxLength: 1024 });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Str = () => Type.String();

const NodeListing = Type.Object({
  node: Str(),
  state: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
  thisNode: Type.Boolean(),
  identityKey: Str(),
  encryptionKeyId: Str(),
  encryptionKeyNotAfter: Str(),
  certifiedAt: Type.Integer(),
  revokedAt: Nullable(Str()),
  revokeReason: Nullable(Str()),
});

export async function keyRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { node } = ctx;

  app.get(
    '/counterparts',
    {
      schema: {
        response: {
          200: Type.Object({
            counterparts: Type.Array(
              Type.Object({
                authority: Str(),
                safetyCode: Str(),
                pinnedAt: Str(),
                verifiedAt: Nullable(Str()),
                verifiedBy: Nullable(Str()),
                confirmedAt: Nullable(Str()),
                state: Type.Union([
                  Type.Literal('verified'),
                  Type.Literal('confirmed-unverified'),
                  Type.Literal('unverified'),
                ]),
                keys: Type.Union([
                  Type.Object({
                    masterKeys: Type.Integer(),
                    masterKeyIssuedAt: Str(),
                    activeNodes: Type.Integer(),
                    revokedNodes: Type.Integer(),
                    events: Type.Integer(),
                    refusedEvents: Type.Integer(),
                    lastEventAt: Nullable(Str()),
                  }),
                  Type.Null(),
                ]),
                keysError: Type.Union([Type.Object({ code: Str(), message: Str() }), Type.Null()]),
              }),
            ),
          }),
        },
      },
    },
    async () => ({ counterparts: await counterpartsView(node) }),
  );

  app.post(
    '/counterparts/verify',
    {
      schema: {
        body: Type.Object({ authority: Authority, code: SafetyCode }, { additionalProperties: false }),
        response: { 200: Type.Object({ authority: Str(), safetyCode: Str(), verifiedAt: Str() }) },
      },
    },
    async (req) => {
      const b = req.body as { authority: string; code: string };
      // A wrong code is SAFETY_CODE_MISMATCH and nothing is marked (key-manager.ts).
      const r = await verifySafetyCode(node, b.authority, b.code);
      ctx.changed('keys', r.authority);
      return r;
    },
  );

  app.get(
    '/counterparts/:authority/history',
    {
      schema: {
        params: Type.Object({ authority: Authority }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            authority: Str(),
            safetyCode: Str(),
            verifiedAt: Nullable(Str()),
            head: Type.Object({ size: Type.Integer(), root: Str(), timestamp: Str() }),
            events: Type.Array(
              Type.Object({
                index: Type.Integer(),
                loggedAt: Str(),
                type: Str(),
                node: Nullable(Str()),
                summary: Str(),
                accepted: Type.Boolean(),
                code: Nullable(Str()),
                reason: Nullable(Str()),
                proof: Type.Literal('checked'),
              }),
            ),
          }),
        },
      },
    },
    async (req) => keyHistory(node, (req.params as { authority: string }).authority),
  );

  app.get(
    '/alarms',
    {
      schema: {
        response: {
          200: Type.Object({
            consistent: Type.Boolean(),
            checked: Type.Boolean(),
            error: Type.Union([Type.Object({ code: Str(), message: Str() }), Type.Null()]),
            head: Type.Union([Type.Object({ size: Type.Integer(), timestamp: Str() }), Type.Null()]),
            open: Type.Integer(),
            alarms: Type.Array(
              Type.Object({
                id: Type.Integer(),
                raisedAt: Str(),
                kind: Str(),
                relay: Nullable(Str()),
                authority: Nullable(Str()),
                idx: Type.Union([Type.Integer(), Type.Null()]),
                message: Str(),
                resolvedAt: Nullable(Str()),
              }),
            ),
            splitViews: Type.Array(
              Type.Object({
                id: Type.Integer(),
                raisedAt: Str(),
                relay: Str(),
                sender: Str(),
                envelopeId: Str(),
                ours: Str(),
                theirs: Str(),
              }),
            ),
          }),
        },
      },
    },
    async () => alarmsView(node),
  );

  app.get(
    '/nodes',
    {
      schema: {
        response: {
          200: Type.Object({
            thisNode: Str(),
            holdsMasterKey: Type.Boolean(),
            nodes: Type.Array(NodeListing),
            pending: Type.Array(
              Type.Object({
                code: Str(),
                node: Str(),
                createdAt: Str(),
                expiresAt: Str(),
                /** A node of this name is certified already (approved, or a name taken). */
                certified: Type.Boolean(),
              }),
            ),
          }),
        },
      },
    },
    async () => nodesView(node),
  );

  app.post(
    '/nodes/approve',
    {
      schema: {
        body: Type.Object({ code: JoinCode, passphrase: Passphrase }, { additionalProperties: false }),
        response: { 200: Type.Object({ node: Str(), identityKey: Str(), index: Type.Integer() }) },
      },
    },
    async (req) => {
      const b = req.body as { code: string; passphrase: string };
      const r = await ctx.withMasterKey(b.passphrase, async () => {
        await mustHoldMasterKey(node);
        return approveJoin(node, b.code);
      });
      ctx.changed('keys', r.node);
      return r;
    },
  );

  app.post(
    '/nodes/reject',
    {
      schema: {
        body: Type.Object({ code: JoinCode }, { additionalProperties: false }),
        response: { 200: Type.Object({ rejected: Str() }) },
      },
    },
    async (req) => {
      const rejected = await rejectJoin(node, (req.body as { code: string }).code);
      ctx.changed('keys');
      return { rejected };
    },
  );

  app.post(
    '/nodes/revoke',
    {
      schema: {
        body: Type.Object(
          {
            node: Type.String({ minLength: 1, maxLength: 320 }),
            passphrase: Passphrase,
            reason: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ node: Str(), index: Type.Integer() }) },
      },
    },
    async (req) => {
      const b = req.body as { node: string; passphrase: string; reason?: string };
      const r = await ctx.withMasterKey(b.passphrase, async () => {
        await mustHoldMasterKey(node);
        return revoke(node, b.node, b.reason ?? '');
      });
      ctx.changed('keys', r.node);
      return r;
    },
  );
}
