/**
 * The officer's routes for requests (registered under /api/v1 by service-app.ts): the vocabularies
 * and draft schema, a live completeness check, creating and sending, the steps this side may take,
 * status updates, supplements and messages, and the delivery evidence. Each does what the CLI's
 * `request` commands do (client/cli/requests.ts, request-evidence.ts), through the node's desks.
 */
import { takeUploads, UploadInput, type StagedUploads } from './routes-uploads.ts';
import { LIMITS } from '../../shared/limits.ts';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { EntraideError } from '../../shared/errors.ts';
import { SUPPLEMENT_KINDS } from '../../shared/protocol/content.ts';
import { literals } from '../../shared/protocol/literals.ts';
import { REQUEST_LIMITS, RequestDraft } from '../../shared/requests/request.ts';
import { LANGUAGES, REFUSAL_GROUND_CODES, STATUSES } from '../../shared/requests/vocabulary.ts';
import { fetchIfReachable } from './desk.ts';
import {
  createRequestView,
  requestActionsView,
  requestEvidenceView,
  requestTypesView,
  sendDraftView,
} from './desk-requests.ts';
import type { RouteContext } from './route-context.ts';

const Id = Type.String({ minLength: 1, maxLength: 200 });
const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
const Address = Type.String({ minLength: 3, maxLength: 320 });
const RequestType = Type.String({ minLength: 1, maxLength: 64 });
const Confirmed = Type.Array(Address, { maxItems: 50 });
/** A note on a status update: the reasons of a refusal may be long, not unbounded. */
const NOTE_MAX = 20_000;
const TEXT_MAX = 200_000;

const Warning = Type.Object({ code: Type.String(), field: Type.String(), message: Type.String() });
const Warnings = Type.Array(Warning);
const SendResult = Type.Object(
  { id: Type.String(), sentAt: Type.String(), ciphertextHash: Type.String() },
  { additionalProperties: true },
);
/** A request's summary and story: described loosely, its shape is RequestDetail (requests.ts). */
const Detail = Type.Object({ id: Type.String(), state: literals(STATUSES) }, { additionalProperties: true });

export async function requestRoutes(
  app: FastifyInstance,
  ctx: RouteContext,
  staged?: StagedUploads,
): Promise<void> {
  const { node } = ctx;

  app.get(
    '/requests/types',
    {
      schema: {
        response: {
          200: Type.Object({
            types: Type.Array(Type.Object({ type: Type.String(), label: Type.String() })),
            urgencies: Type.Array(Type.String()),
            statuses: Type.Array(Type.String()),
            refusalGrounds: Type.Array(Type.Object({ ground: Type.String(), label: Type.String() })),
            legalBasisKinds: Type.Array(Type.String()),
            personRoles: Type.Array(Type.String()),
            languages: Type.Array(Type.String()),
            supplementKinds: Type.Array(Type.String()),
            handling: Type.Object({
              visibilities: Type.Array(Type.String()),
              forwardings: Type.Array(Type.String()),
              default: Type.Object({}, { additionalProperties: true }),
            }),
            draftSchema: Type.Object({}, { additionalProperties: true }),
          }),
        },
      },
    },
    async () => requestTypesView(),
  );

  app.post(
    '/requests/check',
    {
      schema: {
        // The draft as the officer is typing it: not yet valid is an answer here, not a refusal.
        body: Type.Object(
          { type: RequestType, draft: Type.Object({}, { additionalProperties: true }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            warnings: Warnings,
            invalid: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
          }),
        },
      },
    },
    async (req) => {
      const b = req.body as { type: string; draft: unknown };
      try {
        return { ...node.requests.check(b.type, b.draft), invalid: null };
      } catch (err) {
        if (!(err instanceof EntraideError) || err.code === 'REQUEST_TYPE_UNKNOWN') throw err;
        return { warnings: [], invalid: { code: err.code, message: err.message } };
      }
    },
  );

  app.post(
    '/requests',
    {
      schema: {
        body: Type.Object(
          {
            type: RequestType,
            to: Address,
            draft: RequestDraft,
            send: Type.Optional(Type.Boolean()),
            despiteWarnings: Type.Optional(Type.Boolean()),
            confirmed: Type.Optional(Confirmed),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            id: Type.String(),
            state: literals(STATUSES),
            warnings: Warnings,
            sent: Type.Optional(SendResult),
            request: Detail,
          }),
        },
      },
    },
    async (req) => {
      const r = await createRequestView(node, req.body as Parameters<typeof createRequestView>[1]);
      ctx.changed('requests', r.id);
      if (r.sent) ctx.changed('sent', r.sent.id);
      return r;
    },
  );

  app.post(
    '/requests/:id/send',
    {
      schema: {
        params: IdParams,
        // A JSON body, {} at least (the counterpart confirmed, or sending despite warnings).
        body: Type.Object(
          { despiteWarnings: Type.Optional(Type.Boolean()), confirmed: Type.Optional(Confirmed) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ id: Type.String(), sent: SendResult, warnings: Warnings, request: Detail }),
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const r = await sendDraftView(node, id, req.body as Parameters<typeof sendDraftView>[2]);
      ctx.changed('requests', r.id);
      ctx.changed('sent', r.sent.id);
      return r;
    },
  );

  app.get(
    '/requests/:id/actions',
    {
      schema: {
        params: IdParams,
        response: {
          200: Type.Object({
            id: Type.String(),
            state: literals(STATUSES),
            side: literals(['requesting', 'requested'] as const),
            draft: Type.Boolean(),
            final: Type.Boolean(),
            actions: Type.Array(
              Type.Object({
                status: literals(STATUSES),
                note: literals(['required', 'optional'] as const),
                ground: literals(['required', 'none'] as const),
                grounds: Type.Array(literals(REFUSAL_GROUND_CODES)),
                consultation: literals(['held', 'not_held', 'none'] as const),
                reference: literals(['optional', 'none'] as const),
                date: Type.Literal('none'),
              }),
            ),
            supplement: Type.Boolean(),
            message: Type.Boolean(),
          }),
        },
      },
    },
    async (req) => {
      // As `request show`: what waits on the relay may have moved the request on.
      await fetchIfReachable(node);
      return requestActionsView(node, (req.params as { id: string }).id);
    },
  );

  app.post(
    '/requests/:id/status',
    {
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            status: literals(STATUSES),
            note: Type.Optional(Type.String({ minLength: 1, maxLength: NOTE_MAX })),
            ground: Type.Optional(literals(REFUSAL_GROUND_CODES)),
            withoutConsultation: Type.Optional(Type.String({ minLength: 1, maxLength: REQUEST_LIMITS.item })),
            reference: Type.Optional(Type.String({ minLength: 1, maxLength: REQUEST_LIMITS.reference })),
            uploads: Type.Optional(Type.Array(UploadInput, { maxItems: LIMITS.maxFilesPerItem })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            request: Type.String(),
            status: literals(STATUSES),
            seq: Type.Integer(),
            sent: SendResult,
          }),
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as {
        status: string;
        note?: string;
        ground?: string;
        withoutConsultation?: string;
        reference?: string;
        uploads?: UploadInput[];
      };
      // As `request update`: the state is the one after what waits on the relay.
      await fetchIfReachable(node);
      const files = takeUploads(staged, b.uploads);
      const r = await node.requests.update(id, b.status, {
        note: b.note,
        ground: b.ground,
        withoutConsultation: b.withoutConsultation,
        reference: b.reference,
        ...(files.length > 0 ? { files } : {}),
      });
      ctx.changed('requests', r.request);
      ctx.changed('sent', r.sent.id);
      return r;
    },
  );

  app.post(
    '/requests/:id/supplement',
    {
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            kind: Type.Optional(literals(SUPPLEMENT_KINDS)),
            text: Type.String({ minLength: 1, maxLength: TEXT_MAX }),
            measures: Type.Optional(
              Type.Array(Type.String({ minLength: 1, maxLength: REQUEST_LIMITS.item }), {
                maxItems: REQUEST_LIMITS.measures,
              }),
            ),
            language: Type.Optional(literals(LANGUAGES)),
          },
          { additionalProperties: false },
        ),
        response: { 200: SendResult },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as {
        kind?: (typeof SUPPLEMENT_KINDS)[number];
        text: string;
        measures?: string[];
        language?: string;
      };
      const r = await node.requests.supplement(id, {
        kind: b.kind ?? 'additional_information',
        text: b.text,
        measures: b.measures,
        language: b.language,
      });
      ctx.changed('requests', node.requests.mustExist(id).id);
      ctx.changed('sent', r.id);
      return r;
    },
  );

  app.post(
    '/requests/:id/messages',
    {
      schema: {
        params: IdParams,
        body: Type.Object(
          {
            subject: Type.Optional(Type.String({ maxLength: 1000 })),
            body: Type.String({ minLength: 1, maxLength: 800_000 }),
            language: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SendResult },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as { subject?: string; body: string; language?: string };
      const row = node.requests.mustExist(id);
      const r = await node.requests.message(id, {
        // The CLI asks for a subject; a web form may leave it to the request's title.
        subject: b.subject ?? row.title,
        body: b.body,
        language: b.language,
      });
      ctx.changed('requests', row.id);
      ctx.changed('sent', r.id);
      return r;
    },
  );

  app.get(
    '/requests/:id/evidence',
    {
      schema: {
        params: IdParams,
        response: {
          200: Type.Object(
            {
              request: Type.String(),
              fetched: Type.Boolean(),
              kind: Type.String(),
              acceptedAt: Type.Union([Type.String(), Type.Null()]),
              ciphertextHash: Type.String(),
              undelivered: Type.Array(Type.String()),
              receipts: Type.Array(
                Type.Object(
                  {
                    kind: Type.String(),
                    node: Type.String(),
                    at: Type.String(),
                    valid: Type.Boolean(),
                    problem: Type.Union([Type.String(), Type.Null()]),
                    identityKey: Type.String(),
                  },
                  { additionalProperties: true },
                ),
              ),
            },
            { additionalProperties: true },
          ),
        },
      },
    },
    async (req) => requestEvidenceView(node, (req.params as { id: string }).id),
  );
}
