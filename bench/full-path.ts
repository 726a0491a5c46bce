/**
 * Scenario (a): the full path through the real SDK. Each node is created with initNode and
 * opened with AuthorityNode.open in its own temp folder; every node listens (so that senders
 * submit over their socket, as the SDK does when one is open). Sender i sends to recipient i.
 * A message is complete when send() has resolved (accepted after the relay's commit) and the
 * recipient's onReceive has fired for it (verified, decrypted, stored, acknowledged).
 */
import { join } from 'node:path';
import { initNode } from '../client/init.ts';
import { AuthorityNode } from '../client/node.ts';
import { CommitStats, countCalls, instrumentSyncMethod, instrumentTransactions } from './instrument.ts';
import { InFlight, type StartFn } from './load.ts';
import { BODY_1KIB } from './wire.ts';

export const PASSPHRASE = 'bench passphrase, not a secret';

export class FullPath {
  readonly flight = new InFlight();
  /** Commits of the nodes' own databases (all nodes of this process together). */
  readonly commits = new CommitStats();
  rejected = 0;
  errors: string[] = [];

  private constructor(
    readonly senders: AuthorityNode[],
    readonly recipients: AuthorityNode[],
  ) {}

  /** Enrols n sender and n recipient authorities (one node each) and connects them all. */
  static async open(
    relayUrl: string,
    invitations: Record<string, string>,
    n: number,
    root: string,
  ): Promise<FullPath> {
    const opened: AuthorityNode[] = [];
    try {
      const make = async (authorityId: string) => {
        const home = join(root, `node-${authorityId}`);
        const invite = invitations[authorityId];
        if (!invite) throw new Error(`no invitation for ${authorityId}`);
        await initNode({ home, relayUrl, invite, authorityId, nodeName: 'desk1', passphrase: PASSPHRASE });
        const node = await AuthorityNode.open(home, PASSPHRASE);
        opened.push(node);
        return node;
      };
      const senders: AuthorityNode[] = [];
      const recipients: AuthorityNode[] = [];
      for (let i = 0; i < n; i++) {
        senders.push(await make(senderId(i)));
        recipients.push(await make(recipientId(i)));
      }
      const fp = new FullPath(senders, recipients);
      for (const node of opened) {
        instrumentTransactions(node.store.db, fp.commits);
        instrumentSyncMethod(node.store, 'markAccepted', 'markAccepted', fp.commits);
        countCalls(node.store, 'saveMessage', 'save', fp.commits);
      }
      for (const r of recipients) {
        await r.listen({
          onReceive: (o) => {
            if (o.kind === 'message') fp.flight.delivered(o.message.subject);
            else fp.rejected++;
          },
          onError: (e) => fp.note(`recipient ${r.address}: ${e.code} ${e.message}`),
        });
      }
      for (const s of senders)
        await s.listen({ onError: (e) => fp.note(`sender ${s.address}: ${e.code} ${e.message}`) });
      return fp;
    } catch (err) {
      for (const node of opened) await node.close().catch(() => undefined);
      throw err;
    }
  }

  private note(msg: string): void {
    if (this.errors.length < 20) this.errors.push(msg);
  }

  /** Message i: sender i mod n sends a 1 KiB body to recipient i mod n; the subject is the key. */
  starter(tag: string): StartFn {
    return (i, finish) => {
      const s = i % this.senders.length;
      const key = `${tag} ${i}`;
      this.flight.begin(key, finish);
      this.senders[s]!.send({ to: [this.recipients[s]!.authority], subject: key, body: BODY_1KIB }).then(
        () => this.flight.accepted(key),
        (err: unknown) =>
          this.flight.failed(key, `send failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    };
  }

  async close(): Promise<void> {
    for (const node of [...this.senders, ...this.recipients]) await node.close().catch(() => undefined);
  }
}

export function senderId(i: number): string {
  return `s${i}.bench`;
}

export function recipientId(i: number): string {
  return `r${i}.bench`;
}
