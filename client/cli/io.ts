/** What every command shares: the node's home, the passphrase, output, and one-line errors. */
import { downloadView } from '../service/desk-documents.ts';
import { terminalProgress } from './progress.ts';
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { EntraideError } from '../../shared/errors.ts';
import { newPassphraseProblem, requireNewPassphrase } from '../../shared/protocol/passphrase-kdf.ts';
import { completeJoin } from '../join.ts';
import { AuthorityNode } from '../node.ts';
import { inboxView, listing, readView, requestListView, requestShowView, sendView } from '../service/desk.ts';
import { readServiceFile, ServiceClient } from '../service/service-file.ts';
import { servedDesk, type Desk } from './fast-commands.ts';
import { homeDir, type GlobalOptions } from './fast-io.ts';
import { confirmCounterparts } from './unverified.ts';

// The light helpers live in fast-io.ts (the served path loads them without the node).
export { fail, homeDir, json, out, query, shortTime, type GlobalOptions } from './fast-io.ts';

/**
 * ENTRAIDE_PASSPHRASE, or a prompt without echo when a terminal is attached. `confirm` is for a
 * passphrase being chosen: typed twice, and refused (PASSPHRASE_TOO_SHORT) under
 * MIN_PASSPHRASE_CHARS characters.
 */
export async function passphrase(confirm = false): Promise<string> {
  const fromEnv = process.env.ENTRAIDE_PASSPHRASE;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (confirm) requireNewPassphrase(fromEnv);
    return fromEnv;
  }
  if (!process.stdin.isTTY) {
    throw new EntraideError(
      'PASSPHRASE_REQUIRED',
      'no passphrase: set ENTRAIDE_PASSPHRASE or run in a terminal',
    );
  }
  const first = await prompt('Passphrase: ');
  if (confirm && first) requireNewPassphrase(first);
  if (confirm) {
    const second = await prompt('Passphrase again: ');
    if (first !== second) throw new EntraideError('USAGE', 'the two passphrases differ');
  }
  if (!first) throw new EntraideError('PASSPHRASE_REQUIRED', 'the passphrase must not be empty');
  return first;
}

/**
 * A passphrase being chosen for a keystore that `why` names: ENTRAIDE_NEW_PASSPHRASE, or a prompt
 * without echo, typed twice. PASSPHRASE_TOO_SHORT under MIN_PASSPHRASE_CHARS characters.
 */
export async function newPassphrase(why: string): Promise<string> {
  const fromEnv = process.env.ENTRAIDE_NEW_PASSPHRASE;
  let chosen: string;
  if (fromEnv !== undefined && fromEnv !== '') chosen = fromEnv;
  else {
    if (!process.stdin.isTTY) {
      throw new EntraideError(
        'PASSPHRASE_REQUIRED',
        `${why}: set ENTRAIDE_NEW_PASSPHRASE or run in a terminal to be asked`,
      );
    }
    process.stderr.write(`${why}.\n`);
    chosen = await prompt('New passphrase: ');
    if ((await prompt('New passphrase again: ')) !== chosen)
      throw new EntraideError('USAGE', 'the two passphrases differ');
  }
  if (!chosen) throw new EntraideError('PASSPHRASE_REQUIRED', 'the new passphrase must not be empty');
  requireNewPassphrase(chosen);
  return chosen;
}

/**
 * The passphrase of a backup being restored, and a new one for the restored keystore when the
 * backup's is too short for a keystore now (a backup made under a shorter passphrase still restores).
 */
export async function restoringPassphrases(): Promise<{ passphrase: string; newPassphrase?: string }> {
  const secret = await passphrase();
  const fresh = newPassphraseProblem(secret)
    ? await newPassphrase('the backup’s passphrase is too short for the restored node: choose a new one')
    : undefined;
  return { passphrase: secret, newPassphrase: fresh };
}

/** The commands that go through the node's service while it runs. */
export const SERVED_COMMANDS = 'inbox, read, sent, send, download, request list, request show and stats';

function prompt(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolveAnswer) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolveAnswer(answer);
    });
    muted = true;
  });
}

/** What opening the node set right or wants the officer to do (AuthorityNode.notices), on stderr. */
export function tellNotices(node: AuthorityNode): void {
  for (const notice of node.notices) process.stderr.write(`entraide: notice: ${notice}\n`);
}

/** The node's local service, when `entraide serve` runs on this command's folder (commands that go through it). */
export function servedBy(program: Command): ServiceClient | undefined {
  const file = readServiceFile(homeDir(program.opts<GlobalOptions>()));
  return file ? new ServiceClient(file) : undefined;
}

/** What `path` of the node's service answers while it runs on this folder, else `local` on the node opened here. */
export async function fromNode<T>(
  program: Command,
  path: string,
  local: (node: AuthorityNode) => Promise<T>,
): Promise<T> {
  const svc = servedBy(program);
  return svc ? svc.get<T>(path) : withNode(program, local);
}

/** The Desk of the served commands (fast-commands.ts): the node's service if it runs, else the node opened here. */
export function deskOf(program: Command): Desk {
  const svc = servedBy(program);
  if (svc) return servedDesk(svc);
  return {
    inbox: (limit, bodies) => withNode(program, (node) => inboxView(node, limit, { bodies })),
    sent: (bodies) => withNode(program, async (node) => listing(node.sent(), bodies === true)),
    read: (id, override) => withNode(program, (node) => readView(node, id, override)),
    download: (id, out, override) => withNode(program, (node) => downloadView(node, id, out, override)),
    send: (input) =>
      withNode(program, async (node) =>
        sendView(node, {
          ...input,
          confirmed: await confirmCounterparts(node, input.to, input.unverifiedOk),
        }),
      ),
    requestList: (filter) => withNode(program, (node) => requestListView(node, filter)),
    requestShow: (id, override) => withNode(program, (node) => requestShowView(node, id, override)),
  };
}

/** Opens the node of --home with the passphrase, runs `fn`, closes it. */
export async function withNode<T>(program: Command, fn: (node: AuthorityNode) => Promise<T>): Promise<T> {
  const home = homeDir(program.opts<GlobalOptions>());
  const served = readServiceFile(home);
  if (served) {
    throw new EntraideError(
      'HOME_LOCKED',
      `node folder ${home} is held by its service (entraide serve, process ${served.pid}, ${served.url}): ${SERVED_COMMANDS} go through it; for this command, stop the service first`,
    );
  }
  const node = await AuthorityNode.open(home, await passphrase());
  tellNotices(node);
  node.documents.progress = terminalProgress();
  // The relay's key rotated (followed at login through the rollover it signed), a peer relay's key
  // was pinned or followed: said on stderr, once.
  node.onAlarm((a) => {
    if (['relay-key-rotated', 'peer-key-pinned', 'peer-key-rotated'].includes(a.kind))
      process.stderr.write(`entraide: ${a.message}\n`);
  });
  try {
    // A joining node becomes usable by the first command after its approval.
    if (!node.approved) await completeJoin(node);
    return await fn(node);
  } finally {
    await node.close();
  }
}
