/**
 * Requests for cooperation on the node: drafting and sending them, status updates, supplements,
 * the story of each request, deadlines and statistics. The rules are in shared/requests/; this
 * desk stores what they decide and sends what they produce.
 */
import { basename } from 'node:path';
import { manifestProblem, type FileEntry } from '../shared/files/manifest.ts';
import type { Attachment } from './documents/seal-file.ts';
import { parseAuthorityAddress } from '../shared/addresses.ts';
import { EntraideError, isTransient } from '../shared/errors.ts';
import type { RequestContent, StatusContent, SupplementContent } from '../shared/protocol/content.ts';
import { SupplementContent as SupplementSchema, SUPPLEMENT_SUBJECTS } from '../shared/protocol/content.ts';
import { check } from '../shared/protocol/validate.ts';
import {
  calendarDay,
  completenessWarnings,
  validateDraft,
  type Warning,
} from '../shared/requests/completeness.ts';
import { DEFAULT_REQUEST_HANDLING, type Handling } from '../shared/requests/handling.ts';
import { isFinal } from '../shared/requests/lifecycle.ts';
import { RequestContent as RequestSchema, type RequestDraft } from '../shared/requests/request.ts';
import { counterpartWarnings } from '../shared/keys/profile.ts';
import { signStatusUpdate, StatusUpdate, updateHash } from '../shared/requests/status-update.ts';
import { checkStatusUpdate } from '../shared/requests/status-rules.ts';
import {
  isRequestType,
  isStatus,
  REQUEST_TYPES,
  STATUSES,
  type MeasureState,
  type RequestType,
  type Status,
} from '../shared/requests/vocabulary.ts';
import { uuidv7 } from '../shared/uuid.ts';
import type { SendResult } from './node-port.ts';
import { random } from './random.ts';
import type { RequestRow } from './store/request-store.ts';
import { RequestArrivals } from './request-arrivals.ts';
import { newRequestRow } from './request-records.ts';
export type { RequestDetail, RequestSummary, StoryEntry } from './request-records.ts';

export interface NewRequest {
  type: string;
  to: string;
  /** The request as the officer wrote it (request.json). */
  draft: unknown;
  /** Keep it as a draft on this node instead of sending it. */
  asDraft?: boolean;
  /** Send although the completeness check warns. */
  despiteWarnings?: boolean;
  /** Its documents: the request letter, court orders, translations... (sealed now, sent with it). */
  attachments?: Attachment[] | undefined;
}

export interface UpdateOptions {
  note?: string | undefined;
  ground?: string | undefined;
  reference?: string | undefined;
  /** Why a refusal on a ground of UNTOC art. 18(21) comes without consultation (art. 18(26)). */
  withoutConsultation?: string | undefined;
  /** Where measures stand, by their index in the request (requested side). */
  measures?: { index: number; state: MeasureState }[] | undefined;
  /** Documents the step carries, signed with it (the evidence of `executed`). */
  attachments?: Attachment[] | undefined;
  /** The same, sealed already (a page's uploads). */
  files?: FileEntry[] | undefined;
}

/** Failed submissions the relay may still accept later: the item stays stored and is sent again. */
function queuedError(err: EntraideError, what: string): EntraideError {
  return new EntraideError(
    err.code,
    `${err.message}; the ${what} is stored on this node and goes out when the relay answers (entraide listen, or any command that talks to the relay)`,
  );
}
export class RequestDesk extends RequestArrivals {
  // ---- drafting and sending ---------------------------------------------------------------

  /** Checks a draft without storing or sending anything: the errors throw, the warnings return. */
  check(type: string, draft: unknown): { warnings: Warning[] } {
    if (!isRequestType(type)) {
      throw new EntraideError(
        'REQUEST_TYPE_UNKNOWN',
        `"${type}" is not a request type; the types are: ${REQUEST_TYPES.join(', ')}`,
      );
    }
    const valid = validateDraft(draft, calendarDay(Date.now()));
    return { warnings: completenessWarnings(type, valid) };
  }

  /** Creates a request: keeps it as a draft, or sends it to the requested authority. */
  async create(
    input: NewRequest,
  ): Promise<{ id: string; state: Status; warnings: Warning[]; sent?: SendResult }> {
    const { warnings } = this.check(input.type, input.draft);
    const to = parseAuthorityAddress(input.to).address;
    if (to === this.node.authority) {
      throw new EntraideError('USAGE', 'a request goes to another authority, not to this one');
    }
    const draft = validateDraft(input.draft, calendarDay(Date.now()));
    // A link names a request this node knows (sent or received), by its full id; a consultation,
    // one this authority held with the same counterpart.
    for (const l of draft.relatedTo ?? []) this.mustExist(l.request);
    if (draft.consultation) this.mustHaveConsulted(draft.consultation, to);
    if (!input.asDraft) this.refuseIncomplete(warnings, input.despiteWarnings);
    // What the counterpart's profile says (its languages, the types it handles, an original to
    // follow): told, never blocking, since a translation or a paper original can follow.
    warnings.push(...(await this.counterpartAdvice(to, input.type as RequestType, draft)));
    const files = await this.sealed(input.attachments);
    const now = new Date();
    const content = check(
      RequestSchema,
      {
        ...draft,
        type: 'request',
        id: uuidv7(now.getTime(), random(10)),
        requestType: input.type,
        handling: draft.handling ?? DEFAULT_REQUEST_HANDLING,
        urgency: draft.urgency ?? 'routine',
        ...(files.length > 0 ? { files } : {}),
      },
      'request',
    );
    const row = newRequestRow(content, {
      direction: 'out',
      requesting: this.node.authority,
      requested: to,
      envelopeId: null,
      createdAt: now.toISOString(),
      sentAt: null,
      deliveredAt: null,
    });
    if (input.asDraft) {
      this.rows.insertRequest(row);
      return { id: content.id, state: 'draft', warnings };
    }
    const sent = await this.transmit(row, content, true);
    return { id: content.id, state: 'sent', warnings, sent };
  }

  /** Sends a request kept as a draft. */
  async sendDraft(
    idOrPrefix: string,
    despiteWarnings = false,
  ): Promise<{ id: string; sent: SendResult; warnings: Warning[] }> {
    const row = this.mustExist(idOrPrefix);
    if (row.sentAt !== null)
      throw new EntraideError('TRANSITION_INVALID', `request ${row.id} was already sent`);
    const content = this.content(row);
    // A draft may have waited past its deadline: check it again, as on the day it is sent.
    validateDraft(this.draftPart(content), calendarDay(Date.now()));
    const warnings = completenessWarnings(content.requestType, content);
    this.refuseIncomplete(warnings, despiteWarnings);
    const sent = await this.transmit(row, content, false);
    return { id: row.id, sent, warnings };
  }

  private draftPart(c: RequestContent): unknown {
    const { type: _t, id: _i, requestType: _r, files: _f, ...draft } = c;
    return draft;
  }

  /** Attachments sealed into the node's documents folder (none: none). */
  private sealed(attachments: readonly Attachment[] | undefined): Promise<FileEntry[]> {
    return attachments?.length ? this.node.documents.seal(attachments) : Promise.resolve([]);
  }

  private refuseIncomplete(warnings: Warning[], despite = false): void {
    if (warnings.length === 0 || despite) return;
    throw new EntraideError(
      'REQUEST_INCOMPLETE',
      `a counterpart would send this request back: ${warnings.map((w) => `${w.field}: ${w.message}`).join('; ')}`,
      { warnings },
    );
  }

  private restriction(content: { handling: Handling }, requested: string) {
    return content.handling.visibility === 'named'
      ? { authority: requested, nodes: content.handling.nodes! }
      : undefined;
  }

  private async transmit(row: RequestRow, content: RequestContent, fresh: boolean): Promise<SendResult> {
    let envelopeId: string | undefined;
    try {
      return await this.node.dispatch({
        to: [row.requested],
        content,
        record: {
          kind: 'request',
          subject: content.title,
          body: content.summaryOfFacts ?? '',
          language: content.language,
          requestId: content.id,
          handling: content.handling,
        },
        restrict: this.restriction(content, row.requested),
        ...(content.files ? { files: content.files } : {}),
        then: (env) => {
          envelopeId = env.id;
          if (fresh) this.rows.insertRequest(row);
          this.rows.markSent(row.id, env.id, env.sentAt);
          this.rederive(row.id);
        },
      });
    } catch (err) {
      if (envelopeId === undefined || !(err instanceof EntraideError)) throw err;
      if (isTransient(err.code)) throw queuedError(err, 'request');
      // Refused for good: undo, so that nothing stays half-sent.
      this.node.store.deleteMessage(envelopeId);
      this.node.store.documents.forget(envelopeId);
      this.rows.unsend(row.id);
      if (fresh) this.rows.deleteDraft(row.id);
      throw err;
    }
  }

  private mustHaveConsulted(id: string, to: string): void {
    const held = this.node.store
      .messagesOn(id)
      .some((m) => m.kind === 'consultation' && m.direction === 'out' && m.recipients[0] === to);
    if (!held)
      throw new EntraideError(
        'NOT_FOUND',
        `no consultation ${id} held by this authority with ${to}: see entraide request consultations`,
      );
  }

  /** The counterpart's profile against this request; none when its keys cannot be read now. */
  private async counterpartAdvice(to: string, type: RequestType, draft: RequestDraft): Promise<Warning[]> {
    let profile;
    try {
      profile = await this.node.profileOf(to);
    } catch (err) {
      if (err instanceof EntraideError && isTransient(err.code)) return [];
      throw err;
    }
    return profile
      ? counterpartWarnings(profile, { type, language: draft.language, versions: draft.versions })
      : [];
  }

  // ---- status updates and supplements -----------------------------------------------------

  /** Sets the next status of a request (only the side that owns the step may), signs it, sends it. */
  async update(
    idOrPrefix: string,
    status: string,
    opts: UpdateOptions = {},
  ): Promise<{ request: string; status: Status; seq: number; sent: SendResult }> {
    if (!isStatus(status)) {
      throw new EntraideError(
        'STATUS_UNKNOWN',
        `"${status}" is not a status; the statuses are: ${STATUSES.join(', ')}`,
      );
    }
    const row = this.mustExist(idOrPrefix);
    const side = this.sideOf(row)!;
    const derived = this.derive(row);
    // The same rules every receiving node holds this update to (shared/requests/status-rules.ts).
    const checked = checkStatusUpdate({
      state: derived.state,
      update: {
        status,
        ground: opts.ground,
        note: opts.note,
        reference: opts.reference,
        withoutConsultation: opts.withoutConsultation,
        measures: opts.measures,
      },
      side,
      request: row,
      past: derived.history.map((h) => h.update.status),
    });
    const count = this.content(row).measures?.length ?? 0;
    const outside = checked.measures?.find((m) => m.index >= count);
    if (outside)
      throw new EntraideError(
        'USAGE',
        `the request has ${count} measure(s), numbered from 0: there is no measure ${outside.index}`,
      );
    const files = [...(opts.files ?? []), ...(await this.sealed(opts.attachments))];
    const problem = manifestProblem(files);
    if (problem) throw new EntraideError('USAGE', problem);
    const update = check(
      StatusUpdate,
      signStatusUpdate(
        {
          v: 1,
          request: row.id,
          seq: derived.seq + 1,
          prev: derived.tip,
          status: checked.status,
          ...(checked.ground ? { ground: checked.ground } : {}),
          ...(opts.note ? { note: opts.note } : {}),
          ...(opts.reference ? { reference: opts.reference } : {}),
          ...(checked.withoutConsultation ? { withoutConsultation: checked.withoutConsultation } : {}),
          ...(checked.measures?.length ? { measures: checked.measures } : {}),
          ...(files.length > 0 ? { files } : {}),
          by: this.node.address,
          at: new Date().toISOString(),
        },
        this.node.identitySecretKey,
      ),
      'status update',
    );
    const hash = updateHash(update);
    const content: StatusContent = { type: 'status', update };
    const handling = this.content(row).handling;
    let envelopeId: string | undefined;
    try {
      const sent = await this.node.dispatch({
        to: [this.counterpart(row)],
        content,
        record: {
          kind: 'status',
          subject: `status: ${status}`,
          body: opts.note ?? '',
          language: null,
          requestId: row.id,
          handling,
        },
        restrict: this.restriction({ handling }, row.requested),
        files,
        then: (env) => {
          envelopeId = env.id;
          this.storeUpdate(update, hash, env.id);
        },
      });
      return { request: row.id, status, seq: update.seq, sent };
    } catch (err) {
      if (envelopeId === undefined || !(err instanceof EntraideError)) throw err;
      if (isTransient(err.code)) throw queuedError(err, 'status update');
      this.node.store.deleteMessage(envelopeId);
      this.node.store.documents.forget(envelopeId);
      this.rows.transaction(() => {
        this.rows.deleteUpdate(hash);
        this.rederive(row.id);
      });
      throw err;
    }
  }

  /** From the requesting side: the information asked for, or further measures. */
  async supplement(
    idOrPrefix: string,
    s: {
      kind: SupplementContent['kind'];
      text: string;
      measures?: string[] | undefined;
      language?: string | undefined;
      attachments?: Attachment[] | undefined;
    },
  ): Promise<SendResult> {
    const row = this.mustExist(idOrPrefix);
    if (this.sideOf(row) !== 'requesting') {
      throw new EntraideError(
        'TRANSITION_NOT_OWNED',
        'only the requesting authority sends supplements; answer with a message (entraide request message)',
      );
    }
    if (row.sentAt === null)
      throw new EntraideError('TRANSITION_INVALID', `request ${row.id} is a draft: edit and send it instead`);
    const state = this.derive(row).state;
    if (isFinal(state))
      throw new EntraideError('REQUEST_CLOSED', `the request is ${state}: send a new request instead`);
    const request = this.content(row);
    const files = await this.sealed(s.attachments);
    const content = check(
      SupplementSchema,
      {
        type: 'supplement',
        request: row.id,
        kind: s.kind,
        text: s.text,
        ...(s.measures?.length ? { measures: s.measures } : {}),
        language: s.language ?? request.language,
        ...(files.length > 0 ? { files } : {}),
      },
      'supplement',
    );
    return this.node.dispatch({
      to: [row.requested],
      content,
      record: {
        kind: 'supplement',
        subject: SUPPLEMENT_SUBJECTS[s.kind],
        body: s.text,
        language: content.language,
        requestId: row.id,
        handling: request.handling,
      },
      restrict: this.restriction(request, row.requested),
      files,
    });
  }

  /**
   * Documents on a request: from the requesting side a supplement (additional information), from
   * the requested side a message on the request; `note` says what they are.
   */
  async attach(idOrPrefix: string, attachments: Attachment[], note?: string): Promise<SendResult> {
    const row = this.mustExist(idOrPrefix);
    const text = note ?? `Documents: ${attachments.map((a) => basename(a.path)).join(', ')}`;
    if (this.sideOf(row) === 'requesting')
      return this.supplement(row.id, { kind: 'additional_information', text, attachments });
    return this.message(row.id, { subject: 'Documents', body: text, attachments });
  }

  /** A message on a request, to the counterpart, under the request's handling code. */
  async message(
    idOrPrefix: string,
    m: { subject: string; body: string; language?: string | undefined; attachments?: Attachment[] },
  ): Promise<SendResult> {
    const row = this.mustExist(idOrPrefix);
    if (row.sentAt === null)
      throw new EntraideError('TRANSITION_INVALID', `request ${row.id} is a draft: send it first`);
    return this.node.send({
      to: [this.counterpart(row)],
      subject: m.subject,
      body: m.body,
      ...(m.language ? { language: m.language } : {}),
      request: row.id,
      handling: this.content(row).handling,
      ...(m.attachments?.length ? { attachments: m.attachments } : {}),
    });
  }
}
