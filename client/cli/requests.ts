/**
 * The officer's commands for requests: request new|check|send|list|show|update|supplement|message|types.
 * Evidence, statistics, forwarding and overrides are in request-evidence.ts.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { EntraideError } from '../../shared/errors.ts';
import { SUPPLEMENT_KINDS } from '../../shared/protocol/content.ts';
import { MEASURE_STATES, type MeasureState } from '../../shared/requests/vocabulary.ts';
import { printRequestTypes } from './request-types.ts';
import {
  CASE_OPTION,
  CONSULTATION_OPTION,
  extendPreservationCommand,
  RELATED_OPTION,
  withLinks,
} from './request-links.ts';
import { consultationCommands } from './consultations.ts';
import type { AuthorityNode } from '../node.ts';
import { fetchIfReachable } from '../service/desk.ts';
import { guidedDraft } from './guided.ts';
import {
  ATTACH_OPTIONS,
  attachmentsOf,
  requestListCommand,
  requestShowCommand,
  TRANSLATION_OF_OPTION,
  type FileOptions,
} from './fast-commands.ts';
import { deskOf, json, out, withNode } from './io.ts';
import { confirmCounterparts, UNVERIFIED_OK_OPTION } from './unverified.ts';
import { tellIfQueued } from './format-queued.ts';
import { readJsonFile } from './read-json.ts';

export type Run = (fn: () => Promise<void>) => Promise<void>;

/** Brings the node up to date with the relay first; offline, the local records are shown. */
export async function refresh(node: AuthorityNode): Promise<void> {
  if (!(await fetchIfReachable(node)))
    process.stderr.write('entraide: the relay does not answer; showing what this node holds\n');
}

/** Sends queued receipts before the node closes; offline they wait for the next command. */
export async function flushReceipts(node: AuthorityNode): Promise<void> {
  await node.receipts.flush().catch(() => undefined);
}

// Printed as the served path prints them (format-requests.ts); requestLine is also used by reminders.
export { requestLine } from './format-requests.ts';

/** `2=executed` as a measure report; USAGE naming what is wrong otherwise. */
function measureReport(text: string): { index: number; state: MeasureState } {
  const m = /^(\d{1,2})=([a-z_]+)$/.exec(text);
  const state = m?.[2] as MeasureState | undefined;
  if (!m || !state || !MEASURE_STATES.includes(state))
    throw new EntraideError(
      'USAGE',
      `--measure ${text}: write NUMBER=STATE, the state one of ${MEASURE_STATES.join(', ')}`,
    );
  return { index: Number(m[1]), state };
}

export function requestCommands(program: Command, run: Run): void {
  const request = program.command('request').description('requests for cooperation and their status');

  request
    .command('types')
    .description('every code a request uses, with its legal source: types, measures, statuses, grounds...')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => run(async () => printRequestTypes(o.json ?? false)));

  request
    .command('check')
    .description(
      'check a request file without sending it: errors, and what a counterpart would send back for',
    )
    .requiredOption('--type <type>', 'request type (entraide request types)')
    .requiredOption('--file <request.json>', 'the request')
    .option('--json', 'machine-readable output')
    .action((o: { type: string; file: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const { warnings } = node.requests.check(o.type, readJsonFile(o.file));
          if (o.json) return json({ ok: true, warnings });
          if (warnings.length === 0) out('complete: nothing a counterpart would send back for');
          for (const w of warnings) out(`warning ${w.code} (${w.field}): ${w.message}`);
        }),
      ),
    );

  request
    .command('new')
    .description('draft a request and send it to the requested authority')
    .option('--type <type>', 'request type (entraide request types)')
    .option('--to <authority-address>', 'the requested authority, e.g. ng.moj@relay.wacap.example')
    .option('--file <request.json>', 'the request (see README: Requests)')
    .option('--interactive', 'answer questions instead of writing a file')
    .option('--draft', 'keep it on this node as a draft; send it later with `request send`')
    .option('--despite-warnings', 'send even though the completeness check warns')
    .option(...ATTACH_OPTIONS[0]!)
    .option(...ATTACH_OPTIONS[1]!)
    .option(...ATTACH_OPTIONS[2]!)
    .option(...TRANSLATION_OF_OPTION)
    .option(...CASE_OPTION)
    .option(...RELATED_OPTION)
    .option(...CONSULTATION_OPTION)
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action(
      (
        o: {
          case?: string;
          related?: string[];
          consultation?: string;
          type?: string;
          to?: string;
          file?: string;
          interactive?: boolean;
          draft?: boolean;
          despiteWarnings?: boolean;
          unverifiedOk?: boolean;
          json?: boolean;
        } & FileOptions,
      ) =>
        run(() =>
          withNode(program, async (node) => {
            let { type, to } = o;
            let draft: unknown;
            let despite = o.despiteWarnings ?? false;
            let asDraft = o.draft ?? false;
            if (o.interactive) {
              const guided = await guidedDraft({ type, to });
              ({ type, to, draft } = guided);
              if (guided.decision === 'draft') asDraft = true;
              if (guided.decision === 'send') despite = true;
            } else {
              if (!o.file)
                throw new EntraideError(
                  'USAGE',
                  'give the request with --file request.json, or use --interactive',
                );
              draft = readJsonFile(o.file);
            }
            draft = withLinks(node, draft, o);
            if (!type)
              throw new EntraideError(
                'USAGE',
                'say which kind of request with --type (entraide request types)',
              );
            if (!to) throw new EntraideError('USAGE', 'name the requested authority with --to');
            const confirmed = asDraft ? [] : await confirmCounterparts(node, [to], o.unverifiedOk);
            const r = await node.requests.create({
              type,
              to,
              draft,
              asDraft,
              despiteWarnings: despite,
              attachments: attachmentsOf(o),
            });
            if (r.state !== 'draft') await node.counterparts.confirm(confirmed);
            if (o.json) return json(r);
            for (const w of r.warnings)
              process.stderr.write(`warning ${w.code} (${w.field}): ${w.message}\n`);
            out(r.id);
            out(
              r.state === 'draft'
                ? 'kept as a draft: send it with `entraide request send <id>`'
                : `sent to ${to}`,
            );
            tellIfQueued(r.sent);
          }),
        ),
    );

  request
    .command('send <id>')
    .description('send a request kept as a draft')
    .option('--despite-warnings', 'send even though the completeness check warns')
    .option(...UNVERIFIED_OK_OPTION)
    .option('--json', 'machine-readable output')
    .action((id: string, o: { despiteWarnings?: boolean; unverifiedOk?: boolean; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const { requested } = node.requests.mustExist(id);
          const confirmed = await confirmCounterparts(node, [requested], o.unverifiedOk);
          const r = await node.requests.sendDraft(id, o.despiteWarnings ?? false);
          await node.counterparts.confirm(confirmed);
          if (o.json) return json(r);
          out(`${r.id} sent`);
          tellIfQueued(r.sent);
        }),
      ),
    );

  // Answered by the node's service while it runs (fast-commands.ts, shared with the served path).
  requestListCommand(request, run, () => deskOf(program));
  requestShowCommand(request, run, () => deskOf(program));

  request
    .command('update <id> <status>')
    .description('set the next status of a request (only the side that owns the step may)')
    .option(
      '--note <text>',
      'a note: required for refusals (the reasons), requests for information, postponements, conditions and formal defects',
    )
    .option('--ground <ground>', 'for a refusal: the ground (entraide request types)')
    .option(
      '--without-consultation <reason>',
      'for a refusal on a ground of UNTOC art. 18(21): why there was no consultation on conditions first',
    )
    .option('--reference <ref>', 'with acknowledged: this authority’s own reference number')
    .option(
      '--measure <index=state...>',
      `where a measure stands, by its number in \`request show\` (${MEASURE_STATES.join(', ')}); repeatable`,
    )
    .option('--result <file...>', 'with executed or partially_executed: the evidence obtained (documents)')
    .option(...ATTACH_OPTIONS[0]!)
    .option(...ATTACH_OPTIONS[1]!)
    .option(...ATTACH_OPTIONS[2]!)
    .option('--json', 'machine-readable output')
    .action(
      (
        id: string,
        status: string,
        o: {
          note?: string;
          ground?: string;
          withoutConsultation?: string;
          reference?: string;
          measure?: string[];
          json?: boolean;
          result?: string[];
        } & FileOptions,
      ) =>
        run(() =>
          withNode(program, async (node) => {
            await refresh(node);
            const files = [
              ...(o.result?.length
                ? (attachmentsOf({
                    attach: o.result,
                    role: ['execution_result'],
                    fileLanguage: o.fileLanguage,
                  }) ?? [])
                : []),
              ...(attachmentsOf({ ...o, fileLanguage: o.attach?.length ? o.fileLanguage : undefined }) ?? []),
            ];
            const r = await node.requests.update(id, status, {
              note: o.note,
              ground: o.ground,
              reference: o.reference,
              withoutConsultation: o.withoutConsultation,
              measures: o.measure?.map(measureReport),
              ...(files.length > 0 ? { attachments: files } : {}),
            });
            if (o.json) return json(r);
            out(`${r.request} is now ${r.status} (update ${r.seq})`);
            tellIfQueued(r.sent);
          }),
        ),
    );

  request
    .command('supplement <id>')
    .description('send the information asked for, or further measures (requesting side)')
    .option('--kind <kind>', `${SUPPLEMENT_KINDS.join(' or ')}`, 'additional_information')
    .option('--text <text>', 'the supplement')
    .option('--file <file>', 'read the supplement from a file')
    .option('--measure <measure...>', 'a further measure requested (repeatable)')
    .option(
      '--language <code>',
      'the language the supplement is written in (default: the request’s); for --kind translation, the translation’s',
    )
    .option(...ATTACH_OPTIONS[0]!)
    .option(...ATTACH_OPTIONS[1]!)
    .option(...ATTACH_OPTIONS[2]!)
    .option('--json', 'machine-readable output')
    .action(
      (
        id: string,
        o: {
          kind: string;
          text?: string;
          file?: string;
          measure?: string[];
          language?: string;
          json?: boolean;
        } & FileOptions,
      ) =>
        run(() =>
          withNode(program, async (node) => {
            if (!(SUPPLEMENT_KINDS as readonly string[]).includes(o.kind)) {
              throw new EntraideError('USAGE', `--kind is ${SUPPLEMENT_KINDS.join(' or ')}`);
            }
            if ((o.text === undefined) === (o.file === undefined)) {
              throw new EntraideError('USAGE', 'give the supplement with exactly one of --text or --file');
            }
            let text = o.text;
            if (o.file !== undefined) {
              try {
                text = readFileSync(o.file, 'utf8');
              } catch {
                throw new EntraideError('USAGE', `cannot read ${o.file}`);
              }
            }
            const r = await node.requests.supplement(id, {
              kind: o.kind as (typeof SUPPLEMENT_KINDS)[number],
              text: text!,
              measures: o.measure,
              language: o.language,
              attachments: attachmentsOf(o),
            });
            if (o.json) return json(r);
            out(r.id);
            tellIfQueued(r);
          }),
        ),
    );

  extendPreservationCommand(request, program, run);
  consultationCommands(request, program, run);

  request
    .command('attach <id> <file...>')
    .description(
      'send documents on a request: a supplement from the requesting side, a message on it from the requested side',
    )
    .option(...ATTACH_OPTIONS[1]!)
    .option(...ATTACH_OPTIONS[2]!)
    .option(...TRANSLATION_OF_OPTION)
    .option('--note <text>', 'what the documents are (default: their names)')
    .option('--json', 'machine-readable output')
    .action((id: string, files: string[], o: FileOptions & { note?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await node.requests.attach(id, attachmentsOf({ ...o, attach: files })!, o.note);
          if (o.json) return json(r);
          out(r.id);
          tellIfQueued(r);
        }),
      ),
    );

  request
    .command('message <id>')
    .description('send a message on a request to the counterpart (joins the request’s story)')
    .requiredOption('--subject <text>', 'subject line')
    .requiredOption('--body <text>', 'message text')
    .option('--language <code>', 'language of the message')
    .option('--json', 'machine-readable output')
    .action((id: string, o: { subject: string; body: string; language?: string; json?: boolean }) =>
      run(() =>
        withNode(program, async (node) => {
          const r = await node.requests.message(id, {
            subject: o.subject,
            body: o.body,
            language: o.language,
          });
          if (o.json) return json(r);
          out(r.id);
          tellIfQueued(r);
        }),
      ),
    );
}
