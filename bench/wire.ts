/**
 * Scenarios (b) and (c): pre-sealed envelopes replayed over socket.io.
 *
 * Nodes are built here from shared/crypto keys and enrolled through the relay's HTTP
 * /v1/enrol route (as client/init.ts does, without a keystore or a node database); they log in
 * with the SDK's challenge–response Session. Envelopes are sealed beforehand with sealEnvelope
 * under the senders' real identity keys and the recipients' real encryption keys, so the relay
 * checks real signatures. Recipients are plain socket.io clients that acknowledge every push
 * with { ok: true } without decrypting.
 */
import { io, type Socket } from 'socket.io-client';
import { canonicalBytes } from '../shared/canonical.ts';
import { createAuthorityEnrolment } from '../shared/crypto/enrolment.ts';
import { sealEnvelope } from '../shared/crypto/envelope.ts';
import type { EncryptionKeyPair, SigningKeyPair } from '../shared/crypto/keys.ts';
import { LIMITS } from '../shared/limits.ts';
import { EnrolmentResponse, type Envelope } from '../shared/protocol/schemas.ts';
import { uuidv7 } from '../shared/uuid.ts';
import { random } from '../client/random.ts';
import { Session } from '../client/session.ts';
import { RelayHttp } from '../client/transport/http.ts';
import { InFlight, type StartFn } from './load.ts';

export interface RawNode {
  address: string;
  authority: string;
  identity: SigningKeyPair;
  encryption: EncryptionKeyPair;
}

export interface RawEnrolment {
  node: RawNode;
  /** The /v1/enrol body without its invitation. */
  request: { authority: string; masterKey: string; certificate: unknown; proof: string };
}

/** Keys, certificate and enrolment proof, exactly as client/init.ts makes them (no keystore, no node database). */
export function createRawNode(domain: string, authorityId: string, nodeName: string): RawEnrolment {
  const e = createAuthorityEnrolment({ domain, authorityId, nodeName, now: new Date() }, random);
  return {
    node: { address: e.node, authority: e.authority, identity: e.identity, encryption: e.encryption },
    request: e.request,
  };
}

/** Enrols a raw node through the relay's HTTP route, with a one-time invitation. */
export async function enrolRawNode(relayUrl: string, raw: RawEnrolment, invitation: string): Promise<void> {
  await new RelayHttp(relayUrl).request(EnrolmentResponse, 'POST', '/v1/enrol', {
    invitation,
    ...raw.request,
  });
}

/** A session token for a raw node, by the SDK's challenge–response login. */
export function login(relayUrl: string, domain: string, node: RawNode): Promise<string> {
  return new Session(new RelayHttp(relayUrl), domain, node.address, node.identity.secretKey).current();
}

export const BODY_1KIB = 'x'.repeat(1024);

export interface SealedItem {
  sender: number;
  envelope: Envelope;
}

/** Envelope k goes from sender k mod N to recipient k mod N, with a 1 KiB message body. */
export function sealMany(
  senders: RawNode[],
  recipients: RawNode[],
  count: number,
  tag: string,
): SealedItem[] {
  const items: SealedItem[] = [];
  for (let k = 0; k < count; k++) {
    const s = k % senders.length;
    const from = senders[s]!;
    const to = recipients[s]!;
    const content = canonicalBytes({ type: 'message', subject: `${tag} ${k}`, body: BODY_1KIB });
    const sentAt = new Date();
    const envelope = sealEnvelope(
      {
        id: uuidv7(sentAt.getTime(), random(10)),
        from: from.address,
        to: [to.authority],
        sentAt,
        ttl: LIMITS.defaultTtlSeconds,
        recipients: [{ node: to.address, encryptionKey: to.encryption.publicKey }],
        content,
      },
      from.identity.secretKey,
      random,
    );
    items.push({ sender: s, envelope });
  }
  return items;
}

type Ack = (answer: unknown) => void;

function connect(url: string, auth: Record<string, string>, timeoutMs = 10_000): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    auth,
    forceNew: true,
    reconnection: false,
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.disconnect();
      reject(new Error(`socket.io connection to ${url} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      clearTimeout(timer);
      socket.disconnect();
      reject(
        new Error(
          `socket.io connection to ${url} failed: ${err.message} ${err.data ? JSON.stringify(err.data) : ''}`,
        ),
      );
    });
  });
}

/** Sender and recipient sockets on one server, and the bookkeeping of what is in flight. */
export class WireDriver {
  readonly flight = new InFlight();
  disconnects = 0;

  private constructor(
    private readonly senders: Socket[],
    private readonly recipients: Socket[],
  ) {
    for (const r of recipients) {
      r.on('envelope', (env: { id?: unknown }, ack: Ack) => {
        // The recipient "stores" nothing: it acknowledges at once so that the relay marks it delivered.
        if (typeof ack === 'function') ack({ ok: true });
        if (typeof env?.id === 'string') this.flight.delivered(env.id);
      });
    }
    for (const s of [...senders, ...recipients]) s.on('disconnect', () => this.disconnects++);
  }

  /** `auth(i, role)` gives the handshake of sender or recipient i. */
  static async open(
    url: string,
    n: number,
    auth: (i: number, role: 'sender' | 'recipient') => Record<string, string>,
  ): Promise<WireDriver> {
    const all: Socket[] = [];
    try {
      const recipients: Socket[] = [];
      for (let i = 0; i < n; i++) {
        const s = await connect(url, auth(i, 'recipient'));
        all.push(s);
        recipients.push(s);
      }
      const senders: Socket[] = [];
      for (let i = 0; i < n; i++) {
        const s = await connect(url, auth(i, 'sender'));
        all.push(s);
        senders.push(s);
      }
      return new WireDriver(senders, recipients);
    } catch (err) {
      for (const s of all) s.disconnect();
      throw err;
    }
  }

  /** A StartFn replaying `items` in order: submit with ack; done when acked and pushed. */
  starter(items: SealedItem[], ackTimeoutMs = 30_000): StartFn {
    return (i, finish) => {
      const item = items[i];
      if (!item) {
        finish({ ok: false, reason: `no envelope #${i}` });
        return;
      }
      const id = item.envelope.id;
      this.flight.begin(id, finish);
      this.senders[item.sender]!.timeout(ackTimeoutMs).emit(
        'envelope:submit',
        item.envelope,
        (err: Error | null, answer?: unknown) => {
          if (err) {
            this.flight.failed(id, `no ack: ${err.message}`);
            return;
          }
          const a = answer as
            { status?: string; duplicate?: boolean; error?: { code?: string; message?: string } } | undefined;
          if (a?.status === 'accepted' && !a.duplicate) this.flight.accepted(id);
          else this.flight.failed(id, `refused: ${JSON.stringify(answer).slice(0, 200)}`);
        },
      );
    };
  }

  close(): void {
    for (const s of [...this.senders, ...this.recipients]) s.disconnect();
  }
}
