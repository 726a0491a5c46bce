/**
 * The commands that go through the node's service while it runs (inbox, read, sent, send, request
 * list, request show), declared once for both ways of answering them: the full CLI (main.ts, which
 * opens the node when no service runs) and the served path (fast.ts, which loads only this, commander
 * and the printing). Each action asks a Desk, so the options, help, errors and output are the same.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FILE_ROLES, type FileRole } from '../../shared/files/roles.ts';
import type { Attachment } from '../documents/seal-file.ts';
import type { ExportedFile } from '../service/desk-documents.ts';
import { EntraideError } from '../../shared/errors.ts';
import type { SendResult } from '../node.ts';
import type { RequestDetail, RequestSummary } from '../requests.ts';
import type { InboxView, ListedWithBody, RequestFilterInput, SendInput } from '../service/desk.ts';
import type { StoredMessage } from '../store/node-store.ts';
import { confirmedThrough, UNVERIFIED_OK_OPTION } from './fast-confirm.ts';
import { json, out, query } from './fast-io.ts';
import type { ServiceCalls } from './fast-service.ts';
import { listLine, printInbox, printMessage } from './format-messages.ts';
import { tellIfQueued } from './format-queued.ts';
import { printRequestList } from './format-requests.ts';

export type Run = (fn: () => Promise<void>) => Promise<void>;

export interface RequestListView {
  requests: RequestSummary[];
  unverified: string[];
  /** False when the relay did not answer (what the node holds is listed). */
  fetched: boolean;
}

/** What the served commands ask of the node, opened here or through its service. */
export interface Desk {
  /** With `bodies`, each item's text too (for --json). */
  inbox(limit: number, bodies?: boolean): Promise<InboxView>;
  sent(bodies?: boolean): Promise<ListedWithBody[]>;
  read(id: string, override?: string): Promise<StoredMessage>;
  /** Sends, after the officer confirmed counterparts never verified (unverified.ts). */
  send(input: SendInput): Promise<SendResult>;
  /** Downloads an item's documents (resumable) and writes them, verified, into `out`. */
  download(id: string, out: string, override?: string): Promise<{ files: ExportedFile[] }>;
  requestList(filter: RequestFilterInput): Promise<RequestListView>;
  requestShow(id: string, override?: string): Promise<RequestDetail>;
}

/** The Desk of the node's service (its JSON API, client/service/service-app.ts). */
export function servedDesk(svc: ServiceCalls): Desk {
  return {
    inbox: (limit, bodies) =>
      svc.get(`/api/v1/inbox${query({ limit: String(limit), bodies: bodies ? 'true' : undefined })}`),
    sent: (bodies) => svc.get(`/api/v1/sent${query({ bodies: bodies ? 'true' : undefined })}`),
    read: (id, override) => svc.get(`/api/v1/messages/${encodeURIComponent(id)}${query({ override })}`),
    send: (input) =>
      confirmedThrough((extra) => svc.post<SendResult>('/api/v1/messages', { ...input, ...extra }), input.to),
    download: (id, out, override) =>
      svc.post(`/api/v1/messages/${encodeURIComponent(id)}/download`, {
        out,
        ...(override ? { override } : {}),
      }),
    requestList: (filter) => svc.get(`/api/v1/requests${query({ ...filter })}`),
    requestShow: (id, override) =>
      svc.get(`/api/v1/requests/${encodeURIComponent(id)}${query({ override })}`),
  };
}

/** The desk is asked for when a command runs (whether a service runs is decided then). */
type DeskOf = () => Desk;

interface SendOptions {
  to: string[];
  subject: string;
  body?: string;
  bodyFile?: string;
  language?: string;
  unverifiedOk?: boolean;
  json?: boolean;
  attach?: string[];
  role?: string[];
  fileLanguage?: string[];
}

/**
 * The files of --attach, each with its role and language: one --role (or --file-language) for all
 * files, or one per file in the order of --attach. A translation names the file it translates as
 * #N (its place in --attach) with --translation-of.
 */
export function attachmentsOf(o: FileOptions): Attachment[] | undefined {
  if (!o.attach?.length) {
    if (o.role?.length || o.fileLanguage?.length)
      throw new EntraideError('USAGE', '--role and --file-language describe files: name them with --attach');
    return undefined;
  }
  const files = o.attach;
  const pick = (list: string[] | undefined, i: number, what: string): string | undefined => {
    if (!list?.length) return undefined;
    if (list.length !== 1 && list.length !== files.length)
      throw new EntraideError('USAGE', `give one ${what} for all files or one per file (${files.length})`);
    return list.length === 1 ? list[0] : list[i];
  };
  return files.map((path, i) => {
    const role = pick(o.role, i, '--role') ?? 'supporting_document';
    if (!(FILE_ROLES as readonly string[]).includes(role))
      throw new EntraideError(
        'USAGE',
        `--role ${role} is not a document role; use one of ${FILE_ROLES.join(', ')}`,
      );
    const language = pick(o.fileLanguage, i, '--file-language') ?? o.language;
    return {
      path: resolve(path),
      role: role as FileRole,
      ...(language ? { language } : {}),
      ...(role === 'translation' && o.translationOf ? { translationOf: o.translationOf } : {}),
    };
  });
}

/** What the commands that attach files read of their options. */
export interface FileOptions {
  attach?: string[];
  role?: string[];
  fileLanguage?: string[];
  language?: string;
  translationOf?: string;
}

export const TRANSLATION_OF_OPTION: [string, string] = [
  '--translation-of <#N>',
  'for files of role translation: the attached file they translate, by its place in --attach (#1, #2…)',
];

export const ATTACH_OPTIONS: [string, string][] = [
  ['--attach <file...>', 'files to seal and send with it (documents; repeatable)'],
  ['--role <role...>', `each file's role: ${FILE_ROLES.join(', ')} (default supporting_document)`],
  ['--file-language <code...>', 'each file’s language (default: the message’s)'],
];

function sendInput(o: SendOptions): SendInput {
  if ((o.body === undefined) === (o.bodyFile === undefined))
    throw new EntraideError('USAGE', 'give the message text with exactly one of --body or --body-file');
  let body = o.body;
  if (o.bodyFile !== undefined) {
    try {
      body = readFileSync(o.bodyFile, 'utf8');
    } catch {
      throw new EntraideError('USAGE', `cannot read --body-file ${o.bodyFile}`);
    }
  }
  const attachments = attachmentsOf(o);
  return {
    to: o.to,
    subject: o.subject,
    body: body!,
    language: o.language,
    unverifiedOk: o.unverifiedOk,
    ...(attachments ? { attachments } : {}),
  };
}

export function sendCommand(program: Command, run: Run, desk: DeskOf): void {
  program
    .command('send')
    .description('encrypt and send a message to one or more authorities')
    .requiredOption('--to <authority-address...>', 'recipient authority, e.g. ke.ag@relay.local (repeatable)')
    .requiredOption('--subject <text>', 'subject line')
    .option('--body <text>', 'message text')
    .option('--body-file <file>', 'read the message text from a file')
    .option('--language <code>', 'language of the message (ar, en, es, fr, ru, zh, …)')
    .option(...ATTACH_OPTIONS[0]!)
    .option(...ATTACH_OPTIONS[1]!)
    .option(...ATTACH_OPTIONS[2]!)
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action((o: SendOptions) =>
      run(async () => {
        const r = await desk().send(sendInput(o));
        if (o.json) return json(r);
        out(r.id);
        tellIfQueued(r);
      }),
    );
}

export function downloadCommand(program: Command, run: Run, desk: DeskOf): void {
  program
    .command('download <id>')
    .description(
      'download the documents of a message or request (resumable), verify them and write them into a folder',
    )
    .option('--out <dir>', 'the folder to write the files into', '.')
    .option('--override <reason>', 'open an item restricted to other officers (logged)')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { out: string; override?: string; json?: boolean }) =>
      run(async () => {
        const r = await desk().download(id, resolve(o.out), o.override);
        if (o.json) return json(r);
        for (const f of r.files) out(`${f.path}  ${f.size} bytes  ${f.role}  sha256 ${f.sha256}`);
      }),
    );
}

export function inboxCommand(program: Command, run: Run, desk: DeskOf): void {
  program
    .command('inbox')
    .description('fetch what is waiting on the relay, store it, list received messages')
    .option('--json', 'machine-readable output')
    .option('--limit <n>', 'how many messages to list', '50')
    .action((o: { json?: boolean; limit: string }) =>
      run(async () => {
        const v = await desk().inbox(Number(o.limit) || 50, o.json === true);
        if (o.json) return json(v);
        printInbox(v);
      }),
    );
}

export function sentCommand(program: Command, run: Run, desk: DeskOf): void {
  program
    .command('sent')
    .description('list messages sent from this node')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) =>
      run(async () => {
        const list = await desk().sent(o.json === true);
        if (o.json) return json(list);
        for (const m of list) out(listLine(m));
      }),
    );
}

export function readCommand(program: Command, run: Run, desk: DeskOf): void {
  program
    .command('read <id>')
    .description('show one message (an id prefix is enough); the first opening sends a read receipt')
    .option('--override <reason>', 'open an item restricted to other officers (logged)')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { json?: boolean; override?: string }) =>
      run(async () => {
        const m = await desk().read(id, o.override);
        if (o.json) return json(m);
        printMessage(m);
      }),
    );
}

export function requestListCommand(request: Command, run: Run, desk: DeskOf): void {
  request
    .command('list')
    .description('requests sent and received, newest first, with their status and flags')
    .option('--status <status>', 'only requests in this status')
    .option('--overdue', 'only requests past their deadline')
    .option('--due-soon', 'only requests due within three days (or overdue)')
    .option('--sent', 'only requests this authority sent')
    .option('--received', 'only requests this authority received')
    .option('--case <reference>', 'only the requests of this case (their case reference)')
    .option('--json', 'machine-readable output')
    .action(
      (o: {
        status?: string;
        overdue?: boolean;
        dueSoon?: boolean;
        sent?: boolean;
        received?: boolean;
        case?: string;
        json?: boolean;
      }) =>
        run(async () => {
          const v = await desk().requestList({
            status: o.status,
            overdue: o.overdue,
            dueSoon: o.dueSoon,
            direction: o.sent ? 'out' : o.received ? 'in' : undefined,
            case: o.case,
          });
          if (!v.fetched)
            process.stderr.write('entraide: the relay does not answer; showing what this node holds\n');
          if (o.json) return json(v.requests);
          printRequestList(v);
        }),
    );
}

export function requestShowCommand(request: Command, run: Run, desk: DeskOf): void {
  request
    .command('show <id>')
    .description(
      'a request and its whole story: statuses, receipts, supplements, messages (id, prefix or reference)',
    )
    .option('--override <reason>', 'open a request restricted to other officers (logged)')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { override?: string; json?: boolean }) =>
      run(async () => {
        const d = await desk().requestShow(id, o.override);
        if (o.json) return json(d);
        // Loaded here: describing the handling brings the schema library (format-request-show.ts).
        const { printRequestShow } = await import('./format-request-show.ts');
        printRequestShow(d);
      }),
    );
}
