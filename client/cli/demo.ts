/**
 * `entraide demo`: a small federated network on this machine, to watch. Three relays (one per
 * regional network of networks.json), two central authorities on each, every relay peered with the
 * others; each authority writes to one on another relay, and the demo prints where each message
 * went and when it arrived. Then the six schedule a video meeting across their time zones
 * (demo-meeting.ts). Before the messages, each authority publishes its directory profile from
 * the networks file and one searches the directory across the relays (demo-directory.ts).
 * Everything listens on 127.0.0.1 and is removed at the end.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Command } from 'commander';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relayKeyFingerprint } from '../../shared/crypto/relay-key.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { ProfileDraft } from '../../shared/protocol/profile.ts';
import { describeAjvError, isValid, validatorOf } from '../../shared/protocol/validate.ts';
import type { AuthorityNode as AuthorityNodeType } from '../node.ts';
import { checkProfiles, demoDirectory } from './demo-directory.ts';
import { demoMeeting } from './demo-meeting.ts';
import { out } from './io.ts';

/**
 * What the demo reads of networks.json; other fields (about, a network's note, requestTypes) are
 * let through. Each profile is checked against ProfileDraft by checkProfiles.
 */
const NetworksFile = Type.Object({
  networks: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      languages: Type.Array(Type.String(), { minItems: 1 }),
      members: Type.Array(Type.String()),
    }),
  ),
  /** Directory profiles keyed by authority id (`bj.moj`); the demo publishes none without them. */
  profiles: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
type NetworksFile = Static<typeof NetworksFile>;

interface DemoData {
  /** The networks DEMO_NETWORKS names, in that order. */
  networks: NetworksFile['networks'];
  profiles: Map<string, ProfileDraft> | undefined;
}

const DEMO_NETWORKS = ['wacap', 'great-lakes', 'crimjust'];
const PASSPHRASE = 'demo passphrase, not for real keys';

/** The checkout's examples/networks.json, from the source tree (client/cli/) or from dist/client/cli/. */
function defaultNetworksFile(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = ['../../examples/networks.json', '../../../examples/networks.json'].map((up) =>
    resolve(here, up),
  );
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

function loadNetworks(file: string): DemoData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new EntraideError('USAGE', `cannot read the networks file ${file}: give one with --networks FILE`);
  }
  if (!isValid(NetworksFile, parsed))
    throw new EntraideError('USAGE', describeAjvError(validatorOf(NetworksFile).errors, file));
  const picked = DEMO_NETWORKS.map((id) => parsed.networks.find((n) => n.id === id));
  if (picked.some((n) => !n || n.members.length < 2)) {
    throw new EntraideError(
      'USAGE',
      `${file} must describe the networks ${DEMO_NETWORKS.join(', ')} with members`,
    );
  }
  return {
    networks: picked as NetworksFile['networks'],
    profiles: parsed.profiles && checkProfiles(file, parsed.profiles),
  };
}

export function demoCommand(program: Command, run: (fn: () => Promise<void>) => Promise<void>): void {
  program
    .command('demo')
    .description(
      'run three federated relays and six authorities on this machine: publish and search their profiles, exchange messages, schedule a meeting',
    )
    .option('--networks <file>', 'networks.json (default: examples/networks.json of the checkout)')
    .option('--keep', 'keep the demo’s folders afterwards (their path is printed)')
    .action((o: { networks?: string; keep?: boolean }) =>
      run(() => runDemo(o.networks ?? defaultNetworksFile(), o.keep ?? false)),
    );
}

async function runDemo(networksFile: string, keep: boolean): Promise<void> {
  const { networks, profiles } = loadNetworks(networksFile);
  const { buildRelay } = await import('../../server/app.ts');
  const admin = await import('../../server/admin.ts');
  const { initNode } = await import('../init.ts');
  const { AuthorityNode } = await import('../node.ts');
  const root = mkdtempSync(join(tmpdir(), 'entraide-demo-'));
  const started = Date.now();
  const t = () => `${String(Date.now() - started).padStart(5)} ms`;
  const relays: Awaited<ReturnType<typeof buildRelay>>[] = [];
  const relayDirs: string[] = [];
  const nodes: AuthorityNodeType[] = [];
  try {
    out(`entraide demo — three relays on 127.0.0.1, folders in ${root}`);
    out('');
    const urls: string[] = [];
    for (const n of networks) {
      relayDirs.push(join(root, `relay-${n.id}`));
      const relay = await buildRelay({
        dataDir: relayDirs.at(-1)!,
        domain: `relay.${n.id}.example`,
        create: true,
        outbox: { baseDelayMs: 100, maxDelayMs: 2_000, pollMs: 200 },
      });
      relays.push(relay);
      urls.push(await relay.listen('127.0.0.1', 0));
      out(`${t()}  relay ${relay.identity.domain} (${n.name}) listens on ${urls.at(-1)}`);
    }
    // As each operator would: through the relay's admin actions, with their checks.
    for (const i of relays.keys()) {
      for (const [j, y] of relays.entries()) {
        if (i === j) continue;
        await admin.addPeer(relayDirs[i]!, {
          domain: y.identity.domain,
          url: urls[j]!,
          publicKey: y.identity.publicKeyB64,
        });
      }
    }
    out(`${t()}  each relay's operator added the two others as peers (domain, URL, public key)`);
    for (const [i, n] of networks.entries()) {
      for (const country of n.members.slice(0, 2)) {
        const id = `${country.toLowerCase()}.moj`;
        const relay = relays[i]!;
        const home = join(root, `node-${id}`);
        const invitation = await admin.inviteAuthority(relayDirs[i]!, id);
        // What `entraide relay invite` gives the authority: the URL, the key's fingerprint, the code.
        await initNode({
          home,
          relayUrl: urls[i]!,
          relayKey: relayKeyFingerprint(relay.identity.publicKeyB64),
          invite: invitation.code,
          authorityId: id,
          nodeName: 'desk1',
          passphrase: PASSPHRASE,
        });
        nodes.push(await AuthorityNode.open(home, PASSPHRASE));
        out(`${t()}  ${nodes.at(-1)!.authority} enrolled its first node on ${relay.identity.domain}`);
      }
    }
    out('');
    await demoDirectory(nodes, profiles, t);
    out('');
    // Each authority writes to one on the next relay, in a language of its network.
    const sent: { id: string; from: string; to: string; at: number }[] = [];
    for (const [k, node] of nodes.entries()) {
      const to = nodes[(k + 2) % nodes.length]!;
      const network = networks[Math.floor(k / 2)]!;
      const language = network.languages[0]!;
      const at = Date.now();
      const r = await node.send({
        to: [to.authority],
        subject: `Request for mutual legal assistance ${2026}/${100 + k}`,
        body: `Please preserve the subscriber data of account ${4400 + k} (sent from ${node.authority}).`,
        language,
      });
      sent.push({ id: r.id, from: node.authority, to: to.authority, at });
      out(
        `${t()}  ${node.authority} → ${to.authority}: sealed for ${r.recipients.length} node(s), accepted by its relay`,
      );
    }
    out('');
    const arrived = new Map<string, number>();
    const deadline = Date.now() + 20_000;
    while (arrived.size < sent.length && Date.now() < deadline) {
      for (const node of nodes) {
        for (const o of await node.fetchInbox()) {
          if (o.kind !== 'message' || arrived.has(o.message.id)) continue;
          arrived.set(o.message.id, Date.now());
          const s = sent.find((x) => x.id === o.message.id);
          out(
            `${t()}  ${node.authority} received "${o.message.subject}" from ${o.message.sender}${s ? ` after ${Date.now() - s.at} ms` : ''}`,
          );
        }
      }
      if (arrived.size < sent.length) await new Promise((r) => setTimeout(r, 100));
    }
    out('');
    for (const s of sent) {
      const node = nodes.find((n) => n.authority === s.from)!;
      const state = await node.deliveryState(s.id);
      const f = state.forwards
        .map((x: { state: string; peer: string }) => `${x.state} to ${x.peer}`)
        .join(', ');
      out(
        `  ${s.from} → ${s.to}: ${f || 'local'}; ${arrived.has(s.id) ? 'stored by the recipient node' : 'NOT DELIVERED'}`,
      );
    }
    out('');
    out(
      `${arrived.size} of ${sent.length} messages delivered across relays, end to end encrypted; each relay saw only ciphertext.`,
    );
    if (arrived.size < sent.length)
      throw new EntraideError('INTERNAL', 'some messages did not arrive within 20 s');
    out('');
    await demoMeeting(nodes, t);
  } finally {
    for (const n of nodes) await n.close().catch(() => undefined);
    for (const r of relays) await r.close().catch(() => undefined);
    if (keep) out(`kept: ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}
