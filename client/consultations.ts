/**
 * Informal consultation on a node (shared/requests/consultation.ts): the requesting side shows a
 * draft to its counterpart (`consult`), the counterpart comments on it field by field (`comment`),
 * and the formal request that follows names the consultation (its `consultation` field, checked
 * in requests.ts). Both are kept as items of the node's record (kinds `consultation` and
 * `consultation-comment`), under the consultation's id; neither is a request, so neither has a
 * status, a deadline or a place in statistics.
 */
import { parseAuthorityAddress, parseNodeAddress } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import type { Envelope } from '../shared/protocol/schemas.ts';
import { check } from '../shared/protocol/validate.ts';
import {
  calendarDay,
  completenessWarnings,
  validateDraft,
  type Warning,
} from '../shared/requests/completeness.ts';
import { ConsultationComment, ConsultationContent, isDraftField } from '../shared/requests/consultation.ts';
import { DEFAULT_REQUEST_HANDLING } from '../shared/requests/handling.ts';
import type { RequestDraft } from '../shared/requests/request.ts';
import { isRequestType } from '../shared/requests/vocabulary.ts';
import { uuidv7 } from '../shared/uuid.ts';
import type { AcceptedRecord, NodePort, SendResult } from './node-port.ts';
import { random } from './random.ts';
import type { StoredMessage } from './store/records.ts';

export interface ConsultationSummary {
  id: string;
  direction: 'out' | 'in';
  counterpart: string;
  requestType: string;
  title: string;
  sentAt: string;
  comments: number;
}

export interface ConsultationDetail extends ConsultationSummary {
  draft: RequestDraft;
  note: string | null;
  /** What the completeness check says of the draft, as a formal request would be told. */
  warnings: Warning[];
  /** The formal requests that followed it (naming it), on this node. */
  requests: string[];
  /** Each comment, in the order they came, with who made it. */
  remarks: { by: string; at: string; field: string; text: string; note: string | null }[];
}

export class ConsultationDesk {
  constructor(private readonly node: NodePort) {}

  /** Shows `draft` informally to `to`; refused as a formal request would be (schema, dates, script). */
  async consult(input: {
    type: string;
    to: string;
    draft: unknown;
    note?: string | undefined;
  }): Promise<{ id: string; sent: SendResult; warnings: Warning[] }> {
    if (!isRequestType(input.type))
      throw new EntraideError(
        'REQUEST_TYPE_UNKNOWN',
        `"${input.type}" is not a request type; see entraide request types`,
      );
    const to = parseAuthorityAddress(input.to).address;
    if (to === this.node.authority)
      throw new EntraideError('USAGE', 'a consultation goes to another authority, not to this one');
    const draft = validateDraft(input.draft, calendarDay(Date.now()));
    const id = uuidv7(Date.now(), random(10));
    const content = check(
      ConsultationContent,
      {
        type: 'consultation',
        id,
        requestType: input.type,
        draft,
        ...(input.note ? { note: input.note } : {}),
      },
      'consultation',
    );
    const sent = await this.node.dispatch({
      to: [to],
      content,
      record: {
        kind: 'consultation',
        subject: draft.title,
        body: input.note ?? '',
        language: draft.language,
        requestId: id,
        handling: draft.handling ?? DEFAULT_REQUEST_HANDLING,
      },
    });
    return { id, sent, warnings: completenessWarnings(input.type, draft) };
  }

  /** The requested side's comments on a consultation it received, field by field. */
  async comment(
    consultationId: string,
    comments: { field: string; text: string }[],
    note?: string,
  ): Promise<SendResult> {
    const c = this.mustExist(consultationId);
    if (c.message.direction !== 'in')
      throw new EntraideError(
        'TRANSITION_NOT_OWNED',
        `consultation ${c.content.id} was sent by this authority: the authority consulted comments on it`,
      );
    const unknown = comments.find((x) => !isDraftField(x.field));
    if (unknown)
      throw new EntraideError(
        'USAGE',
        `"${unknown.field}" is not a field of a request (entraide request types; e.g. purpose, measures[0].description)`,
      );
    const content = check(
      ConsultationComment,
      { type: 'consultation-comment', consultation: c.content.id, comments, ...(note ? { note } : {}) },
      'consultation comment',
    );
    return this.node.dispatch({
      to: [parseNodeAddress(c.message.sender).authority],
      content,
      record: {
        kind: 'consultation-comment',
        subject: `comments on ${c.content.draft.title}`,
        body: note ?? comments.map((x) => `${x.field}: ${x.text}`).join('\n'),
        language: null,
        requestId: c.content.id,
        handling: c.content.draft.handling ?? DEFAULT_REQUEST_HANDLING,
      },
    });
  }

  /** What arrives: a consultation, or comments on one this node's authority sent. */
  accept(env: Envelope, content: ConsultationContent | ConsultationComment): AcceptedRecord {
    const from = parseNodeAddress(env.from).authority;
    if (content.type === 'consultation') {
      if (env.to.length !== 1)
        throw new EntraideError(
          'CONTENT_INVALID',
          `consultation ${content.id} is addressed to ${env.to.length} authorities; it has one`,
        );
      return {
        record: {
          kind: 'consultation',
          subject: content.draft.title,
          body: content.note ?? '',
          language: content.draft.language,
          requestId: content.id,
          handling: JSON.stringify(content.draft.handling ?? DEFAULT_REQUEST_HANDLING),
          content: JSON.stringify(content),
        },
      };
    }
    const c = this.find(content.consultation);
    // Comments come from the authority consulted, on a consultation this authority sent it.
    const consulted = c && c.message.direction === 'out' ? c.message.recipients[0] : undefined;
    if (!c || (from !== this.node.authority && from !== consulted))
      throw new EntraideError(
        'NOT_A_COUNTERPART',
        `${from} was not consulted on ${content.consultation}: its comments are not kept`,
      );
    return {
      record: {
        kind: 'consultation-comment',
        subject: `comments on ${c.content.draft.title}`,
        body: content.note ?? content.comments.map((x) => `${x.field}: ${x.text}`).join('\n'),
        language: null,
        requestId: content.consultation,
        handling: JSON.stringify(c.content.draft.handling ?? DEFAULT_REQUEST_HANDLING),
        content: JSON.stringify(content),
      },
    };
  }

  list(): ConsultationSummary[] {
    return this.node.store
      .messagesOfKind('consultation')
      .map((m) => this.summary(m, this.contentOf<ConsultationContent>(m)))
      .sort((a, b) => b.sentAt.localeCompare(a.sentAt));
  }

  show(idOrPrefix: string): ConsultationDetail {
    const c = this.mustExist(idOrPrefix);
    const remarks = this.commentsOn(c.content.id).flatMap(({ message, content }) =>
      content.comments.map((x) => ({
        by: message.sender,
        at: message.sentAt,
        field: x.field,
        text: x.text,
        note: content.note ?? null,
      })),
    );
    return {
      ...this.summary(c.message, c.content),
      draft: c.content.draft,
      note: c.content.note ?? null,
      warnings: completenessWarnings(c.content.requestType, c.content.draft),
      requests: this.node.store.requests.linksTo(c.content.id).map((l) => l.fromId),
      remarks,
    };
  }

  private summary(m: StoredMessage, content: ConsultationContent): ConsultationSummary {
    return {
      id: content.id,
      direction: m.direction,
      counterpart: m.direction === 'out' ? m.recipients[0]! : parseNodeAddress(m.sender).authority,
      requestType: content.requestType,
      title: content.draft.title,
      sentAt: m.sentAt,
      comments: this.commentsOn(content.id).reduce((n, c) => n + c.content.comments.length, 0),
    };
  }

  private commentsOn(id: string): { message: StoredMessage; content: ConsultationComment }[] {
    return this.node.store
      .messagesOn(id)
      .filter((m) => m.kind === 'consultation-comment')
      .map((m) => ({ message: m, content: this.contentOf<ConsultationComment>(m) }))
      .sort((a, b) => a.message.sentAt.localeCompare(b.message.sentAt));
  }

  private find(idOrPrefix: string): { message: StoredMessage; content: ConsultationContent } | undefined {
    const found = this.node.store
      .messagesOfKind('consultation')
      .filter((m) => m.requestId !== null && m.requestId.startsWith(idOrPrefix));
    if (found.length !== 1) return undefined;
    return { message: found[0]!, content: this.contentOf<ConsultationContent>(found[0]!) };
  }

  private mustExist(idOrPrefix: string): { message: StoredMessage; content: ConsultationContent } {
    const c = this.find(idOrPrefix);
    if (!c)
      throw new EntraideError(
        'NOT_FOUND',
        `no consultation ${idOrPrefix} on this node: see entraide request consultations`,
      );
    return c;
  }

  private contentOf<T>(m: StoredMessage): T {
    const raw = this.node.store.envelopeOf(m.id)?.content;
    if (!raw) throw new EntraideError('INTERNAL', `consultation item ${m.id} has no content`);
    return JSON.parse(raw) as T;
  }
}
