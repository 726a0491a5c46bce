/** Reading a node's requests: state, story, deadlines and statistics records (shared/requests/ decides). */
import type { ReceiptKind } from '../shared/receipts/receipt.ts';
import { parseNodeAddress } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import type { RequestContent } from '../shared/protocol/content.ts';
import { followedUp, translationArrived } from './request-follow-ups.ts';
import { completenessWarnings, type Warning } from '../shared/requests/completeness.ts';
import { effectiveDeadline, firstExecution, flags, type Flag } from '../shared/requests/deadlines.ts';
import { mayRead, type Handling } from '../shared/requests/handling.ts';
import { deriveRequest, type DerivedRequest, type VerifiedUpdate } from '../shared/requests/history.ts';
import { nextStatuses, type Side } from '../shared/requests/lifecycle.ts';
import { measureOf, type Measure } from '../shared/requests/request.ts';
import { secondsBetween } from '../shared/requests/statistics.ts';
import { requestCodes, type RequestStatsRecord } from '../shared/requests/statistics-export.ts';
import { requestHash, StatusUpdate } from '../shared/requests/status-update.ts';
import { isStatus, STATUSES, type MeasureState, type Status } from '../shared/requests/vocabulary.ts';
import type { NodePort } from './node-port.ts';
import type { RequestRow } from './store/request-store.ts';

export interface RequestSummary {
  id: string;
  direction: 'out' | 'in';
  requestType: string;
  requesting: string;
  requested: string;
  counterpart: string;
  title: string;
  urgency: string;
  state: Status;
  stateAt: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
  deadline: string | null;
  references: { requesting: string; requested: string | null };
  /** The requesting side's case number, shared by the requests of one case. */
  caseReference: string | null;
  flags: Flag[];
}

/** How a receipt reads in a request's story (the CLI's English line). */
const RECEIPT_TEXT: Record<ReceiptKind, string> = {
  delivered: 'stored by',
  read: 'opened on',
  downloaded: 'documents downloaded and verified by',
};

export interface StoryEntry {
  at: string;
  what: 'drafted' | 'sent' | 'delivered' | 'read' | 'downloaded' | 'status' | 'supplement' | 'message';
  by: string;
  text: string;
  status?: Status;
  envelope?: string;
  /** For updates that did not apply: superseded, waiting or invalid (with the reason). */
  standing?: string;
  /** The parts of `text` (English, for the CLI) that a page shows in the officer's language. */
  to?: string;
  ground?: string;
  reference?: string;
  note?: string;
  /** Why a refusal came without the consultation of UNTOC art. 18(26). */
  withoutConsultation?: string;
}

export interface RequestDetail extends RequestSummary {
  content: RequestContent;
  /** Each measure of the request, coded, with where it stands as the requested side last reported. */
  measures: (Measure & { state: MeasureState })[];
  handling: Handling;
  warnings: Warning[];
  story: StoryEntry[];
  /** What this side may set next. */
  next: Status[];
  side: Side;
}

/**
 * The stored row of a request when it is first known: drafted here, or arrived from (or sent by)
 * either side. Its state starts at `sent` or `draft`; the derivation moves it on from there.
 */
export function newRequestRow(
  content: RequestContent,
  at: {
    direction: 'in' | 'out';
    requesting: string;
    requested: string;
    envelopeId: string | null;
    createdAt: string;
    sentAt: string | null;
    deliveredAt: string | null;
  },
): RequestRow {
  const hash = requestHash(content);
  return {
    id: content.id,
    direction: at.direction,
    requestType: content.requestType,
    requesting: at.requesting,
    requested: at.requested,
    title: content.title,
    urgency: content.urgency,
    deadline: content.deadline ?? null,
    dataRetentionUntil: content.dataRetentionUntil ?? null,
    content: JSON.stringify(content),
    requestHash: hash,
    envelopeId: at.envelopeId,
    createdAt: at.createdAt,
    sentAt: at.sentAt,
    deliveredAt: at.deliveredAt,
    state: at.sentAt === null ? 'draft' : 'sent',
    stateAt: at.sentAt ?? at.createdAt,
    seq: 0,
    tip: hash,
  };
}

/**
 * What a node knows of its requests: each request's state rebuilt from its status updates, the
 * story in order, deadlines and the records statistics are made of. RequestDesk adds the writes.
 */
export class RequestRecords {
  /** @param receipts signs the read receipt of an item opened for the first time. */
  constructor(
    protected readonly node: NodePort,
    protected readonly receipts: { read(envelopeId: string): void },
  ) {}

  protected get rows() {
    return this.node.store.requests;
  }

  /** The stored request, by id, id prefix or the requesting side's reference; REQUEST_NOT_FOUND otherwise. */
  mustExist(idOrPrefix: string): RequestRow {
    const row = this.rows.request(idOrPrefix);
    if (!row) {
      throw new EntraideError('REQUEST_NOT_FOUND', `no request ${idOrPrefix} on this node`);
    }
    return row;
  }

  protected sideOf(
    row: Pick<RequestRow, 'requesting' | 'requested'>,
    authority = this.node.authority,
  ): Side | null {
    if (authority === row.requesting) return 'requesting';
    if (authority === row.requested) return 'requested';
    return null;
  }

  protected counterpart(row: RequestRow): string {
    return row.direction === 'out' ? row.requested : row.requesting;
  }

  protected content(row: RequestRow): RequestContent {
    return JSON.parse(row.content) as RequestContent;
  }

  // ---- deriving state -----------------------------------------------------------------------

  /** The request's state from every status update this node holds (shared/requests/history.ts). */
  derive(row: RequestRow): DerivedRequest {
    const updates: VerifiedUpdate[] = [];
    for (const u of this.rows.updates(row.id)) {
      const update = JSON.parse(u.signed) as StatusUpdate;
      const side = this.sideOf(row, parseNodeAddress(update.by).authority);
      if (side) updates.push({ update, hash: u.hash, side });
    }
    return deriveRequest(
      {
        requestType: row.requestType,
        requestHash: row.requestHash,
        sentAt: row.sentAt,
        deliveredAt: this.deliveredAt(row),
      },
      updates,
    );
  }

  /** When a node of the requested authority first stored the request (its receipt, or our own arrival). */
  protected deliveredAt(row: RequestRow): string | null {
    if (row.direction === 'in' && row.deliveredAt) return row.deliveredAt;
    if (!row.envelopeId) return null;
    const times = this.rows
      .receiptsFromAuthority(row.envelopeId, row.requesting)
      .filter(
        (r) =>
          r.direction === 'in' &&
          r.kind === 'delivered' &&
          parseNodeAddress(r.node).authority === row.requested,
      )
      .map((r) => new Date(r.at).toISOString())
      .sort();
    return times[0] ?? row.deliveredAt;
  }

  /** Recomputes and caches a request's state; synchronous, for use inside a transaction. */
  rederive(id: string): void {
    const row = this.rows.requestById(id);
    if (!row) return;
    const d = this.derive(row);
    const last = d.history.at(-1)?.update.at;
    this.rows.setDerived({
      id,
      state: d.state,
      stateAt: last ? new Date(last).toISOString() : (d.times.delivered ?? row.sentAt ?? row.createdAt),
      seq: d.seq,
      tip: d.tip,
      deliveredAt: d.times.delivered ?? null,
    });
  }

  // ---- reading ------------------------------------------------------------------------------

  protected summary(row: RequestRow, nowMs: number, d = this.derive(row)): RequestSummary {
    const content = this.content(row);
    const ack = d.history.find((h) => h.update.status === 'acknowledged' && h.update.reference);
    return {
      id: row.id,
      direction: row.direction,
      requestType: row.requestType,
      requesting: row.requesting,
      requested: row.requested,
      counterpart: this.counterpart(row),
      title: row.title,
      urgency: row.urgency,
      state: d.state,
      stateAt: row.stateAt,
      sentAt: row.sentAt,
      deliveredAt: d.times.delivered ?? null,
      deadline: effectiveDeadline(content),
      caseReference: content.caseReference ?? null,
      references: {
        requesting: content.references.requesting,
        requested: ack?.update.reference ?? content.references.requested ?? null,
      },
      flags: flags(
        {
          ...content,
          state: d.state,
          times: d.times,
          followedUp: followedUp(this.rows, row),
          translationArrived: translationArrived(this.node.store, row.id, content),
        },
        nowMs,
      ),
    };
  }

  list(
    filter: {
      status?: string | undefined;
      overdue?: boolean;
      dueSoon?: boolean;
      direction?: 'out' | 'in';
      case?: string;
    } = {},
  ): RequestSummary[] {
    if (filter.status !== undefined && !isStatus(filter.status)) {
      throw new EntraideError(
        'STATUS_UNKNOWN',
        `"${filter.status}" is not a status; the statuses are: ${STATUSES.join(', ')}`,
      );
    }
    const now = Date.now();
    return this.rows
      .requests({
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.direction ? { direction: filter.direction } : {}),
      })
      .map((r) => this.summary(r, now))
      .filter((s) => !filter.case || s.caseReference === filter.case)
      .filter((s) => !filter.overdue || s.flags.includes('overdue'))
      .filter((s) => !filter.dueSoon || s.flags.includes('due_soon') || s.flags.includes('overdue'));
  }

  /** Requests that need attention now: overdue, due soon, undelivered, unacknowledged. */
  reminders(nowMs = Date.now()): RequestSummary[] {
    return this.rows
      .requests({})
      .map((r) => this.summary(r, nowMs))
      .filter((s) => s.flags.length > 0);
  }

  /**
   * The whole story of a request, in order. Opening a received request for the first time sends
   * a read receipt. A request restricted to other nodes is shown only with an override, logged.
   */
  show(idOrPrefix: string, opts: { override?: string | undefined } = {}): RequestDetail {
    const row = this.mustExist(idOrPrefix);
    const content = this.content(row);
    if (row.direction === 'in' && !mayRead(content.handling, parseNodeAddress(this.node.address).nodeName)) {
      if (!opts.override) {
        throw new EntraideError(
          'HANDLING_RESTRICTED',
          `request ${row.id} is for ${content.handling.nodes!.join(', ')} only`,
        );
      }
      this.rows.addOverride({
        at: new Date().toISOString(),
        item: row.id,
        action: 'read',
        reason: opts.override,
        node: this.node.address,
      });
    }
    const d = this.derive(row);
    const story: StoryEntry[] = [];
    // A request kept as a draft for a while has its drafting in the story too.
    if (
      row.direction === 'out' &&
      (!row.sentAt || Date.parse(row.sentAt) - Date.parse(row.createdAt) > 60_000)
    )
      story.push({ at: row.createdAt, what: 'drafted', by: row.requesting, text: 'drafted' });
    if (row.sentAt) {
      const carrier = row.envelopeId ? this.node.store.message(row.envelopeId) : undefined;
      story.push({
        at: row.sentAt,
        what: 'sent',
        by: carrier?.sender ?? row.requesting,
        text: `sent to ${row.requested}`,
        to: row.requested,
        ...(row.envelopeId ? { envelope: row.envelopeId } : {}),
      });
    }
    if (row.envelopeId) {
      for (const r of this.rows.receiptsFromAuthority(row.envelopeId, row.requesting)) {
        story.push({
          at: new Date(r.at).toISOString(),
          what: r.kind as 'delivered' | 'read' | 'downloaded',
          by: r.node,
          text: `${RECEIPT_TEXT[r.kind as ReceiptKind]} ${r.node}`,
        });
      }
    }
    // Each step names the envelope it came in (for its documents); a step of this node's own, too.
    const carriers = new Map(this.rows.updates(row.id).map((u) => [u.hash, u.envelopeId]));
    const step = (u: StatusUpdate, standing?: string, hash?: string): StoryEntry => ({
      at: new Date(u.at).toISOString(),
      what: 'status',
      by: u.by,
      text: [
        u.status,
        u.ground ? `(${u.ground})` : '',
        u.reference ? `ref. ${u.reference}` : '',
        u.note ? `— ${u.note}` : '',
        u.withoutConsultation ? `(without consultation: ${u.withoutConsultation})` : '',
      ]
        .filter(Boolean)
        .join(' '),
      status: u.status,
      ...(u.ground ? { ground: u.ground } : {}),
      ...(u.reference ? { reference: u.reference } : {}),
      ...(u.note ? { note: u.note } : {}),
      ...(u.withoutConsultation ? { withoutConsultation: u.withoutConsultation } : {}),
      ...(standing ? { standing } : {}),
      ...(hash && carriers.get(hash) ? { envelope: carriers.get(hash)! } : {}),
    });
    for (const h of d.history) story.push(step(h.update, undefined, h.hash));
    for (const h of d.superseded) story.push(step(h.update, 'superseded by a concurrent update', h.hash));
    for (const h of d.waiting) story.push(step(h.update, 'waiting for an earlier update', h.hash));
    for (const h of d.invalid) story.push(step(h.update.update, `not applied: ${h.reason}`));
    for (const m of this.node.store.messagesOn(row.id)) {
      story.push({
        at: m.sentAt,
        what: m.kind === 'supplement' ? 'supplement' : 'message',
        by: m.sender,
        text: m.kind === 'supplement' ? `${m.subject}: ${m.body}` : `${m.subject}: ${m.body}`,
        envelope: m.id,
      });
    }
    story.sort((a, b) => a.at.localeCompare(b.at));
    if (row.direction === 'in' && row.envelopeId) {
      const m = this.node.store.message(row.envelopeId);
      if (m && !m.readAt) {
        this.node.store.markRead(m.id, new Date().toISOString());
        this.receipts.read(m.id);
      }
    }
    const side = this.sideOf(row)!;
    const transitions = nextStatuses(d.state, side, row.requestType);
    const states = new Map<number, MeasureState>();
    for (const h of d.history) for (const m of h.update.measures ?? []) states.set(m.index, m.state);
    return {
      ...this.summary(row, Date.now(), d),
      content,
      measures: (content.measures ?? []).map((m, i) => ({
        ...measureOf(m),
        state: states.get(i) ?? 'pending',
      })),
      handling: content.handling,
      warnings: completenessWarnings(content.requestType, content),
      story,
      next: transitions,
      side,
    };
  }

  /** One record per sent or received request, for statistics and their exports (with its codes). */
  records(nowMs = Date.now()): RequestStatsRecord[] {
    const out: RequestStatsRecord[] = [];
    for (const row of this.rows.allRequests()) {
      if (!row.sentAt) continue;
      const d = this.derive(row);
      const content = this.content(row);
      const sentAt = new Date(row.sentAt).toISOString();
      out.push({
        requestId: row.id,
        requesting: row.requesting,
        requested: row.requested,
        ...requestCodes(content, d),
        direction: row.direction,
        counterpart: this.counterpart(row),
        requestType: content.requestType,
        urgency: content.urgency,
        state: d.state,
        sentAt,
        acknowledgeSeconds: secondsBetween(sentAt, d.times.acknowledged),
        executeSeconds: secondsBetween(sentAt, firstExecution(d.times)),
        flags: flags({ ...content, state: d.state, times: d.times }, nowMs),
      });
    }
    return out;
  }
}
