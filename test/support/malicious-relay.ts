/**
 * A deliberately malicious relay operator, for adversarial tests. The operator holds the relay key,
 * so whatever key log it shows is *correctly signed*: only the nodes' own checks (consistency with
 * the head they stored, inclusion proofs, the signatures inside each event, self-monitoring) can
 * catch it. This is an HTTP proxy on 127.0.0.1 in front of a real test relay: every request is
 * forwarded unchanged, except that, once `serveLog` is called, the key-log and directory routes are
 * answered from a Merkle tree of the leaves the test chose, with a head signed by the relay key.
 *
 * `impersonatePeer` plays a peer relay the same way: the operator gives its own key as the peer's
 * (GET /v1/peers, and the peer's /relay answer) and serves a "peer key log" signed with it.
 *
 * Plain HTTP only (no websocket upgrade): nodes behind it send over HTTP and fetch their inbox.
 */
import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toBase64url } from '../../shared/bytes.ts';
import type { ErrorBody, ErrorCode } from '../../shared/errors.ts';
import { keyLogLeafHash } from '../../shared/keys/key-log-leaf.ts';
import { signTreeHead } from '../../shared/keys/tree-head.ts';
import { LIMITS } from '../../shared/limits.ts';
import { MerkleTree } from '../../shared/merkle/memory-tree.ts';
import type { DirectoryEntry, KeyLogLeaf, SignedTreeHead } from '../../shared/protocol/key-log.ts';
import { decodeJwt } from 'jose';
import { ANSWER_HEADER, signFederationAnswer } from '../../server/federation/s2s-token.ts';
import type { TestRelay } from './fixtures.ts';

export interface ServeOptions {
  /** Log indexes left out of every directory answer (though they stay in the tree and its entries). */
  withhold?: readonly number[];
  /**
   * Consistency proofs are forwarded to the real relay: with `serveLog` of a prefix of the real log,
   * an honest relay that lags (a stale cache), not a liar.
   */
  proofsFromRelay?: boolean;
  /**
   * The forged log is shown to peer relays only (the /v1/federation key-log and directory routes,
   * and through them to the peers' nodes), while this relay's own nodes see the real one: a peer
   * relay that lies about its authorities' keys to the rest of the network.
   */
  toPeersOnly?: boolean;
}

interface Forgery {
  leaves: KeyLogLeaf[];
  tree: MerkleTree;
  head: SignedTreeHead;
  withhold: ReadonlySet<number>;
  proofsFromRelay?: boolean;
  toPeersOnly?: boolean;
}

type Answer = { status: number; body: unknown } | undefined;

interface PeerForgery extends Forgery {
  domain: string;
  keepPeerList: boolean;
}

export class MaliciousRelay {
  private forgery: Forgery | undefined;
  /** Every request received (method and path), in order: what the nodes behind it asked. */
  readonly requests: string[] = [];
  private peerForgery: PeerForgery | undefined;
  private readonly server = createServer((req, res) => void this.handle(req, res));

  private constructor(private readonly target: TestRelay) {}

  /** Starts the proxy in front of `target`; honest until `serveLog` is called. */
  static async start(target: TestRelay): Promise<MaliciousRelay> {
    const proxy = new MaliciousRelay(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The base URL nodes are given instead of the relay's. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** The real relay's key log as it stands, read from its own memory. */
  realLeaves(): KeyLogLeaf[] {
    const log = this.target.relay.ctx.keyLog;
    const out: KeyLogLeaf[] = [];
    while (out.length < log.size) out.push(...log.entries(out.length, log.size).map((e) => e.leaf));
    return out;
  }

  /** From now on, shows this key log (signed with the relay key) instead of the real one. */
  serveLog(leaves: readonly KeyLogLeaf[], opts: ServeOptions = {}): SignedTreeHead {
    const tree = MerkleTree.fromLeafHashes(leaves.map(keyLogLeafHash));
    const identity = this.target.relay.identity;
    const head = signTreeHead(
      { log: 'key', relay: identity.domain, size: tree.size, root: tree.root(), timestamp: new Date() },
      identity.secretKey,
    );
    this.forgery = {
      leaves: [...leaves],
      tree,
      head,
      withhold: new Set(opts.withhold ?? []),
      proofsFromRelay: opts.proofsFromRelay ?? false,
      toPeersOnly: opts.toPeersOnly ?? false,
    };
    return head;
  }

  /**
   * From now on, plays peer relay `domain`: its key log (and directory) as these leaves, with a head
   * signed by this relay's own key, which GET /v1/peers and the peer's /relay answer give as the
   * peer's key — unless `keepPeerList`, where only the log is forged and the peer's key told truly.
   */
  impersonatePeer(
    domain: string,
    leaves: readonly KeyLogLeaf[],
    opts: { keepPeerList?: boolean } = {},
  ): SignedTreeHead {
    const tree = MerkleTree.fromLeafHashes(leaves.map(keyLogLeafHash));
    const head = signTreeHead(
      { log: 'key', relay: domain, size: tree.size, root: tree.root(), timestamp: new Date() },
      this.target.relay.identity.secretKey,
    );
    this.peerForgery = {
      domain,
      keepPeerList: opts.keepPeerList ?? false,
      leaves: [...leaves],
      tree,
      head,
      withhold: new Set(),
    };
    return head;
  }

  /** Forwards everything to the real relay again. */
  honest(): void {
    this.forgery = undefined;
    this.peerForgery = undefined;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests.push(`${req.method} ${req.url}`);
    const answer =
      req.method !== 'GET'
        ? undefined
        : ((this.peerForgery ? this.forgePeer(this.peerForgery, req.url ?? '/') : undefined) ??
          (this.forgery ? this.forgeFor(this.forgery, req.url ?? '/') : undefined));
    if (answer) {
      const body = JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'content-type': 'application/json; charset=utf-8',
        ...(await this.signedForPeer(req, answer.status, body)),
      });
      res.end(body);
      return;
    }
    const { hostname, port } = new URL(this.target.url);
    // `connection` is hop-by-hop; one upstream connection per request leaves nothing open at close.
    const { connection: _hop, ...headers } = req.headers;
    const upstream = forward(
      { hostname, port, method: req.method, path: req.url, headers, agent: false },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502).end();
    });
    upstream.end(Buffer.concat(chunks));
  }

  /** The forged answer about the impersonated peer, or undefined to go on. */
  private forgePeer(f: PeerForgery, path: string): Answer {
    const url = new URL(path, 'http://relay.invalid');
    const ownKey = this.target.relay.identity.publicKeyB64;
    if (url.pathname === '/v1/peers' && !f.keepPeerList)
      return { status: 200, body: { peers: [{ domain: f.domain, publicKey: ownKey, alarm: null }] } };
    const prefix = `/v1/relays/${encodeURIComponent(f.domain)}/`;
    if (!url.pathname.startsWith(prefix)) return undefined;
    const rest = url.pathname.slice(prefix.length);
    if (rest === 'relay')
      return f.keepPeerList
        ? undefined
        : { status: 200, body: { domain: f.domain, publicKey: ownKey, version: '0.1.0' } };
    return this.forge(f, `/v1/${rest}${url.search}`);
  }

  /** A forged answer to a peer relay is signed with the relay key for its request, as the relay signs its own. */
  private async signedForPeer(
    req: IncomingMessage,
    status: number,
    body: string,
  ): Promise<Record<string, string>> {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!req.url?.startsWith('/v1/federation/') || !token) return {};
    const claims = decodeJwt(token);
    const identity = this.target.relay.identity;
    const signature = await signFederationAnswer(
      { domain: identity.domain, privateKey: identity.privateKeyObject },
      String(claims.iss),
      { requestId: String(claims.jti), status, body },
      new Date(),
    );
    return { [ANSWER_HEADER]: signature };
  }

  /** With `toPeersOnly`, only what peers ask (under /v1/federation) is forged, and the rest forwarded. */
  private forgeFor(f: Forgery, path: string): Answer {
    if (!f.toPeersOnly) return this.forge(f, path);
    const prefix = '/v1/federation/';
    return path.startsWith(prefix) ? this.forge(f, `/v1/${path.slice(prefix.length)}`) : undefined;
  }

  /** The forged answer to a key-log or directory request, or undefined to forward it. */
  private forge(f: Forgery, path: string): Answer {
    const url = new URL(path, 'http://relay.invalid');
    const q = (name: string) => Number(url.searchParams.get(name) ?? NaN);
    const size = f.tree.size;
    if (url.pathname === '/v1/keylog/head') return { status: 200, body: f.head };
    if (url.pathname === '/v1/keylog/entries') {
      const start = q('start');
      if (!(start >= 0 && start <= size))
        return refusal(400, 'SCHEMA_INVALID', `start ${start} is beyond ${size}`);
      const stop = Math.min(url.searchParams.has('end') ? q('end') : size, size, start + LIMITS.keyLogPage);
      const entries = [];
      for (let i = start; i < stop; i++) entries.push({ index: i, leaf: f.leaves[i]! });
      return { status: 200, body: { entries } };
    }
    if (url.pathname === '/v1/keylog/consistency' && !f.proofsFromRelay) {
      const [from, to] = [q('from'), q('to')];
      if (!(from >= 1 && from <= to && to <= size)) {
        return refusal(400, 'SCHEMA_INVALID', `no consistency proof ${from} -> ${to} in a log of ${size}`);
      }
      return { status: 200, body: { from, to, proof: f.tree.consistencyProof(from, to).map(toBase64url) } };
    }
    const directory = /^\/v1\/directory\/([^/]+)$/.exec(url.pathname);
    if (directory) {
      const authority = decodeURIComponent(directory[1]!);
      const events = f.leaves
        .map((leaf, index) => ({ index, leaf }))
        .filter((e) => e.leaf.authority === authority && !f.withhold.has(e.index))
        .map((e) => ({ ...e, proof: f.tree.inclusionProof(e.index, size).map(toBase64url) }));
      if (!f.leaves.some((l) => l.authority === authority)) {
        return refusal(404, 'UNKNOWN_AUTHORITY', `${authority} is not enrolled on this relay`);
      }
      const body: DirectoryEntry = { authority, head: f.head, events };
      return { status: 200, body };
    }
    return undefined;
  }
}

function refusal(status: number, code: ErrorCode, message: string): Answer {
  const body: ErrorBody = { error: { code, message } };
  return { status, body };
}
