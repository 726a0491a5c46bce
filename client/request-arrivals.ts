/**
 * Requests, status updates and supplements that arrive from a counterpart: checked against the
 * rules of shared/requests/ (the same as when this node sends), then stored in the transaction
 * that stores the envelope. RequestDesk (requests.ts) adds drafting and sending.
 */
import { parseNodeAddress } from '../shared/addresses.ts';
import { EntraideError } from '../shared/errors.ts';
import type { RequestContent, StatusContent, SupplementContent } from '../shared/protocol/content.ts';
import { SUPPLEMENT_SUBJECTS } from '../shared/protocol/content.ts';
import type { Envelope } from '../shared/protocol/schemas.ts';
import {
  requestHash,
  updateHash,
  verifyStatusUpdate,
  type StatusUpdate,
} from '../shared/requests/status-update.ts';
import { standaloneBreach } from '../shared/requests/status-rules.ts';
import type { AcceptedRecord } from './node-port.ts';
import { newRequestRow, RequestRecords } from './request-records.ts';

export class RequestArrivals extends RequestRecords {
  /** Stores a status update (sent or received) and derives the request's state again. */
  protected storeUpdate(update: StatusUpdate, hash: string, envelopeId: string | null): void {
    this.rows.insertUpdate({
      hash,
      requestId: update.request,
      seq: update.seq,
      status: update.status,
      byNode: update.by,
      at: update.at,
      signed: JSON.stringify(update),
      envelopeId,
      receivedAt: new Date().toISOString(),
    });
    if (this.rows.requestById(update.request)) this.rederive(update.request);
  }

  /** Checks a request, status update or supplement that arrived, and says how to store it. */
  accept(
    env: Envelope,
    content: RequestContent | StatusContent | SupplementContent,
    senderIdentityKey: string,
    receivedAt: string,
  ): AcceptedRecord {
    const senderAuthority = parseNodeAddress(env.from).authority;
    if (content.type === 'request') return this.acceptRequest(env, content, senderAuthority, receivedAt);
    if (content.type === 'status') {
      const u = content.update;
      if (u.by !== env.from) {
        throw new EntraideError(
          'CONTENT_INVALID',
          `status update in ${env.id} is signed for ${u.by}, not its sender`,
        );
      }
      if (!verifyStatusUpdate(u, senderIdentityKey)) {
        throw new EntraideError('BAD_SIGNATURE', `status update in ${env.id} is not signed by ${env.from}`);
      }
      const row = this.rows.requestById(u.request);
      const side = row ? this.sideOf(row, senderAuthority) : null;
      if (row && side === null) {
        throw new EntraideError(
          'NOT_A_COUNTERPART',
          `${senderAuthority} is not a party to request ${u.request}`,
        );
      }
      // The rules its author's node applies before signing, held here too (status-rules.ts): those
      // that need no history at once, the others by the derivation, which leaves the update out.
      const breach = row && side ? standaloneBreach(u, side, row) : null;
      if (breach) throw new EntraideError(breach.code, `status update in ${env.id}: ${breach.message}`);
      return {
        record: {
          kind: 'status',
          subject: `status: ${u.status}`,
          body: u.note ?? '',
          language: null,
          requestId: u.request,
          handling: row ? JSON.stringify(this.content(row).handling) : null,
          content: JSON.stringify(content),
        },
        then: () => this.storeUpdate(u, updateHash(u), env.id),
      };
    }
    const row = this.rows.requestById(content.request);
    if (row && senderAuthority !== row.requesting) {
      throw new EntraideError(
        'NOT_A_COUNTERPART',
        `only ${row.requesting} sends supplements to request ${row.id}`,
      );
    }
    return {
      record: {
        kind: 'supplement',
        subject: SUPPLEMENT_SUBJECTS[content.kind],
        body: content.text,
        language: content.language,
        requestId: content.request,
        handling: row ? JSON.stringify(this.content(row).handling) : null,
        content: JSON.stringify(content),
      },
    };
  }

  private acceptRequest(
    env: Envelope,
    content: RequestContent,
    requesting: string,
    receivedAt: string,
  ): AcceptedRecord {
    if (env.to.length !== 1) {
      throw new EntraideError(
        'CONTENT_INVALID',
        `request ${content.id} is addressed to ${env.to.length} authorities; a request has one`,
      );
    }
    const requested = env.to[0]!;
    if (this.node.authority !== requesting && this.node.authority !== requested) {
      throw new EntraideError(
        'NOT_A_COUNTERPART',
        `request ${content.id} is between ${requesting} and ${requested}`,
      );
    }
    const hash = requestHash(content);
    const existing = this.rows.requestById(content.id);
    if (existing && existing.requestHash !== hash) {
      throw new EntraideError(
        'CONTENT_INVALID',
        `request id ${content.id} is already used by another request`,
      );
    }
    const direction = requesting === this.node.authority ? 'out' : 'in';
    return {
      record: {
        kind: 'request',
        subject: content.title,
        body: content.summaryOfFacts ?? '',
        language: content.language,
        requestId: content.id,
        handling: JSON.stringify(content.handling),
        content: JSON.stringify(content),
      },
      then: () => {
        this.rows.insertRequest(
          newRequestRow(content, {
            direction,
            requesting,
            requested,
            envelopeId: env.id,
            createdAt: env.sentAt,
            sentAt: env.sentAt,
            deliveredAt: direction === 'in' ? receivedAt : null,
          }),
        );
        this.rederive(content.id);
      },
    };
  }
}
